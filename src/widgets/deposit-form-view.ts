/**
 * The deposit form's view (anywidget ESM) and style. Edits go to the model (`metadata`, `files`) shortly after
 * typing stops; the kernel answers with the offline check (`errors`, `warnings`), shown under the form and on
 * the fields. Saving and publishing are custom messages (`{ action: "save" | "publish" | "cancel" }`);
 * publishing asks for a second click, and says so loudly on production Zenodo. Text from the server goes in
 * through textContent only.
 */

import { VIEW_HELPERS } from "./view-helpers";

export const DEPOSIT_FORM_ESM = `${VIEW_HELPERS}
const KEYS = ["name", "instance", "production", "upload_types", "metadata", "files", "errors", "warnings", "deposition", "task", "error"];
const ACCESS = ["open", "embargoed", "restricted", "closed"];
const LICENSES = ["cc-by-4.0", "cc-by-sa-4.0", "cc0-1.0", "mit", "apache-2.0", "bsd-3-clause", "gpl-3.0-or-later"];

function field(label, input, key) {
  const row = h("label", "vre-form-field");
  row.dataset.field = key;
  row.append(h("span", "vre-form-label", label), input);
  return row;
}

function render({ model, el }) {
  const root = h("div", "vre-form");
  const banner = h("div", "vre-form-instance");
  const title = h("input", "vre-form-title");
  const type = h("select", "vre-form-type");
  const description = h("textarea", "vre-form-description");
  description.rows = 4;
  const creators = h("div", "vre-form-creators");
  const addCreator = h("button", "vre-form-add-creator", "Add creator");
  addCreator.type = "button";
  const keywords = h("input", "vre-form-keywords");
  keywords.placeholder = "comma-separated, e.g. dimuon, CMS open data";
  const license = h("input", "vre-form-license");
  license.setAttribute("list", "vre-form-licenses");
  const licenses = h("datalist");
  licenses.id = "vre-form-licenses";
  for (const l of LICENSES) {
    const o = h("option");
    o.value = l;
    licenses.append(o);
  }
  const access = h("select", "vre-form-access");
  for (const a of ["", ...ACCESS]) {
    const o = h("option", "", a || "(default: open)");
    o.value = a;
    access.append(o);
  }
  const version = h("input", "vre-form-version");
  const date = h("input", "vre-form-date");
  date.type = "date";
  const files = h("textarea", "vre-form-files");
  files.rows = 3;
  files.placeholder = "one path per line, relative to the notebook, e.g. results/mass.csv";
  const creatorsBox = h("div", "vre-form-field");
  creatorsBox.dataset.field = "creators";
  creatorsBox.append(h("span", "vre-form-label", "Creators"), creators, addCreator);

  const form = h("div", "vre-form-grid");
  form.append(
    field("Title", title, "title"),
    field("Type", type, "upload_type"),
    field("Description", description, "description"),
    creatorsBox,
    field("Keywords", keywords, "keywords"),
    field("Licence", license, "license"),
    field("Access", access, "access_right"),
    field("Version", version, "version"),
    field("Publication date", date, "publication_date"),
    field("Files", files, "files"),
  );
  const errors = h("ul", "vre-form-errors");
  const warnings = h("ul", "vre-form-warnings");
  const deposition = h("div", "vre-form-deposition");
  const buttons = h("div", "vre-form-buttons");
  const save = h("button", "vre-form-save", "Save draft");
  const publish = h("button", "vre-form-publish", "Publish");
  const cancel = h("button", "vre-form-cancel", "Cancel");
  buttons.append(save, publish, cancel);
  const task = h("div", "vre-form-task");
  const error = h("div", "vre-form-error");
  root.append(banner, form, licenses, errors, warnings, deposition, buttons, task, error);
  el.append(root);

  function creatorRow(c) {
    const row = h("div", "vre-form-creator");
    const name = h("input", "vre-form-creator-name");
    name.placeholder = "Family, Given";
    name.value = c.name || "";
    const aff = h("input", "vre-form-creator-affiliation");
    aff.placeholder = "affiliation";
    aff.value = c.affiliation || "";
    const orcid = h("input", "vre-form-creator-orcid");
    orcid.placeholder = "ORCID";
    orcid.value = c.orcid || "";
    const remove = h("button", "vre-form-remove", "×");
    remove.type = "button";
    remove.title = "remove this creator";
    remove.addEventListener("click", () => {
      row.remove();
      changed();
    });
    for (const i of [name, aff, orcid]) i.addEventListener("input", changed);
    row.append(name, aff, orcid, remove);
    return row;
  }

  function readForm() {
    return {
      title: title.value,
      upload_type: type.value,
      description: description.value,
      creators: [...creators.querySelectorAll(".vre-form-creator")].map((r) => ({
        name: r.querySelector(".vre-form-creator-name").value,
        affiliation: r.querySelector(".vre-form-creator-affiliation").value,
        orcid: r.querySelector(".vre-form-creator-orcid").value,
      })),
      keywords: keywords.value.split(",").map((k) => k.trim()).filter(Boolean),
      license: license.value,
      access_right: access.value,
      version: version.value,
      publication_date: date.value,
    };
  }

  // Edits reach the kernel shortly after typing stops; until then the inputs are the user's.
  let timer;
  let editing = false;
  function changed() {
    editing = true;
    clearTimeout(timer);
    timer = setTimeout(flush, 300);
  }
  function flush() {
    clearTimeout(timer);
    if (!editing) return;
    editing = false;
    model.set("metadata", readForm());
    model.set("files", files.value.split("\\n").map((f) => f.trim()).filter(Boolean));
    model.save_changes();
  }
  for (const i of [title, description, keywords, license, version, date, files]) i.addEventListener("input", changed);
  for (const i of [type, access]) i.addEventListener("change", changed);
  addCreator.addEventListener("click", () => {
    creators.append(creatorRow({}));
    changed();
  });

  function fillForm() {
    if (editing) return;
    const m = model.get("metadata");
    const set = (input, v) => {
      if (document.activeElement !== input && input.value !== v) input.value = v;
    };
    const types = model.get("upload_types") || [];
    if (type.options.length !== types.length + 1) {
      type.replaceChildren(...["", ...types].map((t) => {
        const o = h("option", "", t || "(choose)");
        o.value = t;
        return o;
      }));
    }
    set(title, m.title);
    set(type, m.upload_type);
    set(description, m.description);
    set(keywords, (m.keywords || []).join(", "));
    set(license, m.license);
    set(access, m.access_right);
    set(version, m.version);
    set(date, m.publication_date);
    set(files, (model.get("files") || []).join("\\n"));
    const shown = JSON.stringify(readForm().creators);
    if (shown !== JSON.stringify(m.creators) && !creators.contains(document.activeElement)) {
      creators.replaceChildren(...(m.creators.length ? m.creators : [{}]).map(creatorRow));
    }
  }

  let confirming = false;
  let confirmTimer;
  save.addEventListener("click", () => {
    flush();
    model.send({ action: "save" });
  });
  publish.addEventListener("click", () => {
    flush();
    if (!confirming) {
      confirming = true;
      clearTimeout(confirmTimer);
      confirmTimer = setTimeout(() => {
        confirming = false;
        update();
      }, 5000);
      update();
      return;
    }
    confirming = false;
    model.send({ action: "publish" });
  });
  cancel.addEventListener("click", () => model.send({ action: "cancel" }));

  function update() {
    fillForm();
    const production = model.get("production");
    banner.textContent = "Deposit " + JSON.stringify(model.get("name")) + " on " + model.get("instance");
    banner.dataset.production = production ? "yes" : "no";
    const errs = model.get("errors") || [];
    errors.replaceChildren(...errs.map((e) => h("li", "", e.message)));
    warnings.replaceChildren(...(model.get("warnings") || []).map((w) => h("li", "", w.message)));
    const bad = new Set(errs.map((e) => e.field.replace(/^metadata\\./, "").split(/[.\\[]/)[0]));
    for (const row of form.querySelectorAll(".vre-form-field")) row.classList.toggle("vre-form-invalid", bad.has(row.dataset.field));
    const d = model.get("deposition");
    deposition.replaceChildren();
    if (d) {
      deposition.dataset.state = d.state;
      deposition.append(h("span", "vre-form-deposition-state", d.state === "published" ? "Published" : "Draft " + d.id));
      if (d.doi) deposition.append(h("span", "vre-form-doi", "DOI " + d.doi));
      if (d.url) {
        const a = h("a", "vre-form-link", d.url);
        a.href = d.url;
        a.target = "_blank";
        a.rel = "noopener";
        deposition.append(a);
      }
    }
    const t = model.get("task");
    const busy = Boolean(t && t.state === "running");
    const published = Boolean(d && d.state === "published");
    save.disabled = busy || published;
    publish.disabled = busy || published || errs.length > 0;
    publish.textContent = published ? "Published" : confirming ? (production ? "Click again to publish on Zenodo PRODUCTION (a DOI cannot be withdrawn)" : "Click again to publish (a DOI cannot be withdrawn)") : "Publish";
    publish.classList.toggle("vre-form-confirm", confirming);
    cancel.hidden = !busy;
    for (const i of form.querySelectorAll("input, textarea, select, button")) i.disabled = published;
    task.replaceChildren();
    if (t) {
      task.dataset.state = t.state;
      task.append(h("div", "vre-form-task-state", (t.kind === "publish" ? "Publish" : "Save") + ": " + t.state));
      if (t.total && t.state === "running") {
        const bar = h("progress");
        bar.max = t.total;
        bar.value = t.done;
        task.append(bar);
      }
      if (t.message) task.append(h("div", "vre-form-task-message", t.message));
    }
    error.textContent = model.get("error") || "";
    error.hidden = !model.get("error");
  }

  const stopRedraw = redrawOn(model, KEYS, update);
  update();
  return () => {
    clearTimeout(timer);
    clearTimeout(confirmTimer);
    stopRedraw();
  };
}

export default { render };
`;

export const DEPOSIT_FORM_CSS = `
.vre-form { font-family: var(--jp-ui-font-family, sans-serif); font-size: var(--jp-ui-font-size1, 13px); color: var(--jp-ui-font-color1, #222); max-width: 52em; padding: 4px 0; }
.vre-form-instance { margin-bottom: 6px; font-weight: 600; }
.vre-form-instance[data-production="yes"] { color: var(--jp-warn-color0, #e65100); }
.vre-form-grid { display: grid; gap: 4px; }
.vre-form-field { display: grid; grid-template-columns: 9em minmax(0, 1fr); align-items: start; gap: 8px; }
.vre-form-field input, .vre-form-field textarea, .vre-form-field select { box-sizing: border-box; width: 100%; min-width: 0; font: inherit; padding: 2px 4px; border: 1px solid var(--jp-border-color1, #bbb); background: var(--jp-layout-color1, #fff); color: inherit; }
.vre-form-field textarea { resize: vertical; }
.vre-form-label { padding-top: 3px; color: var(--jp-ui-font-color2, #555); }
.vre-form-invalid input, .vre-form-invalid textarea, .vre-form-invalid select { border-color: var(--jp-error-color1, #d32f2f); }
.vre-form-creators { display: grid; gap: 2px; grid-column: 2; }
.vre-form-add-creator { grid-column: 2; justify-self: start; width: auto !important; }
.vre-form-creator { display: flex; gap: 4px; min-width: 0; }
.vre-form-creator input { min-width: 0; }
.vre-form-remove { width: auto; }
.vre-form-creator-name { flex: 2; }
.vre-form-creator-affiliation { flex: 2; }
.vre-form-creator-orcid { flex: 1.4; }
.vre-form-errors { color: var(--jp-error-color1, #d32f2f); margin: 6px 0 2px; padding-left: 1.4em; }
.vre-form-warnings { color: var(--jp-ui-font-color2, #666); margin: 2px 0; padding-left: 1.4em; }
.vre-form-deposition { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 6px 0; }
.vre-form-deposition-state { border-radius: 9px; padding: 0 8px; background: var(--jp-layout-color3, #ddd); }
.vre-form-deposition[data-state="published"] .vre-form-deposition-state { background: var(--jp-success-color3, #c8e6c9); }
.vre-form-buttons { display: flex; gap: 6px; margin-top: 6px; }
.vre-form-confirm { border-color: var(--jp-warn-color1, #f57c00); }
.vre-form-task { margin-top: 6px; }
.vre-form-task progress { width: 100%; }
.vre-form-task[data-state="failed"] .vre-form-task-state { color: var(--jp-error-color1, #d32f2f); }
.vre-form-task[data-state="done"] .vre-form-task-state { color: var(--jp-success-color1, #388e3c); }
.vre-form-error { color: var(--jp-error-color1, #d32f2f); margin: 4px 0; }
`;
