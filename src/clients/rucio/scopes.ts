/** Scopes: all, per account, add. */
import { type CallOptions, encodeSegment, type RucioBase } from "./base";
import { StringList } from "./schemas";

export class Scopes {
  constructor(private readonly base: RucioBase) {}

  list(opts: CallOptions = {}): Promise<string[]> {
    return this.base.json({ method: "GET", path: "scopes/", what: "list scopes", signal: opts.signal }, StringList);
  }

  /** Scopes of an account (default: yours). A 404 ScopeNotFound means "none" and gives []. */
  async forAccount(account?: string, opts: CallOptions = {}): Promise<string[]> {
    const a = account ?? (await this.base.account(opts));
    try {
      return await this.base.json({ method: "GET", path: `accounts/${encodeSegment(a)}/scopes/`, what: `list the scopes of ${a}`, signal: opts.signal }, StringList);
    } catch (e) {
      if ((e as { exceptionClass?: string }).exceptionClass === "ScopeNotFound") return [];
      throw e;
    }
  }

  async add(account: string, scope: string, opts: CallOptions = {}): Promise<void> {
    await this.base.call({ method: "POST", path: `scopes/${encodeSegment(account)}/${encodeSegment(scope)}`, what: `add scope ${scope}`, signal: opts.signal });
  }
}
