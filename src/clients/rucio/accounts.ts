/** Accounts: whoami (a 303 to the account), details, limits, rules, usage. */
import { type CallOptions, encodeSegment, type RucioBase } from "./base";
import { AccountLimits, AccountSchema, AccountUsageLine, RuleSchema, type Account, type AccountUsage, type Rule } from "./schemas";

export class Accounts {
  constructor(private readonly base: RucioBase) {}

  /** Who the current credentials act as: `GET /accounts/whoami` answers 303 to `accounts/<name>`. */
  async whoami(opts: CallOptions = {}): Promise<Account> {
    const res = await this.base.send({
      method: "GET",
      path: "accounts/whoami",
      what: "find out who you are",
      expectStatus: [200, 303],
      signal: opts.signal,
    });
    if (res.status === 200) return res.json(AccountSchema);
    await res.dump();
    const loc = res.header("location");
    if (!loc) {
      throw this.base.http.createError({ code: "HTTP_MALFORMED_RESPONSE", status: 303, message: "whoami answered 303 without a Location header." });
    }
    // The Location is relative ("root") to /accounts/whoami, i.e. /accounts/root.
    const target = new URL(loc, this.base.http.url("accounts/whoami"));
    return this.base.json({ method: "GET", path: target.toString(), what: "read your account", signal: opts.signal }, AccountSchema);
  }

  get(account: string, opts: CallOptions = {}): Promise<Account> {
    return this.base.json({ method: "GET", path: `accounts/${encodeSegment(account)}`, what: `read account ${account}`, signal: opts.signal }, AccountSchema);
  }

  /** Quota per RSE in bytes. */
  limits(account: string, opts: CallOptions = {}): Promise<Record<string, number | null>> {
    return this.base.json(
      { method: "GET", path: `accounts/${encodeSegment(account)}/limits`, what: `read the limits of ${account}`, signal: opts.signal },
      AccountLimits,
    );
  }

  rules(account: string, opts: CallOptions = {}): AsyncGenerator<Rule> {
    return this.base.list({ method: "GET", path: `accounts/${encodeSegment(account)}/rules`, what: `list the rules of ${account}`, signal: opts.signal }, RuleSchema);
  }

  /**
   * What the account's rules hold per RSE against its quota (`GET /accounts/{account}/usage/local[/{rse}]`, the
   * call behind `rucio list-account-usage`): one line per RSE with bytes, files, limit and remaining bytes.
   */
  usage(account: string, opts: CallOptions & { rse?: string } = {}): AsyncGenerator<AccountUsage> {
    const path = `accounts/${encodeSegment(account)}/usage/local${opts.rse ? `/${encodeSegment(opts.rse)}` : ""}`;
    return this.base.list({ method: "GET", path, what: `read the usage of ${account}${opts.rse ? ` on ${opts.rse}` : ""}`, signal: opts.signal }, AccountUsageLine);
  }
}
