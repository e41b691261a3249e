/**
 * Upload of a local file to an RSE, the way `rucio upload` does it over https/davs or a mounted file
 * system: choose a write protocol of the RSE, get the destination PFN with lfns2pfns, stream the bytes
 * (adler32 + md5 computed while reading, checked against the storage's Digest when it sends one),
 * register the replica, attach it to a dataset (created if needed), and protect it with a replication rule.
 * Registration is guarded: if its answer is lost, the replica is looked up before anything is re-sent.
 *
 * Like Rucio's own upload client, the new data always gets a rule with one copy on the upload RSE (with
 * `lifetime` when given), so the replica is not a tombstoned orphan that the reaper may delete: a new dataset is
 * created with that rule (`grouping: DATASET`); without a dataset, the new file gets it.
 */
import { randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { normaliseAdler32 } from "../http/checksum";
import type { HttpClient } from "../http/client";
import { submitOnce } from "../http/client";
import { redactUrl } from "../http/redact";
import { copyLocalFile, type TransferProgress, uploadFile } from "../http/transfer";
import type { CallOptions, RucioBase } from "./base";
import type { Dids } from "./dids";
import { checkedDid, type DidRef, formatDid, parseDid } from "./did-ref";
import { RucioError } from "./errors";
import { filePfnPath, httpUrlOf, mountedPath } from "./paths";
import type { Replicas } from "./replicas";
import type { Rses } from "./rses";
import type { Rules } from "./rules";
import type { Protocol } from "./schemas";
import { storageAuthHeaders } from "./transfers";

export interface UploadOptions extends CallOptions {
  /** Destination RSE (default: the profile's destinationRse). */
  rse?: string;
  /** Scope (default: user.<account>). */
  scope?: string;
  /** DID name (default: the file's base name). */
  name?: string;
  /** Dataset to attach to ("scope:name" or a name in the same scope); created if missing. */
  dataset?: string | DidRef;
  /**
   * Lifetime in seconds of the rule that protects the upload (one copy on `rse`, as `rucio upload --lifetime`);
   * default: no expiry.
   */
  lifetime?: number;
  /** An extra replication rule for the new file (or for the dataset when given), e.g. a copy elsewhere. */
  rule?: { rseExpression: string; copies?: number; lifetime?: number; comment?: string };
  /** Force a protocol scheme (https, davs, http, file). */
  scheme?: string;
  guid?: string;
  onProgress?: (p: TransferProgress & { did: string }) => void;
}

export interface UploadResult {
  did: string;
  rse: string;
  /** Redacted PFN. */
  pfn: string;
  bytes: number;
  adler32: string;
  md5: string;
  dataset?: string;
  /** The rule protecting the upload on `rse` (on the dataset when one was created), then the extra rule's. */
  ruleIds?: string[];
}

const PREFERRED_SCHEMES = ["https", "davs", "http", "file"];

function writeRank(p: Protocol): number {
  const w = p.domains?.wan?.write ?? p.domains?.lan?.write ?? 0;
  return w && w > 0 ? w : Infinity;
}

/** Picks the write protocol: the requested scheme, else https > davs > http > file (file only if reachable). */
export function chooseWriteScheme(protocols: Protocol[], opts: { scheme?: string; mountPath?: string } = {}): string | undefined {
  const writable = protocols.filter((p) => writeRank(p) !== Infinity);
  if (opts.scheme) return writable.some((p) => p.scheme === opts.scheme) ? opts.scheme : undefined;
  for (const s of PREFERRED_SCHEMES) {
    const p = writable.find((x) => x.scheme === s);
    if (!p) continue;
    if (s === "file" && !opts.mountPath && !(p.prefix && existsSync(p.prefix))) continue;
    return s;
  }
  return undefined;
}

function digestAdler32(header: string | undefined): string | undefined {
  const m = header && /adler32=([0-9a-fA-F]{1,8})/.exec(header);
  return m ? normaliseAdler32(m[1]) : undefined;
}

export async function upload(
  base: RucioBase,
  parts: { dids: Dids; replicas: Replicas; rses: Rses; rules: Rules; storage: HttpClient },
  file: string,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new RucioError({ code: "HTTP_IO", message: `Cannot read ${file}: no such file.`, hint: "Check the path." });
  }
  if (!st.isFile()) throw new RucioError({ code: "HTTP_IO", message: `${file} is not a regular file.`, hint: "Upload files one by one." });
  const rse = opts.rse ?? base.settings.destinationRse;
  if (!rse) {
    throw new RucioError({ code: "RUCIO_INVALID_REQUEST", message: "No destination RSE given.", hint: "Pass an RSE, or set destinationRse in your profile (RUCIO_DESTINATION_RSE)." });
  }
  const scope = opts.scope ?? `user.${await base.account({ signal: opts.signal })}`;
  const { name } = checkedDid({ scope, name: opts.name ?? basename(file) });
  if (opts.dataset) checkedDid(opts.dataset, scope);
  const did = `${scope}:${name}`;
  const signal = opts.signal;

  // 1. Where to write.
  const info = await parts.rses.get(rse, { signal });
  const scheme = chooseWriteScheme(info.protocols, { scheme: opts.scheme, mountPath: base.settings.destinationRse === rse ? base.settings.mountPath : undefined });
  if (!scheme) {
    const offered = info.protocols.map((p) => p.scheme).join(", ") || "none";
    throw new RucioError({
      code: "RUCIO_PROTOCOL_NOT_SUPPORTED",
      message: `RSE ${rse} offers no write protocol usable from here (offered: ${offered}).`,
      hint: "vre-ts writes over https/davs or to mounted storage; choose another RSE.",
    });
  }
  // 2. The file must not already be on that RSE.
  let knownFile = false;
  for await (const r of parts.replicas.forDid({ scope, name }, { signal })) {
    knownFile = true;
    if (r.rses[rse] || r.states[rse]) {
      throw new RucioError({
        code: "RUCIO_ALREADY_EXISTS",
        message: `${did} already has a replica on ${rse}.`,
        hint: "Choose another name, or attach the existing file instead of uploading it again.",
      });
    }
  }
  const pfns = await parts.rses.lfns2pfns(rse, [did], { scheme, operation: "write", signal });
  const pfn = pfns[did] ?? Object.values(pfns)[0];
  if (!pfn) throw new RucioError({ code: "HTTP_MALFORMED_RESPONSE", message: `lfns2pfns returned no PFN for ${did} on ${rse}.` });

  // 3. Transfer, checksumming while reading.
  const progress = opts.onProgress ? (p: TransferProgress) => opts.onProgress!({ ...p, did }) : undefined;
  let sums: { bytes: number; adler32: string; md5: string };
  const url = httpUrlOf(pfn);
  if (url) {
    const token = await base.auth.token(signal);
    const r = await uploadFile(parts.storage, { path: url, what: `upload ${did} to ${rse}`, headers: storageAuthHeaders(url, token, base.settings), idempotent: true }, file, { signal, onProgress: progress });
    // WebDAV storages (dCache, EOS, the sandbox) report what they stored; a mismatch means corruption in transit.
    const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
    const remote = digestAdler32(first(r.headers["digest"])) ?? (first(r.headers["x-checksum-adler32"]) ? normaliseAdler32(first(r.headers["x-checksum-adler32"])!) : undefined);
    if (remote && remote !== r.adler32) {
      throw new RucioError({
        code: "HTTP_CHECKSUM_MISMATCH",
        message: `The storage stored ${did} with adler32 ${remote}, but ${r.adler32} was sent; the replica was not registered.`,
        hint: "Upload the file again.",
      });
    }
    sums = r;
  } else {
    const local =
      base.settings.mountPath && base.settings.destinationRse === rse ? mountedPath(pfn, base.settings.mountPath, base.settings.pathBeginsAt ?? 0) : filePfnPath(pfn);
    if (!local) {
      throw new RucioError({ code: "RUCIO_PROTOCOL_NOT_SUPPORTED", message: `The storage path of ${rse} is not reachable from here.`, hint: "Mount the RSE or choose an https/davs RSE." });
    }
    const r = await copyLocalFile(file, local, { signal, onProgress: progress });
    sums = r;
  }

  // 4. Register the replica (never twice).
  await submitOnce(
    async () => {
      await parts.replicas.add(
        rse,
        [
          {
            scope,
            name,
            bytes: sums.bytes,
            adler32: sums.adler32,
            md5: sums.md5,
            pfn: info.deterministic === false ? pfn : undefined,
            meta: { guid: (opts.guid ?? randomUUID()).replace(/-/g, "") },
          },
        ],
        { signal },
      );
      return true;
    },
    async () => {
      for await (const r of parts.replicas.forDid({ scope, name }, { signal })) if (r.rses[rse] || r.states[rse]) return true;
      return undefined;
    },
    { signal },
  );

  // 5. Dataset and rules. The protecting rule is what `rucio upload` adds: on a dataset it creates, else on a
  // file it registered for the first time (a replica added to a known file keeps that file's rules).
  const account = await base.account({ signal });
  const protect = { account, copies: 1, rse_expression: rse, grouping: "DATASET" as const, lifetime: opts.lifetime ?? null };
  const ruleIds: string[] = [];
  let dataset: string | undefined;
  if (opts.dataset) {
    const ds = parseDid(opts.dataset, scope);
    dataset = formatDid(ds);
    const created = await parts.dids.addDataset(ds, { ignoreExisting: true, rules: [protect], signal });
    await parts.dids.attach(ds, [{ scope, name }], { signal });
    if (created) {
      const id = await ruleOf(parts.rules, ds, account, rse, signal);
      if (id) ruleIds.push(id);
    }
  } else if (!knownFile) {
    ruleIds.push(await protectingRule(parts.rules, { scope, name }, account, rse, opts.lifetime, signal));
  }
  if (opts.rule) {
    ruleIds.push(
      ...(await parts.rules.create({
        dids: [opts.dataset ? parseDid(opts.dataset, scope) : { scope, name }],
        rseExpression: opts.rule.rseExpression,
        copies: opts.rule.copies,
        lifetime: opts.rule.lifetime,
        comment: opts.rule.comment,
        signal,
      })),
    );
  }
  return { did, rse, pfn: redactUrl(pfn), bytes: sums.bytes, adler32: sums.adler32, md5: sums.md5, dataset, ruleIds: ruleIds.length ? ruleIds : undefined };
}

/** The id of this account's rule for `did` on exactly `rse`, if there is one. */
async function ruleOf(rules: Rules, did: DidRef, account: string, rse: string, signal?: AbortSignal): Promise<string | undefined> {
  for await (const r of rules.forDid(did, { signal })) if (r.account === account && r.rse_expression === rse) return r.id;
  return undefined;
}

/** Creates the one-copy rule on the upload RSE; one that already exists (a rerun after a lost answer) is reused. */
async function protectingRule(rules: Rules, did: DidRef, account: string, rse: string, lifetime: number | undefined, signal?: AbortSignal): Promise<string> {
  try {
    const [id] = await rules.create({ dids: [did], account, copies: 1, rseExpression: rse, lifetime, signal });
    return id!;
  } catch (e) {
    const existing = e instanceof RucioError && e.code === "RUCIO_DUPLICATE_RULE" ? await ruleOf(rules, did, account, rse, signal) : undefined;
    if (!existing) throw e;
    return existing;
  }
}
