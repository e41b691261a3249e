import { createHash, randomBytes, randomUUID, scryptSync, timingSafeEqual } from "node:crypto";
import * as path from "node:path";
import { JsonStore } from "../store";
import { u8 } from "./checksum";
import { accessDenied, badRequest, cannotAuthenticate, conflict, didNotFound, invalidObject, notFound, RucioError } from "./errors";
import { matchesFilters, type Condition, type FilterSet } from "./filters";
import {
  DID_META_COLUMNS,
  didKey,
  emptyCatalog,
  splitDidKey,
  type AccountRecord,
  type CatalogDocument,
  type DidRecord,
  type DidType,
  type LockRecord,
  type MetaValue,
  type ReplicaRecord,
  type ReplicaState,
  type RseRecord,
  type RuleRecord,
} from "./model";
import { evaluateRseExpression, type RseView } from "./rse-expression";

export const TOKEN_LIFETIME_MS = 3600_000;
const SCOPE_RE = /^[a-zA-Z_\-.0-9]{1,25}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9.\-_/]{0,249}$/;
/** Rucio's RSE name schema; also keeps RSE folders inside the data folder. */
const RSE_RE = /^([A-Z0-9]+([_-][A-Z0-9]+)*)$/;

const REPLICA_STATE_CODES: Record<string, ReplicaState> = {
  A: "AVAILABLE",
  U: "UNAVAILABLE",
  C: "COPYING",
  B: "BEING_DELETED",
  D: "BAD",
  T: "TEMPORARY_UNAVAILABLE",
  AVAILABLE: "AVAILABLE",
  UNAVAILABLE: "UNAVAILABLE",
  COPYING: "COPYING",
  BEING_DELETED: "BEING_DELETED",
  BAD: "BAD",
  TEMPORARY_UNAVAILABLE: "TEMPORARY_UNAVAILABLE",
};

export interface FileInput {
  scope: string;
  name: string;
  bytes: number;
  adler32?: string | null;
  md5?: string | null;
  pfn?: string;
  state?: string;
  meta?: Record<string, MetaValue>;
}

export interface RuleInput {
  dids: { scope: string; name: string }[];
  account: string;
  copies: number;
  rse_expression: string;
  grouping?: "DATASET" | "ALL" | "NONE";
  lifetime?: number | null;
  locked?: boolean;
  source_replica_expression?: string | null;
  activity?: string | null;
  notify?: string | null;
  purge_replicas?: boolean;
  ignore_availability?: boolean;
  comment?: string | null;
  priority?: number;
  weight?: string | null;
  meta?: string | null;
  split_container?: boolean;
}

/** Is a DID name safe to map onto a folder (no absolute paths, no `.`/`..` segments)? */
export function validName(name: string): boolean {
  return NAME_RE.test(name) && !name.split("/").some((seg) => seg === "" || seg === "." || seg === "..");
}

/** Rucio's deterministic `hash` lfn2pfn algorithm: `scope/md5[0:2]/md5[2:4]/name` (user./group. scopes split). */
export function hashPath(scope: string, name: string): string {
  const md5 = createHash("md5").update(`${scope}:${name}`).digest("hex");
  const scopePath = scope.startsWith("user.") || scope.startsWith("group.") ? scope.replace(".", "/") : scope;
  return `${scopePath}/${md5.slice(0, 2)}/${md5.slice(2, 4)}/${name}`;
}

export function hashPassword(password: string, salt: string): string {
  return scryptSync(password, salt, 32).toString("hex");
}

/**
 * The Rucio catalogue: accounts, identities, tokens, scopes, RSEs, DIDs, replicas and rules, with Rucio's
 * semantics and permission rules. Every mutation is followed by `commit()`, which resolves once the new state is
 * durable; callers acknowledge a request only after that.
 */
export class Catalog {
  doc: CatalogDocument = emptyCatalog();
  private readonly store: JsonStore<CatalogDocument>;
  /** Called after a commit that left locks waiting for a transfer. */
  onReplicationNeeded: () => void = () => undefined;

  /** child `scope:name` → parents, rebuilt lazily after attach/detach. */
  private parentIdx: Map<string, DidRecord[]> | undefined;

  constructor(readonly dir: string) {
    this.store = new JsonStore(path.join(dir, "catalog.json"), emptyCatalog);
  }

  async load(): Promise<void> {
    this.doc = await this.store.read();
    this.parentIdx = undefined;
  }

  commit(): Promise<void> {
    return this.store.write(this.doc);
  }

  rseFolder(rse: string): string {
    return path.join(this.dir, "rse", rse);
  }

  // ----- accounts, identities, tokens -------------------------------------------------------------------------

  account(name: string): AccountRecord {
    const acc = this.doc.accounts[name];
    if (!acc) throw notFound("AccountNotFound", `Account with ID '${name}' cannot be found`);
    return acc;
  }

  isAdmin(account: string): boolean {
    return this.doc.accounts[account]?.admin === true;
  }

  requireAdmin(issuer: string, what: string): void {
    if (!this.isAdmin(issuer)) throw accessDenied(`Account ${issuer} can not ${what}`);
  }

  addAccount(issuer: string, account: string, type: string, email: string | null, admin = false): void {
    this.requireAdmin(issuer, "add account");
    if (!/^[a-z0-9-_]{1,25}$/.test(account)) throw invalidObject(`Problem validating account: '${account}' does not match '^[a-z0-9-_]{1,25}$'`);
    if (this.doc.accounts[account]) throw conflict("Duplicate", `Account ID '${account}' already exists!`);
    if (!["USER", "GROUP", "SERVICE"].includes(type)) throw invalidObject(`Problem validating account_type: '${type}' is not one of ['USER', 'GROUP', 'SERVICE']`);
    const now = Date.now();
    this.doc.accounts[account] = { account, account_type: type as AccountRecord["account_type"], email, status: "ACTIVE", admin, created_at: now, updated_at: now };
  }

  addUserpassIdentity(issuer: string, account: string, identity: string, password: string, email: string | null): void {
    this.requireAdmin(issuer, "add identity");
    this.account(account);
    const existing = this.doc.identities[identity];
    if (existing) {
      if (!existing.accounts.includes(account)) existing.accounts.push(account);
      return;
    }
    const salt = randomBytes(16).toString("hex");
    this.doc.identities[identity] = { identity, authtype: "USERPASS", salt, hash: hashPassword(password, salt), email, accounts: [account] };
  }

  /** `GET /auth/userpass`. Returns the new token, or the list of accounts when the identity maps to several. */
  authenticate(username: string, password: string, account: string | undefined, appId: string): { token: string; account: string; expires: number } | { accounts: string[] } {
    const ident = this.doc.identities[username];
    const ok = ident !== undefined && timingSafeEqual(u8(Buffer.from(hashPassword(password, ident.salt), "hex")), u8(Buffer.from(ident.hash, "hex")));
    if (!account) {
      if (!ok || ident.accounts.length === 0) throw cannotAuthenticate(`Cannot authenticate with given credentials`);
      if (ident.accounts.length > 1) return { accounts: [...ident.accounts] };
      account = ident.accounts[0]!;
    }
    if (!ok || !ident.accounts.includes(account) || this.doc.accounts[account]?.status !== "ACTIVE") {
      throw cannotAuthenticate(`Cannot authenticate to account ${account} with given credentials`);
    }
    const token = `${account}-${username}-${appId}-${randomUUID().replace(/-/g, "")}`;
    const expires = Date.now() + TOKEN_LIFETIME_MS;
    this.pruneTokens();
    this.doc.tokens[token] = { account, identity: username, expires };
    return { token, account, expires };
  }

  validateToken(token: string | undefined): { account: string; identity: string; expires: number } {
    if (!token) throw cannotAuthenticate();
    const rec = this.doc.tokens[token];
    if (!rec || rec.expires <= Date.now()) throw cannotAuthenticate();
    return rec;
  }

  private pruneTokens(): void {
    const now = Date.now();
    for (const [t, rec] of Object.entries(this.doc.tokens)) if (rec.expires <= now) delete this.doc.tokens[t];
  }

  // ----- scopes ------------------------------------------------------------------------------------------------

  addScope(issuer: string, account: string, scope: string): void {
    this.requireAdmin(issuer, "add scope");
    this.account(account);
    if (!SCOPE_RE.test(scope) || /^\.+$/.test(scope)) throw invalidObject(`Problem validating scope: '${scope}' does not match '^[a-zA-Z_\\-.0-9]+$'`);
    if (this.doc.scopes[scope]) throw conflict("Duplicate", `Scope '${scope}' already exists!`);
    this.doc.scopes[scope] = { scope, account, created_at: Date.now() };
  }

  scope(scope: string) {
    const rec = this.doc.scopes[scope];
    if (!rec) throw notFound("ScopeNotFound", `Scope '${scope}' does not exist`);
    return rec;
  }

  canWriteScope(issuer: string, scope: string): boolean {
    return this.isAdmin(issuer) || this.doc.scopes[scope]?.account === issuer;
  }

  // ----- RSEs --------------------------------------------------------------------------------------------------

  rse(name: string): RseRecord {
    const rec = this.doc.rses[name];
    if (!rec) throw notFound("RSENotFound", `RSE '${name}' cannot be found in vo 'def'`);
    return rec;
  }

  addRse(issuer: string, name: string, props: Record<string, unknown>): void {
    this.requireAdmin(issuer, "add RSE");
    if (!RSE_RE.test(name)) throw invalidObject(`Problem validating rse: '${name}' does not match '^([A-Z0-9]+([_-][A-Z0-9]+)*)$'`);
    if (this.doc.rses[name]) throw conflict("Duplicate", `RSE '${name}' already exists!`);
    const now = Date.now();
    const str = (k: string) => (typeof props[k] === "string" ? (props[k] as string) : null);
    const num = (k: string) => (typeof props[k] === "number" ? (props[k] as number) : null);
    const bool = (k: string, d: boolean) => (typeof props[k] === "boolean" ? (props[k] as boolean) : d);
    const rse: RseRecord = {
      id: randomUUID().replace(/-/g, ""),
      rse: name,
      rse_type: props.rse_type === "TAPE" ? "TAPE" : "DISK",
      deterministic: bool("deterministic", true),
      volatile: bool("volatile", false),
      staging_area: bool("staging_area", false),
      city: str("city"),
      region_code: str("region_code"),
      country_name: str("country_name"),
      continent: str("continent"),
      time_zone: str("time_zone"),
      ISP: str("ISP"),
      ASN: str("ASN"),
      longitude: num("longitude"),
      latitude: num("latitude"),
      availability_read: bool("availability_read", true),
      availability_write: bool("availability_write", true),
      availability_delete: bool("availability_delete", true),
      qos_class: str("qos_class"),
      created_at: now,
      updated_at: now,
      attributes: {},
      extra_protocols: [],
    };
    this.doc.rses[name] = rse;
  }

  setRseAttribute(issuer: string, rse: string, key: string, value: string | number | boolean): void {
    this.requireAdmin(issuer, "add RSE attributes");
    const rec = this.rse(rse);
    rec.attributes[key] = value;
    rec.updated_at = Date.now();
  }

  deleteRseAttribute(issuer: string, rse: string, key: string): void {
    this.requireAdmin(issuer, "delete RSE attributes");
    const rec = this.rse(rse);
    if (!(key in rec.attributes)) throw notFound("RSEAttributeNotFound", `RSE attribute '${key}' not found`);
    delete rec.attributes[key];
  }

  /** What `GET /rses/{rse}/attr/` shows: the stored attributes plus `<RSE>: true` and the informational columns. */
  rseAttributes(rec: RseRecord): Record<string, string | number | boolean> {
    const out: Record<string, string | number | boolean> = { [rec.rse]: true };
    if (rec.city) out.city = rec.city;
    if (rec.country_name) out.country_name = rec.country_name;
    Object.assign(out, rec.attributes);
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Attributes the expression language sees (Rucio also matches `rse_type`, `rse` and a few columns). */
  rseViews(): RseView[] {
    return Object.values(this.doc.rses).map((r) => ({
      rse: r.rse,
      attributes: { ...this.rseAttributes(r), rse: r.rse, rse_type: r.rse_type, ...(r.time_zone ? { time_zone: r.time_zone } : {}) },
    }));
  }

  resolveRseExpression(expression: string): string[] {
    return evaluateRseExpression(expression, this.rseViews());
  }

  setAccountLimit(issuer: string, account: string, rse: string, bytes: number): void {
    this.requireAdmin(issuer, "set account limits");
    this.account(account);
    this.rse(rse);
    if (!Number.isInteger(bytes) || bytes < 0) throw badRequest("ValueError", "bytes must be a non-negative integer");
    (this.doc.limits[account] ??= {})[rse] = bytes;
  }

  /** Bytes locked by an account's rules per RSE (each file counted once per RSE). */
  accountUsage(account: string): Map<string, { bytes: number; files: number }> {
    const seen = new Set<string>();
    const usage = new Map<string, { bytes: number; files: number }>();
    for (const rule of Object.values(this.doc.rules)) {
      if (rule.account !== account) continue;
      for (const lock of rule.locks) {
        const k = `${lock.rse}|${lock.scope}:${lock.name}`;
        if (seen.has(k)) continue;
        seen.add(k);
        const u = usage.get(lock.rse) ?? { bytes: 0, files: 0 };
        u.bytes += lock.bytes;
        u.files += 1;
        usage.set(lock.rse, u);
      }
    }
    return usage;
  }

  rseUsage(rse: string): { bytes: number; files: number } {
    let bytes = 0;
    let files = 0;
    for (const reps of Object.values(this.doc.replicas)) {
      const rep = reps[rse];
      if (rep && rep.state === "AVAILABLE") {
        bytes += rep.bytes;
        files += 1;
      }
    }
    return { bytes, files };
  }

  // ----- DIDs --------------------------------------------------------------------------------------------------

  did(scope: string, name: string): DidRecord {
    const rec = this.doc.dids[didKey(scope, name)];
    if (!rec) throw didNotFound(scope, name);
    return rec;
  }

  findDid(scope: string, name: string): DidRecord | undefined {
    return this.doc.dids[didKey(scope, name)];
  }

  private newDid(scope: string, name: string, type: DidType, account: string): DidRecord {
    const now = Date.now();
    return {
      scope,
      name,
      type,
      account,
      open: type !== "FILE",
      monotonic: false,
      hidden: false,
      obsolete: false,
      suppressed: false,
      is_new: true,
      bytes: null,
      length: null,
      md5: null,
      adler32: null,
      created_at: now,
      updated_at: now,
      closed_at: null,
      expired_at: null,
      columns: {},
      meta: {},
      children: [],
    };
  }

  /** `POST /dids/{scope}/{name}` and `POST /dids`: a dataset or container. */
  addCollection(issuer: string, scope: string, name: string, type: string, opts: { meta?: Record<string, MetaValue>; lifetime?: number | null; account?: string } = {}): DidRecord {
    const t = String(type).toUpperCase();
    if (t !== "DATASET" && t !== "CONTAINER") throw new RucioError(400, "UnsupportedOperation", `Only DATASET and CONTAINER can be created here, not '${type}'`);
    if (!this.doc.scopes[scope]) throw notFound("ScopeNotFound", `Scope '${scope}' does not exist`);
    if (!this.canWriteScope(issuer, scope)) throw accessDenied(`Account ${issuer} can not add data identifier to scope ${scope}`);
    if (!validName(name)) throw invalidObject(`Problem validating name: '${name}' is not a valid data identifier name`);
    if (this.doc.dids[didKey(scope, name)]) throw conflict("DataIdentifierAlreadyExists", "Data Identifier already exists!");
    const rec = this.newDid(scope, name, t, opts.account ?? issuer);
    if (opts.lifetime) rec.expired_at = Date.now() + opts.lifetime * 1000;
    if (opts.meta) this.applyMeta(rec, opts.meta);
    this.doc.dids[didKey(scope, name)] = rec;
    return rec;
  }

  /** Registers a file DID (done implicitly by `POST /replicas`, as in Rucio). */
  ensureFile(issuer: string, f: FileInput): DidRecord {
    const key = didKey(f.scope, f.name);
    const existing = this.doc.dids[key];
    if (existing) {
      if (existing.type !== "FILE") throw new RucioError(409, "UnsupportedOperation", `${key} is not a file`);
      if ((f.adler32 && existing.adler32 && f.adler32.toLowerCase() !== existing.adler32) || (existing.bytes !== null && f.bytes !== existing.bytes)) {
        throw new RucioError(412, "FileConsistencyMismatch", `(bytes: ${f.bytes}, adler32: ${f.adler32}) != (bytes: ${existing.bytes}, adler32: ${existing.adler32}) for ${key}`);
      }
      return existing;
    }
    if (!this.doc.scopes[f.scope]) throw notFound("ScopeNotFound", `Scope '${f.scope}' does not exist`);
    if (!this.canWriteScope(issuer, f.scope)) throw accessDenied(`Account ${issuer} can not add file replicas on scope ${f.scope}`);
    if (!validName(f.name)) throw invalidObject(`Problem validating name: '${f.name}' is not a valid data identifier name`);
    const rec = this.newDid(f.scope, f.name, "FILE", issuer);
    rec.bytes = f.bytes;
    rec.adler32 = f.adler32 ? f.adler32.toLowerCase() : null;
    rec.md5 = f.md5 ? f.md5.toLowerCase() : null;
    if (f.meta) this.applyMeta(rec, f.meta);
    this.doc.dids[key] = rec;
    return rec;
  }

  setStatus(issuer: string, scope: string, name: string, open: boolean): void {
    const rec = this.did(scope, name);
    if (!this.canWriteScope(issuer, scope)) throw accessDenied(`Account ${issuer} can not set status on data identifier ${scope}:${name}`);
    if (rec.type === "FILE") throw new RucioError(409, "UnsupportedOperation", `The status of the data identifier '${scope}:${name}' cannot be changed`);
    if (open && !rec.open && !this.isAdmin(issuer)) throw new RucioError(409, "UnsupportedOperation", `The data identifier '${scope}:${name}' cannot be reopened`);
    rec.open = open;
    rec.updated_at = Date.now();
    if (!open) {
      rec.closed_at = Date.now();
      const files = this.filesOf(rec);
      rec.length = rec.type === "DATASET" ? files.length : rec.children.length;
      rec.bytes = files.reduce((s, f) => s + (f.bytes ?? 0), 0);
    } else {
      rec.closed_at = null;
    }
  }

  /** Attaches `children` to a dataset (files) or container (datasets/containers). */
  attach(issuer: string, scope: string, name: string, children: { scope: string; name: string }[], opts: { rse?: string; ignoreDuplicate?: boolean; files?: FileInput[] } = {}): void {
    const parent = this.did(scope, name);
    if (!this.canWriteScope(issuer, scope)) throw accessDenied(`Account ${issuer} can not add data identifiers to ${scope}:${name}`);
    if (parent.type === "FILE") throw new RucioError(409, "UnsupportedOperation", `Data identifier '${scope}:${name}' is a file`);
    if (!parent.open) throw new RucioError(409, "UnsupportedOperation", `Data identifier '${scope}:${name}' is closed`);
    this.parentIdx = undefined;
    const present = new Set(parent.children);
    for (const c of children) {
      const key = didKey(c.scope, c.name);
      let child = this.doc.dids[key];
      if (!child && opts.rse && "bytes" in c) {
        child = this.ensureFile(issuer, c as FileInput);
        this.putReplica(c.scope, c.name, opts.rse, "AVAILABLE");
      }
      if (!child) throw didNotFound(c.scope, c.name);
      if (parent.type === "DATASET" && child.type !== "FILE") throw new RucioError(409, "UnsupportedOperation", `Only files can be attached to the dataset ${scope}:${name}`);
      if (parent.type === "CONTAINER" && child.type === "FILE") throw new RucioError(409, "UnsupportedOperation", `Files cannot be attached to the container ${scope}:${name}`);
      if (key === didKey(scope, name) || (child.type === "CONTAINER" && this.descendants(child).has(didKey(scope, name)))) {
        throw new RucioError(409, "UnsupportedOperation", `Attaching ${key} to ${scope}:${name} would create a cycle`);
      }
      if (present.has(key)) {
        if (opts.ignoreDuplicate) continue;
        throw conflict("FileAlreadyExists", `The file ${key} has been already attached to ${scope}:${name}`);
      }
      parent.children.push(key);
      present.add(key);
    }
    parent.updated_at = Date.now();
    this.refreshRulesFor(parent);
  }

  detach(issuer: string, scope: string, name: string, children: { scope: string; name: string }[]): void {
    const parent = this.did(scope, name);
    if (!this.canWriteScope(issuer, scope)) throw accessDenied(`Account ${issuer} can not detach data identifiers from ${scope}:${name}`);
    this.parentIdx = undefined;
    for (const c of children) {
      const key = didKey(c.scope, c.name);
      const i = parent.children.indexOf(key);
      if (i < 0) throw didNotFound(c.scope, c.name);
      parent.children.splice(i, 1);
    }
    parent.updated_at = Date.now();
  }

  private descendants(did: DidRecord, acc = new Set<string>()): Set<string> {
    for (const k of did.children) {
      if (acc.has(k)) continue;
      acc.add(k);
      const c = this.doc.dids[k];
      if (c) this.descendants(c, acc);
    }
    return acc;
  }

  /** Files under a DID, recursively, each once, in attach order. */
  filesOf(did: DidRecord): DidRecord[] {
    if (did.type === "FILE") return [did];
    const out: DidRecord[] = [];
    const seen = new Set<string>();
    const walk = (d: DidRecord) => {
      for (const k of d.children) {
        const c = this.doc.dids[k];
        if (!c || seen.has(k)) continue;
        seen.add(k);
        if (c.type === "FILE") out.push(c);
        else walk(c);
      }
    };
    walk(did);
    return out;
  }

  content(did: DidRecord): DidRecord[] {
    return did.children.map((k) => this.doc.dids[k]).filter((d): d is DidRecord => d !== undefined);
  }

  parents(did: DidRecord): DidRecord[] {
    if (!this.parentIdx) {
      this.parentIdx = new Map();
      for (const d of Object.values(this.doc.dids)) {
        for (const c of d.children) {
          const list = this.parentIdx.get(c);
          if (list) list.push(d);
          else this.parentIdx.set(c, [d]);
        }
      }
    }
    return this.parentIdx.get(didKey(did.scope, did.name)) ?? [];
  }

  /**
   * `GET /dids/{scope}/dids/search`: DIDs of a scope matching the filters (recursive = also their content).
   * As Rucio's DidColumnMeta.list_dids: `type` is the default DID type of every OR group, and a `type` key inside a
   * group replaces it for that group (the 35.8 CLI sends `list-dids S:* --filter type=dataset` as
   * `type=collection&filters=[{'type': 'dataset', 'name': '*'}]`).
   */
  *search(scope: string, type: string, filters: FilterSet, opts: { recursive?: boolean; limit?: number } = {}): Generator<DidRecord> {
    const groups = typedFilterGroups(type, filters);
    let count = 0;
    const emitted = new Set<string>();
    const candidates = Object.values(this.doc.dids)
      .filter((d) => d.scope === scope && !d.hidden)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of candidates) {
      if (!groups.some((g) => g.types.includes(d.type) && matchesFilters([g.conditions], (key) => this.lookup(d, key)))) continue;
      const batch: DidRecord[] = [];
      if (opts.recursive && d.type !== "FILE") {
        // Rucio lists the content below a matching collection first (post-order).
        const post = (x: DidRecord) => {
          for (const c of this.content(x)) {
            post(c);
            batch.push(c);
          }
        };
        post(d);
      }
      batch.push(d);
      for (const x of batch) {
        const k = didKey(x.scope, x.name);
        if (emitted.has(k)) continue;
        emitted.add(k);
        yield x;
        if (opts.limit && ++count >= opts.limit) return;
      }
    }
  }

  /** Value of a filter key on a DID: columns first, then free-form metadata. */
  lookup(d: DidRecord, key: string): unknown {
    switch (key) {
      case "name":
      case "scope":
      case "account":
      case "created_at":
      case "updated_at":
      case "md5":
      case "adler32":
        return d[key];
      case "type":
      case "did_type":
        return d.type;
      case "bytes":
        return d.type === "FILE" ? d.bytes : d.bytes;
      case "length":
        return d.type === "FILE" ? null : d.length;
      case "is_open":
      case "open":
        return d.open;
      default:
        if (key in d.columns) return d.columns[key];
        return d.meta[key];
    }
  }

  private applyMeta(rec: DidRecord, meta: Record<string, MetaValue>): void {
    for (const [k, v] of Object.entries(meta)) this.setMetaKey(rec, k, v);
  }

  private setMetaKey(rec: DidRecord, key: string, value: MetaValue): void {
    if (["scope", "name", "did_type", "account", "created_at", "updated_at", "bytes", "length", "md5", "adler32"].includes(key)) {
      throw new RucioError(400, "InvalidMetadata", `The key ${key} cannot be set as metadata`);
    }
    if (key === "lifetime") {
      rec.expired_at = value === null ? null : Date.now() + Number(value) * 1000;
      return;
    }
    if (DID_META_COLUMNS.has(key)) rec.columns[key] = value;
    else rec.meta[key] = value;
    rec.updated_at = Date.now();
  }

  setMetadata(issuer: string, scope: string, name: string, meta: Record<string, MetaValue>, recursive = false): void {
    const rec = this.did(scope, name);
    if (!this.canWriteScope(issuer, scope)) throw accessDenied(`Account ${issuer} can not add metadata to data identifier ${scope}:${name}`);
    this.applyMeta(rec, meta);
    if (recursive) for (const k of this.descendants(rec)) {
      const c = this.doc.dids[k];
      if (c) this.applyMeta(c, meta);
    }
  }

  deleteMetadata(issuer: string, scope: string, name: string, key: string): void {
    const rec = this.did(scope, name);
    if (!this.canWriteScope(issuer, scope)) throw accessDenied(`Account ${issuer} can not delete metadata of data identifier ${scope}:${name}`);
    if (key in rec.meta) delete rec.meta[key];
    else if (key in rec.columns) delete rec.columns[key];
    else throw notFound("KeyNotFound", `No key ${key} found for data identifier ${scope}:${name}`);
    rec.updated_at = Date.now();
  }

  /** Availability of a collection (Rucio keeps AVAILABLE unless replicas were declared lost). */
  availability(_d: DidRecord): string {
    return "AVAILABLE";
  }

  // ----- replicas ----------------------------------------------------------------------------------------------

  replicaState(code: string | undefined, fallback: ReplicaState = "AVAILABLE"): ReplicaState {
    if (code === undefined) return fallback;
    const s = REPLICA_STATE_CODES[String(code).toUpperCase()];
    if (!s) throw invalidObject(`Problem validating state: '${code}' is not one of ['AVAILABLE', 'UNAVAILABLE', 'COPYING', 'BEING_DELETED', 'BAD', 'SOURCE', 'A', 'U', 'C', 'B', 'D', 'S']`);
    return s;
  }

  putReplica(scope: string, name: string, rse: string, state: ReplicaState, pathOverride?: string): ReplicaRecord {
    const did = this.did(scope, name);
    const reps = (this.doc.replicas[didKey(scope, name)] ??= {});
    const now = Date.now();
    const existing = reps[rse];
    if (existing) {
      existing.state = state;
      existing.updated_at = now;
      return existing;
    }
    const rec: ReplicaRecord = { state, bytes: did.bytes ?? 0, path: pathOverride ?? hashPath(scope, name), created_at: now, updated_at: now };
    reps[rse] = rec;
    return rec;
  }

  /** `POST /replicas`: registers files (creating their DIDs) with replicas on one RSE. */
  addReplicas(issuer: string, rse: string, files: FileInput[], opts: { ignoreAvailability?: boolean } = {}): void {
    const rseRec = this.rse(rse);
    if (!rseRec.availability_write && !opts.ignoreAvailability) throw new RucioError(503, "ResourceTemporaryUnavailable", `${rse} is temporary unavailable for writing`);
    for (const f of files) {
      if (typeof f.scope !== "string" || typeof f.name !== "string") throw invalidObject("Problem validating files: 'scope' and 'name' are required");
      if (!Number.isInteger(f.bytes) || f.bytes < 0) throw invalidObject(`Problem validating bytes of ${f.scope}:${f.name}: must be an integer`);
      if (f.adler32 !== undefined && f.adler32 !== null && !/^[a-fA-F\d]{8}$/.test(f.adler32)) throw invalidObject(`Problem validating adler32: '${f.adler32}' does not match '^[a-fA-F\\d]{8}$'`);
      if (f.md5 !== undefined && f.md5 !== null && !/^[a-fA-F\d]{32}$/.test(f.md5)) throw invalidObject(`Problem validating md5: '${f.md5}' does not match '^[a-fA-F\\d]{32}$'`);
      if (!this.canWriteScope(issuer, f.scope)) throw accessDenied(`Account ${issuer} can not add file replicas on ${rse}`);
    }
    for (const f of files) {
      if (this.doc.replicas[didKey(f.scope, f.name)]?.[rse]) throw conflict("Duplicate", `File replica '${f.scope}:${f.name}' already exists on ${rse}!`);
    }
    for (const f of files) {
      this.ensureFile(issuer, f);
      let customPath: string | undefined;
      if (f.pfn) customPath = this.pathFromPfn(rse, f.pfn);
      this.putReplica(f.scope, f.name, rse, this.replicaState(f.state), customPath);
    }
    this.settleLocks();
  }

  /** Maps a PFN given at registration onto the RSE folder (file:// or the sandbox's own http storage URL). */
  private pathFromPfn(rse: string, pfn: string): string {
    const folder = this.rseFolder(rse);
    let p: string | undefined;
    const fileMatch = /^file:\/\/[^/]*(\/.*)$/.exec(pfn);
    if (fileMatch) {
      const abs = path.normalize(decodeURIComponent(fileMatch[1]!));
      if (abs.startsWith(folder + path.sep)) p = abs.slice(folder.length + 1);
    } else {
      const m = new RegExp(`/rucio-storage/${rse.replace(/[.\-]/g, "\\$&")}/(.+)$`).exec(pfn);
      if (m) p = decodeURIComponent(m[1]!);
    }
    if (!p || p.split("/").some((s) => s === ".." || s === "")) throw new RucioError(400, "InvalidPath", `The PFN ${pfn} is not inside RSE ${rse}`);
    return p;
  }

  /** `PUT /replicas`: state changes, e.g. `A` once an upload finished. */
  updateReplicaStates(issuer: string, rse: string, files: { scope: string; name: string; state?: string }[]): void {
    this.rse(rse);
    for (const f of files) {
      if (!this.canWriteScope(issuer, f.scope)) throw accessDenied(`Account ${issuer} can not update replica states on ${rse}`);
      const rep = this.doc.replicas[didKey(f.scope, f.name)]?.[rse];
      if (!rep) throw notFound("ReplicaNotFound", `No row was found for ${f.scope}:${f.name} on ${rse}`);
      rep.state = this.replicaState(f.state, rep.state);
      rep.updated_at = Date.now();
    }
    this.settleLocks();
  }

  deleteReplicas(issuer: string, rse: string, files: { scope: string; name: string }[]): string[] {
    this.requireAdmin(issuer, `delete replicas on ${rse}`);
    const removed: string[] = [];
    for (const f of files) {
      const reps = this.doc.replicas[didKey(f.scope, f.name)];
      const rep = reps?.[rse];
      if (!rep) throw notFound("ReplicaNotFound", `No row was found for ${f.scope}:${f.name} on ${rse}`);
      removed.push(rep.path);
      delete reps![rse];
    }
    return removed;
  }

  replicasOf(scope: string, name: string): Record<string, ReplicaRecord> {
    return this.doc.replicas[didKey(scope, name)] ?? {};
  }

  // ----- rules -------------------------------------------------------------------------------------------------

  /** Expired rules stay in the document until the cleaner removes them, but are no longer visible. */
  private live(r: RuleRecord | undefined, now = Date.now()): r is RuleRecord {
    return r !== undefined && (r.expires_at === null || r.expires_at > now || r.locked);
  }

  rule(id: string): RuleRecord {
    const r = this.doc.rules[id];
    if (!this.live(r)) throw notFound("RuleNotFound", `No rule with the id ${id} found`);
    return r;
  }

  /** Removes rules whose lifetime is over (the judge-cleaner's job); returns replica paths to purge. */
  expireRules(now = Date.now()): { rse: string; path: string }[] {
    const purge: { rse: string; path: string }[] = [];
    for (const rule of Object.values(this.doc.rules)) {
      if (rule.expires_at === null || rule.expires_at > now || rule.locked) continue;
      delete this.doc.rules[rule.id];
      if (!rule.purge_replicas) continue;
      for (const lock of rule.locks) {
        if (this.lockCount(lock.scope, lock.name, lock.rse) > 0) continue;
        const reps = this.doc.replicas[didKey(lock.scope, lock.name)];
        const rep = reps?.[lock.rse];
        if (rep) {
          purge.push({ rse: lock.rse, path: rep.path });
          delete reps![lock.rse];
        }
      }
    }
    return purge;
  }

  private lockCount(scope: string, name: string, rse: string): number {
    let n = 0;
    for (const r of Object.values(this.doc.rules)) for (const l of r.locks) if (l.scope === scope && l.name === name && l.rse === rse) n++;
    return n;
  }

  addRule(issuer: string, input: RuleInput): string[] {
    if (!Array.isArray(input.dids) || input.dids.length === 0) throw invalidObject("Problem validating rule: 'dids' is a required property");
    if (typeof input.rse_expression !== "string") throw invalidObject("Problem validating rule: 'rse_expression' is a required property");
    if (!Number.isInteger(input.copies) || input.copies < 1) throw invalidObject("Problem validating rule: 'copies' must be a positive integer");
    if (input.account !== issuer && !this.isAdmin(issuer)) throw accessDenied(`Account ${issuer} can not add rule for account ${input.account}`);
    this.account(input.account);
    const grouping = input.grouping ?? "DATASET";
    if (!["DATASET", "ALL", "NONE"].includes(grouping)) throw invalidObject(`Problem validating grouping: '${grouping}' is not one of ['DATASET', 'NONE', 'ALL', None]`);
    const targets = this.resolveRseExpressionForRule(input.rse_expression);
    const ids: string[] = [];
    for (const ref of input.dids) {
      const did = this.did(ref.scope, ref.name);
      for (const r of Object.values(this.doc.rules)) {
        if (r.scope === did.scope && r.name === did.name && r.account === input.account && r.rse_expression === input.rse_expression && r.copies === input.copies) {
          throw conflict("DuplicateRule", `A rule for ${did.scope}:${did.name} with account ${input.account}, RSE expression ${input.rse_expression} and ${input.copies} copies already exists`);
        }
      }
      const files = this.filesOf(did);
      const chosen = this.chooseRses(input.account, targets, files, input.copies);
      const now = Date.now();
      const rule: RuleRecord = {
        id: randomUUID().replace(/-/g, ""),
        scope: did.scope,
        name: did.name,
        did_type: did.type,
        account: input.account,
        rse_expression: input.rse_expression,
        copies: input.copies,
        grouping,
        state: "REPLICATING",
        error: null,
        expires_at: input.lifetime ? now + input.lifetime * 1000 : null,
        created_at: now,
        updated_at: now,
        stuck_at: null,
        activity: input.activity ?? "User Subscriptions",
        comments: input.comment ?? null,
        locked: input.locked ?? false,
        purge_replicas: input.purge_replicas ?? false,
        notification: input.notify === "Y" ? "YES" : input.notify === "C" ? "CLOSE" : input.notify === "P" ? "PROGRESS" : "NO",
        priority: input.priority ?? 3,
        source_replica_expression: input.source_replica_expression ?? null,
        weight: input.weight ?? null,
        ignore_availability: input.ignore_availability ?? false,
        ignore_account_limit: false,
        split_container: input.split_container ?? false,
        meta: input.meta ?? null,
        rses: chosen,
        locks: [],
      };
      this.doc.rules[rule.id] = rule;
      this.refreshRule(rule);
      ids.push(rule.id);
    }
    return ids;
  }

  private resolveRseExpressionForRule(expression: string): string[] {
    let rses: string[];
    try {
      rses = this.resolveRseExpression(expression);
    } catch (err) {
      if (err instanceof RucioError) throw conflict("InvalidRSEExpression", err.message);
      throw err;
    }
    if (rses.length === 0) throw conflict("InvalidRSEExpression", "RSE Expression resulted in an empty set.");
    return rses;
  }

  /** Picks `copies` RSEs: those already holding most of the data first, among RSEs with quota left. */
  private chooseRses(account: string, targets: string[], files: DidRecord[], copies: number): string[] {
    if (targets.length < copies) throw conflict("InsufficientTargetRSEs", `There are not enough target RSEs to fulfil the request at this time.`);
    const limits = this.doc.limits[account] ?? {};
    const usage = this.accountUsage(account);
    const scored = targets.map((rse) => {
      const have = files.filter((f) => this.doc.replicas[didKey(f.scope, f.name)]?.[rse]?.state === "AVAILABLE");
      const needed = files.filter((f) => !have.includes(f)).reduce((s, f) => s + (f.bytes ?? 0), 0);
      const limit = limits[rse];
      const used = usage.get(rse)?.bytes ?? 0;
      const fits = limit !== undefined && used + needed <= limit;
      return { rse, have: have.length, fits };
    });
    const usable = scored.filter((s) => s.fits);
    if (usable.length < copies) throw conflict("InsufficientAccountLimit", `There is insufficient quota on any of the target RSE's to fullfill the operation.`);
    usable.sort((a, b) => b.have - a.have || (a.rse < b.rse ? -1 : 1));
    return usable.slice(0, copies).map((s) => s.rse);
  }

  /**
   * Makes a rule's locks match its DID's current files: a lock is OK where an available replica exists,
   * otherwise REPLICATING with a COPYING replica on the destination that the transfer engine fills.
   */
  refreshRule(rule: RuleRecord): void {
    const did = this.findDid(rule.scope, rule.name);
    if (!did) return;
    for (const f of this.filesOf(did)) {
      for (const rse of rule.rses) {
        if (rule.locks.some((l) => l.scope === f.scope && l.name === f.name && l.rse === rse)) continue;
        const rep = this.doc.replicas[didKey(f.scope, f.name)]?.[rse];
        let state: LockRecord["state"] = "REPLICATING";
        if (rep?.state === "AVAILABLE") state = "OK";
        else if (!rep) this.putReplica(f.scope, f.name, rse, "COPYING");
        else if (rep.state !== "COPYING") rep.state = "COPYING";
        rule.locks.push({ scope: f.scope, name: f.name, rse, state, bytes: f.bytes ?? 0 });
      }
    }
    this.updateRuleState(rule);
  }

  private refreshRulesFor(parent: DidRecord): void {
    const affected = new Set<string>([didKey(parent.scope, parent.name)]);
    const up = (d: DidRecord) => {
      for (const p of this.parents(d)) {
        const k = didKey(p.scope, p.name);
        if (!affected.has(k)) {
          affected.add(k);
          up(p);
        }
      }
    };
    up(parent);
    for (const rule of Object.values(this.doc.rules)) if (affected.has(didKey(rule.scope, rule.name))) this.refreshRule(rule);
  }

  /** Flips REPLICATING locks to OK where the replica became AVAILABLE (e.g. through `PUT /replicas`). */
  settleLocks(): void {
    for (const rule of Object.values(this.doc.rules)) {
      let changed = false;
      for (const lock of rule.locks) {
        if (lock.state === "OK") continue;
        if (this.doc.replicas[didKey(lock.scope, lock.name)]?.[lock.rse]?.state === "AVAILABLE") {
          lock.state = "OK";
          lock.error = null;
          changed = true;
        }
      }
      if (changed) this.updateRuleState(rule);
    }
  }

  updateRuleState(rule: RuleRecord): void {
    const before = rule.state;
    const stuck = rule.locks.filter((l) => l.state === "STUCK");
    if (stuck.length > 0) {
      rule.state = "STUCK";
      rule.error = stuck[0]!.error ?? "transfer failed";
      rule.stuck_at ??= Date.now();
    } else if (rule.locks.some((l) => l.state === "REPLICATING")) {
      rule.state = "REPLICATING";
      rule.error = null;
    } else {
      rule.state = "OK";
      rule.error = null;
      rule.stuck_at = null;
    }
    if (before !== rule.state || rule.state === "REPLICATING") rule.updated_at = Date.now();
  }

  locksOf(rule: RuleRecord): LockRecord[] {
    return rule.locks;
  }

  deleteRule(issuer: string, id: string, purgeReplicas?: boolean): void {
    const rule = this.rule(id);
    if (rule.account !== issuer && !this.isAdmin(issuer)) throw accessDenied(`Account ${issuer} can not remove this replication rule.`);
    if (rule.locked) throw new RucioError(401, "AccessDenied", `The replication rule is locked and has to be unlocked before it can be deleted.`);
    // Rucio's delete is soft: the rule expires in an hour and the cleaner removes it then.
    const soon = Date.now() + 3600_000;
    rule.expires_at = rule.expires_at === null ? soon : Math.min(rule.expires_at, soon);
    if (purgeReplicas !== undefined) rule.purge_replicas = purgeReplicas;
    rule.updated_at = Date.now();
  }

  updateRule(issuer: string, id: string, options: Record<string, unknown>): void {
    const rule = this.rule(id);
    if (rule.account !== issuer && !this.isAdmin(issuer)) throw accessDenied(`Account ${issuer} can not update this replication rule.`);
    const allowed = new Set(["lifetime", "locked", "comment", "account", "state", "activity", "priority", "cancel_requests", "source_replica_expression", "purge_replicas", "meta", "child_rule_id", "eol_at"]);
    for (const [k, v] of Object.entries(options)) {
      if (!allowed.has(k)) throw invalidObject(`Problem validating options: '${k}' is not a valid option`);
      if (k === "lifetime") rule.expires_at = v === null ? null : Date.now() + Number(v) * 1000;
      else if (k === "locked") rule.locked = Boolean(v);
      else if (k === "comment") rule.comments = v === null ? null : String(v);
      else if (k === "activity") rule.activity = String(v);
      else if (k === "priority") rule.priority = Number(v);
      else if (k === "purge_replicas") rule.purge_replicas = Boolean(v);
      else if (k === "source_replica_expression") rule.source_replica_expression = v === null ? null : String(v);
      else if (k === "meta") rule.meta = v === null ? null : String(v);
      else if (k === "state" && String(v).toUpperCase() === "STUCK") {
        // As with `rucio update-rule --stuck`: hand the rule to the repairer, which retries its failed transfers.
        this.retryStuck(rule);
      } else if (k === "account") {
        this.account(String(v));
        rule.account = String(v);
      }
    }
    rule.updated_at = Date.now();
  }

  /** Re-queues STUCK locks (what `rucio update-rule --stuck` plus the judge-repairer do). */
  retryStuck(rule: RuleRecord): void {
    for (const l of rule.locks) if (l.state === "STUCK") {
      l.state = "REPLICATING";
      l.error = null;
    }
    rule.stuck_at = null;
    this.updateRuleState(rule);
  }

  rulesFor(filter: { scope?: string; name?: string; account?: string; state?: string; rse_expression?: string; id?: string; did_type?: string }): RuleRecord[] {
    const now = Date.now();
    return Object.values(this.doc.rules)
      .filter((r) => this.live(r, now))
      .filter((r) =>
        Object.entries(filter).every(([k, v]) => {
          if (v === undefined || v === null) return true;
          if (k === "state") return r.state === v || r.state[0] === v;
          return String((r as unknown as Record<string, unknown>)[k]) === v;
        }),
      )
      .sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
  }

  /** Rules on a DID and on every collection that (recursively) contains it. */
  associatedRules(did: DidRecord): RuleRecord[] {
    const keys = new Set<string>([didKey(did.scope, did.name)]);
    const up = (d: DidRecord) => {
      for (const p of this.parents(d)) {
        const k = didKey(p.scope, p.name);
        if (!keys.has(k)) {
          keys.add(k);
          up(p);
        }
      }
    };
    up(did);
    return this.rulesFor({}).filter((r) => keys.has(didKey(r.scope, r.name)));
  }

  /** Locks waiting for a transfer, oldest rule first. */
  pendingTransfers(): { rule: RuleRecord; lock: LockRecord }[] {
    const out: { rule: RuleRecord; lock: LockRecord }[] = [];
    for (const rule of this.rulesFor({})) for (const lock of rule.locks) if (lock.state === "REPLICATING") out.push({ rule, lock });
    return out;
  }
}

export { splitDidKey };

const SEARCH_TYPES: Record<string, DidType[]> = {
  all: ["CONTAINER", "DATASET", "FILE"],
  collection: ["CONTAINER", "DATASET"],
  container: ["CONTAINER"],
  dataset: ["DATASET"],
  file: ["FILE"],
};

function searchTypes(type: string): DidType[] {
  const allowed = SEARCH_TYPES[type.toLowerCase()];
  if (!allowed) throw new RucioError(409, "UnsupportedOperation", `${type.toLowerCase()} is not a valid type. Valid types are dict_keys(['all', 'collection', 'container', 'dataset', 'file'])`);
  return allowed;
}

/**
 * Each OR group with the DID types it selects: its own `type` key (any case) when it has one, else the query's
 * `type`. The `type` key is consumed here, not compared as metadata; no filters at all is one empty group.
 */
export function typedFilterGroups(type: string, filters: FilterSet): { types: DidType[]; conditions: Condition[] }[] {
  return (filters.length > 0 ? filters : [[]]).map((group) => {
    const own = group.find((c) => c.key === "type" && c.op === "eq");
    return { types: searchTypes(own ? String(own.value) : type), conditions: group.filter((c) => c !== own) };
  });
}
