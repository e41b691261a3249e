/**
 * The deposit form's view (anywidget ESM) and style. Edits go to the model (`metadata`, `files`) shortly after
 * typing stops; the kernel answers with the offline check (`errors`, `warnings`), shown under the form and on
 * the fields. Saving and publishing are custom messages (`{ action: "save" | "publish" | "cancel" }`);
 * publishing asks for a second click, and says so loudly on production Zenodo. Problems are shown on the field
 * they concern, in the form's words ("Creator 2, ORCID iD"). Once published, the DOI is a doi.org link with a
 * copy button and its badge. Text from the server goes in through textContent only.
 */

import { VIEW_CSS, VIEW_HELPERS } from "./view-helpers";

export const DEPOSIT_FORM_ESM = `${VIEW_HELPERS}
const KEYS = ["name", "instance", "production", "upload_types", "metadata", "files", "errors", "warnings", "deposition", "task", "error"];
const ACCESS = ["open", "embargoed", "restricted", "closed"];
const LICENSES = ["cc-by-4.0", "cc-by-sa-4.0", "cc0-1.0", "mit", "apache-2.0", "bsd-3-clause", "gpl-3.0-or-later"];
const TASK_TONES = { running: "busy", done: "ok", failed: "bad", cancelled: "warn" };

function field(label, control, key) {
  const row = h("div", "vre-form-field");
  row.dataset.field = key;
  const l = h("label", "vre-form-label", label);
  if (control.id) l.htmlFor = control.id;
  const box = h("div", "vre-form-control");
  box.append(control, h("div", "vre-field-error vre-form-field-error"));
  row.append(l, box);
  return row;
}

let uid = 0;
function withId(control) {
  control.id = "vre-form-" + ++uid;
  return control;
}

function render({ model, el }) {
  const root = h("div", "vre-form");
  const banner = h("div", "vre-form-instance");
  const title = withId(input("vre-form-title"));
  const type = withId(select("vre-form-type"));
  const description = withId(h("textarea", "jp-mod-styled vre-input vre-form-description"));
  description.rows = 4;
  const creators = h("div", "vre-form-creators");
  const addCreator = button("Add creator", "vre-form-add-creator", "reject");
  const keywords = withId(input("vre-form-keywords", "comma-separated, e.g. dimuon, CMS open data"));
  const license = withId(input("vre-form-license", "e.g. cc-by-4.0"));
  const listId = "vre-form-licenses-" + ++uid;
  license.setAttribute("list", listId);
  const licenses = h("datalist");
  licenses.id = listId;
  for (const l of LICENSES) {
    const o = h("option");
    o.value = l;
    licenses.append(o);
  }
  const access = withId(select("vre-form-access"));
  for (const a of ["", ...ACCESS]) {
    const o = h("option", "", a || "(default: open)");
    o.value = a;
    access.append(o);
  }
  const version = withId(input("vre-form-version", "e.g. 1.0.0"));
  const date = withId(input("vre-form-date"));
  date.type = "date";
  const files = withId(h("textarea", "jp-mod-styled vre-input vre-form-files"));
  files.rows = 3;
  files.placeholder = "one path per line, relative to the notebook, e.g. results/mass.csv";
  const creatorsBox = h("div", "vre-form-field");
  creatorsBox.dataset.field = "creators";
  const creatorsControl = h("div", "vre-form-control");
  creatorsControl.append(creators, h("div", "vre-field-error vre-form-field-error"), addCreator);
  creatorsBox.append(h("span", "vre-form-label", "Creators"), creatorsControl);

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
  errors.setAttribute("role", "alert");
  const warnings = h("ul", "vre-form-warnings");
  const deposition = h("div", "vre-form-deposition");
  const buttons = h("div", "vre-form-buttons");
  const save = button("Save draft", "vre-form-save", "reject");
  const publish = button("Publish", "vre-form-publish", "accept");
  const cancel = button("Cancel", "vre-form-cancel", "warn");
  buttons.append(save, publish, cancel);
  const task = h("div", "vre-form-task");
  const error = h("div", "vre-form-error");
  error.setAttribute("role", "alert");
  root.append(banner, form, licenses, errors, warnings, buttons, task, deposition, error);
  el.append(root);
  const link = notebookLink(model, root, { title: "Zenodo deposit form" });

  function creatorRow(c) {
    const row = h("div", "vre-form-creator");
    const name = input("vre-form-creator-name", "Family, Given");
    name.setAttribute("aria-label", "creator name");
    name.value = c.name || "";
    const aff = input("vre-form-creator-affiliation", "affiliation");
    aff.setAttribute("aria-label", "affiliation");
    aff.value = c.affiliation || "";
    const orcid = input("vre-form-creator-orcid", "0000-0000-0000-0000");
    orcid.setAttribute("aria-label", "ORCID iD");
    orcid.title = "ORCID iD: 16 digits in 4 groups, the last may be X";
    orcid.value = c.orcid || "";
    const remove = button("×", "vre-form-remove", "reject");
    remove.title = "Remove this creator";
    remove.setAttribute("aria-label", "remove this creator");
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
    if (!editing || link.stale) return;
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

  function showIssues(errs) {
    for (const row of form.querySelectorAll(".vre-form-field")) {
      const mine = errs.filter((e) => e.field === row.dataset.field);
      row.classList.toggle("vre-form-invalid", mine.length > 0);
      const slot = row.querySelector(".vre-form-field-error");
      if (slot) slot.textContent = mine.map((e) => (e.index !== null && e.index !== undefined ? e.label + ": " : "") + e.message).join(" ");
    }
    const rows = creators.querySelectorAll(".vre-form-creator");
    rows.forEach((r, i) => {
      for (const part of ["name", "affiliation", "orcid"]) {
        const c = r.querySelector(".vre-form-creator-" + part);
        const bad = errs.some((e) => e.field === "creators" && e.index === i && e.part === part);
        c.classList.toggle("vre-input-invalid", bad);
        c.setAttribute("aria-invalid", bad ? "true" : "false");
      }
    });
  }

  function drawDeposition(d) {
    deposition.replaceChildren();
    deposition.hidden = !d;
    if (!d) return;
    deposition.dataset.state = d.state;
    const head = h("div", "vre-form-deposition-head");
    head.append(pill(d.state === "published" ? "Published" : "Draft " + d.id, d.state === "published" ? "ok" : "idle", "vre-form-deposition-state"));
    if (d.url) {
      const a = h("a", "vre-form-link", d.state === "published" ? "Zenodo record" : "Draft on Zenodo");
      a.href = d.url;
      a.target = "_blank";
      a.rel = "noopener";
      head.append(a);
    }
    deposition.append(head);
    if (d.doi) {
      const row = h("div", "vre-form-doi-row vre-keep-live");
      const badge = h("a", "vre-form-badge");
      badge.href = d.doi_url || "https://doi.org/" + d.doi;
      badge.target = "_blank";
      badge.rel = "noopener";
      badge.title = "The DOI badge";
      badge.append(h("span", "vre-form-badge-key", "DOI"), h("span", "vre-form-badge-value", d.doi));
      const doiLink = h("a", "vre-form-doi", "DOI " + d.doi);
      doiLink.href = d.doi_url || "https://doi.org/" + d.doi;
      doiLink.target = "_blank";
      doiLink.rel = "noopener";
      row.append(badge, doiLink, copyButton(doiLink.href, "Copy DOI link", "vre-form-copy-doi"));
      if (d.badge_markdown) row.append(copyButton(d.badge_markdown, "Copy badge Markdown", "vre-form-copy-badge"));
      deposition.append(row);
    }
  }

  function update() {
    fillForm();
    const production = model.get("production");
    banner.textContent = "Deposit " + JSON.stringify(model.get("name")) + " on " + model.get("instance");
    banner.dataset.production = production ? "yes" : "no";
    const errs = model.get("errors") || [];
    errors.replaceChildren(...errs.map((e) => {
      const li = h("li");
      li.append(h("strong", "", e.label), h("span", "", ": " + e.message));
      return li;
    }));
    warnings.replaceChildren(...(model.get("warnings") || []).map((w) => h("li", "", w.label + ": " + w.message)));
    showIssues(errs);
    const d = model.get("deposition");
    drawDeposition(d);
    const t = model.get("task");
    const busy = Boolean(t && t.state === "running");
    const published = Boolean(d && d.state === "published");
    save.disabled = busy || published;
    publish.disabled = busy || published || errs.length > 0;
    publish.title = errs.length ? "Fix the fields marked in red first" : "";
    publish.textContent = published ? "Published" : confirming ? (production ? "Click again to publish on Zenodo PRODUCTION (a DOI cannot be withdrawn)" : "Click again to publish (a DOI cannot be withdrawn)") : "Publish";
    publish.classList.toggle("vre-form-confirm", confirming);
    publish.classList.toggle("jp-mod-warn", confirming);
    publish.classList.toggle("jp-mod-accept", !confirming);
    cancel.hidden = !busy;
    for (const i of form.querySelectorAll("input, textarea, select, button")) i.disabled = published;
    form.classList.toggle("vre-form-locked", published);
    task.replaceChildren();
    task.hidden = !t;
    if (t) {
      task.dataset.state = t.state;
      const head = h("div", "vre-form-task-head");
      head.append(h("span", "vre-form-task-state", (t.kind === "publish" ? "Publish" : "Save") + ": " + t.state));
      task.append(head);
      if (t.state === "running") task.append(progressBar(t.done, t.total, "busy"));
      if (t.total && t.state === "running") task.append(h("div", "vre-muted", formatSize(t.done) + " of " + formatSize(t.total)));
      if (t.message) task.append(h("div", "vre-form-task-message", t.message));
    }
    error.textContent = model.get("error") || "";
    error.hidden = !model.get("error");
    link.freeze();
  }

  const stopRedraw = redrawOn(model, KEYS, update);
  update();
  return () => {
    clearTimeout(timer);
    clearTimeout(confirmTimer);
    stopRedraw();
    link.dispose();
  };
}

export default { render };
`;

export const DEPOSIT_FORM_CSS = `${VIEW_CSS}
.vre-form { font-family: var(--jp-ui-font-family); font-size: var(--jp-ui-font-size1); color: var(--jp-ui-font-color1); max-width: 52em; padding: 4px 0; }
.vre-form-instance { margin-bottom: 8px; font-weight: 600; }
.vre-form-instance[data-production="yes"] { color: var(--jp-warn-color0); }
.vre-form-grid { display: grid; gap: 6px; }
.vre-form-field { display: grid; grid-template-columns: 9em minmax(0, 1fr); align-items: start; gap: 8px; }
.vre-form-control { display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.vre-form-control > .vre-input, .vre-form-control > .vre-select, .vre-form-control > textarea { box-sizing: border-box; width: 100%; min-width: 0; }
.vre-form-control > .vre-select { width: auto; max-width: 100%; }
.vre-form-control textarea.vre-input { height: auto; padding: 4px 7px; font-family: var(--jp-ui-font-family); resize: vertical; }
.vre-form-files { font-family: var(--jp-code-font-family) !important; }
.vre-form-label { padding-top: 5px; color: var(--jp-ui-font-color2); }
.vre-form-invalid > .vre-form-control > .vre-input, .vre-form-invalid > .vre-form-control > .vre-select, .vre-input.vre-input-invalid { border-color: var(--jp-error-color1); }
.vre-form-field-error:empty { display: none; }
.vre-form-creators { display: grid; gap: 4px; }
.vre-form-add-creator { align-self: flex-start; margin-top: 2px; }
.vre-form-creator { display: flex; flex-wrap: wrap; gap: 4px; min-width: 0; }
.vre-form-creator-name { flex: 2 1 10em; }
.vre-form-creator-affiliation { flex: 2 1 8em; }
.vre-form-creator-orcid { flex: 0 0 21ch; font-family: var(--jp-code-font-family); font-size: var(--jp-code-font-size); }
.vre-form-remove.vre-button.jp-mod-styled { padding: 0 8px; }
.vre-form-errors { color: var(--jp-error-color1); margin: 8px 0 2px; padding-left: 1.4em; }
.vre-form-errors:empty, .vre-form-warnings:empty { display: none; }
.vre-form-warnings { color: var(--jp-ui-font-color2); margin: 2px 0; padding-left: 1.4em; }
.vre-form-buttons { display: flex; gap: 6px; flex-wrap: wrap; margin-top: 8px; }
.vre-form-task { margin-top: 6px; }
.vre-form-task-head, .vre-form-deposition-head { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.vre-form-task-state { font-weight: 600; }
.vre-form-deposition { margin: 8px 0; padding: 6px 8px; border: var(--jp-border-width, 1px) solid var(--jp-border-color2); border-radius: var(--jp-border-radius, 2px); }
.vre-form-deposition[data-state="published"] { border-color: var(--jp-success-color1); }
.vre-form-link, .vre-form-doi { color: var(--jp-content-link-color); }
.vre-form-doi-row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-top: 6px; }
.vre-form-badge { display: inline-flex; font: 11px/18px Verdana, DejaVu Sans, sans-serif; border-radius: 3px; overflow: hidden; text-decoration: none; }
.vre-form-badge-key { background: #555; color: #fff; padding: 0 6px; }
.vre-form-badge-value { background: #007ec6; color: #fff; padding: 0 6px; }
.vre-form-locked .vre-form-label { opacity: 0.7; }
.vre-form-error { color: var(--jp-error-color1); margin: 4px 0; }
`;
