/** Data identifiers: search, details, metadata, content, files, parents, create, attach. */
import { type CallOptions, didPath, encodeSegment, type RucioBase } from "./base";
import { type DidRef, formatDid, parseDid } from "./did-ref";
import { encodeFilters, type FilterGroup, parseFilterExpression } from "./filters";
import {
  type Did,
  type DidContent,
  DidContentLine,
  type DidFile,
  DidFileLine,
  DidMetaSchema,
  type DidParent,
  DidParentLine,
  DidSchema,
  DidSearchLine,
  type DidType,
  RuleSchema,
  type Rule,
  type ScopeDid,
  ScopeDidLine,
} from "./schemas";

export type SearchType = "all" | "collection" | "dataset" | "container" | "file";

export interface SearchOptions extends CallOptions {
  /** Name pattern with `*` wildcards; default "*". */
  name?: string;
  /** Default "collection" (datasets and containers), as on the server. */
  type?: SearchType;
  /** `key op value` expression (`,` AND, `;` OR) or parsed groups. */
  filters?: string | FilterGroup[];
  /** Ask for type, bytes and length (default true). */
  long?: boolean;
  recursive?: boolean;
  limit?: number;
}

export interface DidSummary {
  scope: string;
  name: string;
  /** Known with `long` (may still be null on servers using a metadata plugin). */
  type?: DidType | null;
  bytes?: number | null;
  length?: number | null;
}

export interface AddCollectionOptions extends CallOptions {
  meta?: Record<string, unknown>;
  /** Rules created with the DID: [{ account, copies, rse_expression, lifetime? }]. */
  rules?: Record<string, unknown>[];
  /** Seconds. */
  lifetime?: number;
  /** Succeed quietly if the DID already exists (409 DataIdentifierAlreadyExists). */
  ignoreExisting?: boolean;
}

export class Dids {
  constructor(private readonly base: RucioBase) {}

  /** Builds the filter groups sent for a search (exposed for the magics' --dry-run and tests). */
  static searchFilters(opts: Pick<SearchOptions, "name" | "filters">): FilterGroup[] {
    const groups = typeof opts.filters === "string" ? parseFilterExpression(opts.filters) : [...(opts.filters ?? [])];
    if (groups.length === 0) return [{ name: opts.name ?? "*" }];
    // A name pattern applies to every OR group that does not set its own.
    return opts.name === undefined ? groups : groups.map((g) => ("name" in g ? g : { name: opts.name!, ...g }));
  }

  /** Searches a scope. Streams results; with `long` each has type, bytes and length. */
  async *search(scope: string, opts: SearchOptions = {}): AsyncGenerator<DidSummary, void, undefined> {
    const long = opts.long ?? true;
    const query: Record<string, string | number | undefined> = {
      type: opts.type ?? "collection",
      long: long ? "True" : undefined,
      recursive: opts.recursive ? "True" : undefined,
      limit: opts.limit,
      filters: encodeFilters(Dids.searchFilters(opts)),
    };
    yield* this.base.list(
      { method: "GET", path: `dids/${encodeSegment(scope)}/dids/search`, query, what: `search DIDs in scope ${scope}`, signal: opts.signal },
      DidSearchLine,
      (line): DidSummary =>
        typeof line === "string" ? { scope, name: line } : { scope: line.scope, name: line.name, type: line.did_type, bytes: line.bytes, length: line.length },
    );
  }

  /** The top-level DIDs of a scope (`GET /dids/{scope}/`), good for a tree view. */
  listScope(scope: string, opts: CallOptions & { name?: string; recursive?: boolean } = {}): AsyncGenerator<ScopeDid> {
    return this.base.list(
      {
        method: "GET",
        path: `dids/${encodeSegment(scope)}/`,
        query: { name: opts.name, recursive: opts.recursive ? "True" : undefined },
        what: `list scope ${scope}`,
        signal: opts.signal,
      },
      ScopeDidLine,
    );
  }

  /** Details; `dynamicDepth: "FILE"` makes the server compute length and bytes of collections. */
  get(did: string | DidRef, opts: CallOptions & { dynamicDepth?: "FILE" | "DATASET" } = {}): Promise<Did> {
    const d = parseDid(did);
    return this.base.json(
      { method: "GET", path: `dids/${didPath(d.scope, d.name)}`, query: { dynamic_depth: opts.dynamicDepth }, what: `read ${formatDid(d)}`, signal: opts.signal },
      DidSchema,
    );
  }

  /** Metadata. `plugin`: DID_COLUMN (default), JSON or ALL (the last two need server support). */
  meta(did: string | DidRef, opts: CallOptions & { plugin?: "DID_COLUMN" | "JSON" | "ALL" } = {}): Promise<Record<string, unknown>> {
    const d = parseDid(did);
    return this.base.json(
      { method: "GET", path: `dids/${didPath(d.scope, d.name)}/meta`, query: { plugin: opts.plugin }, what: `read the metadata of ${formatDid(d)}`, signal: opts.signal },
      DidMetaSchema,
    );
  }

  /** Sets one metadata key. */
  async setMeta(did: string | DidRef, key: string, value: unknown, opts: CallOptions & { recursive?: boolean } = {}): Promise<void> {
    const d = parseDid(did);
    await this.base.call({
      method: "POST",
      path: `dids/${didPath(d.scope, d.name)}/meta/${encodeSegment(key)}`,
      json: { value, recursive: opts.recursive },
      idempotent: true, // setting a value twice has the same effect
      what: `set ${key} on ${formatDid(d)}`,
      signal: opts.signal,
    });
  }

  /** Sets several metadata keys at once. */
  async setMetadata(did: string | DidRef, meta: Record<string, unknown>, opts: CallOptions & { recursive?: boolean } = {}): Promise<void> {
    const d = parseDid(did);
    await this.base.call({
      method: "POST",
      path: `dids/${didPath(d.scope, d.name)}/meta`,
      json: { meta, recursive: opts.recursive },
      idempotent: true,
      what: `set metadata on ${formatDid(d)}`,
      signal: opts.signal,
    });
  }

  /** Direct children of a collection. */
  content(did: string | DidRef, opts: CallOptions = {}): AsyncGenerator<DidContent> {
    const d = parseDid(did);
    return this.base.list({ method: "GET", path: `dids/${didPath(d.scope, d.name)}/dids`, what: `list the content of ${formatDid(d)}`, signal: opts.signal }, DidContentLine);
  }

  /** All files below a DID (recursively). */
  files(did: string | DidRef, opts: CallOptions & { long?: boolean } = {}): AsyncGenerator<DidFile> {
    const d = parseDid(did);
    return this.base.list(
      { method: "GET", path: `dids/${didPath(d.scope, d.name)}/files`, query: { long: opts.long ? "True" : undefined }, what: `list the files of ${formatDid(d)}`, signal: opts.signal },
      DidFileLine,
    );
  }

  parents(did: string | DidRef, opts: CallOptions = {}): AsyncGenerator<DidParent> {
    const d = parseDid(did);
    return this.base.list({ method: "GET", path: `dids/${didPath(d.scope, d.name)}/parents`, what: `list the parents of ${formatDid(d)}`, signal: opts.signal }, DidParentLine);
  }

  /** Rules on this DID. */
  rules(did: string | DidRef, opts: CallOptions = {}): AsyncGenerator<Rule> {
    const d = parseDid(did);
    return this.base.list({ method: "GET", path: `dids/${didPath(d.scope, d.name)}/rules`, what: `list the rules of ${formatDid(d)}`, signal: opts.signal }, RuleSchema);
  }

  /** Rules that protect this DID through its parents. */
  associatedRules(did: string | DidRef, opts: CallOptions = {}): AsyncGenerator<Rule> {
    const d = parseDid(did);
    return this.base.list(
      { method: "GET", path: `dids/${didPath(d.scope, d.name)}/associated_rules`, what: `list the rules covering ${formatDid(d)}`, signal: opts.signal },
      RuleSchema,
    );
  }

  addDataset(did: string | DidRef, opts: AddCollectionOptions = {}): Promise<boolean> {
    return this.addCollection(did, "DATASET", opts);
  }

  addContainer(did: string | DidRef, opts: AddCollectionOptions = {}): Promise<boolean> {
    return this.addCollection(did, "CONTAINER", opts);
  }

  /**
   * Creates a dataset or container. Creating a DID is naturally guarded against duplicates (409), so a
   * lost answer is resolved by asking whether the DID now exists. Returns false if it already existed.
   */
  private async addCollection(did: string | DidRef, type: "DATASET" | "CONTAINER", opts: AddCollectionOptions): Promise<boolean> {
    const d = parseDid(did);
    try {
      await this.base.call({
        method: "POST",
        path: `dids/${didPath(d.scope, d.name)}`,
        json: { type, meta: opts.meta, rules: opts.rules, lifetime: opts.lifetime },
        what: `create ${type.toLowerCase()} ${formatDid(d)}`,
        signal: opts.signal,
      });
      return true;
    } catch (e) {
      const cls = (e as { exceptionClass?: string }).exceptionClass;
      if (cls === "DataIdentifierAlreadyExists" && opts.ignoreExisting) return false;
      throw e;
    }
  }

  /** Attaches DIDs (files to a dataset, datasets to a container). */
  async attach(parent: string | DidRef, children: (string | DidRef)[], opts: CallOptions & { rse?: string } = {}): Promise<void> {
    const p = parseDid(parent);
    const dids = children.map((c) => parseDid(c, p.scope));
    await this.base.call({
      method: "POST",
      path: `dids/${didPath(p.scope, p.name)}/dids`,
      json: { dids: dids.map(({ scope, name }) => ({ scope, name })), rse: opts.rse },
      // Attaching is a set union on the server: repeating it cannot attach twice.
      idempotent: true,
      what: `attach ${dids.length} DID(s) to ${formatDid(p)}`,
      signal: opts.signal,
    });
  }

  async detach(parent: string | DidRef, children: (string | DidRef)[], opts: CallOptions = {}): Promise<void> {
    const p = parseDid(parent);
    const dids = children.map((c) => parseDid(c, p.scope));
    await this.base.call({
      method: "DELETE",
      path: `dids/${didPath(p.scope, p.name)}/dids`,
      json: { dids: dids.map(({ scope, name }) => ({ scope, name })) },
      what: `detach ${dids.length} DID(s) from ${formatDid(p)}`,
      signal: opts.signal,
    });
  }

  /** Closes a dataset/container (no more content can be attached). */
  async close(did: string | DidRef, opts: CallOptions = {}): Promise<void> {
    const d = parseDid(did);
    await this.base.call({ method: "PUT", path: `dids/${didPath(d.scope, d.name)}/status`, json: { open: false }, what: `close ${formatDid(d)}`, signal: opts.signal });
  }
}
