/** Replicas: where the files of a DID are (per RSE, states, PFNs, checksums); registration. */
import { type CallOptions, didPath, type RucioBase } from "./base";
import { type DidRef, formatDid, parseDid } from "./did-ref";
import { DatasetReplicaLine, type RawReplica, ReplicaLine } from "./schemas";

export interface ReplicaPfn {
  pfn: string;
  rse: string;
  rseId?: string;
  type?: string;
  domain?: string;
  priority?: number;
  volatile?: boolean;
  clientExtract?: boolean;
}

export interface Replica {
  scope: string;
  name: string;
  bytes: number | null;
  adler32: string | null;
  md5: string | null;
  /** Sorted by the server's priority (1 = best). */
  pfns: ReplicaPfn[];
  /** RSE → PFNs. */
  rses: Record<string, string[]>;
  /** RSE → AVAILABLE, COPYING, UNAVAILABLE, ... */
  states: Record<string, string>;
}

export interface ListReplicasOptions extends CallOptions {
  /** Protocol schemes to return PFNs for: ["https", "davs", "root", "file"]. */
  schemes?: string[];
  rseExpression?: string;
  /** Include replicas that are not available yet (COPYING, ...). */
  allStates?: boolean;
  domain?: "wan" | "lan" | "all";
  /** PFNs per file. */
  limit?: number;
  sort?: string;
  resolveArchives?: boolean;
  ignoreAvailability?: boolean;
  clientLocation?: Record<string, string>;
}

export interface NewReplica {
  scope: string;
  name: string;
  bytes: number;
  adler32: string;
  md5?: string;
  pfn?: string;
  meta?: Record<string, unknown>;
  /** "A" available (default on the server), "C" copying, ... */
  state?: string;
}

export interface MetalinkFile {
  scope: string;
  name: string;
  bytes?: number;
  adler32?: string;
  md5?: string;
  urls: { pfn: string; rse?: string; domain?: string; priority?: number }[];
}

function normalise(r: RawReplica): Replica {
  const pfns: ReplicaPfn[] = Object.entries(r.pfns).map(([pfn, i]) => ({
    pfn,
    rse: i.rse,
    rseId: i.rse_id,
    type: i.type,
    domain: i.domain,
    priority: i.priority,
    volatile: i.volatile,
    clientExtract: i.client_extract,
  }));
  pfns.sort((a, b) => (a.priority ?? 99) - (b.priority ?? 99));
  return {
    scope: r.scope,
    name: r.name,
    bytes: r.bytes ?? null,
    adler32: r.adler32 ?? null,
    md5: r.md5 ?? null,
    pfns,
    rses: r.rses,
    states: r.states,
  };
}

function xmlText(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

/** Reads Rucio's Metalink 4 answer (a fixed, flat structure). */
export function parseMetalink(xml: string): MetalinkFile[] {
  const files: MetalinkFile[] = [];
  for (const m of xml.matchAll(/<file\b[^>]*>([\s\S]*?)<\/file>/g)) {
    const body = m[1];
    const identity = xmlText(/<identity>([\s\S]*?)<\/identity>/.exec(body)?.[1] ?? "");
    const i = identity.indexOf(":");
    const f: MetalinkFile = { scope: identity.slice(0, i), name: identity.slice(i + 1), urls: [] };
    const size = /<size>(\d+)<\/size>/.exec(body)?.[1];
    if (size) f.bytes = Number(size);
    for (const h of body.matchAll(/<hash type="(\w+)">([^<]*)<\/hash>/g)) {
      if (h[1] === "adler32") f.adler32 = h[2];
      if (h[1] === "md5") f.md5 = h[2];
    }
    for (const u of body.matchAll(/<url\b([^>]*)>([^<]*)<\/url>/g)) {
      const attr = (n: string) => new RegExp(`${n}="([^"]*)"`).exec(u[1])?.[1];
      const prio = attr("priority");
      f.urls.push({ pfn: xmlText(u[2]), rse: attr("location"), domain: attr("domain"), priority: prio ? Number(prio) : undefined });
    }
    files.push(f);
  }
  return files;
}

export class Replicas {
  constructor(private readonly base: RucioBase) {}

  private body(dids: DidRef[], o: ListReplicasOptions): Record<string, unknown> {
    return {
      dids: dids.map(({ scope, name }) => ({ scope, name })),
      schemes: o.schemes,
      rse_expression: o.rseExpression,
      all_states: o.allStates,
      domain: o.domain,
      sort: o.sort,
      resolve_archives: o.resolveArchives,
      ignore_availability: o.ignoreAvailability,
      client_location: o.clientLocation,
    };
  }

  /** Replicas of the files below the given DIDs (`POST /replicas/list`, a read despite the POST). */
  async *list(dids: string | DidRef | (string | DidRef)[], opts: ListReplicasOptions = {}): AsyncGenerator<Replica> {
    const list = (Array.isArray(dids) ? dids : [dids]).map((d) => parseDid(d));
    const lines = this.base.list(
      {
        method: "POST",
        path: "replicas/list",
        query: { limit: opts.limit },
        json: this.body(list, opts),
        idempotent: true,
        what: `list the replicas of ${list.map(formatDid).join(", ")}`,
        signal: opts.signal,
      },
      ReplicaLine,
    );
    for await (const r of lines) yield normalise(r);
  }

  /** The same listing as Metalink 4 XML, parsed (what `rucio download --metalink` consumes). */
  async metalink(dids: string | DidRef | (string | DidRef)[], opts: ListReplicasOptions = {}): Promise<MetalinkFile[]> {
    const list = (Array.isArray(dids) ? dids : [dids]).map((d) => parseDid(d));
    const res = await this.base.send({
      method: "POST",
      path: "replicas/list",
      json: this.body(list, opts),
      headers: { accept: "application/metalink4+xml" },
      idempotent: true,
      what: `list the replicas of ${list.map(formatDid).join(", ")} as Metalink`,
      signal: opts.signal,
    });
    return parseMetalink(await res.text());
  }

  /** `GET /replicas/{scope}/{name}` (the JupyterLab extension's call). */
  async *forDid(did: string | DidRef, opts: CallOptions & { schemes?: string[]; limit?: number } = {}): AsyncGenerator<Replica> {
    const d = parseDid(did);
    const lines = this.base.list(
      {
        method: "GET",
        path: `replicas/${didPath(d.scope, d.name)}`,
        query: { schemes: opts.schemes?.join(","), limit: opts.limit },
        what: `list the replicas of ${formatDid(d)}`,
        signal: opts.signal,
      },
      ReplicaLine,
    );
    for await (const r of lines) yield normalise(r);
  }

  /** Dataset-level replicas per RSE (filled by server daemons; may be empty on small servers). */
  datasets(did: string | DidRef, opts: CallOptions = {}): AsyncGenerator<Record<string, unknown>> {
    const d = parseDid(did);
    return this.base.list(
      { method: "GET", path: `replicas/${didPath(d.scope, d.name)}/datasets`, what: `list the dataset replicas of ${formatDid(d)}`, signal: opts.signal },
      DatasetReplicaLine,
    );
  }

  /**
   * Registers replicas on an RSE. A second registration of the same replica is refused by the server
   * (409), so a lost answer is resolved by the caller checking the replica (see upload.ts).
   */
  async add(rse: string, files: NewReplica[], opts: CallOptions & { ignoreAvailability?: boolean } = {}): Promise<void> {
    await this.base.call({
      method: "POST",
      path: "replicas",
      json: { rse, files, ignore_availability: opts.ignoreAvailability },
      what: `register ${files.length} replica(s) on ${rse}`,
      signal: opts.signal,
    });
  }

  /** Updates replica states, e.g. state "A" to mark them available. */
  async setState(rse: string, files: { scope: string; name: string; state: string }[], opts: CallOptions = {}): Promise<void> {
    await this.base.call({ method: "PUT", path: "replicas", json: { rse, files }, what: `update ${files.length} replica(s) on ${rse}`, signal: opts.signal });
  }

  async remove(rse: string, files: DidRef[], opts: CallOptions = {}): Promise<void> {
    await this.base.call({
      method: "DELETE",
      path: "replicas",
      json: { rse, files: files.map(({ scope, name }) => ({ scope, name })) },
      what: `delete ${files.length} replica(s) from ${rse}`,
      signal: opts.signal,
    });
  }
}
