/** Storage elements: list, expressions, details, attributes, protocols, usage, lfns2pfns. */
import { type CallOptions, encodeSegment, type RucioBase } from "./base";
import { Lfns2PfnsSchema, type Protocol, ProtocolList, type Rse, RseAttributes, type RseInfo, RseInfoSchema, RseLine, UsageLine } from "./schemas";

export class Rses {
  constructor(private readonly base: RucioBase) {}

  /**
   * All RSEs (full records), or those matching an RSE expression (then only `{rse}` is filled: the
   * server answers names only for expressions).
   */
  list(opts: CallOptions & { expression?: string } = {}): AsyncGenerator<Rse> {
    return this.base.list(
      {
        method: "GET",
        path: "rses/",
        query: { expression: opts.expression },
        what: opts.expression ? `resolve the RSE expression ${opts.expression}` : "list RSEs",
        signal: opts.signal,
      },
      RseLine,
    );
  }

  /** Names of the RSEs an expression selects. */
  async expand(expression: string, opts: CallOptions = {}): Promise<string[]> {
    const out: string[] = [];
    for await (const r of this.list({ ...opts, expression })) out.push(r.rse);
    return out;
  }

  get(rse: string, opts: CallOptions = {}): Promise<RseInfo> {
    return this.base.json({ method: "GET", path: `rses/${encodeSegment(rse)}`, what: `read RSE ${rse}`, signal: opts.signal }, RseInfoSchema);
  }

  attributes(rse: string, opts: CallOptions = {}): Promise<Record<string, string | boolean | number | null>> {
    return this.base.json({ method: "GET", path: `rses/${encodeSegment(rse)}/attr/`, what: `read the attributes of ${rse}`, signal: opts.signal }, RseAttributes);
  }

  protocols(rse: string, opts: CallOptions = {}): Promise<Protocol[]> {
    return this.base.json({ method: "GET", path: `rses/${encodeSegment(rse)}/protocols`, what: `read the protocols of ${rse}`, signal: opts.signal }, ProtocolList);
  }

  usage(rse: string, opts: CallOptions = {}): AsyncGenerator<Record<string, unknown>> {
    return this.base.list({ method: "GET", path: `rses/${encodeSegment(rse)}/usage`, what: `read the usage of ${rse}`, signal: opts.signal }, UsageLine);
  }

  /** PFNs for LFNs ("scope:name") on an RSE, e.g. the upload target with operation "write". */
  lfns2pfns(
    rse: string,
    lfns: string[],
    opts: CallOptions & { scheme?: string; operation?: "read" | "write" | "delete"; domain?: "wan" | "lan" } = {},
  ): Promise<Record<string, string>> {
    return this.base.json(
      {
        method: "GET",
        path: `rses/${encodeSegment(rse)}/lfns2pfns`,
        query: { lfn: lfns, scheme: opts.scheme, operation: opts.operation, domain: opts.domain },
        what: `compute PFNs on ${rse}`,
        signal: opts.signal,
      },
      Lfns2PfnsSchema,
    );
  }
}
