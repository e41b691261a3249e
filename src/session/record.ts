/**
 * The notebook's research record: the provenance log of every kernel session that ran the notebook, kept in a
 * JSON-lines file next to it (`NAME.provenance.jsonl` beside `NAME.ipynb`) and copied into the saved notebook's
 * metadata (`metadata["vre-ts"].record`) by `vre-ts run`.
 *
 * The file holds two kinds of lines: a session header (`"type":"session"`: when, which notebook code, which
 * parameters, which versions of vre-ts, tslab, TypeScript and Node, on which OS) written before the first entry
 * of a kernel session, and the entries themselves, each naming its session. A restarted kernel reads the file
 * back and continues the same history.
 */
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ProvenanceEntry } from "./provenance";
import { mergeRecordCopies } from "./record-merge";

/** Versions and platform of the kernel that produced a session's entries. */
export interface EnvironmentFacts {
  vreTs: string;
  tslab: string;
  typescript: string;
  node: string;
  os: { platform: string; release: string; arch: string };
}

export interface RecordSession {
  type: "session";
  /** Random id of one kernel session (one `vre-ts run`, or one kernel from start to restart). */
  session: string;
  started: string;
  /** The notebook's file name (no folder: the record travels with the notebook). */
  notebook?: string;
  /** sha256 of the notebook's code cells (injected parameters excluded) when the session started. */
  notebookSha256?: string;
  codeCells?: number;
  /** Parameters injected by `vre-ts run -p` (secret ones masked). */
  parameters?: Record<string, unknown>;
  environment: EnvironmentFacts;
}

/** The whole record, as stored in notebook metadata and in the crate. */
export interface ResearchRecord {
  version: 1;
  notebook?: string;
  sessions: RecordSession[];
  entries: ProvenanceEntry[];
}

/** The key under notebook metadata that holds vre-ts' own data. */
export const METADATA_KEY = "vre-ts";

/** The notebook this kernel runs: `VRE_TS_NOTEBOOK` (set by `vre-ts run`) or Jupyter server's `JPY_SESSION_NAME`. */
export function notebookPathFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  const p = env.VRE_TS_NOTEBOOK || env.JPY_SESSION_NAME;
  if (!p || !p.endsWith(".ipynb")) return undefined;
  if (env.VRE_TS_NOTEBOOK || path.isAbsolute(p)) return path.resolve(cwd, p);
  // jupyter_server 1.x names the notebook relative to its root folder (2.x gives the whole path) and starts the
  // kernel in the notebook's folder: "analysis/fit.ipynb" with the kernel in ROOT/analysis is ROOT/analysis/fit.ipynb.
  const dir = path.dirname(path.normalize(p));
  if (dir !== "." && (cwd === dir || cwd.endsWith(path.sep + dir))) return path.join(cwd, path.basename(p));
  return path.resolve(cwd, p);
}

/** `analysis.provenance.jsonl` next to `analysis.ipynb`. */
export function provenanceFileFor(notebook: string): string {
  return path.join(path.dirname(notebook), `${path.basename(notebook, ".ipynb")}.provenance.jsonl`);
}

interface CellLike {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: unknown };
}

/**
 * sha256 of a notebook's code: the code cells' sources in order, outputs and markdown left out, and so is the cell
 * `vre-ts run -p` injects (the parameters are recorded on their own). The same code gives the same digest whatever
 * was executed or saved since.
 */
export function notebookDigest(nb: { cells: CellLike[] }): { sha256: string; codeCells: number } {
  const sources = nb.cells
    .filter((c) => c.cell_type === "code" && !(Array.isArray(c.metadata?.tags) && (c.metadata!.tags as unknown[]).includes("injected-parameters")))
    .map((c) => (Array.isArray(c.source) ? c.source.join("") : c.source));
  return { sha256: createHash("sha256").update(JSON.stringify(sources)).digest("hex"), codeCells: sources.length };
}

function packageVersion(name: string, from: string[]): string {
  for (const candidate of from) {
    try {
      return String((JSON.parse(fs.readFileSync(candidate, "utf8")) as { version?: string }).version ?? "");
    } catch {
      // try the next place
    }
  }
  try {
    return String((require(`${name}/package.json`) as { version?: string }).version ?? "");
  } catch {
    return "unknown";
  }
}

let facts: EnvironmentFacts | undefined;

/** Versions of vre-ts, tslab, TypeScript and Node, and the kernel's OS. */
export function environmentFacts(): EnvironmentFacts {
  if (facts) return facts;
  const root = path.resolve(__dirname, "..", "..");
  facts = {
    vreTs: packageVersion("vre-ts", [path.join(root, "package.json")]),
    tslab: packageVersion("tslab", [path.join(root, "node_modules", "tslab", "package.json")]),
    typescript: packageVersion("typescript", [path.join(root, "node_modules", "typescript", "package.json")]),
    node: process.version,
    os: { platform: os.platform(), release: os.release(), arch: os.arch() },
  };
  return facts;
}

/** The session header of this process, from what the environment says (`vre-ts run` passes the parameters). */
export function newSession(env: NodeJS.ProcessEnv = process.env, now = new Date(), notebook = notebookPathFromEnv(env)): RecordSession {
  const session: RecordSession = {
    type: "session",
    session: env.VRE_TS_SESSION_ID || randomUUID(),
    started: now.toISOString(),
    environment: environmentFacts(),
  };
  if (notebook) Object.assign(session, notebookFacts(notebook));
  if (env.VRE_TS_PARAMETERS) {
    try {
      const p = JSON.parse(env.VRE_TS_PARAMETERS) as unknown;
      if (p && typeof p === "object" && !Array.isArray(p)) session.parameters = p as Record<string, unknown>;
    } catch {
      // malformed: ignore rather than fail the kernel
    }
  }
  return session;
}

/** A session header's facts about its notebook: the file name and, when it is saved and readable, its code digest. */
export function notebookFacts(notebook: string): Pick<RecordSession, "notebook" | "notebookSha256" | "codeCells"> {
  const facts: Pick<RecordSession, "notebook" | "notebookSha256" | "codeCells"> = { notebook: path.basename(notebook) };
  try {
    const digest = notebookDigest(JSON.parse(fs.readFileSync(notebook, "utf8")) as { cells: CellLike[] });
    facts.notebookSha256 = digest.sha256;
    facts.codeCells = digest.codeCells;
  } catch {
    // not saved yet, or not readable: the digest is simply absent
  }
  return facts;
}

/** Reads a record file: sessions and entries, skipping torn or foreign lines. */
export function readRecordFile(file: string): ResearchRecord {
  const sessions: RecordSession[] = [];
  const entries: ProvenanceEntry[] = [];
  let text = "";
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return { version: 1, sessions, entries };
  }
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a torn line from a crash mid-write
    }
    if (!v || typeof v !== "object") continue;
    if (v.type === "session" && typeof v.session === "string") sessions.push(v as unknown as RecordSession);
    else if (typeof v.seq === "number" && typeof v.action === "string") entries.push(v as unknown as ProvenanceEntry);
  }
  return { version: 1, notebook: sessions.at(-1)?.notebook, sessions, entries };
}

/** The record kept in a notebook's metadata, if any. */
export function recordOfNotebook(nb: { metadata?: Record<string, unknown> }): ResearchRecord | undefined {
  const own = nb.metadata?.[METADATA_KEY] as { record?: ResearchRecord } | undefined;
  const r = own?.record;
  return r && Array.isArray(r.sessions) && Array.isArray(r.entries) ? r : undefined;
}

/** Puts a record into a notebook's metadata (other vre-ts keys are kept). */
export function setNotebookRecord(nb: { metadata: Record<string, unknown> }, record: ResearchRecord, file?: string): void {
  const own = (nb.metadata[METADATA_KEY] as Record<string, unknown> | undefined) ?? {};
  nb.metadata[METADATA_KEY] = { ...own, ...(file ? { provenanceFile: file } : {}), record };
}

/** One session's part of a record. */
export function sessionRecord(record: ResearchRecord, session: string): ResearchRecord {
  return {
    version: 1,
    notebook: record.notebook,
    sessions: record.sessions.filter((s) => s.session === session),
    entries: record.entries.filter((e) => e.session === session),
  };
}

/** The last session that left entries (what a re-run is compared with). */
export function lastSession(record: ResearchRecord): RecordSession | undefined {
  const withEntries = new Set(record.entries.map((e) => e.session));
  return [...record.sessions].reverse().find((s) => withEntries.has(s.session));
}

/** sha256 (hex) of a file's bytes, streamed; undefined when it cannot be read. */
export async function sha256File(file: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const hash = createHash("sha256");
    for await (const chunk of fs.createReadStream(file, { signal })) hash.update(chunk as Uint8Array);
    return hash.digest("hex");
  } catch (e) {
    if (signal?.aborted) throw e;
    return undefined;
  }
}

/**
 * A copy of a record whose paths inside `dir` (the notebook's folder) are relative to it: the record saved in a
 * notebook travels with it and does not tell where the author's home folder is.
 */
export function relativeRecord(record: ResearchRecord, dir: string): ResearchRecord {
  return relativeValue(record, dir);
}

function relativeValue<T>(value: T, dir: string): T {
  const root = path.resolve(dir);
  const map = (v: unknown): unknown => {
    if (typeof v === "string") return v === root ? "." : v.startsWith(root + path.sep) ? path.relative(root, v).split(path.sep).join("/") : v;
    if (Array.isArray(v)) return v.map(map);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, map(x)]));
    return v;
  };
  return map(value) as T;
}

/**
 * The record of a notebook from two copies: `primary` (its record file) and `other` (what its metadata holds, e.g.
 * written by the record widget in a kernel that had no record file, or travelling in a notebook copied without its
 * file). Sessions and entries only `other` has are kept, in their order, among the primary's by time (session
 * start, entry time); for what both have, the primary's copy wins. Sessions are the same by their id; entries by
 * their session, time and subject (`dir`: the notebook's folder, when `primary` holds absolute paths that `other`
 * keeps relative to it). When `other` adds nothing the primary record is returned as it is; otherwise the entries
 * are renumbered (`seq` is the position in the log). The record widget's view merges with the same code
 * (./record-merge.ts).
 */
export function mergeRecords(primary: ResearchRecord, other: ResearchRecord | undefined, dir?: string): ResearchRecord {
  return mergeRecordCopies(primary, other, dir ? (e) => relativeValue(e, dir) : undefined);
}

/**
 * What a saved notebook keeps under `metadata["vre-ts"]`: the record with its paths relative to the notebook's
 * folder and, when there is one, where its record file is (relative to that folder, or just its name). `vre-ts
 * run` writes it at save time; the record widget writes it into the notebook a frontend saves.
 */
export function savedRecord(record: ResearchRecord, notebook: string, file?: string): { record: ResearchRecord; provenanceFile?: string } {
  const dir = path.dirname(notebook);
  if (!file) return { record: relativeRecord(record, dir) };
  const rel = path.relative(dir, file);
  return { record: relativeRecord(record, dir), provenanceFile: rel.startsWith("..") || path.isAbsolute(rel) ? path.basename(file) : rel.split(path.sep).join("/") };
}
