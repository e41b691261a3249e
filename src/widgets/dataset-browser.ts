/**
 * The Rucio dataset browser: a widget to find data and bring it here (`%rucio browse [SCOPE:PATTERN]`, or
 * `datasetBrowser(rucio)` from TypeScript). It does what the Rucio JupyterLab extension's sidebar does, inside
 * the notebook: search a scope by name pattern, type and metadata filter; see a DID's size, metadata, where
 * its files are (per RSE) and its rules; make it available on the destination RSE (one rule, reused if it
 * exists, followed until OK, then the mounted paths) or download it, verified, into a folder.
 *
 * The kernel does the work with the session's Rucio client; the view (dataset-browser-view.ts) draws the
 * state and sends requests. Every request runs under the widget's AbortSignal (closing the widget ends it)
 * and a task can be cancelled from the view; a cancelled download leaves no partial file under its name.
 * The state (saved into the notebook) holds catalogue facts and local paths, never a credential.
 */
import { anySignal } from "../clients/http/ambient-signal";
import { ruleProgress, type RucioClient } from "../clients/rucio";
import type { DownloadedFile } from "../clients/rucio/download";
import { formatDid, parseDid } from "../clients/rucio/did-ref";
import type { Rule } from "../clients/rucio/schemas";
import { DATASET_BROWSER_CSS, DATASET_BROWSER_ESM } from "./dataset-browser-view";
import { errorText } from "./error-text";
import { escapeHtml, staticTable } from "./snapshot";
import { widget, type WidgetModel } from "./widget";

export const SEARCH_TYPES = ["collection", "dataset", "container", "file", "all"] as const;
export type SearchType = (typeof SEARCH_TYPES)[number];

/** Results shown at most; a search finding more says so. */
export const RESULT_LIMIT = 200;
/** File replicas read to summarise where a DID's files are. */
const REPLICA_SCAN_LIMIT = 2000;

export interface BrowserResult {
  did: string;
  type: string;
  bytes: number | null;
  length: number | null;
}

export interface BrowserDetails {
  did: string;
  type: string;
  bytes: number | null;
  /** Files in a dataset or container. */
  length: number | null;
  meta: [string, string][];
  /** Per RSE: files with a replica there, how many are available, their bytes. */
  rses: { rse: string; files: number; available: number; bytes: number }[];
  /** True when more files exist than were read for `rses`. */
  rsesPartial: boolean;
  rules: { id: string; rse: string; state: string; ok: number; total: number; account: string }[];
}

export interface BrowserTask {
  kind: "make-available" | "download";
  did: string;
  state: "running" | "done" | "failed" | "cancelled";
  message: string;
  done: number;
  total: number;
  paths: string[];
}

export type DatasetBrowserState = {
  scopes: string[];
  scope: string;
  pattern: string;
  did_type: SearchType;
  filter: string;
  results: BrowserResult[];
  truncated: boolean;
  searching: boolean;
  /** The last search that completed ("scope:pattern"), so the view can say "no match" rather than "search". */
  searched: string;
  selected: string;
  details: BrowserDetails | null;
  loading: boolean;
  /** The RSE "make available" replicates to ("" when none is configured). */
  destination: string;
  /** The folder downloads go to, as shown to the user. */
  download_dir: string;
  task: BrowserTask | null;
  error: string;
  /** The search field the error is about ("scope", "filter"), shown next to it; "" for other errors. */
  error_field: string;
};

export type BrowserAction =
  | { kind: "download"; files: DownloadedFile[] }
  | { kind: "make-available"; did: string; rule: Rule; created: boolean; rse: string; paths: string[] };

export interface DatasetBrowserOptions {
  /** A first search, "scope:pattern" (pattern with `*` wildcards). */
  query?: string;
  type?: SearchType;
  filter?: string;
  /** Folder for downloads (absolute). Default: the current folder. */
  downloadDir?: string;
  /** How paths are shown (e.g. relative to the notebook). */
  displayPath?: (path: string) => string;
  /** Told of every download and rule (the magic records them in the provenance log). */
  onAction?: (action: BrowserAction) => void;
  /** Ends the widget's requests. */
  signal?: AbortSignal;
}

/** The output's text/html until the view saves a copy of itself: the query and the results. */
function browserSnapshot(s: DatasetBrowserState): string {
  const head = `<div><strong>Rucio dataset browser</strong>: ${escapeHtml(s.searched || `${s.scope}:${s.pattern}`)}</div>`;
  return `<div class="vre-snapshot">${head}${staticTable(["DID", "type", "files", "size"], s.results.map((r) => [r.did, r.type, r.length ?? "", r.bytes ?? ""]))}</div>`;
}

function metaValue(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Date) return v.toISOString();
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

export function datasetBrowser(client: RucioClient, options: DatasetBrowserOptions = {}): WidgetModel<DatasetBrowserState> {
  const show = options.displayPath ?? ((p: string) => p);
  const first = options.query ? parseDid(options.query) : undefined;
  const model = widget<DatasetBrowserState>({
    esm: DATASET_BROWSER_ESM,
    css: DATASET_BROWSER_CSS,
    id: "vre-ts.dataset-browser",
    state: {
      scopes: [],
      scope: first?.scope ?? "",
      pattern: first?.name ?? "*",
      did_type: options.type ?? "collection",
      filter: options.filter ?? "",
      results: [],
      truncated: false,
      searching: false,
      searched: "",
      selected: "",
      details: null,
      loading: false,
      destination: client.settings.destinationRse ?? "",
      download_dir: show(options.downloadDir ?? process.cwd()),
      task: null,
      error: "",
      error_field: "",
    },
    snapshot: browserSnapshot,
  });
  const signal = options.signal ? anySignal(model.signal, options.signal) : model.signal;
  const fail = (what: string) => (e: unknown) => {
    if (!signal.aborted) model.set("error", `${what}: ${errorText(e)}`);
  };

  /** Only the latest search or selection may write its answer (a slow earlier one is dropped). */
  let searchSeq = 0;
  const search = async (scope: string, pattern: string, type: SearchType, filter: string) => {
    const seq = ++searchSeq;
    model.set({ scope, pattern, did_type: type, filter, searching: true, error: "", error_field: "" });
    try {
      if (!scope) throw new Error("Choose a scope to search in.");
      const results: BrowserResult[] = [];
      let truncated = false;
      for await (const d of client.dids.search(scope, { name: pattern || "*", type, filters: filter.trim() || undefined, long: true, limit: RESULT_LIMIT + 1, signal })) {
        if (results.length === RESULT_LIMIT) {
          truncated = true;
          break;
        }
        results.push({ did: formatDid(d), type: String(d.type ?? "").toLowerCase(), bytes: d.bytes ?? null, length: d.length ?? null });
      }
      if (seq === searchSeq) model.set({ results, truncated, searched: `${scope}:${pattern || "*"}` });
    } catch (e) {
      if (seq === searchSeq) {
        const code = (e as { code?: string }).code;
        if (!signal.aborted) model.set("error_field", !scope || code === "RUCIO_SCOPE_NOT_FOUND" ? "scope" : code === "RUCIO_INVALID_FILTER" ? "filter" : "");
        fail("Search failed")(e);
      }
    } finally {
      if (seq === searchSeq && !model.closed) model.set("searching", false);
    }
  };

  let selectSeq = 0;
  const select = async (did: string) => {
    const seq = ++selectSeq;
    model.set({ selected: did, loading: true, error: "" });
    try {
      const [info, meta, rules] = await Promise.all([
        client.dids.get(did, { dynamicDepth: "FILE", signal }),
        client.dids.meta(did, { signal }).catch(() => ({}) as Record<string, unknown>),
        (async () => {
          const out: BrowserDetails["rules"] = [];
          for await (const r of client.rules.forDid(did, { signal })) {
            out.push({ id: r.id, rse: r.rse_expression, state: r.state, ...ruleProgress(r), account: r.account });
          }
          return out;
        })(),
      ]);
      const perRse = new Map<string, { files: number; available: number; bytes: number }>();
      let scanned = 0;
      for await (const rep of client.replicas.forDid(did, { limit: REPLICA_SCAN_LIMIT + 1, signal })) {
        if (++scanned > REPLICA_SCAN_LIMIT) break;
        for (const [rse, state] of Object.entries(rep.states)) {
          const row = perRse.get(rse) ?? { files: 0, available: 0, bytes: 0 };
          row.files++;
          if (state === "AVAILABLE") {
            row.available++;
            row.bytes += rep.bytes ?? 0;
          }
          perRse.set(rse, row);
        }
      }
      const details: BrowserDetails = {
        did,
        type: String(info.type ?? "").toLowerCase(),
        bytes: info.bytes ?? null,
        length: info.length ?? null,
        meta: Object.entries(meta)
          .filter(([k, v]) => v !== null && v !== undefined && !["scope", "name"].includes(k))
          .map(([k, v]) => [k, metaValue(v)] as [string, string])
          .sort(([a], [b]) => a.localeCompare(b)),
        rses: [...perRse.entries()].map(([rse, r]) => ({ rse, ...r })).sort((a, b) => b.available - a.available || a.rse.localeCompare(b.rse)),
        rsesPartial: scanned > REPLICA_SCAN_LIMIT,
        rules,
      };
      if (seq === selectSeq) model.set("details", details);
    } catch (e) {
      if (seq === selectSeq) {
        model.set("details", null);
        fail(`Could not read ${did}`)(e);
      }
    } finally {
      if (seq === selectSeq && !model.closed) model.set("loading", false);
    }
  };

  /** The running task's own cancel switch (one task at a time). */
  let taskAbort: AbortController | undefined;
  const runTask = async (kind: BrowserTask["kind"], did: string, work: (update: (t: Partial<BrowserTask>) => void, taskSignal: AbortSignal) => Promise<string>) => {
    if (taskAbort) return; // the view disables its buttons meanwhile; a late click is ignored
    const ac = new AbortController();
    taskAbort = ac;
    const taskSignal = anySignal(signal, ac.signal);
    let task: BrowserTask = { kind, did, state: "running", message: "", done: 0, total: 0, paths: [] };
    const update = (t: Partial<BrowserTask>) => {
      task = { ...task, ...t };
      if (!model.closed) model.set("task", task);
    };
    update({});
    model.set("error", "");
    try {
      update({ state: "done", message: await work(update, taskSignal) });
      if (model.get("selected") === did) void select(did); // new rules, new replicas
    } catch (e) {
      if (ac.signal.aborted && !signal.aborted) update({ state: "cancelled", message: kind === "download" ? "Cancelled; no partial file was kept under its name." : "Stopped following; the rule stays and Rucio keeps replicating." });
      else if (!signal.aborted) update({ state: "failed", message: errorText(e) });
    } finally {
      taskAbort = undefined;
    }
  };

  const makeAvailable = (did: string) =>
    runTask("make-available", did, async (update, taskSignal) => {
      const rse = client.settings.destinationRse;
      if (!rse) throw new Error("No destination RSE is configured (destinationRse in the profile, or RUCIO_DESTINATION_RSE).");
      update({ message: `Asking for a copy on ${rse}…` });
      const { rule, created } = await client.rules.ensure(did, { rseExpression: rse, comment: "vre-ts dataset browser", signal: taskSignal });
      update({ message: `${created ? "Rule created" : "Existing rule"} ${rule.id}: ${rule.state}` });
      const done = await client.rules.follow(rule.id, {
        signal: taskSignal,
        onUpdate: (r) => {
          const { ok, total } = ruleProgress(r);
          update({ done: ok, total, message: `Rule ${r.id}: ${r.state}` });
        },
      });
      let paths: string[] = [];
      if (client.settings.mountPath) {
        const rows = await client.localPaths(did, { rse, signal: taskSignal });
        paths = rows.flatMap((r) => (r.path ? [r.path] : []));
      }
      options.onAction?.({ kind: "make-available", did, rule: done, created, rse, paths });
      update({ paths: paths.map(show) });
      return `Available on ${rse} (rule ${done.id}).${paths.length ? "" : client.settings.mountPath ? "" : " No mount path is configured, so no local paths."}`;
    });

  const download = (did: string) =>
    runTask("download", did, async (update, taskSignal) => {
      const info = await client.dids.get(did, { dynamicDepth: "FILE", signal: taskSignal });
      const total = info.bytes ?? 0;
      let before = 0;
      let current = 0;
      update({ total, message: "Downloading…" });
      const files = await client.download(did, {
        dir: options.downloadDir,
        signal: taskSignal,
        onProgress: (p) => {
          current = p.bytes;
          update({ done: before + current, message: `${p.fileIndex + 1} of ${p.fileCount}: ${p.did}` });
          if (p.done) {
            before += current;
            current = 0;
          }
        },
      });
      options.onAction?.({ kind: "download", files });
      update({ done: total || files.reduce((n, f) => n + f.bytes, 0), paths: files.map((f) => show(f.path)) });
      const verified = files.filter((f) => f.verified.length > 0).length;
      return `${files.length} file${files.length === 1 ? "" : "s"} here, ${verified} verified${files.some((f) => f.skipped) ? " (some were already here)" : ""}.`;
    });

  model.on("msg:custom", (content) => {
    if (signal.aborted) return;
    const msg = (content ?? {}) as Record<string, unknown>;
    const str = (k: string) => (typeof msg[k] === "string" ? (msg[k] as string) : "");
    switch (msg.action) {
      case "search": {
        const type = SEARCH_TYPES.includes(str("type") as SearchType) ? (str("type") as SearchType) : "collection";
        void search(str("scope"), str("pattern"), type, str("filter"));
        break;
      }
      case "select":
        if (str("did").includes(":")) void select(str("did"));
        break;
      case "make-available":
        if (str("did").includes(":")) void makeAvailable(str("did"));
        break;
      case "download":
        if (str("did").includes(":")) void download(str("did"));
        break;
      case "cancel":
        taskAbort?.abort();
        break;
    }
  });

  void (async () => {
    try {
      const scopes = (await client.scopes.list({ signal })).sort();
      model.set("scopes", scopes);
      if (!model.get("scope") && scopes.length) model.set("scope", scopes[0]!);
    } catch (e) {
      fail("Could not list the scopes")(e);
    }
    if (first) await search(first.scope, first.name, model.get("did_type"), model.get("filter"));
  })();
  return model;
}
