/**
 * The research record widget (`%vre record`, or `recordWidget(session().provenance)` from TypeScript): a compact
 * summary of the notebook's record (entries per service, the last DOI) whose view also writes the record into
 * the notebook's metadata (`metadata["vre-ts"].record`), so that saving the notebook in JupyterLab keeps it, as
 * `vre-ts run` does at save time. The view cannot save files and the kernel cannot see the notebook model: the
 * kernel keeps the state up to date as entries are recorded, the view copies it into the notebook model.
 *
 * The state is the record in the shape `vre-ts run` saves (savedRecord: paths relative to the notebook's
 * folder). Its entries went through the provenance log's redaction, so it holds no credential.
 */
import * as path from "node:path";
import type { ProvenanceLog } from "../session/provenance";
import { type ResearchRecord, savedRecord } from "../session/record";
import { RECORD_CSS, RECORD_ESM } from "./record-view";
import { escapeHtml } from "./snapshot";
import { widget, type WidgetModel } from "./widget";

export type RecordWidgetState = {
  /** The record as saved in `metadata["vre-ts"].record`. */
  record: ResearchRecord;
  /** The record file, relative to the notebook's folder ("" when the kernel keeps the record in memory only). */
  provenance_file: string;
};

export interface RecordWidgetOptions {
  /** The notebook's folder when the kernel does not know its notebook (paths are shown relative to it). */
  dir?: string;
}

/** Updates are coalesced: a download of many files sends the record once, not once per file. */
const UPDATE_DELAY_MS = 200;

/** What the record holds, in numbers: per service, and the last DOI. */
export function recordSummary(record: ResearchRecord): { entries: number; sessions: number; services: [string, number][]; lastDoi?: string } {
  const services = new Map<string, number>();
  for (const e of record.entries) services.set(e.service, (services.get(e.service) ?? 0) + 1);
  const withEntries = new Set(record.entries.map((e) => e.session));
  return {
    entries: record.entries.length,
    sessions: record.sessions.filter((s) => withEntries.has(s.session)).length,
    services: [...services].sort((a, b) => a[0].localeCompare(b[0])),
    lastDoi: record.entries.findLast((e) => e.doi)?.doi,
  };
}

function recordSnapshot(s: RecordWidgetState): string {
  const sum = recordSummary(s.record);
  const services = sum.services.map(([name, n]) => `${name} ${n}`).join(" · ");
  const text = sum.entries ? `${sum.entries} entr${sum.entries === 1 ? "y" : "ies"}${services ? ` (${services})` : ""}${sum.lastDoi ? `; last DOI ${sum.lastDoi}` : ""}` : "nothing recorded yet";
  return `<div class="vre-snapshot"><strong>Research record</strong>: ${escapeHtml(text)}</div>`;
}

function stateOf(log: ProvenanceLog, dir: string): RecordWidgetState {
  const notebook = log.notebook ?? path.join(dir, "notebook.ipynb");
  const saved = savedRecord(log.toRecord(), notebook, log.mirrorStatus().file);
  return { record: saved.record, provenance_file: saved.provenanceFile ?? "" };
}

const live = new WeakMap<ProvenanceLog, WidgetModel<RecordWidgetState>>();

/**
 * The record widget of this provenance log: one model per log, shown as often as asked (every view writes the
 * same record). It follows the log until it is closed.
 */
export function recordWidget(log: ProvenanceLog, options: RecordWidgetOptions = {}): WidgetModel<RecordWidgetState> {
  const existing = live.get(log);
  if (existing && !existing.closed) return existing;
  const dir = log.notebook ? path.dirname(log.notebook) : path.resolve(options.dir ?? process.cwd());
  const model = widget<RecordWidgetState>({
    esm: RECORD_ESM,
    css: RECORD_CSS,
    id: "vre-ts.record",
    state: stateOf(log, dir),
    snapshot: recordSnapshot,
  });
  let timer: NodeJS.Timeout | undefined;
  const off = log.onRecord(() => {
    if (timer || model.closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!model.closed) model.set(stateOf(log, dir));
    }, UPDATE_DELAY_MS);
    timer.unref?.();
  });
  model.signal.addEventListener(
    "abort",
    () => {
      off();
      clearTimeout(timer);
      if (live.get(log) === model) live.delete(log);
    },
    { once: true },
  );
  live.set(log, model);
  return model;
}
