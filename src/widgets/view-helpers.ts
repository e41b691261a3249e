/**
 * JavaScript shared by the widgets' views. Each view is one self-contained ES module (anywidget loads it from
 * the model's `_esm`), so this source is put at the top of each rather than imported.
 */
export const VIEW_HELPERS = `
/** An element with a class and text (textContent: server text is never parsed as HTML). */
function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

/** Redraws on every change of these keys; the returned function stops it (the view's cleanup). */
function redrawOn(model, keys, draw) {
  for (const k of keys) model.on("change:" + k, draw);
  return () => {
    for (const k of keys) model.off("change:" + k, draw);
  };
}
`;
