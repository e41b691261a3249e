/**
 * The research record widget's view (anywidget ESM) and style: one compact block (entries per service, the last
 * DOI, where the record is kept) that copies the model's record into the notebook's metadata
 * (`metadata["vre-ts"].record`, through notebookLink) whenever it changes, so saving the notebook keeps it.
 * What the saved record holds and the kernel does not know (it has no record file) is kept, merged by time as
 * `vre-ts run` merges (the same code: ../session/record-merge.ts).
 */

import { RECORD_MERGE_JS } from "../session/record-merge";
import { VIEW_CSS, VIEW_HELPERS } from "./view-helpers";

export const RECORD_ESM = `${VIEW_HELPERS}
${RECORD_MERGE_JS}

function sameJson(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The record to save: the kernel's record, with what the notebook's saved record holds and the kernel does not know
 * (sessions of a kernel that had no record file, e.g. restarted on a server that does not name the notebook) merged
 * in by time, entries renumbered, exactly as \`vre-ts run\` merges its record file with the notebook's metadata.
 * Nothing saved is ever dropped; with a kernel that knows the whole history it is the model's. (Exported for the
 * tests, which run it from this module; anywidget uses the default export only.)
 */
export function mergedRecord(saved, record) {
  return mergeRecordCopies(record, saved);
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

  /** Copies the record into the notebook; says what happened: saved, empty, nowhere, stale. */
  function writeIntoNotebook(record) {
    if (!record || (!record.entries.length && !record.sessions.length)) return "empty";
    if (link.stale) return "stale";
    if (sameJson(link.notebookValue("record"), record)) return "saved";
    if (!link.setNotebookValue("record", record)) return "nowhere";
    const file = model.get("provenance_file");
    if (file && link.notebookValue("provenanceFile") !== file) link.setNotebookValue("provenanceFile", file);
    return "saved";
  }

  let lastWrite = "";
  function draw() {
    const own = model.get("record") || { version: 1, sessions: [], entries: [] };
    // A stale view (kernel gone, or a saved view) shows its own last state.
    const record = link.stale ? own : mergedRecord(link.notebookValue("record"), own);
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
      : lastWrite === "nowhere" ? (file ? "Kept in " + file + "; t" : "T") + "his frontend gives the widget no notebook to save it into (vre-ts run saves it)."
      : "Reads, runs and deposits appear here as the notebook makes them, and are saved with it.";
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
`;
