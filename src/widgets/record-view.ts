/**
 * The research record widget's view (anywidget ESM) and style: one compact block (entries per service, the last
 * DOI, where the record is kept) that copies the model's record into the notebook's metadata
 * (`metadata["vre-ts"].record`, through notebookLink) whenever it changes, so saving the notebook keeps it.
 * It never replaces a saved record that has kernel sessions the kernel does not know (a notebook whose record
 * file is gone): it says so instead.
 */

import { VIEW_CSS, VIEW_HELPERS } from "./view-helpers";

export const RECORD_ESM = `${VIEW_HELPERS}
function sameJson(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function render({ model, el }) {
  const root = h("div", "vre-record");
  const head = h("div", "vre-record-head");
  const services = h("div", "vre-record-services");
  const doi = h("div", "vre-record-doi");
  const where = h("div", "vre-record-where vre-muted");
  root.append(head, services, doi, where);
  el.append(root);
  const link = notebookLink(model, root, { title: "Research record" });

  /** Copies the record into the notebook; says what happened: saved, empty, foreign, nowhere, stale. */
  function writeIntoNotebook(record) {
    if (!record || (!record.entries.length && !record.sessions.length)) return "empty";
    if (link.stale) return "stale";
    const current = link.notebookValue("record");
    if (current && Array.isArray(current.sessions)) {
      const known = new Set(record.sessions.map((s) => s.session));
      if (current.sessions.some((s) => s && !known.has(s.session))) return "foreign";
      if (sameJson(current, record)) return "saved";
    }
    if (!link.setNotebookValue("record", record)) return "nowhere";
    const file = model.get("provenance_file");
    if (file && link.notebookValue("provenanceFile") !== file) link.setNotebookValue("provenanceFile", file);
    return "saved";
  }

  let lastWrite = "";
  function draw() {
    const record = model.get("record") || { sessions: [], entries: [] };
    const entries = record.entries || [];
    const used = new Set(entries.map((e) => e.session));
    const sessions = (record.sessions || []).filter((s) => used.has(s.session)).length;
    const outcome = writeIntoNotebook(record);
    if (outcome !== "stale") lastWrite = outcome;

    head.replaceChildren(h("strong", "", "Research record"));
    head.append(h("span", "vre-record-count", entries.length
      ? " · " + entries.length + " entr" + (entries.length === 1 ? "y" : "ies") + " from " + sessions + " kernel session" + (sessions === 1 ? "" : "s")
      : " · nothing recorded yet"));

    const counts = new Map();
    for (const e of entries) counts.set(e.service, (counts.get(e.service) || 0) + 1);
    services.replaceChildren(...[...counts].sort((a, b) => a[0].localeCompare(b[0])).map(([name, n]) => pill(name + " " + n, "idle", "vre-record-service")));
    services.hidden = counts.size === 0;

    const last = [...entries].reverse().find((e) => e.doi);
    doi.replaceChildren();
    doi.hidden = !last;
    if (last) {
      const a = h("a", "vre-record-doi-link", last.doi);
      a.href = "https://doi.org/" + encodeURI(last.doi);
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      doi.append(h("span", "vre-muted", "Last DOI "), a, h("span", "vre-muted", last.label ? " (" + last.label + ")" : ""));
    }

    const file = model.get("provenance_file");
    const kept = file ? "Kept in " + file + " and s" : "S";
    where.textContent =
      lastWrite === "saved" ? kept + "aved with this notebook (metadata \\"vre-ts\\" → record). Details: %vre provenance"
      : lastWrite === "foreign" ? "Not written into this notebook: its saved record has kernel sessions this kernel does not know (is " + (file || "the record file") + " missing?). The saved record is kept as it is."
      : lastWrite === "nowhere" ? (file ? "Kept in " + file + "; t" : "T") + "his frontend gives the widget no notebook to save it into (vre-ts run saves it)."
      : "Reads, runs and deposits appear here as the notebook makes them, and are saved with it.";
    where.classList.toggle("vre-record-warn", lastWrite === "foreign");
    link.freeze();
  }

  const stopRedraw = redrawOn(model, ["record", "provenance_file"], draw);
  draw();
  return () => {
    stopRedraw();
    link.dispose();
  };
}

export default { render };
`;

export const RECORD_CSS = `${VIEW_CSS}
.vre-record [hidden] { display: none !important; }
.vre-record { font-family: var(--jp-ui-font-family); font-size: var(--jp-ui-font-size1); color: var(--jp-ui-font-color1); max-width: 60em; padding: 4px 0; display: flex; flex-direction: column; gap: 4px; }
.vre-record-head { display: flex; flex-wrap: wrap; gap: 0 4px; align-items: baseline; }
.vre-record-count { color: var(--jp-ui-font-color2); }
.vre-record-services { display: flex; flex-wrap: wrap; gap: 4px; }
.vre-record-doi { word-break: break-all; }
.vre-record-doi-link { color: var(--jp-content-link-color); }
.vre-record-where { font-size: var(--jp-ui-font-size0, 11px); }
.vre-record-warn { color: var(--jp-warn-color0, var(--jp-ui-font-color1)); }
`;
