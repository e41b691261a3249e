/** Replication rules: create (never twice), list, get, locks, update, delete. */
import { submitOnce } from "../http/client";
import { sleep } from "../http/retry";
import { checkOption, POLL_INTERVAL_RANGE } from "../http/durations";
import { type CallOptions, didPath, encodeSegment, type RucioBase } from "./base";
import { type DidRef, formatDid, parseDid } from "./did-ref";
import { RucioError } from "./errors";
import { type Lock, LockLine, type Rule, RuleIdList, RuleSchema } from "./schemas";

export type RuleState = "REPLICATING" | "OK" | "STUCK" | "SUSPENDED" | "WAITING_APPROVAL" | "INJECT";

export interface NewRule extends CallOptions {
  dids: (string | DidRef)[] | string | DidRef;
  rseExpression: string;
  /** Default 1. */
  copies?: number;
  /** Default: the configured account, else whoami. */
  account?: string;
  grouping?: "DATASET" | "ALL" | "NONE";
  /** Seconds. */
  lifetime?: number;
  comment?: string;
  locked?: boolean;
  activity?: string;
  weight?: string;
  sourceReplicaExpression?: string;
  notify?: "Y" | "N" | "C" | "P";
  purgeReplicas?: boolean;
  ignoreAvailability?: boolean;
  askApproval?: boolean;
  asynchronous?: boolean;
  priority?: number;
  meta?: Record<string, unknown>;
}

/** A rule's files done (locks OK) out of all its locks. */
export function ruleProgress(r: Rule): { ok: number; total: number } {
  const ok = r.locks_ok_cnt ?? 0;
  return { ok, total: ok + (r.locks_replicating_cnt ?? 0) + (r.locks_stuck_cnt ?? 0) };
}

export interface FollowRuleOptions extends CallOptions {
  /** Called with every reading of the rule. */
  onUpdate?: (rule: Rule) => void;
  /**
   * Longest pause between two readings; the first pause is 0.5 s (or this, when shorter), each next one half as long
   * again. Default 10 s (1 s on the sandbox); 200 ms to 1 h, anything else is refused (HTTP_INVALID_ARGUMENT).
   */
  maxDelayMs?: number;
}

export interface EnsureRuleOptions extends CallOptions {
  rseExpression: string;
  /** Seconds, for a new rule. */
  lifetime?: number;
  comment?: string;
}

export interface RuleFilter extends CallOptions {
  scope?: string;
  name?: string;
  account?: string;
  state?: string;
  rseExpression?: string;
}

/** Options `update` can change (`PUT /rules/{id}`); the Rucio names in snake_case are accepted too. */
export interface RuleUpdate {
  /** Seconds from now until the rule expires; null removes the expiry. */
  lifetime?: number | null;
  locked?: boolean;
  comment?: string | null;
  /** Moves the rule to another account (needs the rights to do so). */
  account?: string;
  activity?: string;
  priority?: number;
  sourceReplicaExpression?: string | null;
  purgeReplicas?: boolean;
  [rucioName: string]: unknown;
}

const RULE_OPTION_KEYS: Record<string, string> = {
  sourceReplicaExpression: "source_replica_expression",
  purgeReplicas: "purge_replicas",
  cancelRequests: "cancel_requests",
  childRuleId: "child_rule_id",
};

export class Rules {
  constructor(private readonly base: RucioBase) {}

  /**
   * Creates a rule and returns its id(s). Rule creation is not idempotent: if the answer is lost after the
   * request may have reached the server, the DID's rules are checked for one matching this request
   * (same account, RSE expression and copies, created in the last minutes) before anything is re-sent.
   */
  async create(rule: NewRule): Promise<string[]> {
    const dids = (Array.isArray(rule.dids) ? rule.dids : [rule.dids]).map((d) => parseDid(d));
    const account = rule.account ?? (await this.base.account({ signal: rule.signal }));
    const copies = rule.copies ?? 1;
    const body = {
      dids: dids.map(({ scope, name }) => ({ scope, name })),
      account,
      copies,
      rse_expression: rule.rseExpression,
      grouping: rule.grouping,
      lifetime: rule.lifetime,
      comment: rule.comment,
      locked: rule.locked,
      activity: rule.activity,
      weight: rule.weight,
      source_replica_expression: rule.sourceReplicaExpression,
      notify: rule.notify,
      purge_replicas: rule.purgeReplicas,
      ignore_availability: rule.ignoreAvailability,
      ask_approval: rule.askApproval,
      asynchronous: rule.asynchronous,
      priority: rule.priority,
      meta: rule.meta,
    };
    const what = `create a rule for ${dids.map(formatDid).join(", ")} on ${rule.rseExpression}`;
    const startedAt = Date.now();
    return submitOnce(
      // The answer is a JSON list of ids sent as text/html; res.json ignores the Content-Type.
      () => this.base.json({ method: "POST", path: "rules/", json: body, what, signal: rule.signal }, RuleIdList),
      async () => {
        const found: string[] = [];
        for (const d of dids) {
          for await (const r of this.forDid(d, { signal: rule.signal })) {
            const created = r.created_at?.getTime() ?? 0;
            if (r.account === account && r.rse_expression === rule.rseExpression && r.copies === copies && created >= startedAt - 10 * 60_000) {
              found.push(r.id);
            }
          }
        }
        this.base.log("warn", `Rule creation outcome unknown; ${found.length ? `found rule(s) ${found.join(", ")}` : "no matching rule found, retrying"}.`);
        return found.length ? found : undefined;
      },
      { signal: rule.signal },
    );
  }

  /**
   * A one-copy rule of this account for `did` on `rseExpression`: an existing live one is reused, else one is
   * created (never twice: see create). `created` says which.
   */
  async ensure(did: string | DidRef, opts: EnsureRuleOptions): Promise<{ rule: Rule; created: boolean }> {
    const signal = opts.signal;
    const account = await this.base.account({ signal });
    const mine = async (): Promise<Rule | undefined> => {
      for await (const r of this.forDid(did, { signal })) {
        // A rule about to expire (e.g. a deleted one in its grace period) does not keep data for long.
        const expiring = r.expires_at && r.expires_at.getTime() < Date.now() + 60_000;
        if (r.rse_expression === opts.rseExpression && r.account === account && !expiring) return r;
      }
      return undefined;
    };
    const existing = await mine();
    if (existing) return { rule: existing, created: false };
    try {
      const [id] = await this.create({ dids: did, copies: 1, rseExpression: opts.rseExpression, lifetime: opts.lifetime, comment: opts.comment, signal });
      return { rule: await this.get(id!, { signal }), created: true };
    } catch (e) {
      // Someone (another notebook of ours) created it meanwhile.
      const raced = e instanceof RucioError && e.code === "RUCIO_DUPLICATE_RULE" ? await mine() : undefined;
      if (!raced) throw e;
      return { rule: raced, created: false };
    }
  }

  /** Reads a rule until it is OK. STUCK or SUSPENDED ends it with RUCIO_RULE_STUCK; Rucio keeps working on it. */
  async follow(id: string, opts: FollowRuleOptions = {}): Promise<Rule> {
    checkOption(opts.maxDelayMs, "maxDelayMs", POLL_INTERVAL_RANGE, (i) => new RucioError(i));
    let delay = 500;
    for (;;) {
      const r = await this.get(id, { signal: opts.signal });
      opts.onUpdate?.(r);
      if (r.state === "OK") return r;
      if (r.state === "STUCK" || r.state === "SUSPENDED") {
        throw new RucioError({
          code: "RUCIO_RULE_STUCK",
          message: `Rule ${id} for ${formatDid(r)} on ${r.rse_expression} is ${r.state}${r.error ? `: ${r.error}` : ""} (${r.locks_stuck_cnt ?? 0} file(s) stuck).`,
          hint: `Check %rucio rule-info ${id}; Rucio retries stuck transfers on its own, or ask your data manager.`,
        });
      }
      const max = opts.maxDelayMs ?? (this.base.settings.sandbox ? 1000 : 10_000);
      await sleep(Math.min(delay, max), opts.signal);
      delay = Math.min(delay * 1.5, max);
    }
  }

  get(id: string, opts: CallOptions = {}): Promise<Rule> {
    return this.base.json({ method: "GET", path: `rules/${encodeSegment(id)}`, what: `read rule ${id}`, signal: opts.signal }, RuleSchema);
  }

  /** Rules matching a filter (`GET /rules/?scope=&name=&account=&state=`). */
  list(filter: RuleFilter = {}): AsyncGenerator<Rule> {
    return this.base.list(
      {
        method: "GET",
        path: "rules/",
        query: { scope: filter.scope, name: filter.name, account: filter.account, state: filter.state, rse_expression: filter.rseExpression },
        what: "list rules",
        signal: filter.signal,
      },
      RuleSchema,
    );
  }

  forDid(did: string | DidRef, opts: CallOptions = {}): AsyncGenerator<Rule> {
    const d = parseDid(did);
    return this.base.list({ method: "GET", path: `dids/${didPath(d.scope, d.name)}/rules`, what: `list the rules of ${formatDid(d)}`, signal: opts.signal }, RuleSchema);
  }

  locks(id: string, opts: CallOptions = {}): AsyncGenerator<Lock> {
    return this.base.list({ method: "GET", path: `rules/${encodeSegment(id)}/locks`, what: `list the locks of rule ${id}`, signal: opts.signal }, LockLine);
  }

  /**
   * Changes a rule's options (`PUT /rules/{id}` with `{"options": {...}}`, as `rucio update-rule`): `lifetime` in
   * seconds from now (null: never expires), `locked`, `comment`, ... Returns the rule as the server now has it.
   * Setting options is idempotent, so a lost answer is simply retried.
   */
  async update(id: string, options: RuleUpdate, opts: CallOptions = {}): Promise<Rule> {
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(options)) {
      if (v === undefined) continue;
      body[RULE_OPTION_KEYS[k] ?? k] = v;
    }
    if (Object.keys(body).length === 0) {
      throw new RucioError({ code: "RUCIO_INVALID_REQUEST", message: `Nothing to change on rule ${id}.`, hint: "Give at least one option, e.g. a lifetime." });
    }
    await this.base.call({ method: "PUT", path: `rules/${encodeSegment(id)}`, json: { options: body }, what: `update rule ${id}`, idempotent: true, signal: opts.signal });
    return this.get(id, opts);
  }

  /** Deletes a rule (the server expires it within the hour). */
  async delete(id: string, opts: CallOptions & { purgeReplicas?: boolean } = {}): Promise<void> {
    await this.base.call({
      method: "DELETE",
      path: `rules/${encodeSegment(id)}`,
      json: { purge_replicas: opts.purgeReplicas ?? false },
      what: `delete rule ${id}`,
      signal: opts.signal,
    });
  }
}
