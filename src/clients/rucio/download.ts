/**
 * Download of a DID (file, dataset or container) to a local folder.
 *
 * For each file: the replicas are ranked (the preferred RSE first, reached through its mount point or
 * its http(s)/davs PFN; then http(s)/davs replicas by server priority; then file:// replicas that are
 * visible on this machine); the bytes are streamed to `<target>.part`, checked against the catalogue's
 * size, adler32 and (when known) md5, synced and renamed into place. A failed or interrupted transfer never
 * leaves a file under the final name; the next replica is tried; a rerun resumes a kept `.part` with a
 * Range request when the storage supports it, and skips files already present with the right checksum.
 */
import { existsSync, statSync } from "node:fs";
import { checksumFile, normaliseAdler32 } from "../http/checksum";
import { ClientError } from "../errors";
import type { HttpClient } from "../http/client";
import { copyLocalFile, downloadToFile, type TransferProgress } from "../http/transfer";
import { redactUrl } from "../http/redact";
import { type CallOptions, didPath, type RucioBase } from "./base";
import { type DidRef, formatDid, parseDid } from "./did-ref";
import { RucioError } from "./errors";
import { downloadTarget, filePfnPath, httpUrlOf, mountedPath } from "./paths";
import type { Replica, Replicas } from "./replicas";
import { DidSchema } from "./schemas";
import { storageAuthHeaders } from "./transfers";

export interface DownloadProgress extends TransferProgress {
  /** "scope:name" of the file being transferred. */
  did: string;
  fileIndex: number;
  fileCount: number;
}

export interface DownloadOptions extends CallOptions {
  /** Target folder (default: the current directory). */
  dir?: string;
  /** Put files under dir/<scope>/ like `rucio download` (default true). */
  scopeDir?: boolean;
  /** Preferred RSE (default: the profile's destinationRse). */
  rse?: string;
  /** Replace an existing file whose checksum differs (default false: such a file is an error). */
  overwrite?: boolean;
  /**
   * Which catalogue checksums to verify besides the size. "preferred" (default), as the Rucio client does:
   * adler32, or md5 when the file has no adler32. "all": md5 as well when the catalogue has it, which
   * bounds the transfer by md5's speed (a few hundred MB/s per core).
   */
  verify?: "preferred" | "all";
  onProgress?: (p: DownloadProgress) => void;
}

export interface DownloadedFile {
  did: string;
  path: string;
  bytes: number;
  adler32: string;
  md5?: string;
  /** Which catalogue values were checked. */
  verified: string[];
  /** Where the bytes came from (PFN redacted), or "local" when already present. */
  source: { rse?: string; pfn?: string; via: "http" | "file" | "mount" | "local" };
  skipped: boolean;
}

interface Candidate {
  rse: string;
  pfn: string;
  via: "http" | "file" | "mount";
  /** URL for http, local path for file/mount. */
  location: string;
}

/** Orders a file's replicas by how we will try them. */
export function rankReplicas(
  rep: Replica,
  prefs: { rse?: string; mountPath?: string; pathBeginsAt?: number; exists?: (p: string) => boolean },
): Candidate[] {
  const exists = prefs.exists ?? ((p: string) => existsSync(p));
  const available = (rse: string) => !rep.states[rse] || rep.states[rse] === "AVAILABLE";
  const preferred: Candidate[] = [];
  const remote: Candidate[] = [];
  const local: Candidate[] = [];
  for (const p of rep.pfns) {
    if (!available(p.rse)) continue;
    const isPreferred = prefs.rse !== undefined && p.rse === prefs.rse;
    if (isPreferred && prefs.mountPath) {
      const mp = mountedPath(p.pfn, prefs.mountPath, prefs.pathBeginsAt ?? 0);
      if (exists(mp)) preferred.push({ rse: p.rse, pfn: p.pfn, via: "mount", location: mp });
    }
    const url = httpUrlOf(p.pfn);
    if (url) {
      (isPreferred ? preferred : remote).push({ rse: p.rse, pfn: p.pfn, via: "http", location: url });
      continue;
    }
    const fp = filePfnPath(p.pfn);
    if (fp && exists(fp)) (isPreferred ? preferred : local).push({ rse: p.rse, pfn: p.pfn, via: "file", location: fp });
  }
  // Prefer https over plain http among remote replicas of equal priority (stable sort keeps priority order).
  remote.sort((a, b) => Number(b.location.startsWith("https:")) - Number(a.location.startsWith("https:")));
  return [...preferred, ...remote, ...local];
}

/** The catalogue values a download checks, by the verification policy (see DownloadOptions.verify). */
export function expectedChecksums(rep: Pick<Replica, "bytes" | "adler32" | "md5">, verify: "preferred" | "all"): { bytes?: number | null; adler32?: string | null; md5?: string | null } {
  const md5 = verify === "all" || !rep.adler32 ? rep.md5 : undefined;
  return { bytes: rep.bytes, adler32: rep.adler32, md5 };
}

export async function download(
  base: RucioBase,
  replicas: Replicas,
  storage: HttpClient,
  did: string | DidRef,
  opts: DownloadOptions = {},
): Promise<DownloadedFile[]> {
  const d = parseDid(did);
  const dir = opts.dir ?? process.cwd();
  const files: Replica[] = [];
  // Replicas of every file below the DID; lists are small next to the data, so gather them first.
  for await (const r of replicas.list(d, { signal: opts.signal })) files.push(r);
  if (files.length === 0) {
    // Distinguish "no such DID" (404 from the details call) from "no replicas".
    await base.json({ method: "GET", path: `dids/${didPath(d.scope, d.name)}`, what: `read ${formatDid(d)}`, signal: opts.signal }, DidSchema);
    throw new RucioError({
      code: "RUCIO_NO_REPLICA",
      message: `${formatDid(d)} has no file replicas.`,
      hint: `It may be an empty collection, or its data is still being replicated; check with %rucio list-file-replicas ${formatDid(d)} --all-states.`,
    });
  }
  const out: DownloadedFile[] = [];
  let i = 0;
  for (const rep of files) {
    i++;
    out.push(await downloadOne(base, storage, rep, dir, opts, i, files.length));
  }
  return out;
}

async function downloadOne(
  base: RucioBase,
  storage: HttpClient,
  rep: Replica,
  dir: string,
  opts: DownloadOptions,
  index: number,
  count: number,
): Promise<DownloadedFile> {
  const did = `${rep.scope}:${rep.name}`;
  const target = downloadTarget(dir, rep.scope, rep.name, opts.scopeDir ?? true);
  const expected = expectedChecksums(rep, opts.verify ?? "preferred");

  // Already there with the right content: nothing to do.
  if (existsSync(target)) {
    const st = statSync(target);
    if (st.isFile() && (rep.bytes == null || st.size === rep.bytes)) {
      const sums = await checksumFile(target, { signal: opts.signal, md5: Boolean(expected.md5) });
      const adlerOk = !expected.adler32 || normaliseAdler32(expected.adler32) === sums.adler32;
      const md5Ok = !expected.md5 || expected.md5.toLowerCase() === sums.md5;
      if (adlerOk && md5Ok) {
        const verified = ["bytes", ...(expected.adler32 ? ["adler32"] : []), ...(expected.md5 ? ["md5"] : [])];
        return { did, path: target, bytes: sums.bytes, adler32: sums.adler32, md5: sums.md5 || undefined, verified, source: { via: "local" }, skipped: true };
      }
    }
    if (!opts.overwrite) {
      throw new RucioError({
        code: "RUCIO_ALREADY_EXISTS",
        message: `${target} already exists and differs from ${did}.`,
        hint: "Move it away, or download again with overwrite enabled.",
      });
    }
  }

  const candidates = rankReplicas(rep, { rse: opts.rse ?? base.settings.destinationRse, mountPath: base.settings.mountPath, pathBeginsAt: base.settings.pathBeginsAt });
  if (candidates.length === 0) {
    const schemes = [...new Set(rep.pfns.map((p) => p.pfn.split(":")[0]))].join(", ") || "none";
    throw new RucioError({
      code: "RUCIO_NO_REPLICA",
      message: `No replica of ${did} is reachable from here (available schemes: ${schemes}).`,
      hint: "vre-ts reads https/davs replicas and files on mounted storage; replicate the data to such an RSE with `%rucio add-rule`.",
    });
  }
  const onProgress = opts.onProgress ? (p: TransferProgress) => opts.onProgress!({ ...p, did, fileIndex: index, fileCount: count }) : undefined;
  const errors: string[] = [];
  let last: ClientError | undefined;
  for (const c of candidates) {
    try {
      if (c.via === "http") {
        const token = await base.auth.token(opts.signal).catch(() => undefined);
        const r = await downloadToFile(
          storage,
          { path: c.location, what: `download ${did} from ${c.rse}`, headers: storageAuthHeaders(c.location, token, base.settings), signal: opts.signal },
          target,
          { expected, onProgress, signal: opts.signal },
        );
        return { did, path: target, bytes: r.bytes, adler32: r.adler32, md5: r.md5 || undefined, verified: r.verified, source: { rse: c.rse, pfn: redactUrl(c.pfn), via: "http" }, skipped: false };
      }
      const r = await copyLocalFile(c.location, target, { expected, onProgress, signal: opts.signal });
      return { did, path: target, bytes: r.bytes, adler32: r.adler32, md5: r.md5 || undefined, verified: r.verified, source: { rse: c.rse, pfn: redactUrl(c.pfn), via: c.via }, skipped: false };
    } catch (e) {
      if (opts.signal?.aborted || (e instanceof ClientError && e.code === "HTTP_ABORTED")) throw e;
      last = e instanceof ClientError ? e : new RucioError({ code: "HTTP_IO", message: `Download of ${did} failed: ${(e as Error).message}`, cause: e });
      errors.push(`${c.rse} (${c.via}): ${last.message}`);
      base.log("warn", `Replica of ${did} on ${c.rse} failed: ${last.message}; trying the next one.`);
    }
  }
  throw new RucioError({
    code: last?.code === "HTTP_CHECKSUM_MISMATCH" ? "HTTP_CHECKSUM_MISMATCH" : "RUCIO_NO_REPLICA",
    message: `Could not download ${did} from any replica: ${errors.join("; ")}`,
    hint: last?.hint ?? "Try again later, or replicate the data to another RSE.",
    cause: last,
  });
}
