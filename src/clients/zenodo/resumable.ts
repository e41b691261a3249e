/**
 * A resumable deposit: create a deposition (once), upload files (skipping those already there with the same
 * md5), set the metadata, and optionally publish, remembering progress in a small JSON state file. Running it
 * again with the same state file continues the same deposition after a failure or an interrupt, and a
 * deposition that was published is never changed or published again. `%%zenodo deposit` and the deposit
 * form both run this; the caller chooses where the state file lives (next to the notebook).
 */
import { statSync } from "node:fs";
import { checksumFile } from "../http/checksum";
import { readJson, writeJsonAtomic } from "../json-file";
import type { ZenodoClient } from "./client";
import { ZenodoError } from "./errors";
import type { DepositMetadata } from "./metadata";
import type { Deposition } from "./responses";

export interface DepositState {
  version: 1;
  /** The Zenodo instance (depositInstance): its base URL, or the local sandbox's data folder. */
  endpoint: string;
  depositionId: number;
  created: string;
  /** Files already in the deposition, by name, with their md5. */
  files: Record<string, { md5: string; size: number }>;
  published?: { doi?: string; recordId?: string | number; recordUrl?: string };
  /** Earlier published versions, oldest first (`newVersion` moves `published` here). */
  versions?: Array<{ depositionId: number; doi?: string; recordId?: string | number }>;
}

/**
 * The name remembered deposits are keyed by: a stable one that survives restarts (the local sandbox's data folder,
 * whose URL changes with its port), else the base URL.
 */
export function depositInstance(settings: { baseUrl: string; instance?: string }): string {
  return settings.instance ?? settings.baseUrl;
}

export interface DepositFileResult {
  name: string;
  path: string;
  size: number;
  md5: string;
  /** uploaded now, or already there from an earlier (interrupted) run. */
  status: "uploaded" | "already uploaded";
}

export interface DepositProgress {
  status: string;
  /** The file being checked or uploaded. */
  current?: string;
  bytes?: number;
  files?: number;
}

export interface ResumableDepositOptions {
  /** Validated by the caller (the upload sends it as it is). */
  metadata: Record<string, unknown>;
  /** Local files and their names in the deposit. */
  files: { local: string; name: string }[];
  /** Where the progress is remembered; the same file continues the same deposition. */
  stateFile: string;
  /** Ignore the remembered progress and start a new deposition. */
  fresh?: boolean;
  /**
   * When the remembered deposition is published: make a new version of it with these files and metadata (files of
   * the previous version that are not listed are removed from the new one). Without it a published deposit is
   * left as it is.
   */
  newVersion?: boolean;
  /**
   * Publish once everything is uploaded. A function is asked first, with the draft (false keeps the draft):
   * the place for a confirmation.
   */
  publish?: boolean | ((draft: Deposition) => Promise<boolean>);
  signal?: AbortSignal;
  onProgress?: (p: DepositProgress) => void;
  /**
   * Called with the draft before its files are checked and uploaded (e.g. to write a file that names the draft's
   * reserved DOI); metadata it returns replaces `metadata` for this deposit.
   */
  prepare?: (draft: Deposition) => Promise<Record<string, unknown> | void>;
  /** Called once the files and metadata are in the draft, before any publishing (a provenance record). */
  onUploaded?: (draft: Deposition, files: DepositFileResult[]) => void;
}

export interface ResumableDepositResult {
  deposition: Deposition;
  files: DepositFileResult[];
  /** Continued a deposition from the state file. */
  resumed: boolean;
  /** It had been published by an earlier run: nothing was sent. */
  alreadyPublished: boolean;
  /** A new version of the remembered (published) deposition was made. */
  newVersionOf?: { depositionId: number; doi?: string };
  /** Set when this run published it. */
  published?: { doi?: string; recordId?: string | number; recordUrl?: string };
}

export interface DepositFileProblem<F> {
  problem: "missing" | "not a file" | "duplicate name";
  file: F;
}

/** What stands in the way of depositing these files: each missing, non-file or twice-named entry, in order. */
export function depositFileProblems<F extends { local: string; name: string }>(files: F[]): DepositFileProblem<F>[] {
  const out: DepositFileProblem<F>[] = [];
  const names = new Set<string>();
  for (const file of files) {
    let isFile: boolean;
    try {
      isFile = statSync(file.local).isFile();
    } catch {
      out.push({ problem: "missing", file });
      continue;
    }
    if (!isFile) out.push({ problem: "not a file", file });
    if (names.has(file.name)) out.push({ problem: "duplicate name", file });
    names.add(file.name);
  }
  return out;
}

/** The progress remembered in `stateFile` for this endpoint, if any. */
export function rememberedDeposit(stateFile: string, endpoint: string): DepositState | undefined {
  const state = readJson<DepositState>(stateFile);
  return state && state.version === 1 && state.endpoint === endpoint ? state : undefined;
}

function isGone(e: unknown): boolean {
  return e instanceof ZenodoError && (e.code === "ZENODO_NOT_FOUND" || e.status === 404 || e.status === 410);
}

export async function resumableDeposit(client: ZenodoClient, opts: ResumableDepositOptions): Promise<ResumableDepositResult> {
  const { signal, files, stateFile } = opts;
  const progress = (p: DepositProgress) => opts.onProgress?.(p);
  const endpoint = depositInstance(client.settings);
  let state = opts.fresh ? undefined : rememberedDeposit(stateFile, endpoint);

  let dep: Deposition | undefined;
  let resumed = false;
  let newVersionOf: ResumableDepositResult["newVersionOf"];
  if (state) {
    try {
      dep = await client.getDeposition(state.depositionId, { signal });
      resumed = true;
    } catch (e) {
      if (!isGone(e)) throw e;
      state = undefined; // the draft was deleted in the meantime: start again
    }
  }
  if (dep && dep.submitted && opts.newVersion && state) {
    // On purpose: a new version of the published deposit (a new DOI under the same concept DOI).
    progress({ status: "creating a new version" });
    newVersionOf = { depositionId: dep.id, doi: state.published?.doi ?? dep.doi ?? undefined };
    const previous = { depositionId: dep.id, doi: newVersionOf.doi, recordId: state.published?.recordId };
    dep = await client.newVersion(dep.id, { signal });
    const listed = new Set(files.map((f) => f.name));
    for (const f of await client.listFiles(dep.id, { signal })) if (!listed.has(f.filename)) await client.deleteFile(dep.id, f.filename, { signal });
    state = { version: 1, endpoint, depositionId: dep.id, created: new Date().toISOString(), files: {}, versions: [...(state.versions ?? []), previous] };
    writeJsonAtomic(stateFile, state);
  }
  if (dep && dep.submitted) {
    // Published by an earlier run: never publish (or change) it again.
    const known = state!.files;
    const results = files.map((f) => ({ name: f.name, path: f.local, size: known[f.name]?.size ?? 0, md5: known[f.name]?.md5 ?? "", status: "already uploaded" as const }));
    progress({ status: "already published" });
    return { deposition: dep, files: results, resumed, alreadyPublished: true };
  }
  if (!dep) {
    progress({ status: "creating the deposition" });
    dep = await client.createDeposition(opts.metadata as unknown as DepositMetadata, { signal, validate: false });
    state = { version: 1, endpoint, depositionId: dep.id, created: new Date().toISOString(), files: {} };
    writeJsonAtomic(stateFile, state);
  }
  const st = state!;
  let metadata = opts.metadata;
  let metadataChanged = false;
  if (opts.prepare) {
    const prepared = await opts.prepare(dep);
    if (prepared) {
      metadata = prepared;
      metadataChanged = true;
    }
  }
  const remote = new Map((await client.listFiles(dep.id, { signal })).map((f) => [f.filename, (f.checksum ?? "").replace(/^md5:/, "")]));
  const results: DepositFileResult[] = [];
  let done = 0;
  for (const [i, f] of files.entries()) {
    progress({ status: "checking", current: f.name, files: i });
    const sums = await checksumFile(f.local, { signal, md5: true });
    const there = remote.get(f.name);
    if (there && there === sums.md5) {
      results.push({ name: f.name, path: f.local, size: sums.bytes, md5: sums.md5, status: "already uploaded" });
      st.files[f.name] = { md5: sums.md5, size: sums.bytes };
      done += sums.bytes;
      progress({ status: "checking", bytes: done, files: i + 1 });
      continue;
    }
    if (there !== undefined) await client.deleteFile(dep.id, f.name, { signal });
    progress({ status: "uploading", current: f.name });
    const base = done;
    const up = await client.uploadFile(dep, f.local, { signal, name: f.name, onProgress: (p) => progress({ status: "uploading", current: f.name, bytes: base + p.bytes }) });
    done += up.size;
    st.files[f.name] = { md5: up.md5, size: up.size };
    writeJsonAtomic(stateFile, st);
    results.push({ name: f.name, path: f.local, size: up.size, md5: up.md5, status: "uploaded" });
    progress({ status: "uploading", bytes: done, files: i + 1 });
  }
  if (resumed || metadataChanged) {
    progress({ status: "setting the metadata" });
    dep = await client.updateMetadata(dep.id, metadata as Partial<DepositMetadata>, { signal, validate: false });
  }
  opts.onUploaded?.(dep, results);
  const wanted = typeof opts.publish === "function" ? await opts.publish(dep) : Boolean(opts.publish);
  if (!wanted) {
    progress({ status: opts.publish ? "draft kept (not published)" : "draft ready" });
    return { deposition: await client.getDeposition(dep.id, { signal }), files: results, resumed, alreadyPublished: false, ...(newVersionOf ? { newVersionOf } : {}) };
  }
  progress({ status: "publishing" });
  const pub = await client.publish(dep.id, { signal });
  st.published = { doi: pub.doi, recordId: pub.recordId, recordUrl: pub.recordUrl };
  writeJsonAtomic(stateFile, st);
  progress({ status: `published ${pub.doi ?? ""}`.trim() });
  return { deposition: pub.deposition, files: results, resumed, alreadyPublished: false, published: st.published, ...(newVersionOf ? { newVersionOf } : {}) };
}
