/**
 * What the widgets' views share: DOM and format helpers, JupyterLab-styled controls, and the link to the
 * notebook (a kernel restart, saving). Each view is one self-contained ES module (anywidget loads it from the
 * model's `_esm`), so this source is put at the top of each rather than imported; VIEW_CSS likewise starts each
 * widget's stylesheet.
 *
 * The notebook link uses what JupyterLab's widget manager (@jupyter-widgets/jupyterlab-manager) exposes to a
 * view through anywidget's `model.widget_manager`: its document `context` (session status, `saveState`, the
 * notebook model). Where there is none (other frontends), the views simply work without it.
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

/** A JupyterLab-styled button; kind is "accept" (the main action), "reject" (secondary) or "warn" (cannot be undone). */
function button(label, cls, kind) {
  const b = h("button", "jp-mod-styled vre-button jp-mod-" + (kind || "reject") + (cls ? " " + cls : ""), label);
  b.type = "button";
  return b;
}

function input(cls, placeholder) {
  const i = h("input", "jp-mod-styled vre-input" + (cls ? " " + cls : ""));
  if (placeholder) i.placeholder = placeholder;
  return i;
}

function select(cls) {
  return h("select", "jp-mod-styled vre-select" + (cls ? " " + cls : ""));
}

/** A form field with its visible label (also the control's accessible name). */
function labelled(text, control, cls) {
  const l = h("label", "vre-labelled" + (cls ? " " + cls : ""));
  l.append(h("span", "vre-labelled-text", text), control);
  return l;
}

/** Sizes in decimal (SI) units, as Rucio and Zenodo count them and as the magics print them: 1 kB = 1000 B. */
function formatSize(n) {
  if (n === null || n === undefined || !isFinite(n)) return "";
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? v + " B" : v.toFixed(v >= 100 ? 0 : 1) + " " + units[u];
}

/** A time as 2026-12-03 09:41:07 CET: ISO-like, in the reader's local time, with its zone. */
function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return String(iso);
  const p = (n) => String(n).padStart(2, "0");
  let zone = "";
  try {
    zone = (new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(d).find((x) => x.type === "timeZoneName") || {}).value || "";
  } catch (e) {
    zone = "";
  }
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds()) + (zone ? " " + zone : "");
}

/** Only the local clock time, 09:41:07 (in a table under a line that gives the date and zone). */
function formatClock(iso) {
  const full = formatTime(iso);
  const m = /^\\d{4}-\\d\\d-\\d\\d (\\d\\d:\\d\\d:\\d\\d)/.exec(full);
  return m ? m[1] : full;
}

/** Seconds as 42s, 3m05s, 2h07m (as the magics print durations). */
function formatDuration(seconds) {
  if (seconds === undefined || seconds === null || !isFinite(seconds) || seconds < 0) return "";
  const s = Math.round(seconds);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
  return Math.floor(s / 3600) + "h" + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + "m";
}

/** A status pill; tone is one of ok, busy, bad, warn, idle (readable in light and dark themes). */
function pill(text, tone, cls) {
  const p = h("span", "vre-pill" + (cls ? " " + cls : ""), text);
  p.dataset.tone = tone || "idle";
  return p;
}

/** The one progress bar of the widgets: done/total, or an indeterminate stripe when total is unknown. */
function progressBar(done, total, tone, cls) {
  const bar = h("div", "vre-bar" + (cls ? " " + cls : ""));
  bar.setAttribute("role", "progressbar");
  const fill = h("div", "vre-bar-fill");
  fill.dataset.tone = tone || "busy";
  if (total > 0) {
    const f = Math.max(0, Math.min(1, done / total));
    fill.style.width = (100 * f).toFixed(1) + "%";
    bar.setAttribute("aria-valuenow", String(Math.round(100 * f)));
  } else {
    bar.classList.add("vre-bar-indeterminate");
  }
  bar.append(fill);
  return bar;
}

function spinner(label) {
  const s = h("span", "vre-spinner-row");
  const wheel = h("span", "vre-spinner");
  wheel.setAttribute("aria-hidden", "true");
  s.append(wheel, h("span", "", label));
  return s;
}

/** Copies text to the clipboard (a fallback for pages where the async clipboard is not allowed). */
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (e) {
    const area = h("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e2) {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

function copyButton(text, label, cls) {
  const b = button(label || "Copy", "vre-copy" + (cls ? " " + cls : ""), "reject");
  b.title = "Copy to the clipboard";
  b.addEventListener("click", async () => {
    const ok = await copyText(typeof text === "function" ? text() : text);
    b.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => (b.textContent = label || "Copy"), 1500);
  });
  return b;
}

const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
const VIEWS = Symbol.for("vre-ts.widget-views");

/**
 * Ties a view to its notebook: the widget goes "stale" when the kernel restarts or stops (its state is kept,
 * controls are disabled, a banner says to re-run the cell), and at every save its state goes into the
 * notebook's widget metadata (so a reopened notebook shows the last state instead of "model not found") and a
 * static HTML copy of the view goes into the output's text/html (so exports, GitHub and nbviewer show it).
 */
function notebookLink(model, root, options) {
  const wm = model.widget_manager;
  const ctx = wm && wm.context && wm.context.sessionContext ? wm.context : null;
  const id = model.get("_vre_model_id");
  const banner = h("div", "vre-stale");
  banner.setAttribute("role", "status");
  banner.hidden = true;
  root.prepend(banner);
  let stale = "";
  const cleanups = [];

  function freeze() {
    if (!stale) return;
    root.classList.add("vre-is-stale");
    for (const c of root.querySelectorAll("input, textarea, select, button")) {
      if (!c.closest(".vre-keep-live")) c.disabled = true;
    }
  }
  function markStale(why) {
    if (stale) return;
    stale = why;
    banner.replaceChildren();
    if (why === "saved") {
      const at = model.get("_vre_saved");
      banner.append(h("strong", "", "Saved view"), h("span", "", " of " + (at ? formatTime(at) : "an earlier session") + ": the kernel that made it is gone. Re-run the cell to use it again."));
    } else {
      banner.append(h("strong", "", "Kernel restarted"), h("span", "", " — re-run the cell to use this widget again. It shows its last state."));
    }
    banner.hidden = false;
    freeze();
    if (options && options.onStale) options.onStale(why);
  }

  if (model.get("_vre_saved")) markStale("saved");
  // jupyterlab-manager marks every model's comm dead when the kernel restarts.
  const onCommLive = () => markStale("restarted");
  model.on("comm_live_update", onCommLive);
  cleanups.push(() => model.off("comm_live_update", onCommLive));
  if (ctx) {
    const session = ctx.sessionContext;
    const onStatus = (_, status) => {
      if (status === "restarting" || status === "autorestarting" || status === "dead") markStale("restarted");
    };
    const onKernel = () => markStale("restarted");
    session.statusChanged.connect(onStatus);
    session.kernelChanged.connect(onKernel);
    cleanups.push(() => {
      session.statusChanged.disconnect(onStatus);
      session.kernelChanged.disconnect(onKernel);
    });
    if (id) {
      const registry = (wm[VIEWS] = wm[VIEWS] || { views: new Map(), hooked: false });
      const entry = { snapshot: () => snapshotHtml(root, model.get("_css"), options && options.title) };
      registry.views.set(id, entry);
      cleanups.push(() => {
        if (registry.views.get(id) === entry) registry.views.delete(id);
      });
      if (!registry.hooked) {
        registry.hooked = true;
        ctx.saveState.connect((_, state) => {
          if (state === "started") saveIntoNotebook(wm, registry);
        });
      }
    }
  }

  return {
    get stale() {
      return stale;
    },
    /** Call after each redraw: a stale view keeps its controls disabled. */
    freeze,
    /** The code cell holding this widget (index), or -1. */
    cellIndex() {
      return ctx && id ? cellIndexOf(ctx.model, id) : -1;
    },
    /** Inserts a code cell with this source below the widget's cell; false where that is not possible. */
    insertCellBelow(source) {
      const index = ctx && id ? cellIndexOf(ctx.model, id) : -1;
      if (index < 0) return false;
      ctx.model.sharedModel.insertCell(index + 1, { cell_type: "code", source });
      return true;
    },
    /** This notebook's metadata value under "vre-ts" → key (undefined where there is no notebook). */
    notebookValue(key) {
      if (!ctx) return undefined;
      const md = ctx.model.getMetadata("vre-ts");
      return md ? md[key] : undefined;
    },
    /** Sets it (saved with the notebook); false where there is no notebook. */
    setNotebookValue(key, value) {
      if (!ctx || stale) return false;
      const md = Object.assign({}, ctx.model.getMetadata("vre-ts") || {});
      md[key] = value;
      ctx.model.setMetadata("vre-ts", md);
      return true;
    },
    /** Listens for changes of the notebook's metadata; returns the unsubscribe function. */
    onNotebookMetadata(listener) {
      if (!ctx || !ctx.model.metadataChanged) return () => {};
      const f = () => listener();
      ctx.model.metadataChanged.connect(f);
      const off = () => ctx.model.metadataChanged.disconnect(f);
      cleanups.push(off);
      return off;
    },
    dispose() {
      for (const c of cleanups) c();
    },
  };
}

function outputsOf(cell) {
  return cell && cell.cell_type === "code" && cell.youtputs ? cell.youtputs : null;
}

function cellIndexOf(notebook, id) {
  const cells = notebook.sharedModel.cells;
  for (let i = 0; i < cells.length; i++) {
    const outs = outputsOf(cells[i]);
    if (!outs) continue;
    for (const out of outs.toArray()) {
      const data = out.get ? out.get("data") : out.data;
      if (data && data[WIDGET_VIEW_MIME] && data[WIDGET_VIEW_MIME].model_id === id) return i;
    }
  }
  return -1;
}

/** A static copy of the view: field values kept, controls disabled, with the widget's stylesheet. */
function snapshotHtml(root, css, title) {
  const clone = root.cloneNode(true);
  const from = root.querySelectorAll("input, textarea, select");
  const to = clone.querySelectorAll("input, textarea, select");
  from.forEach((e, i) => {
    const c = to[i];
    if (e.tagName === "TEXTAREA") c.textContent = e.value;
    else if (e.tagName === "SELECT") {
      for (const o of c.options) if (o.value === e.value) o.setAttribute("selected", "");
    } else c.setAttribute("value", e.value);
  });
  for (const c of clone.querySelectorAll("input, textarea, select, button")) c.setAttribute("disabled", "");
  for (const b of clone.querySelectorAll(".vre-stale")) b.remove();
  const note = h("div", "vre-snapshot-note", (title ? title + ": " : "") + "saved view of " + formatTime(new Date().toISOString()) + " (static; run the notebook for the live widget)");
  clone.prepend(note);
  const style = h("style", "", css || "");
  const wrap = h("div", "vre-snapshot");
  wrap.append(style, clone);
  return new XMLSerializer().serializeToString(wrap);
}

/** At save: the views' state into the notebook's widget metadata, their static copies into the outputs. */
function saveIntoNotebook(wm, registry) {
  try {
    const notebook = wm.context.model;
    const shown = new Set();
    notebook.sharedModel.transact(() => {
      for (const cell of notebook.sharedModel.cells) {
        const outs = outputsOf(cell);
        if (!outs) continue;
        for (const out of outs.toArray()) {
          if (!out.get) continue;
          const data = out.get("data");
          const view = data && data[WIDGET_VIEW_MIME];
          if (!view || !view.model_id) continue;
          const entry = registry.views.get(view.model_id);
          if (!entry) continue;
          shown.add(view.model_id);
          const html = entry.snapshot();
          if (data["text/html"] !== html) out.set("data", Object.assign({}, data, { "text/html": html }));
        }
      }
    });
    const all = wm.get_state_sync({ drop_defaults: true });
    const key = "application/vnd.jupyter.widget-state+json";
    const previous = (notebook.getMetadata("widgets") || {})[key] || { version_major: 2, version_minor: 0, state: {} };
    const state = {};
    for (const [mid, s] of Object.entries(previous.state || {})) {
      if (!(s && s.state && s.state._vre_model_id)) state[mid] = s; // other widgets' saved states are kept as they are
    }
    const now = new Date().toISOString();
    for (const [mid, s] of Object.entries(all.state || {})) {
      if (!(s && s.state && s.state._vre_model_id) || !shown.has(mid)) continue;
      state[mid] = Object.assign({}, s, { state: Object.assign({}, s.state, { _vre_saved: s.state._vre_saved || now }) });
    }
    notebook.setMetadata("widgets", { [key]: Object.assign({}, previous, { version_major: all.version_major || 2, version_minor: all.version_minor || 0, state }) });
  } catch (e) {
    console.warn("vre-ts: the widgets' state could not be saved into the notebook", e);
  }
}
`;

/** Styles every widget starts with: JupyterLab's variables and classes, one pill, bar and banner style. */
export const VIEW_CSS = `
:is(.vre-browse, .vre-run, .vre-form, .vre-snapshot) [hidden] { display: none !important; }
.vre-button.jp-mod-styled { height: 28px; line-height: 26px; padding: 0 10px; letter-spacing: normal; border-radius: var(--jp-border-radius, 2px); white-space: nowrap; cursor: pointer; }
.vre-button.jp-mod-styled.jp-mod-reject { background: var(--jp-layout-color2); color: var(--jp-ui-font-color1); border: var(--jp-border-width, 1px) solid var(--jp-border-color1); }
.vre-button.jp-mod-styled.jp-mod-reject:hover:not(:disabled) { background: var(--jp-layout-color3); }
.vre-button.jp-mod-styled:focus-visible, .vre-input:focus-visible, .vre-select:focus-visible, .vre-link-button:focus-visible { outline: var(--jp-focus-outline-width, 1px) solid var(--jp-focus-outline-color, var(--jp-brand-color1)); outline-offset: 1px; }
.vre-button.jp-mod-styled:disabled { opacity: 0.45; cursor: not-allowed; }
.vre-input.jp-mod-styled { height: 28px; font-size: var(--jp-ui-font-size1); min-width: 0; }
.vre-select.jp-mod-styled { height: 28px; width: auto; flex: 0 0 auto; font-size: var(--jp-ui-font-size1); background-image: none; padding: 0 6px; }
.vre-input:disabled, .vre-select:disabled, textarea.vre-input:disabled { background: var(--jp-layout-color2); color: var(--jp-ui-font-color2); cursor: not-allowed; border-style: dashed; }
.vre-labelled { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.vre-labelled-text { font-size: var(--jp-ui-font-size0, 11px); color: var(--jp-ui-font-color2); }
.vre-link-button { background: none; border: none; padding: 0; font: inherit; color: var(--jp-content-link-color); cursor: pointer; text-align: left; }
.vre-link-button:hover { text-decoration: underline; }
.vre-pill { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: var(--jp-ui-font-size0, 11px); line-height: 18px; white-space: nowrap; color: var(--jp-ui-font-color1); border: 1px solid var(--vre-tone, var(--jp-border-color1)); background: color-mix(in srgb, var(--vre-tone, var(--jp-layout-color3)) 22%, transparent); }
.vre-pill[data-tone="ok"], .vre-bar-fill[data-tone="ok"] { --vre-tone: var(--jp-success-color1); }
.vre-pill[data-tone="busy"], .vre-bar-fill[data-tone="busy"] { --vre-tone: var(--jp-brand-color1); }
.vre-pill[data-tone="bad"], .vre-bar-fill[data-tone="bad"] { --vre-tone: var(--jp-error-color1); }
.vre-pill[data-tone="warn"], .vre-bar-fill[data-tone="warn"] { --vre-tone: var(--jp-warn-color1); }
.vre-pill[data-tone="idle"], .vre-bar-fill[data-tone="idle"] { --vre-tone: var(--jp-border-color1); }
.vre-bar { position: relative; height: 6px; border-radius: 3px; overflow: hidden; background: var(--jp-layout-color3); margin: 4px 0; }
.vre-bar-fill { height: 100%; background: var(--vre-tone, var(--jp-brand-color1)); transition: width 0.3s; }
.vre-bar-indeterminate .vre-bar-fill { width: 30%; position: absolute; animation: vre-slide 1.2s ease-in-out infinite; }
@keyframes vre-slide { from { left: -30%; } to { left: 100%; } }
.vre-spinner-row { display: inline-flex; align-items: center; gap: 6px; color: var(--jp-ui-font-color2); }
.vre-spinner { width: 12px; height: 12px; border-radius: 50%; border: 2px solid var(--jp-border-color2); border-top-color: var(--jp-brand-color1); animation: vre-spin 0.8s linear infinite; }
@keyframes vre-spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .vre-spinner, .vre-bar-indeterminate .vre-bar-fill { animation-duration: 3s; } }
.vre-stale { display: block; padding: 6px 8px; margin-bottom: 6px; border-left: 3px solid var(--jp-warn-color1); background: color-mix(in srgb, var(--jp-warn-color1) 12%, transparent); color: var(--jp-ui-font-color1); }
.vre-is-stale > :not(.vre-stale) { opacity: 0.75; }
.vre-snapshot-note { font-size: var(--jp-ui-font-size0, 11px); color: var(--jp-ui-font-color2, #666); margin-bottom: 4px; }
.vre-field-error { color: var(--jp-error-color1); font-size: var(--jp-ui-font-size0, 11px); }
.vre-muted { color: var(--jp-ui-font-color2); }
.vre-mono { font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); }
`;
