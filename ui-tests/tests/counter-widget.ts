// The anywidget both kernels create in the tests: a button showing `count`;
// a click adds one to `count` and syncs it to the kernel.
export const COUNTER_ESM = `
function render({ model, el }) {
  const button = document.createElement("button");
  button.className = "vre-counter";
  const show = () => { button.textContent = "count is " + model.get("count"); };
  button.addEventListener("click", () => {
    model.set("count", model.get("count") + 1);
    model.save_changes();
  });
  model.on("change:count", show);
  show();
  el.appendChild(button);
  return () => model.off("change:count", show);
}
export default { render };
`;

// The button's background colour once `_css` is applied (checked by the tests: the
// anywidget frontend only applies `_css` when the model also has an `_anywidget_id`).
export const COUNTER_BACKGROUND = 'rgb(255, 140, 26)';

export const COUNTER_CSS = `
.vre-counter {
  font: 14px "DejaVu Sans", sans-serif;
  padding: 6px 14px;
  border: 1px solid #b35900;
  border-radius: 4px;
  background: #ff8c1a;
  color: #1a1a1a;
}
`;

// A second widget with its own stylesheet: both must keep their styles on one page.
export const BADGE_ESM = `
export default {
  render({ model, el }) {
    const badge = document.createElement("span");
    badge.className = "vre-badge";
    badge.textContent = model.get("text");
    el.appendChild(badge);
  }
};
`;

export const BADGE_COLOR = 'rgb(0, 0, 255)';

export const BADGE_CSS = `
.vre-badge { color: ${BADGE_COLOR}; font: 14px "DejaVu Sans", sans-serif; }
`;
