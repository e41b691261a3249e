/**
 * The dataset browser's view (anywidget ESM) and style: a search row, the results, and the selected DID's
 * details with its actions. It draws the model (dataset-browser.ts keeps it up to date) and sends requests as
 * custom messages: `{ action: "search", scope, pattern, type, filter }`, `{ action: "select" | "download" |
 * "make-available", did }`, `{ action: "cancel" }`. Catalogue text goes in through textContent only. Making
 * data available creates a rule, so it asks for a second click. Enter in a search field searches; local paths
 * of a finished task can be copied or put into a new cell. Bookmarks and attachments (a DID the kernel declares
 * as `const NAME: string[]` of its files' paths when it starts for this notebook) live in the notebook's metadata.
 */

import { VIEW_CSS, VIEW_HELPERS } from "./view-helpers";

export const DATASET_BROWSER_ESM = `${VIEW_HELPERS}
const KEYS = ["scopes", "scope", "pattern", "did_type", "filter", "results", "truncated", "searching", "searched", "selected", "details", "loading", "destination", "download_dir", "task", "error", "error_field"];
const TYPES = ["collection", "dataset", "container", "file", "all"];
const RULE_TONES = { OK: "ok", REPLICATING: "busy", STUCK: "bad", SUSPENDED: "bad", WAITING_APPROVAL: "warn", INJECT: "busy" };
const TASK_TONES = { running: "busy", done: "ok", failed: "bad", cancelled: "warn" };

function render({ model, el }) {
  const root = h("div", "vre-browse");
  const form = h("form", "vre-browse-search");
  form.setAttribute("role", "search");
  const scope = select("vre-browse-scope");
  const pattern = input("vre-browse-pattern", "e.g. dimuon*");
  pattern.title = "name pattern (* matches anything)";
  const type = select("vre-browse-type");
  for (const t of TYPES) {
    const o = h("option", "", t);
    o.value = t;
    type.append(o);
  }
  const filter = input("vre-browse-filter", "e.g. energy>7000, run_number<=200");
  filter.title = "key op value; ',' is AND, ';' is OR";
  const go = button("Search", "vre-browse-go", "accept");
  go.type = "submit";
  const scopeField = labelled("Scope", scope, "vre-browse-scope-field");
  const filterField = labelled("Metadata filter", filter, "vre-browse-filter-field");
  const scopeError = h("div", "vre-field-error vre-browse-scope-error");
  const filterError = h("div", "vre-field-error vre-browse-filter-error");
  scopeField.append(scopeError);
  filterField.append(filterError);
  form.append(scopeField, labelled("Name", pattern, "vre-browse-pattern-field"), labelled("Type", type), filterField, go);

  // Bookmarked DIDs, kept in the notebook's metadata ("vre-ts" → bookmarks): they travel with the notebook.
  const marks = h("div", "vre-browse-bookmarks");
  const status = h("div", "vre-browse-status");
  const tableBox = h("div", "vre-table-box");
  const table = h("table", "vre-table vre-browse-results");
  const body = h("tbody");
  const headRow = h("tr");
  for (const [c, num] of [["DID", false], ["type", false], ["files", true], ["size", true]]) headRow.append(h("th", num ? "vre-num" : "", c));
  table.append(h("thead"), body);
  table.tHead.append(headRow);
  tableBox.append(table);
  const details = h("div", "vre-browse-details");
  const error = h("div", "vre-browse-error");
  error.setAttribute("role", "alert");
  root.append(form, marks, status, tableBox, details, error);
  el.append(root);
  const link = notebookLink(model, root, { title: "Rucio dataset browser" });

  // Edits in the search row are the user's until they search: redraws do not overwrite them.
  let dirty = false;
  for (const i of [pattern, filter]) i.addEventListener("input", () => (dirty = true));
  for (const i of [scope, type]) i.addEventListener("change", () => (dirty = true));
  function search() {
    if (link.stale || model.get("searching")) return;
    dirty = false;
    model.send({ action: "search", scope: scope.value, pattern: pattern.value, type: type.value, filter: filter.value });
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    search();
  });
  // JupyterLab's notebook shortcuts see Enter first (keydown bubbles to the document): handle it here.
  for (const i of [pattern, filter]) {
    i.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter" || ev.isComposing) return;
      ev.preventDefault();
      ev.stopPropagation();
      search();
    });
  }

  let confirmFor = "";
  let confirmTimer;

  function bookmarks() {
    const b = link.notebookValue("bookmarks");
    return Array.isArray(b) ? b.filter((x) => typeof x === "string") : [];
  }
  // Attached DIDs ("vre-ts" → attachments: [{ did, variable }]), declared by a kernel started for this notebook.
  const RESERVED = new Set("break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with as implements interface let package private protected public static yield await any boolean number string symbol undefined never unknown object bigint type of declare".split(" "));
  const IDENT = new RegExp("^[A-Za-z_$][A-Za-z0-9_$]*$");
  let attachDraft = null; // { did, value } while the name field is open
  let attachedNote = "";
  function attachments() {
    const a = link.notebookValue("attachments");
    return Array.isArray(a) ? a.filter((x) => x && typeof x.did === "string" && typeof x.variable === "string") : [];
  }
  function defaultVariable(did) {
    let v = did.slice(did.indexOf(":") + 1).replace(/[^A-Za-z0-9_$]+/g, "_").replace(/^_+|_+$/g, "") || "data";
    if (/^[0-9]/.test(v)) v = "_" + v;
    if (RESERVED.has(v)) v += "_";
    const used = new Set(attachments().map((a) => a.variable));
    let n = 2;
    let name = v;
    while (used.has(name)) name = v + "_" + n++;
    return name;
  }
  function variableProblem(name, did) {
    if (!IDENT.test(name)) return "Letters, digits, _ and $ only, not starting with a digit.";
    if (RESERVED.has(name)) return name + " is a reserved word in TypeScript.";
    const other = attachments().find((a) => a.variable === name && a.did !== did);
    if (other) return name + " already holds " + other.did + ".";
    return "";
  }
  function attach(did, variable) {
    const rest = attachments().filter((a) => a.did !== did);
    if (!link.setNotebookValue("attachments", [...rest, { did, variable }])) return;
    attachDraft = null;
    attachedNote = did;
    drawBookmarks();
    drawDetails();
  }
  function detach(did) {
    link.setNotebookValue("attachments", attachments().filter((a) => a.did !== did));
    attachedNote = "";
    drawBookmarks();
    drawDetails();
  }
  function attachRow(selected) {
    const row = h("div", "vre-browse-attach-row");
    const current = attachments().find((a) => a.did === selected);
    if (attachDraft && attachDraft.did === selected) {
      const name = input("vre-browse-attach-name vre-mono");
      name.value = attachDraft.value;
      name.setAttribute("aria-label", "Variable name");
      name.spellcheck = false;
      const problem = h("div", "vre-field-error vre-browse-attach-error");
      const ok = button("Attach", "vre-browse-attach-ok", "accept");
      const cancel = button("Cancel", "vre-browse-attach-cancel", "reject");
      const check = () => {
        const why = variableProblem(name.value.trim(), selected);
        problem.textContent = name.value.trim() ? why : "";
        ok.disabled = Boolean(why);
        return !why;
      };
      name.addEventListener("input", () => {
        attachDraft.value = name.value;
        check();
      });
      const submit = () => {
        if (check()) attach(selected, name.value.trim());
      };
      name.addEventListener("keydown", (ev) => {
        if (ev.isComposing || (ev.key !== "Enter" && ev.key !== "Escape")) return;
        ev.preventDefault();
        ev.stopPropagation();
        if (ev.key === "Enter") submit();
        else {
          attachDraft = null;
          drawDetails();
        }
      });
      ok.addEventListener("click", submit);
      cancel.addEventListener("click", () => {
        attachDraft = null;
        drawDetails();
      });
      const field = labelled("Variable name", name, "vre-browse-attach-field");
      field.append(problem);
      row.append(field, ok, cancel);
      check();
      setTimeout(() => {
        if (name.isConnected && !name.disabled) name.focus();
      });
    } else if (current) {
      const pillText = h("span", "vre-browse-attached");
      pillText.append(h("span", "", "Attached as "), h("code", "vre-mono", current.variable));
      const off = button("Detach", "vre-browse-detach", "reject");
      off.title = "Remove from this notebook's attached DIDs";
      off.addEventListener("click", () => detach(selected));
      row.append(pillText, off);
      if (attachedNote === selected) {
        row.append(h("div", "vre-muted vre-browse-attach-note", "Saved with the notebook: a kernel started for it declares const " + current.variable + ": string[] (the paths of the files here). Save, then restart the kernel to use it."));
      }
    } else {
      const open = button("Attach to notebook as variable…", "vre-browse-attach", "reject");
      open.title = "A kernel started for this notebook declares a variable with the paths of this DID's files";
      open.addEventListener("click", () => {
        attachDraft = { did: selected, value: defaultVariable(selected) };
        drawDetails();
      });
      row.append(open);
    }
    return row;
  }

  function toggleBookmark(did) {
    const now = bookmarks();
    link.setNotebookValue("bookmarks", now.includes(did) ? now.filter((x) => x !== did) : [...now, did].sort());
    drawBookmarks();
    drawDetails();
  }
  function drawBookmarks() {
    const list = bookmarks();
    const attached = attachments();
    marks.replaceChildren();
    marks.hidden = list.length === 0 && attached.length === 0;
    if (list.length) marks.append(h("span", "vre-muted", "Bookmarks:"));
    for (const did of list) {
      const b = h("button", "vre-link-button vre-browse-bookmark", did);
      b.type = "button";
      b.title = "Show " + did;
      b.addEventListener("click", () => model.send({ action: "select", did }));
      marks.append(b);
    }
    if (attached.length) marks.append(h("span", "vre-muted vre-browse-attached-label", "Attached:"));
    for (const a of attached) {
      const b = h("button", "vre-link-button vre-browse-attachment", a.variable + " = " + a.did);
      b.type = "button";
      b.title = "Show " + a.did;
      b.addEventListener("click", () => model.send({ action: "select", did: a.did }));
      marks.append(b);
    }
    link.freeze();
  }
  link.onNotebookMetadata(drawBookmarks);

  function pathsBox(task) {
    const box = h("div", "vre-browse-paths-box");
    const list = h("ul", "vre-browse-paths");
    for (const p of task.paths) {
      const li = h("li");
      li.append(h("code", "vre-mono", p), copyButton(p, "Copy", "vre-browse-copy-path"));
      list.append(li);
    }
    const tools = h("div", "vre-browse-path-tools");
    const all = copyButton(() => task.paths.join("\\n"), "Copy all paths", "vre-browse-copy-all");
    const insert = button("Insert into a new cell", "vre-browse-insert", "reject");
    insert.title = "Adds a code cell below with these paths as a TypeScript array";
    insert.addEventListener("click", () => {
      const code = "const paths = " + JSON.stringify(task.paths, null, 2) + ";";
      insert.textContent = link.insertCellBelow(code) ? "Inserted below" : "Not possible here";
      setTimeout(() => (insert.textContent = "Insert into a new cell"), 1500);
    });
    tools.append(all, insert);
    box.append(list, tools);
    return box;
  }

  function drawDetails() {
    const d = model.get("details");
    const selected = model.get("selected");
    const task = model.get("task");
    const busy = Boolean(task && task.state === "running");
    details.replaceChildren();
    if (!selected) return;
    const titleRow = h("div", "vre-browse-did-row");
    titleRow.append(h("span", "vre-browse-did", selected));
    if (link.notebookValue !== undefined && link.cellIndex() >= 0) {
      const marked = bookmarks().includes(selected);
      const mark = button(marked ? "★ Bookmarked" : "☆ Bookmark", "vre-browse-bookmark-toggle", "reject");
      mark.title = marked ? "Remove from this notebook's bookmarks" : "Keep in this notebook's bookmarks (saved with the notebook)";
      mark.setAttribute("aria-pressed", marked ? "true" : "false");
      mark.addEventListener("click", () => toggleBookmark(selected));
      titleRow.append(mark);
    }
    details.append(titleRow);
    if (model.get("loading") && (!d || d.did !== selected)) {
      details.append(spinner("Reading " + selected + "…"));
      return;
    }
    if (d && d.did === selected) {
      const facts = [d.type, d.length !== null && d.type !== "file" ? d.length + " files" : "", formatSize(d.bytes)].filter(Boolean).join(" · ");
      details.append(h("div", "vre-browse-facts", facts));
      if (d.meta.length) {
        const meta = h("details", "vre-browse-meta");
        meta.append(h("summary", "", "Metadata (" + d.meta.length + ")"));
        const dl = h("dl");
        for (const [k, v] of d.meta) dl.append(h("dt", "", k), h("dd", "", v));
        meta.append(dl);
        details.append(meta);
      }
      const where = h("div", "vre-browse-rses");
      where.append(h("div", "vre-browse-label", "Replicas" + (d.rsesPartial ? " (of the first files)" : "")));
      if (!d.rses.length) where.append(h("div", "vre-muted", "No replica."));
      for (const r of d.rses) {
        const row = h("div", "vre-browse-rse" + (r.rse === model.get("destination") ? " vre-browse-dest" : ""));
        row.append(h("span", "vre-browse-rse-name", r.rse), h("span", "", r.available + "/" + r.files + " files available · " + formatSize(r.bytes)));
        where.append(row);
      }
      details.append(where);
      const rules = h("div", "vre-browse-rules");
      rules.append(h("div", "vre-browse-label", "Rules"));
      if (!d.rules.length) rules.append(h("div", "vre-muted", "No rule."));
      for (const r of d.rules) {
        const row = h("div", "vre-browse-rule");
        row.append(h("span", "", r.rse + " (" + r.account + ")"), pill(r.state, RULE_TONES[r.state] || "idle", "vre-browse-pill"), h("span", "vre-muted", r.ok + "/" + r.total + " files"));
        rules.append(row);
      }
      details.append(rules);
    }

    const actions = h("div", "vre-browse-actions");
    const dest = model.get("destination");
    const make = button(confirmFor === selected ? "Click again to add a rule on " + dest : dest ? "Make available on " + dest : "Make available", "vre-browse-make", confirmFor === selected ? "warn" : "accept");
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
    const get = button(dir === "." ? "Download here" : "Download to " + dir, "vre-browse-download", "reject");
    get.title = "Files go to " + dir + "/<scope>/<name>, verified";
    get.disabled = busy;
    get.addEventListener("click", () => model.send({ action: "download", did: selected }));
    actions.append(make, get);
    if (busy) {
      const cancel = button("Cancel", "vre-browse-cancel", "warn");
      cancel.addEventListener("click", () => model.send({ action: "cancel" }));
      actions.append(cancel);
    }
    details.append(actions);
    if (link.notebookValue !== undefined && link.cellIndex() >= 0) details.append(attachRow(selected));

    if (task && task.did === selected) {
      const box = h("div", "vre-browse-task");
      box.dataset.state = task.state;
      const head = h("div", "vre-browse-task-head");
      head.append(h("span", "vre-browse-task-state", (task.kind === "download" ? "Download" : "Make available") + ": " + task.state));
      box.append(head);
      if (task.state === "running" || task.total) box.append(progressBar(task.done, task.total, TASK_TONES[task.state], "vre-browse-progress"));
      if (task.total && task.kind === "download") box.append(h("div", "vre-muted", formatSize(task.done) + " of " + formatSize(task.total)));
      if (task.message) box.append(h("div", "vre-browse-task-message", task.message));
      if (task.paths.length) box.append(pathsBox(task));
      details.append(box);
    }
    link.freeze();
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
    const searching = Boolean(model.get("searching"));
    go.disabled = searching;
    const searched = model.get("searched");
    status.replaceChildren();
    if (searching) status.append(spinner("Searching…"));
    else if (results.length) status.textContent = results.length + " found" + (model.get("truncated") ? " (showing the first " + results.length + "; narrow the pattern or filter)" : "");
    else if (searched && !model.get("error")) {
      status.append(h("strong", "vre-browse-nomatch", "No match"), h("span", "", " for " + searched + (model.get("did_type") !== "all" ? " (" + model.get("did_type") + "s)" : "") + (model.get("filter") ? " with " + model.get("filter") : "") + ". Try another pattern, type or filter."));
    } else if (!model.get("error")) status.textContent = model.get("scope") ? "Search a scope by name pattern, type and metadata." : "Reading the scopes…";
    tableBox.hidden = results.length === 0;
    body.replaceChildren(
      ...results.map((r) => {
        const tr = h("tr", "vre-browse-row" + (r.did === selected ? " vre-browse-selected" : ""));
        if (r.did === selected) tr.setAttribute("aria-selected", "true");
        const name = h("button", "vre-link-button vre-browse-name", r.did);
        name.type = "button";
        name.addEventListener("click", () => model.send({ action: "select", did: r.did }));
        const cell = h("td", "vre-browse-did-cell");
        cell.append(name);
        tr.append(cell, h("td", "", r.type), h("td", "vre-num", r.type === "file" || r.length === null ? "" : String(r.length)), h("td", "vre-num", formatSize(r.bytes)));
        return tr;
      }),
    );
    drawDetails();
    const field = model.get("error_field");
    const message = model.get("error") || "";
    scopeError.textContent = field === "scope" ? message : "";
    filterError.textContent = field === "filter" ? message : "";
    scopeField.classList.toggle("vre-invalid", field === "scope" && Boolean(message));
    filterField.classList.toggle("vre-invalid", field === "filter" && Boolean(message));
    error.textContent = field === "scope" || field === "filter" ? "" : message;
    error.hidden = !error.textContent;
    link.freeze();
  }

  const stopRedraw = redrawOn(model, KEYS, update);
  update();
  drawBookmarks();
  return () => {
    clearTimeout(confirmTimer);
    stopRedraw();
    link.dispose();
  };
}

export default { render };
`;

export const DATASET_BROWSER_CSS = `${VIEW_CSS}
.vre-browse { font-family: var(--jp-ui-font-family); font-size: var(--jp-ui-font-size1); color: var(--jp-ui-font-color1); max-width: 60em; padding: 4px 0; }
.vre-browse-search { display: flex; gap: 8px; flex-wrap: wrap; align-items: flex-end; margin-bottom: 6px; }
.vre-browse-pattern-field { flex: 1 1 9em; }
.vre-browse-filter-field { flex: 3 1 14em; }
.vre-browse-go { align-self: flex-end; }
.vre-invalid .vre-input, .vre-invalid .vre-select { border-color: var(--jp-error-color1); }
.vre-browse-status { color: var(--jp-ui-font-color2); margin: 4px 0; min-height: 18px; }
.vre-browse-nomatch { color: var(--jp-ui-font-color1); }
.vre-table-box { max-width: 100%; overflow-x: auto; }
.vre-table { border-collapse: collapse; width: 100%; margin: 4px 0; font-size: var(--jp-ui-font-size1); }
.vre-table th { text-align: left; font-weight: 600; padding: 4px 8px; border-bottom: var(--jp-border-width, 1px) solid var(--jp-border-color1); white-space: nowrap; }
.vre-table td { padding: 3px 8px; vertical-align: top; }
.vre-table tbody tr:nth-child(even) { background: var(--jp-rendermime-table-row-background, var(--jp-layout-color2)); }
.vre-table tbody tr:hover { background: var(--jp-rendermime-table-row-hover-background, var(--jp-layout-color3)); }
.vre-table .vre-num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.vre-browse-did-cell { word-break: break-all; }
.vre-browse-selected, .vre-table tbody tr.vre-browse-selected { background: color-mix(in srgb, var(--jp-brand-color1) 18%, transparent); box-shadow: inset 3px 0 0 var(--jp-brand-color1); }
.vre-browse-details { border-top: var(--jp-border-width, 1px) solid var(--jp-border-color2); margin-top: 6px; padding-top: 6px; }
.vre-browse-did { font-weight: 600; word-break: break-all; }
.vre-browse-did-row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.vre-browse-bookmarks { display: flex; gap: 4px 10px; flex-wrap: wrap; align-items: baseline; margin: 2px 0 4px; }
.vre-browse-bookmark, .vre-browse-attachment { word-break: break-all; }
.vre-browse-attach-row { display: flex; gap: 6px 8px; flex-wrap: wrap; align-items: flex-end; margin-top: 6px; }
.vre-browse-attach-field { flex: 0 1 16em; }
.vre-browse-attached { align-self: center; }
.vre-browse-attach-note { flex-basis: 100%; }
.vre-browse-facts { color: var(--jp-ui-font-color2); margin-bottom: 4px; }
.vre-browse-label { font-weight: 600; margin-top: 6px; }
.vre-browse-meta dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 12px; margin: 4px 0; }
.vre-browse-meta dt { color: var(--jp-ui-font-color2); }
.vre-browse-meta dd { margin: 0; word-break: break-word; }
.vre-browse-rse, .vre-browse-rule { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 2px 0; }
.vre-browse-rse-name { min-width: 10em; }
.vre-browse-dest .vre-browse-rse-name { font-weight: 600; }
.vre-browse-actions { display: flex; gap: 6px; flex-wrap: wrap; margin-top: 8px; }
.vre-browse-task { margin-top: 8px; padding: 6px 8px; border: var(--jp-border-width, 1px) solid var(--jp-border-color2); border-radius: var(--jp-border-radius, 2px); }
.vre-browse-task-head { display: flex; gap: 8px; align-items: center; }
.vre-browse-task-state { font-weight: 600; }
.vre-browse-paths { margin: 4px 0; padding-left: 0; list-style: none; }
.vre-browse-paths li { display: flex; gap: 8px; align-items: center; justify-content: space-between; padding: 1px 0; }
.vre-browse-paths code { word-break: break-all; }
.vre-browse-paths .vre-button.jp-mod-styled { height: 22px; line-height: 20px; padding: 0 6px; font-size: var(--jp-ui-font-size0, 11px); }
.vre-browse-path-tools { display: flex; gap: 6px; flex-wrap: wrap; }
.vre-browse-error { color: var(--jp-error-color1); margin: 4px 0; }
`;
