/**
 * The research record around a `vre-ts run`: the runner tells the kernel which notebook it runs, under which
 * session id and with which parameters (environment variables, so no kernel change is needed), and at save time
 * copies the kernel's record file into the executed notebook's metadata (`metadata["vre-ts"].record`).
 */
import { randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { isSecretName } from "../jupyter-client/parameters";
import { type ResearchRecord, mergeRecords, provenanceFileFor, readRecordFile, recordOfNotebook, savedRecord, setNotebookRecord } from "../session/record";

/** Where the kernel keeps the record of `notebook` (the same rule as the kernel's ProvenanceLog). */
export function recordFileOf(notebook: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.VRE_TS_PROVENANCE_FILE || provenanceFileFor(notebook);
}

/** Parameters as recorded: secret-named ones masked. */
export function recordedParameters(params: Map<string, unknown>): Record<string, unknown> {
  return Object.fromEntries([...params].map(([k, v]) => [k, isSecretName(k) ? "***" : v]));
}

export function runRecordEnv(notebook: string, params: Map<string, unknown>): { session: string; env: Record<string, string> } {
  const session = randomUUID();
  const env: Record<string, string> = { VRE_TS_NOTEBOOK: notebook, VRE_TS_SESSION_ID: session };
  if (params.size) env.VRE_TS_PARAMETERS = JSON.stringify(recordedParameters(params));
  return { session, env };
}

/** Writes a record back as a record file (session header, then its entries, session by session). */
export function writeRecordFile(file: string, record: ResearchRecord): void {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const s of record.sessions) {
    lines.push(JSON.stringify(s));
    seen.add(s.session);
    for (const e of record.entries) if (e.session === s.session) lines.push(JSON.stringify(e));
  }
  for (const e of record.entries) if (!e.session || !seen.has(e.session)) lines.push(JSON.stringify(e));
  writeFileSync(file, lines.length ? `${lines.join("\n")}\n` : "", { mode: 0o600 });
}

/** A notebook whose record file is missing (e.g. downloaded from its Zenodo record) gets it back from its metadata. */
export function seedRecordFile(notebook: string, nb: { metadata?: Record<string, unknown> }): void {
  const file = recordFileOf(notebook);
  const record = recordOfNotebook(nb);
  if (!record || existsSync(file) || !existsSync(dirname(file))) return;
  writeRecordFile(file, record);
}

/**
 * Copies the record file into the notebook's metadata (when the run recorded anything at all), merged with the
 * record the metadata already holds: sessions only the notebook kept (the record widget's, from a kernel that had no
 * record file) stay; for the others the file wins. Returns the record file's record.
 */
export function saveRunRecord(nb: { metadata: Record<string, unknown> }, notebook: string): ResearchRecord | undefined {
  const file = recordFileOf(notebook);
  const record = readRecordFile(file);
  if (record.entries.length === 0 && record.sessions.length === 0) return undefined;
  const saved = savedRecord(record, notebook, file);
  setNotebookRecord(nb, mergeRecords(saved.record, recordOfNotebook(nb)), saved.provenanceFile);
  return record;
}

/**
 * A notebook's record: its record file when there is one, with the sessions only its metadata holds merged in;
 * else what its metadata holds.
 */
export function loadRecord(notebook: string, nb: { metadata?: Record<string, unknown> }): { record?: ResearchRecord; recordFile?: string; from: "file" | "metadata" | "none" } {
  const file = recordFileOf(notebook);
  if (existsSync(file)) {
    const record = readRecordFile(file);
    if (record.entries.length || record.sessions.length) return { record: mergeRecords(record, recordOfNotebook(nb), dirname(notebook)), recordFile: file, from: "file" };
  }
  const record = recordOfNotebook(nb);
  return record ? { record, from: "metadata" } : { from: "none" };
}
