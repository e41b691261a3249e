/**
 * The dataset browser's view (anywidget ESM) and style: a search row, the results, and the selected DID's
 * details with its actions. It draws the model (dataset-browser.ts keeps it up to date) and sends requests as
 * custom messages: `{ action: "search", scope, pattern, type, filter }`, `{ action: "select" | "download" |
 * "make-available", did }`, `{ action: "cancel" }`. Catalogue text goes in through textContent only. Making
 * data available creates a rule, so it asks for a second click.
 */

import { VIEW_HELPERS } from "./view-helpers";

export const DATASET_BROWSER_ESM = `${VIEW_HELPERS}
const KEYS = ["scopes", "scope", "pattern", "did_type", "filter", "results", "truncated", "searching", "selected", "details", "loading", "destination", "download_dir", "task", "error"];
const TYPES = ["collection", "dataset", "container", "file", "all"];

function size(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : 1)) + " " + units[i];
}

function render({ model, el }) {
  const root = h("div", "vre-browse");
  const form = h("form", "vre-browse-search");
  const scope = h("select", "vre-browse-scope");
  scope.title = "scope";
  const pattern = h("input", "vre-browse-pattern");
  pattern.placeholder = "name pattern, e.g. dimuon*";
  pattern.title = "name pattern (* matches anything)";
  const type = h("select", "vre-browse-type");
  type.title = "DID type";
  for (const t of TYPES) {
    const o = h("option", "", t);
    o.value = t;
    type.append(o);
  }
  const filter = h("input", "vre-browse-filter");
  filter.placeholder = "metadata filter, e.g. energy>7000, run_number<=200";
  filter.title = "key op value; ',' is AND, ';' is OR";
  const go = h("button", "vre-browse-go", "Search");
  go.type = "submit";
  form.append(scope, pattern, type, filter, go);

  const status = h("div", "vre-browse-status");
  const table = h("table", "vre-browse-results");
  const body = h("tbody");
  const headRow = h("tr");
  for (const c of ["DID", "type", "files", "size"]) headRow.append(h("th", "", c));
  table.append(h("thead"), body);
  table.tHead.append(headRow);
  const details = h("div", "vre-browse-details");
  const error = h("div", "vre-browse-error");
  root.append(form, status, table, details, error);
  el.append(root);

  // Edits in the search row are the user's until they search: redraws do not overwrite them.
  let dirty = false;
  for (const input of [pattern, filter]) input.addEventListener("input", () => (dirty = true));
  for (const input of [scope, type]) input.addEventListener("change", () => (dirty = true));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    dirty = false;
    model.send({ action: "search", scope: scope.value, pattern: pattern.value, type: type.value, filter: filter.value });
  });

  let confirmFor = "";
  let confirmTimer;

  function drawDetails() {
    const d = model.get("details");
    const selected = model.get("selected");
    const task = model.get("task");
    const busy = Boolean(task && task.state === "running");
    details.replaceChildren();
    if (!selected) return;
    const title = h("div", "vre-browse-did", selected);
    details.append(title);
    if (model.get("loading") && (!d || d.did !== selected)) {
      details.append(h("div", "vre-browse-muted", "Reading…"));
      return;
    }
    if (d && d.did === selected) {
      const facts = [d.type, d.length !== null && d.type !== "file" ? d.length + " files" : "", size(d.bytes)].filter(Boolean).join(" · ");
      details.append(h("div", "vre-browse-facts", facts));
      if (d.meta.length) {
        const meta = h("details", "vre-browse-meta");
        meta.append(h("summary", "", "metadata (" + d.meta.length + ")"));
        const dl = h("dl");
        for (const [k, v] of d.meta) dl.append(h("dt", "", k), h("dd", "", v));
        meta.append(dl);
        details.append(meta);
      }
      const where = h("div", "vre-browse-rses");
      where.append(h("div", "vre-browse-label", "Replicas" + (d.rsesPartial ? " (of the first files)" : "")));
      if (!d.rses.length) where.append(h("div", "vre-browse-muted", "none"));
      for (const r of d.rses) {
        const row = h("div", "vre-browse-rse" + (r.rse === model.get("destination") ? " vre-browse-dest" : ""));
        row.append(h("span", "vre-browse-rse-name", r.rse), h("span", "", r.available + "/" + r.files + " files available · " + size(r.bytes)));
        where.append(row);
      }
      details.append(where);
      const rules = h("div", "vre-browse-rules");
      rules.append(h("div", "vre-browse-label", "Rules"));
      if (!d.rules.length) rules.append(h("div", "vre-browse-muted", "none"));
      for (const r of d.rules) {
        const row = h("div", "vre-browse-rule");
        const pill = h("span", "vre-browse-pill", r.state);
        pill.dataset.state = r.state;
        row.append(h("span", "", r.rse + " (" + r.account + ")"), pill, h("span", "vre-browse-muted", r.ok + "/" + r.total + " files"));
        rules.append(row);
      }
      details.append(rules);
    }

    const actions = h("div", "vre-browse-actions");
    const dest = model.get("destination");
    const make = h("button", "vre-browse-make", confirmFor === selected ? "Click again to add a rule on " + dest : dest ? "Make available on " + dest : "Make available");
    make.disabled = busy || !dest;
    if (!dest) make.title = "No destination RSE is configured";
    make.addEventListener("click", () => {
      if (confirmFor !== selected) {
        confirmFor = selected;
        clearTimeout(confirmTimer);
        confirmTimer = setTimeout(() => {
          confirmFor = "";
          drawDetails();
        }, 4000);
        drawDetails();
        return;
      }
      confirmFor = "";
      model.send({ action: "make-available", did: selected });
    });
    const dir = model.get("download_dir") || ".";
    const get = h("button", "vre-browse-download", dir === "." ? "Download here" : "Download to " + dir);
    get.title = "Files go to " + dir + "/<scope>/<name>, verified";
    get.disabled = busy;
    get.addEventListener("click", () => model.send({ action: "download", did: selected }));
    actions.append(make, get);
    if (busy) {
      const cancel = h("button", "vre-browse-cancel", "Cancel");
      cancel.addEventListener("click", () => model.send({ action: "cancel" }));
      actions.append(cancel);
    }
    details.append(actions);

    if (task && task.did === selected) {
      const box = h("div", "vre-browse-task");
      box.dataset.state = task.state;
      const label = (task.kind === "download" ? "Download" : "Make available") + ": " + task.state;
      box.append(h("div", "vre-browse-task-state", label));
      if (task.total) {
        const bar = h("progress", "vre-browse-progress");
        bar.max = task.total;
        bar.value = task.done;
        box.append(bar);
      }
      if (task.message) box.append(h("div", "vre-browse-task-message", task.message));
      if (task.paths.length) {
        const list = h("ul", "vre-browse-paths");
        for (const p of task.paths) list.append(h("li", "", p));
        box.append(list);
      }
      details.append(box);
    }
  }

  function update() {
    const scopes = model.get("scopes") || [];
    if (!dirty) {
      const current = model.get("scope");
      scope.replaceChildren(...[...new Set([...(current ? [current] : []), ...scopes])].sort().map((s) => {
        const o = h("option", "", s);
        o.value = s;
        return o;
      }));
      scope.value = current;
      pattern.value = model.get("pattern");
      type.value = model.get("did_type");
      filter.value = model.get("filter");
    }
    const results = model.get("results") || [];
    const selected = model.get("selected");
    go.disabled = Boolean(model.get("searching"));
    status.textContent = model.get("searching")
      ? "Searching…"
      : results.length
        ? results.length + " found" + (model.get("truncated") ? " (showing the first " + results.length + "; narrow the pattern or filter)" : "")
        : model.get("scope") && !model.get("error") ? "Nothing found yet: search a scope by name pattern and metadata." : "";
    table.hidden = results.length === 0;
    body.replaceChildren(
      ...results.map((r) => {
        const tr = h("tr", "vre-browse-row" + (r.did === selected ? " vre-browse-selected" : ""));
        const name = h("button", "vre-browse-name", r.did);
        name.type = "button";
        name.addEventListener("click", () => model.send({ action: "select", did: r.did }));
        const cell = h("td");
        cell.append(name);
        tr.append(cell, h("td", "", r.type), h("td", "vre-browse-num", r.type === "file" || r.length === null ? "" : String(r.length)), h("td", "vre-browse-num", size(r.bytes)));
        return tr;
      }),
    );
    drawDetails();
    error.textContent = model.get("error") || "";
    error.hidden = !model.get("error");
  }

  const stopRedraw = redrawOn(model, KEYS, update);
  update();
  return () => {
    clearTimeout(confirmTimer);
    stopRedraw();
  };
}

export default { render };
`;

export const DATASET_BROWSER_CSS = `
.vre-browse { font-family: var(--jp-ui-font-family, sans-serif); font-size: var(--jp-ui-font-size1, 13px); color: var(--jp-ui-font-color1, #222); max-width: 60em; padding: 4px 0; }
.vre-browse-search { display: flex; gap: 6px; flex-wrap: wrap; margin-bottom: 6px; }
.vre-browse-search input, .vre-browse-search select { font: inherit; padding: 2px 4px; border: 1px solid var(--jp-border-color1, #bbb); background: var(--jp-layout-color1, #fff); color: inherit; }
.vre-browse-pattern { width: 12em; }
.vre-browse-filter { flex: 1; min-width: 16em; }
.vre-browse-status, .vre-browse-muted { color: var(--jp-ui-font-color2, #666); margin: 2px 0; }
.vre-browse-results { border-collapse: collapse; margin: 4px 0; width: 100%; }
.vre-browse-results th { text-align: left; font-weight: 600; border-bottom: 1px solid var(--jp-border-color1, #ccc); padding: 2px 8px 2px 0; }
.vre-browse-results td { padding: 1px 8px 1px 0; }
.vre-browse-num { text-align: right; white-space: nowrap; }
.vre-browse-name { background: none; border: none; padding: 0; font: inherit; color: var(--jp-content-link-color, #1976d2); cursor: pointer; text-align: left; }
.vre-browse-selected { background: var(--jp-layout-color2, #eef3fa); }
.vre-browse-selected .vre-browse-name { font-weight: 600; }
.vre-browse-details { border-top: 1px solid var(--jp-border-color2, #ddd); margin-top: 6px; padding-top: 6px; }
.vre-browse-did { font-weight: 600; }
.vre-browse-facts { color: var(--jp-ui-font-color2, #555); margin-bottom: 4px; }
.vre-browse-label { font-weight: 600; margin-top: 6px; }
.vre-browse-meta dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 12px; margin: 4px 0; }
.vre-browse-meta dt { color: var(--jp-ui-font-color2, #555); }
.vre-browse-meta dd { margin: 0; }
.vre-browse-rse, .vre-browse-rule { display: flex; gap: 8px; align-items: center; }
.vre-browse-rse-name { min-width: 10em; }
.vre-browse-dest .vre-browse-rse-name { font-weight: 600; }
.vre-browse-pill { border-radius: 9px; padding: 0 8px; font-size: 0.9em; background: var(--jp-layout-color3, #ddd); }
.vre-browse-pill[data-state="OK"] { background: var(--jp-success-color3, #c8e6c9); }
.vre-browse-pill[data-state="REPLICATING"] { background: var(--jp-brand-color3, #bbdefb); }
.vre-browse-pill[data-state="STUCK"], .vre-browse-pill[data-state="SUSPENDED"] { background: var(--jp-error-color3, #ffcdd2); }
.vre-browse-actions { display: flex; gap: 6px; margin-top: 8px; }
.vre-browse-task { margin-top: 6px; padding: 4px 6px; background: var(--jp-layout-color2, #f5f5f5); }
.vre-browse-task[data-state="failed"] .vre-browse-task-state { color: var(--jp-error-color1, #d32f2f); }
.vre-browse-task[data-state="done"] .vre-browse-task-state { color: var(--jp-success-color1, #388e3c); }
.vre-browse-progress { width: 100%; }
.vre-browse-paths { margin: 4px 0; padding-left: 1.4em; font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 12px); }
.vre-browse-error { color: var(--jp-error-color1, #d32f2f); margin: 4px 0; }
`;
