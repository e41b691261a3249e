/**
 * The provenance log of a notebook: an append-only record of what the notebook read (DIDs with their checksums and
 * local paths), ran (workflows with the sha256 of their specification and inputs) and published (deposits with
 * their DOIs). `%vre provenance` shows it; `--json` returns it. Entries are kept in memory and mirrored as JSON
 * lines (one line each, appended, mode 0600) to the notebook's record file (`NAME.provenance.jsonl` beside the
 * notebook, see ./record.ts) or `VRE_TS_PROVENANCE_FILE`. A new log on an existing file loads its history, so a
 * restarted kernel goes on with the same record; each entry names the kernel session that made it.
 *
 * When the environment does not name the notebook (JupyterLab 4 on jupyter_server 1.x gives a temporary path), the
 * log asks the Jupyter server for it (./notebook-from-server.ts) on its first entry or on `ready()`, never at kernel
 * start-up; entries kept in memory until then go to the file after its history, once each.
 *
 * Entries never hold secrets: every string goes through the clients' redactor, and keys that name a credential
 * are dropped before an entry is stored.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { redact } from "../clients/http/redact";
import { kernelNotebook } from "./notebook-from-server";
import { type RecordSession, type ResearchRecord, newSession, notebookFacts, notebookPathFromEnv, provenanceFileFor, readRecordFile } from "./record";

export type ProvenanceAction = "read" | "write" | "run" | "publish";

/** What an entry is about. */
export type ProvenanceKind =
  | "did" // a Rucio DID that was read or made available
  | "file" // a local file (upload source, downloaded workflow output)
  | "rule" // a Rucio replication rule
  | "workflow" // a REANA workflow
  | "deposit"; // a Zenodo deposition / record

export interface ProvenanceInput {
  action: ProvenanceAction;
  kind: ProvenanceKind;
  /** The service that was used: rucio, reana, zenodo. */
  service: string;
  /** A stable identifier: `scope:name`, workflow id, deposition id, rule id. */
  id: string;
  /** Human label: workflow name, deposit title, file name. */
  label?: string;
  /** What produced the entry, e.g. `%rucio download` or `rucio.download()`. */
  via?: string;
  /** The endpoint the service was reached at (printed, so it must hold no credentials; it is redacted anyway). */
  endpoint?: string;
  /** Checksums as `{ adler32, md5, sha256 }`. */
  checksums?: Record<string, string>;
  bytes?: number;
  /** Local paths that were written or read. */
  paths?: string[];
  /** Persistent identifier (DOI) for published things. */
  doi?: string;
  /** Anything else worth keeping (run number, status, RSE); flat JSON values. */
  details?: Record<string, unknown>;
}

export interface ProvenanceEntry extends ProvenanceInput {
  /** 1-based position in the log (continues across kernel sessions). */
  seq: number;
  /** ISO-8601 UTC timestamp. */
  time: string;
  /** The kernel session that made the entry (see RecordSession). */
  session?: string;
}

export interface ProvenanceOptions {
  /**
   * Mirror every entry to this JSON-lines file (appended; created with mode 0600) after loading the history it
   * already holds. Default: `VRE_TS_PROVENANCE_FILE`, else the record file next to the notebook the kernel runs
   * (`VRE_TS_NOTEBOOK` or Jupyter's `JPY_SESSION_NAME`); with neither the log stays in memory only.
   */
  file?: string;
  /** Environment to read those variables (and the session's parameters) from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Finds the notebook when the environment does not name it (default: `kernelNotebook`, which asks the Jupyter
   * server that started this kernel). Called once, on the first entry or `ready()`.
   */
  locate?: () => Promise<string | undefined>;
  /** Clock, for tests. */
  now?: () => Date;
}

const SECRET_KEY = /pass(word|wd)?|secret|token|authorization|cookie|credential|api[_-]?key/i;

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redact(value);
  if (value === null || typeof value !== "object" || depth > 6) return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEY.test(k)) continue;
    if (v === undefined) continue;
    out[k] = scrub(v, depth + 1);
  }
  return out;
}

export class ProvenanceLog {
  private items: ProvenanceEntry[] = [];
  private file?: string;
  private readonly now: () => Date;
  private readonly env: NodeJS.ProcessEnv;
  private fileError?: string;
  private readonly earlier: RecordSession[] = [];
  private knownNotebook?: string;
  /** The lookup of the notebook, while the environment has not named it (started once, by `ready()`). */
  private locate?: () => Promise<string | undefined>;
  private located?: Promise<string | undefined>;
  /** This process's session, created with its first entry. */
  private current?: RecordSession;
  private readonly listeners = new Set<(entry: ProvenanceEntry) => void>();

  constructor(options: ProvenanceOptions = {}) {
    this.env = options.env ?? process.env;
    const notebook = notebookPathFromEnv(this.env);
    this.knownNotebook = notebook;
    this.file = options.file ?? (this.env.VRE_TS_PROVENANCE_FILE || (notebook ? provenanceFileFor(notebook) : undefined));
    this.now = options.now ?? (() => new Date());
    if (!notebook) this.locate = options.locate ?? (() => kernelNotebook(this.env));
    if (this.file) this.loadHistory(this.file);
  }

  /** The notebook the kernel runs: named by the environment (VRE_TS_NOTEBOOK, JPY_SESSION_NAME) or, after `ready()`, found by asking the Jupyter server. */
  get notebook(): string | undefined {
    return this.knownNotebook;
  }

  /**
   * Finds the notebook when the environment did not name it (once; later calls share the answer) and, when no other
   * file was given, continues its record file: the file's history first, then what this kernel kept in memory.
   * Never rejects; resolves to the notebook, if known.
   */
  ready(): Promise<string | undefined> {
    if (!this.locate) return Promise.resolve(this.knownNotebook);
    this.located ??= this.locate()
      .catch(() => undefined)
      .then((found) => {
        if (found && !this.knownNotebook) this.useNotebook(found);
        return this.knownNotebook;
      });
    return this.located;
  }

  private loadHistory(file: string): void {
    const history = readRecordFile(file);
    this.earlier.push(...history.sessions);
    const kept = this.items;
    // The file's entries come first; those kept in memory follow them, renumbered (seq is the position in the log).
    this.items = [];
    for (const e of [...history.entries, ...kept]) this.items.push(Object.freeze({ ...e, seq: this.items.length + 1 }));
  }

  /** The notebook became known after start-up: its record file takes this kernel's session and entries so far. */
  private useNotebook(notebook: string): void {
    this.knownNotebook = notebook;
    if (this.current) Object.assign(this.current, scrub(notebookFacts(notebook)));
    if (this.file) return; // VRE_TS_PROVENANCE_FILE or an explicit file: already mirrored there
    this.file = provenanceFileFor(notebook);
    const keptCount = this.items.length;
    this.loadHistory(this.file);
    if (!this.current) return;
    // The file never held this session (the log was in memory only): its header and entries are written once here.
    this.mirror(this.current);
    for (const e of this.items.slice(this.items.length - keptCount)) this.mirror(e);
  }

  /** Appends an entry and returns it (frozen). */
  record(input: ProvenanceInput): ProvenanceEntry {
    const clean = scrub(input) as ProvenanceInput;
    const now = this.now();
    // The first entry starts the notebook lookup (when the environment did not name it); the entry is kept in
    // memory meanwhile and goes to the notebook's record file once it is known.
    if (this.locate && !this.located) void this.ready();
    if (!this.current) {
      this.current = scrub(newSession(this.env, now, this.knownNotebook)) as RecordSession;
      this.mirror(this.current);
    }
    const entry: ProvenanceEntry = Object.freeze({ seq: this.items.length + 1, time: now.toISOString(), session: this.current.session, ...clean });
    this.items.push(entry);
    this.mirror(entry);
    for (const l of [...this.listeners]) {
      try {
        l(entry);
      } catch {
        // a listener (e.g. a closed widget) never fails the recording
      }
    }
    return entry;
  }

  /** Calls `listener` after every new entry (e.g. the record widget); returns the unsubscribe function. */
  onRecord(listener: (entry: ProvenanceEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The kernel sessions of the history, oldest first (this one last, once it has recorded something). */
  sessions(): RecordSession[] {
    return this.current ? [...this.earlier, this.current] : [...this.earlier];
  }

  /** This kernel session's id (undefined until its first entry). */
  get session(): string | undefined {
    return this.current?.session;
  }

  /** Sessions and entries, as kept in notebook metadata and crates. */
  toRecord(): ResearchRecord {
    const sessions = this.sessions();
    return { version: 1, notebook: sessions.at(-1)?.notebook, sessions, entries: this.entries() };
  }

  /** A copy of the entries, oldest first, optionally filtered. */
  entries(filter: { action?: ProvenanceAction; service?: string; kind?: ProvenanceKind } = {}): ProvenanceEntry[] {
    return this.items.filter(
      (e) =>
        (!filter.action || e.action === filter.action) &&
        (!filter.service || e.service === filter.service) &&
        (!filter.kind || e.kind === filter.kind),
    );
  }

  get size(): number {
    return this.items.length;
  }

  /** The path of the JSON-lines mirror, if any, and the last error writing it (the log itself never fails). */
  mirrorStatus(): { file?: string; error?: string } {
    return { file: this.file, error: this.fileError };
  }

  toJSON(): ProvenanceEntry[] {
    return this.entries();
  }

  private mirror(entry: ProvenanceEntry | RecordSession): void {
    if (!this.file) return;
    try {
      // Only the immediate parent is created: recursive mkdir spins forever under /proc on Node 20.
      const dir = path.dirname(this.file);
      if (!fs.existsSync(dir)) fs.mkdirSync(dir, { mode: 0o700 });
      // One write call per entry with O_APPEND: lines from concurrent writers never interleave within a line.
      fs.appendFileSync(this.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      this.fileError = undefined;
    } catch (err) {
      this.fileError = redact(err instanceof Error ? err.message : String(err));
    }
  }

  /** Reads a JSON-lines mirror back (skipping session headers and lines that are not entries, e.g. a torn last line). */
  static readFile(file: string): ProvenanceEntry[] {
    if (!fs.existsSync(file)) fs.readFileSync(file); // the missing file's own error
    return readRecordFile(file).entries;
  }
}

/** sha256 (hex) of a specification, canonicalised so key order does not change the digest. */
export function specDigest(spec: unknown): string {
  const text = typeof spec === "string" ? spec : canonicalJson(spec);
  return createHash("sha256").update(text).digest("hex");
}

/** JSON with object keys sorted recursively. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
}
