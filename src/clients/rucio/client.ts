/**
 * RucioClient: the typed Rucio client. One base (hosts, auth, retries, error mapping) and one small module
 * per REST resource, reachable as properties:
 *
 *   const rucio = new RucioClient(resolveProfile("rucio").settings!);
 *   for await (const d of rucio.dids.search("user.jdoe", { name: "data*", filters: "run_number>100" })) ...
 *   await rucio.download("user.jdoe:dataset1", { dir: "data", onProgress });
 */
import type { RucioSettings } from "../config/types";
import type { HttpClient } from "../http/client";
import { Accounts } from "./accounts";
import { type CallOptions, RucioBase, type RucioClientOptions } from "./base";
import { type DidRef, parseDid } from "./did-ref";
import { Dids } from "./dids";
import { download, type DownloadedFile, type DownloadOptions } from "./download";
import { mountedPath } from "./paths";
import { ping } from "./ping";
import { Replicas } from "./replicas";
import { Rses } from "./rses";
import { Rules } from "./rules";
import type { Account } from "./schemas";
import { Scopes } from "./scopes";
import { createStorageClient } from "./transfers";
import { upload, type UploadOptions, type UploadResult } from "./upload";

export class RucioClient {
  readonly base: RucioBase;
  readonly accounts: Accounts;
  readonly scopes: Scopes;
  readonly dids: Dids;
  readonly replicas: Replicas;
  readonly rules: Rules;
  readonly rses: Rses;
  private storageClient?: HttpClient;
  private readonly options: RucioClientOptions;

  constructor(settings: RucioSettings, options: RucioClientOptions = {}) {
    this.options = options;
    this.base = new RucioBase(settings, options);
    this.accounts = new Accounts(this.base);
    this.scopes = new Scopes(this.base);
    this.dids = new Dids(this.base);
    this.replicas = new Replicas(this.base);
    this.rules = new Rules(this.base);
    this.rses = new Rses(this.base);
  }

  get settings(): RucioSettings {
    return this.base.settings;
  }

  /** Server version (no authentication). */
  ping(opts: CallOptions = {}): Promise<{ version: string }> {
    return ping(this.base, opts);
  }

  whoami(opts: CallOptions = {}): Promise<Account> {
    return this.accounts.whoami(opts);
  }

  /** The account requests act as (configured, else whoami). */
  account(opts: CallOptions = {}): Promise<string> {
    return this.base.account(opts);
  }

  private get storage(): HttpClient {
    this.storageClient ??= createStorageClient(this.base.settings, this.options);
    return this.storageClient;
  }

  /** Downloads a file, dataset or container into a folder, verified and atomically. */
  download(did: string | DidRef, opts: DownloadOptions = {}): Promise<DownloadedFile[]> {
    return download(this.base, this.replicas, this.storage, did, opts);
  }

  /** Uploads a local file to an RSE, registers it, optionally attaches it and adds a rule. */
  upload(file: string, opts: UploadOptions = {}): Promise<UploadResult> {
    return upload(this.base, { dids: this.dids, replicas: this.replicas, rses: this.rses, rules: this.rules, storage: this.storage }, file, opts);
  }

  /**
   * Local paths of a DID's files on the FUSE-mounted destination RSE (mountPath + PFN path after the
   * n-th `/`), or null for files without a replica there.
   */
  async localPaths(did: string | DidRef, opts: CallOptions & { rse?: string } = {}): Promise<{ did: string; path: string | null; state?: string }[]> {
    const rse = opts.rse ?? this.base.settings.destinationRse;
    const mount = this.base.settings.mountPath;
    if (!rse || !mount) {
      throw this.base.http.createError({
        code: "CONFIG_MISSING",
        message: "Local paths need a mounted destination RSE.",
        hint: "Set destinationRse and mountPath (and pathBeginsAt) in your profile, or RUCIO_DESTINATION_RSE / RUCIO_RSE_MOUNT_PATH / RUCIO_PATH_BEGINS_AT.",
      });
    }
    const out: { did: string; path: string | null; state?: string }[] = [];
    for await (const r of this.replicas.list(parseDid(did), { rseExpression: rse, allStates: true, signal: opts.signal })) {
      const pfn = r.rses[rse]?.[0];
      out.push({ did: `${r.scope}:${r.name}`, path: pfn ? mountedPath(pfn, mount, this.base.settings.pathBeginsAt ?? 0) : null, state: r.states[rse] });
    }
    return out;
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await Promise.all([this.base.close(), this.storageClient?.close()]);
  }
}
