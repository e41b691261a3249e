/**
 * %rucio: data management from the notebook with the `rucio` command line's verbs — discover DIDs, see replicas,
 * make data available with rules, download/upload with checksum checks, and map DIDs to paths on a mounted RSE.
 * A thin parser over RucioClient (src/clients/rucio); every verb's help names the client call it maps to.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { RucioError, didProblem, parseDid, ruleProgress, type AccountUsage, type DidRef, type RucioClient, type Rule } from "../clients/rucio";
import type { Session } from "../session";
import { clipEcho, type OptionSpec, type VerbCall } from "./args";
import { verbMagic, type Verb } from "./args-dispatch";
import { datasetBrowser, type SearchType } from "../widgets/dataset-browser";
import { attachmentRows } from "../session/attachments";
import { Progress } from "./progress";
import { UsageError, type MagicContext, type MagicSpec } from "./types";
import { displayPath, plural, resolvePath, withProgress } from "./vre-common";
import { formatBytes, formatDate, recordBundle, tableBundle, withDisplay } from "./vre-format";

type Env = Pick<Session, "rucio" | "provenance">;

const DID_TYPES = ["all", "collection", "dataset", "container", "file"] as const;
const didArg = { name: "DID", description: "scope:name" };

/** Longest rule lifetime accepted (100 years); no lifetime at all means the rule never expires. */
const MAX_LIFETIME_S = 100 * 365 * 86_400;
const lifetimeOption = (description: string): OptionSpec => ({ type: "integer", placeholder: "S", min: 1, max: MAX_LIFETIME_S, unit: "seconds", description });

/** A DID argument, checked here so a typo is a usage error rather than a server round trip. */
function didOf(call: VerbCall, name = "DID"): DidRef {
  return didFrom(call, call.str(name));
}

function didFrom(call: VerbCall, raw: string, defaultScope?: string): DidRef {
  const i = raw.indexOf(":");
  if (!defaultScope && (i <= 0 || i === raw.length - 1)) {
    throw new UsageError(`${call.prefix()}: ${clipEcho(JSON.stringify(raw))} is not a DID; write scope:name (e.g. open:dimuon-sim.v1).\nUsage: ${call.usage()}`);
  }
  const did = parseDid(raw, defaultScope);
  const problem = didProblem(did);
  if (problem) throw new UsageError(`${call.prefix()}: ${clipEcho(JSON.stringify(raw))} is not a DID: ${problem}.\nUsage: ${call.usage()}`);
  return did;
}

/** The scope of a SCOPE:PATTERN argument, checked like a DID's. */
function scopeOf(call: VerbCall, raw: string): { scope: string; pattern: string } {
  const i = raw.indexOf(":");
  if (i <= 0) throw new UsageError(`${call.prefix()}: write SCOPE:PATTERN (e.g. open:dimuon*); list scopes with %rucio list-scopes.\nUsage: ${call.usage()}`);
  const scope = raw.slice(0, i);
  const problem = didProblem({ scope, name: "x" });
  if (problem) throw new UsageError(`${call.prefix()}: ${problem}; list scopes with %rucio list-scopes.\nUsage: ${call.usage()}`);
  return { scope, pattern: raw.slice(i + 1) || "*" };
}

const fmtDid = (d: { scope: string; name: string }) => `${d.scope}:${d.name}`;
const typeOf = (t: unknown) => (t ? String(t).toLowerCase() : "");

/** Summed bytes of a list of rows. */
function totalBytes(rows: Array<{ bytes?: number | null }>): number {
  return rows.reduce((n, r) => n + (r.bytes ?? 0), 0);
}

async function collect<T>(it: AsyncIterable<T>, limit = Infinity): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  for await (const x of it) {
    if (items.length >= limit) return { items, truncated: true };
    items.push(x);
  }
  return { items, truncated: false };
}

function ruleRows(rules: Rule[], title: string) {
  return tableBundle(
    rules,
    [
      { label: "id", get: (r) => r.id },
      { label: "did", get: (r) => fmtDid(r) },
      { label: "rse expression", get: (r) => r.rse_expression },
      { label: "copies", get: (r) => r.copies, align: "right" },
      { label: "state", get: (r) => r.state },
      { label: "locks ok/repl/stuck", get: (r) => `${r.locks_ok_cnt ?? 0}/${r.locks_replicating_cnt ?? 0}/${r.locks_stuck_cnt ?? 0}` },
      { label: "account", get: (r) => r.account },
      { label: "expires", get: (r) => formatDate(r.expires_at ?? undefined) },
    ],
    { title },
  );
}

function ruleValue(r: Rule, title: string): Rule {
  return withDisplay(r, () =>
    recordBundle(
      [
        ["id", r.id],
        ["did", fmtDid(r)],
        ["rse expression", r.rse_expression],
        ["copies", r.copies],
        ["state", r.state],
        ["locks ok / replicating / stuck", `${r.locks_ok_cnt ?? 0} / ${r.locks_replicating_cnt ?? 0} / ${r.locks_stuck_cnt ?? 0}`],
        ["account", r.account],
        ["comment", r.comments],
        ["error", r.error],
        ["created", formatDate(r.created_at ?? undefined)],
        ["expires", formatDate(r.expires_at ?? undefined)],
      ],
      { title },
    ),
  );
}

/** Polls a rule until it is OK (or STUCK / gone), with a live line of lock counts. */
async function waitForRule(client: RucioClient, ctx: MagicContext, id: string, progress: Progress): Promise<Rule> {
  return client.rules.follow(id, {
    signal: ctx.signal,
    onUpdate: (r) => {
      const { ok, total } = ruleProgress(r);
      progress.update({ status: r.state, files: ok, totalFiles: total || undefined });
    },
  });
}

/** Maps a DID's files to their local paths on the mounted destination RSE; every file must be there. */
async function pathsOf(client: RucioClient, ctx: MagicContext, did: DidRef, rse: string | undefined, prefix: string): Promise<string[]> {
  const rows = await client.localPaths(did, { rse, signal: ctx.signal });
  const target = rse ?? client.settings.destinationRse;
  if (rows.length === 0) throw new UsageError(`${prefix}: ${fmtDid(did)} has no files.`);
  const missing = rows.filter((r) => !r.path || (r.state && r.state !== "AVAILABLE"));
  if (missing.length) {
    throw new RucioError({
      code: "RUCIO_NOT_AVAILABLE",
      message: `${plural(missing.length, "file")} of ${fmtDid(did)} ${missing.length === 1 ? "is" : "are"} not available on ${target} yet (${missing
        .slice(0, 3)
        .map((m) => `${m.did}${m.state ? ` ${m.state}` : ""}`)
        .join(", ")}${missing.length > 3 ? ", ..." : ""}).`,
      hint: `Make the data available first: %rucio make-available ${fmtDid(did)} --wait`,
    });
  }
  return rows.map((r) => r.path!);
}

function pathsValue(paths: string[], did: DidRef, rse: string | undefined): string[] {
  return withDisplay(paths, () =>
    tableBundle(paths.map((p) => ({ p, exists: fs.existsSync(p) })), [
      { label: "local path", get: (r) => r.p },
      { label: "readable here", get: (r) => (r.exists ? "yes" : "no (mount not visible from this kernel)") },
    ], { title: `Local paths of ${fmtDid(did)}${rse ? ` on ${rse}` : ""}` }),
  );
}

export const rucioVerbs: Verb<Env>[] = [
  {
    name: "whoami",
    summary: "Show the account the credentials act as.",
    examples: ["%rucio whoami"],
    typescript: "await rucio.whoami()",
    async run(_call, ctx, env) {
      const client = await env.rucio();
      const a = await client.whoami({ signal: ctx.signal });
      return withDisplay(a, () =>
        recordBundle(
          [
            ["account", a.account],
            ["type", a.account_type],
            ["status", a.status],
            ["email", a.email],
            ["created", formatDate(a.created_at ?? undefined)],
            ["server", client.settings.host],
          ],
          { title: "Rucio account" },
        ),
      );
    },
  },
  {
    name: "ping",
    summary: "Check that the Rucio server answers and show its version.",
    examples: ["%rucio ping"],
    typescript: "await rucio.ping()",
    async run(_call, ctx, env) {
      const client = await env.rucio();
      const started = Date.now();
      const r = await client.ping({ signal: ctx.signal });
      const value = { host: client.settings.host, version: r.version, ms: Date.now() - started };
      return withDisplay(value, () => recordBundle(Object.entries(value), { title: "Rucio" }));
    },
  },
  {
    name: "list-scopes",
    summary: "List every scope.",
    examples: ["%rucio list-scopes"],
    typescript: "await rucio.scopes.list()",
    async run(_call, ctx, env) {
      const client = await env.rucio();
      const scopes = await client.scopes.list({ signal: ctx.signal });
      return withDisplay(scopes, () => tableBundle(scopes, [{ label: "scope", get: (s) => s }], { title: `Scopes (${scopes.length})` }));
    },
  },
  {
    name: "list-rses",
    summary: "List storage elements (RSEs), optionally only those an RSE expression selects.",
    positionals: [{ name: "EXPR", required: false, description: "RSE expression, e.g. 'type=DISK&country=CH'" }],
    examples: ["%rucio list-rses", "%rucio list-rses 'SANDBOX-DISK1|SANDBOX-DISK2'"],
    typescript: "for await (const rse of rucio.rses.list({ expression })) ...",
    async run(call, ctx, env) {
      const client = await env.rucio();
      const { items } = await collect(client.rses.list({ expression: call.optStr("EXPR"), signal: ctx.signal }));
      return withDisplay(items, () =>
        tableBundle(items, [
          { label: "rse", get: (r) => r.rse },
          { label: "type", get: (r) => r.rse_type },
          { label: "deterministic", get: (r) => r.deterministic },
          { label: "read/write", get: (r) => (r.availability_read === undefined ? "" : `${r.availability_read ? "r" : "-"}${r.availability_write ? "w" : "-"}`) },
          { label: "city", get: (r) => r.city },
        ], { title: `RSEs${call.optStr("EXPR") ? ` matching ${call.optStr("EXPR")}` : ""} (${items.length})` }),
      );
    },
  },
  {
    name: "list-dids",
    aliases: ["search"],
    summary: "Search DIDs in a scope by name pattern (* wildcards), type and metadata filters.",
    positionals: [{ name: "PATTERN", description: "SCOPE:NAME_PATTERN, e.g. open:dimuon*" }],
    options: {
      type: { type: "string", placeholder: "T", description: "what to find (default collection = datasets and containers)", choices: DID_TYPES },
      filter: { type: "string", placeholder: "F", description: "metadata filter: key op value, ',' = AND, ';' = OR, e.g. \"run_number>=2,collision=pp\"" },
      long: { type: "boolean", description: "show type, size and file count" },
      limit: { type: "integer", placeholder: "N", min: 1, max: 1_000_000, description: "stop after N results (default 1000)" },
    },
    examples: ["%rucio list-dids open:*", '%rucio list-dids open:dimuon* --type file --filter "energy>7500" --long'],
    typescript: 'for await (const d of rucio.dids.search("open", { name: "dimuon*", type: "file", filters: "energy>7500" })) ...',
    async run(call, ctx, env) {
      const raw = call.str("PATTERN");
      const { scope, pattern: name } = scopeOf(call, raw);
      const client = await env.rucio();
      const limit = call.num("limit") ?? 1000;
      const { items, truncated } = await collect(
        client.dids.search(scope, { name, type: (call.optStr("type") as (typeof DID_TYPES)[number] | undefined) ?? "collection", filters: call.optStr("filter"), long: true, signal: ctx.signal }),
        limit,
      );
      const long = call.flag("long");
      const rows = items.map((d) => ({ did: fmtDid(d), scope: d.scope, name: d.name, type: typeOf(d.type), bytes: d.bytes ?? null, length: d.length ?? null }));
      return withDisplay(rows, () =>
        tableBundle(
          rows,
          long
            ? [
                { label: "did", get: (r) => r.did },
                { label: "type", get: (r) => r.type },
                { label: "size", get: (r) => formatBytes(r.bytes), align: "right" },
                { label: "files", get: (r) => r.length, align: "right" },
              ]
            : [
                { label: "did", get: (r) => r.did },
                { label: "type", get: (r) => r.type },
              ],
          { title: `DIDs matching ${raw}${call.optStr("filter") ? ` where ${call.optStr("filter")}` : ""}`, footer: truncated ? `stopped after ${limit} results; use --limit N for more` : undefined },
        ),
      );
    },
  },
  {
    name: "stat",
    summary: "Show a DID's details (type, size, file count, checksums for files).",
    positionals: [didArg],
    examples: ["%rucio stat open:dimuon-sim.v1"],
    typescript: 'await rucio.dids.get("open:dimuon-sim.v1", { dynamicDepth: "FILE" })',
    async run(call, ctx, env) {
      const client = await env.rucio();
      const d = await client.dids.get(didOf(call), { dynamicDepth: "FILE", signal: ctx.signal });
      return withDisplay(d, () =>
        recordBundle(
          [
            ["did", fmtDid(d)],
            ["type", typeOf(d.type)],
            ["size", d.bytes !== null && d.bytes !== undefined ? `${formatBytes(d.bytes)} (${d.bytes} bytes)` : undefined],
            ["files", d.length],
            ["adler32", d.adler32],
            ["md5", d.md5],
            ["owner", d.account],
            ["open", d.open],
            ["expires", formatDate(d.expired_at ?? undefined)],
          ],
          { title: fmtDid(d) },
        ),
      );
    },
  },
  {
    name: "get-metadata",
    summary: "Show a DID's metadata.",
    positionals: [didArg],
    options: { plugin: { type: "string", description: "metadata plugin (default DID_COLUMN; JSON for free-form keys)", choices: ["DID_COLUMN", "JSON", "ALL"] } },
    examples: ["%rucio get-metadata open:dimuon_run001.csv", "%rucio get-metadata open:dimuon_run001.csv --plugin ALL"],
    typescript: 'await rucio.dids.meta("open:dimuon_run001.csv", { plugin: "ALL" })',
    async run(call, ctx, env) {
      const client = await env.rucio();
      const meta = await client.dids.meta(didOf(call), { plugin: call.optStr("plugin") as "DID_COLUMN" | "JSON" | "ALL" | undefined, signal: ctx.signal });
      const fields = Object.entries(meta).filter(([, v]) => v !== null && v !== undefined && v !== "");
      return withDisplay(meta, () => recordBundle(fields.map(([k, v]) => [k, v instanceof Date ? formatDate(v) : v]), { title: `Metadata of ${call.str("DID")}` }));
    },
  },
  {
    name: "list-content",
    summary: "List what a dataset or container directly holds.",
    positionals: [didArg],
    examples: ["%rucio list-content open:dimuon-sim"],
    typescript: 'for await (const c of rucio.dids.content("open:dimuon-sim")) ...',
    async run(call, ctx, env) {
      const client = await env.rucio();
      const { items } = await collect(client.dids.content(didOf(call), { signal: ctx.signal }));
      const rows = items.map((c) => ({ did: fmtDid(c), type: typeOf(c.type), bytes: c.bytes ?? null, adler32: c.adler32 ?? null }));
      return withDisplay(rows, () =>
        tableBundle(rows, [
          { label: "did", get: (r) => r.did },
          { label: "type", get: (r) => r.type },
          { label: "size", get: (r) => formatBytes(r.bytes), align: "right" },
          { label: "adler32", get: (r) => r.adler32 },
        ], { title: `Content of ${call.str("DID")}` }),
      );
    },
  },
  {
    name: "list-files",
    summary: "List every file below a DID (recursively), with sizes and checksums.",
    positionals: [didArg],
    examples: ["%rucio list-files open:dimuon-sim.v1"],
    typescript: 'for await (const f of rucio.dids.files("open:dimuon-sim.v1")) ...',
    async run(call, ctx, env) {
      const client = await env.rucio();
      const { items } = await collect(client.dids.files(didOf(call), { signal: ctx.signal }));
      const rows = items.map((f) => ({ did: fmtDid(f), scope: f.scope, name: f.name, bytes: f.bytes ?? null, adler32: f.adler32 ?? null, md5: f.md5 ?? null, guid: f.guid ?? null, events: f.events ?? null }));
      return withDisplay(rows, () =>
        tableBundle(rows, [
          { label: "did", get: (r) => r.did },
          { label: "size", get: (r) => formatBytes(r.bytes), align: "right" },
          { label: "adler32", get: (r) => r.adler32 },
          { label: "events", get: (r) => r.events, align: "right" },
        ], { title: `Files of ${call.str("DID")}`, footer: `${plural(rows.length, "file")}, ${formatBytes(totalBytes(rows))} in total` }),
      );
    },
  },
  {
    name: "list-parents",
    summary: "List the datasets and containers a DID belongs to.",
    positionals: [didArg],
    examples: ["%rucio list-parents open:dimuon_run001.csv"],
    typescript: 'for await (const p of rucio.dids.parents("open:dimuon_run001.csv")) ...',
    async run(call, ctx, env) {
      const client = await env.rucio();
      const { items } = await collect(client.dids.parents(didOf(call), { signal: ctx.signal }));
      const rows = items.map((p) => ({ did: fmtDid(p), type: typeOf(p.type) }));
      return withDisplay(rows, () => tableBundle(rows, [{ label: "did", get: (r) => r.did }, { label: "type", get: (r) => r.type }], { title: `Parents of ${call.str("DID")}` }));
    },
  },
  {
    name: "list-file-replicas",
    summary: "Show where a DID's files are: RSE, state and PFN of every replica.",
    positionals: [didArg],
    options: {
      rses: { type: "string", placeholder: "EXPR", description: "only replicas on RSEs matching this expression" },
      "all-states": { type: "boolean", description: "include replicas that are not available yet (COPYING, ...)" },
    },
    examples: ["%rucio list-file-replicas open:dimuon-sim.v1", "%rucio list-file-replicas open:dimuon-sim.v1 --rses SANDBOX-DISK2 --all-states"],
    typescript: 'for await (const r of rucio.replicas.list("open:dimuon-sim.v1", { rseExpression, allStates })) ...',
    async run(call, ctx, env) {
      const client = await env.rucio();
      const { items } = await collect(client.replicas.list(didOf(call), { rseExpression: call.optStr("rses"), allStates: call.flag("all-states"), signal: ctx.signal }));
      const rows = items.flatMap((r) =>
        Object.entries(r.rses).map(([rse, pfns]) => ({ did: fmtDid(r), rse, state: r.states[rse] ?? "", pfn: pfns[0] ?? "", bytes: r.bytes, adler32: r.adler32 })),
      );
      return withDisplay(items, () =>
        tableBundle(rows, [
          { label: "did", get: (r) => r.did },
          { label: "rse", get: (r) => r.rse },
          { label: "state", get: (r) => r.state },
          { label: "size", get: (r) => formatBytes(r.bytes), align: "right" },
          { label: "adler32", get: (r) => r.adler32 },
          { label: "pfn", get: (r) => r.pfn },
        ], { title: `Replicas of ${call.str("DID")}` }),
      );
    },
  },
  {
    name: "add-rule",
    summary: "Create a replication rule: COPIES copies of DID on RSEs matching RSE_EXPR.",
    positionals: [didArg, { name: "COPIES", type: "integer", min: 1, max: 100, description: "number of copies" }, { name: "RSE_EXPR", description: "RSE expression" }],
    options: {
      lifetime: lifetimeOption("rule lifetime in seconds (default: no expiry)"),
      comment: { type: "string", placeholder: "C", description: "comment stored with the rule" },
    },
    examples: ["%rucio add-rule open:dimuon-sim.v1 1 SANDBOX-DISK2 --lifetime 86400"],
    typescript: 'await rucio.rules.create({ dids: "open:dimuon-sim.v1", copies: 1, rseExpression: "SANDBOX-DISK2", lifetime })',
    async run(call, ctx, env) {
      const did = didOf(call);
      const copies = call.num("COPIES")!;
      if (copies < 1) throw new UsageError(`${call.prefix()}: COPIES must be at least 1.\nUsage: ${call.usage()}`);
      const client = await env.rucio();
      const ids = await client.rules.create({ dids: did, copies, rseExpression: call.str("RSE_EXPR"), lifetime: call.num("lifetime"), comment: call.optStr("comment"), signal: ctx.signal });
      env.provenance.record({ action: "write", kind: "rule", service: "rucio", id: ids.join(","), label: fmtDid(did), via: "%rucio add-rule", endpoint: client.settings.host, details: { rseExpression: call.str("RSE_EXPR"), copies } });
      return withDisplay(ids, () => tableBundle(ids, [{ label: "rule id", get: (id) => id }], { title: `Rule created for ${fmtDid(did)}`, footer: `Follow it with %rucio rule-info ${ids[0]}` }));
    },
  },
  {
    name: "list-rules",
    summary: "List replication rules: those of a DID, or those an account owns (--account).",
    positionals: [{ ...didArg, required: false, description: "scope:name (or give --account)" }],
    options: {
      account: { type: "string", placeholder: "ACC", description: "list the rules this account owns" },
      state: { type: "string", placeholder: "S", description: "only rules in this state", choices: ["REPLICATING", "OK", "STUCK", "SUSPENDED", "WAITING_APPROVAL", "INJECT"] },
    },
    examples: ["%rucio list-rules open:dimuon-sim.v1", "%rucio list-rules --account demo", "%rucio list-rules --account demo --state REPLICATING"],
    typescript: 'for await (const r of rucio.rules.forDid("open:dimuon-sim.v1")) ...  /  rucio.rules.list({ account: "demo" })',
    async run(call, ctx, env) {
      const account = call.optStr("account");
      const state = call.optStr("state");
      const raw = call.optStr("DID");
      if (raw === undefined && account === undefined) {
        throw new UsageError(`${call.prefix()}: give a DID or --account ACC.\nUsage: ${call.usage()}`);
      }
      if (account !== undefined && didProblem({ scope: account, name: "x" })) {
        throw new UsageError(`${call.prefix()}: ${clipEcho(JSON.stringify(account))} is not an account name.\nUsage: ${call.usage()}`);
      }
      const client = await env.rucio();
      let items: Rule[];
      let title: string;
      if (raw !== undefined) {
        const did = didOf(call);
        items = (await collect(client.rules.forDid(did, { signal: ctx.signal }))).items.filter((r) => (account === undefined || r.account === account) && (state === undefined || r.state === state));
        title = `Rules of ${fmtDid(did)}${account ? ` owned by ${account}` : ""}`;
      } else {
        items = (await collect(client.rules.list({ account, state, signal: ctx.signal }))).items;
        title = `Rules of account ${account}`;
      }
      return withDisplay(items, () => ruleRows(items, `${title}${state ? ` in state ${state}` : ""} (${items.length})`));
    },
  },
  {
    name: "update-rule",
    summary: "Change a rule: its lifetime (seconds from now), comment or lock.",
    positionals: [{ name: "RULE_ID", description: "rule id" }],
    options: {
      lifetime: lifetimeOption("new lifetime in seconds from now"),
      "no-lifetime": { type: "boolean", description: "remove the expiry (the rule stays until deleted)" },
      comment: { type: "string", placeholder: "C", description: "new comment" },
      locked: { type: "string", placeholder: "BOOL", description: "lock or unlock the rule", choices: ["true", "false"] },
    },
    examples: ["%rucio update-rule 3f1c... --lifetime 604800", "%rucio update-rule 3f1c... --no-lifetime --comment keep"],
    typescript: "await rucio.rules.update(id, { lifetime: 604800 })",
    async run(call, ctx, env) {
      const id = call.str("RULE_ID");
      if (!/^[0-9a-fA-F-]{1,64}$/.test(id)) throw new UsageError(`${call.prefix()}: ${clipEcho(JSON.stringify(id))} is not a rule id (32 hexadecimal digits).\nUsage: ${call.usage()}`);
      const lifetime = call.num("lifetime");
      if (lifetime !== undefined && call.flag("no-lifetime")) throw new UsageError(`${call.prefix()}: give --lifetime S or --no-lifetime, not both.\nUsage: ${call.usage()}`);
      const locked = call.optStr("locked");
      const changes = {
        lifetime: call.flag("no-lifetime") ? null : lifetime,
        comment: call.optStr("comment"),
        locked: locked === undefined ? undefined : locked === "true",
      };
      if (Object.values(changes).every((v) => v === undefined)) {
        throw new UsageError(`${call.prefix()}: nothing to change; give --lifetime S, --no-lifetime, --comment C or --locked true|false.\nUsage: ${call.usage()}`);
      }
      const client = await env.rucio();
      const rule = await client.rules.update(id, changes, { signal: ctx.signal });
      env.provenance.record({ action: "write", kind: "rule", service: "rucio", id, label: fmtDid(rule), via: "%rucio update-rule", endpoint: client.settings.host, details: changes });
      return ruleValue(rule, `Rule ${id} updated`);
    },
  },
  {
    name: "account-usage",
    summary: "Show how much an account's rules hold on each RSE, against its quota.",
    positionals: [{ name: "ACCOUNT", required: false, description: "account (default: yours)" }],
    options: { rse: { type: "string", placeholder: "RSE", description: "only this RSE" } },
    examples: ["%rucio account-usage", "%rucio account-usage demo --rse SANDBOX-DISK1"],
    typescript: "for await (const u of rucio.accounts.usage(await rucio.account(), { rse })) ...",
    async run(call, ctx, env) {
      const given = call.optStr("ACCOUNT");
      if (given !== undefined && didProblem({ scope: given, name: "x" })) {
        throw new UsageError(`${call.prefix()}: ${clipEcho(JSON.stringify(given))} is not an account name.\nUsage: ${call.usage()}`);
      }
      const client = await env.rucio();
      const account = given ?? (await client.account({ signal: ctx.signal }));
      const rse = call.optStr("rse");
      const { items } = await collect(client.accounts.usage(account, { rse, signal: ctx.signal }));
      const limitText = (u: AccountUsage) => (u.bytes_limit === null || u.bytes_limit === undefined ? "" : u.bytes_limit < 0 ? "unlimited" : formatBytes(u.bytes_limit));
      return withDisplay(items, () =>
        tableBundle(items, [
          { label: "rse", get: (u) => u.rse },
          { label: "used", get: (u) => formatBytes(u.bytes), align: "right" },
          { label: "files", get: (u) => u.files, align: "right" },
          { label: "limit", get: limitText, align: "right" },
          { label: "remaining", get: (u) => (u.bytes_limit !== null && u.bytes_limit !== undefined && u.bytes_limit < 0 ? "" : formatBytes(u.bytes_remaining)), align: "right" },
        ], { title: `Usage of account ${account}${rse ? ` on ${rse}` : ""}` }),
      );
    },
  },
  {
    name: "rule-info",
    summary: "Show a rule: state and lock counts.",
    positionals: [{ name: "ID", description: "rule id" }],
    examples: ["%rucio rule-info 3f1c..."],
    typescript: "await rucio.rules.get(id)",
    async run(call, ctx, env) {
      const client = await env.rucio();
      return ruleValue(await client.rules.get(call.str("ID"), { signal: ctx.signal }), `Rule ${call.str("ID")}`);
    },
  },
  {
    name: "delete-rule",
    summary: "Delete a replication rule (Rucio removes it after a grace period).",
    positionals: [{ name: "ID", description: "rule id" }],
    options: { purge: { type: "boolean", description: "also delete the replicas the rule protected" } },
    examples: ["%rucio delete-rule 3f1c..."],
    typescript: "await rucio.rules.delete(id, { purgeReplicas })",
    async run(call, ctx, env) {
      const client = await env.rucio();
      await client.rules.delete(call.str("ID"), { purgeReplicas: call.flag("purge"), signal: ctx.signal });
      return withDisplay({ id: call.str("ID"), deleted: true }, () => ({ "text/plain": `Rule ${call.str("ID")} deleted.` }));
    },
  },
  {
    name: "download",
    summary: "Download files, datasets or containers into a folder (default: the notebook's), verifying checksums; files land atomically.",
    positionals: [{ name: "DID", variadic: true, description: "one or more scope:name" }],
    options: {
      dir: { type: "string", short: "d", placeholder: "D", description: "target folder (files go to D/<scope>/<name>)" },
      rse: { type: "string", placeholder: "EXPR", description: "prefer replicas on this RSE" },
      "no-scope-dir": { type: "boolean", description: "put files directly in the target folder, without a <scope>/ folder" },
      overwrite: { type: "boolean", description: "replace local files whose checksum differs" },
      "verify-all": { type: "boolean", description: "check md5 too when the catalogue has it (default: adler32, as the Rucio client; md5 is slower)" },
    },
    examples: ["%rucio download open:dimuon-sim.v1", "const files = %rucio download open:dimuon_run001.csv --dir data --no-scope-dir"],
    typescript: 'await rucio.download("open:dimuon-sim.v1", { dir, rse, onProgress })',
    async run(call, ctx, env) {
      const dids = call.list("DID").map((raw) => didFrom(call, raw));
      const dir = resolvePath(ctx, call.optStr("dir") ?? ".");
      const client = await env.rucio();
      // Sizes first, so the progress line can show a total and an ETA.
      const sizes = await Promise.all(dids.map((d) => client.dids.get(d, { dynamicDepth: "FILE", signal: ctx.signal })));
      const total = sizes.reduce((n, d) => n + (d.bytes ?? 0), 0);
      const fileCount = sizes.reduce((n, d) => n + (typeOf(d.type) === "file" ? 1 : (d.length ?? 0)), 0);
      const progress = new Progress(ctx, {
        title: `Downloading ${dids.map(fmtDid).join(", ")}`,
        interruptNote: "No partial file is left under its final name; run the cell again to continue (verified files are kept).",
      });
      progress.update({ bytes: 0, totalBytes: total || undefined, files: 0, totalFiles: fileCount || undefined });
      const files = await withProgress(progress, ctx.signal, async () => {
        const out = [];
        // Counted per file, not per attempt: a replica that fails its checksum is retried from another one, and
        // the retry replaces that file's bytes instead of adding to them.
        const bytesOf = new Map<string, number>();
        const finished = new Set<string>();
        const sum = () => [...bytesOf.values()].reduce((n, b) => n + b, 0);
        for (const d of dids) {
          const got = await client.download(d, {
            dir,
            rse: call.optStr("rse"),
            scopeDir: !call.flag("no-scope-dir"),
            overwrite: call.flag("overwrite"),
            verify: call.flag("verify-all") ? "all" : "preferred",
            signal: ctx.signal,
            onProgress: (p) => {
              bytesOf.set(p.did, p.bytes);
              if (p.done) finished.add(p.did);
              else finished.delete(p.did);
              progress.update({ current: p.did, bytes: sum(), files: finished.size });
            },
          });
          out.push(...got);
          for (const f of got) {
            bytesOf.set(f.did, f.bytes);
            finished.add(f.did);
          }
          progress.update({ bytes: sum(), files: finished.size });
        }
        return out;
      }, (v) => `${plural(v.length, "file")} verified (${formatBytes(v.reduce((n, f) => n + f.bytes, 0))})`);
      for (const f of files) {
        env.provenance.record({
          action: "read",
          kind: "did",
          service: "rucio",
          id: f.did,
          via: "%rucio download",
          endpoint: client.settings.host,
          checksums: { adler32: f.adler32, ...(f.md5 ? { md5: f.md5 } : {}) },
          bytes: f.bytes,
          paths: [f.path],
          details: { rse: f.source.rse, verified: f.verified, alreadyPresent: f.skipped },
        });
      }
      return withDisplay(files, () =>
        tableBundle(files, [
          { label: "did", get: (f) => f.did },
          { label: "saved as", get: (f) => displayPath(ctx, f.path) },
          { label: "size", get: (f) => formatBytes(f.bytes), align: "right" },
          { label: "adler32", get: (f) => f.adler32 },
          { label: "verified", get: (f) => f.verified.join("+") },
          { label: "from", get: (f) => (f.skipped ? "already here" : `${f.source.rse ?? ""} (${f.source.via})`) },
        ], { title: `Downloaded ${plural(files.length, "file")}` }),
      );
    },
  },
  {
    name: "upload",
    summary: "Upload local files (relative to the notebook) to an RSE, register them, optionally attach them to a dataset.",
    positionals: [{ name: "FILE", variadic: true, description: "local files" }],
    options: {
      rse: { type: "string", placeholder: "RSE", required: true, description: "destination RSE" },
      scope: { type: "string", placeholder: "S", description: "scope (default user.<account>)" },
      dataset: { type: "string", placeholder: "DID", description: "dataset to attach the files to (created if missing)" },
      lifetime: lifetimeOption("lifetime in seconds of the rule that protects the upload (default: no expiry)"),
    },
    examples: ["%rucio upload results/mass.csv --rse SANDBOX-DISK1 --dataset user.demo:dimuon-results"],
    typescript: 'await rucio.upload("results/mass.csv", { rse, scope, dataset, lifetime, onProgress })',
    async run(call, ctx, env) {
      const locals = call.list("FILE").map((f) => resolvePath(ctx, f));
      const scopeArg = call.optStr("scope");
      if (scopeArg !== undefined) didFrom(call, `${scopeArg}:x`);
      const datasetArg = call.optStr("dataset");
      if (datasetArg !== undefined) didFrom(call, datasetArg, scopeArg ?? "user");
      for (const f of locals) {
        if (!fs.existsSync(f) || !fs.statSync(f).isFile()) throw new UsageError(`${call.prefix()}: ${clipEcho(displayPath(ctx, f))} is not a file (paths are relative to ${ctx.cwd}).`);
      }
      const client = await env.rucio();
      const total = locals.reduce((n, f) => n + fs.statSync(f).size, 0);
      const progress = new Progress(ctx, { title: `Uploading to ${call.str("rse")}` });
      const lifetime = call.num("lifetime");
      const results = await withProgress(progress, ctx.signal, async () => {
        const out = [];
        let done = 0;
        for (const [i, f] of locals.entries()) {
          progress.update({ current: path.basename(f), bytes: done, totalBytes: total, files: i, totalFiles: locals.length });
          const base = done;
          out.push(
            await client.upload(f, {
              rse: call.str("rse"),
              scope: call.optStr("scope"),
              dataset: call.optStr("dataset"),
              lifetime,
              signal: ctx.signal,
              onProgress: (p) => progress.update({ bytes: base + p.bytes }),
            }),
          );
          done += fs.statSync(f).size;
          progress.update({ bytes: done, files: i + 1 });
        }
        return out;
      });
      for (const r of results) {
        env.provenance.record({ action: "write", kind: "did", service: "rucio", id: r.did, via: "%rucio upload", endpoint: client.settings.host, checksums: { adler32: r.adler32, md5: r.md5 }, bytes: r.bytes, details: { rse: r.rse, dataset: r.dataset } });
      }
      return withDisplay(results, () =>
        tableBundle(results, [
          { label: "did", get: (r) => r.did },
          { label: "rse", get: (r) => r.rse },
          { label: "size", get: (r) => formatBytes(r.bytes), align: "right" },
          { label: "adler32", get: (r) => r.adler32 },
          { label: "dataset", get: (r) => r.dataset },
          { label: "rule", get: (r) => r.ruleIds?.join(", ") },
        ], {
          title: `Uploaded ${plural(results.length, "file")}`,
          footer: `Protected by a rule with one copy on ${call.str("rse")}${lifetime ? ` for ${lifetime} s` : ""}; see it with %rucio list-rules ${results[0]?.dataset ?? results[0]?.did ?? "DID"}.`,
        }),
      );
    },
  },
  {
    name: "make-available",
    summary: "Replicate a DID to the configured destination RSE (a rule with one copy); with --wait, follow it until OK and return the local paths.",
    positionals: [didArg],
    options: {
      rse: { type: "string", placeholder: "R", description: "destination RSE (default: the profile's destination RSE)" },
      wait: { type: "boolean", description: "wait until every file is there, then return the mounted paths" },
      lifetime: lifetimeOption("rule lifetime in seconds (default: no expiry)"),
    },
    examples: ["%rucio make-available open:dimuon-sim.v1 --wait", "const files = %rucio make-available open:dimuon-sim.v1 --wait"],
    typescript: 'await rucio.rules.create({ dids, copies: 1, rseExpression: rucio.settings.destinationRse })  // then rucio.localPaths(did)',
    async run(call, ctx, env) {
      const did = didOf(call);
      const client = await env.rucio();
      const rse = call.optStr("rse") ?? client.settings.destinationRse;
      if (!rse) throw new UsageError(`${call.prefix()}: no destination RSE is configured; pass --rse R (or set destinationRse / RUCIO_DESTINATION_RSE).`);
      // An existing rule of ours on that RSE is reused rather than duplicated.
      const ensured = await client.rules.ensure(did, { rseExpression: rse, lifetime: call.num("lifetime"), comment: "vre-ts make-available", signal: ctx.signal });
      let rule = ensured.rule;
      const created = ensured.created;
      env.provenance.record({ action: "read", kind: "did", service: "rucio", id: fmtDid(did), via: "%rucio make-available", endpoint: client.settings.host, details: { rule: rule.id, rse, created } });
      if (call.flag("wait")) {
        const progress = new Progress(ctx, {
          title: `Making ${fmtDid(did)} available on ${rse}`,
          interruptNote: `The rule stays and Rucio keeps replicating: check it with %rucio rule-info ${rule.id}.`,
        });
        const id = rule.id;
        rule = await withProgress(progress, ctx.signal, () => waitForRule(client, ctx, id, progress));
        if (client.settings.mountPath) {
          const paths = await pathsOf(client, ctx, did, rse, call.prefix());
          return pathsValue(paths, did, rse);
        }
      }
      return ruleValue(rule, `${created ? "Rule created" : "Existing rule"}: ${fmtDid(did)} on ${rse}`);
    },
  },
  {
    name: "browse",
    summary: "Find data and bring it here in a live widget: search by name and metadata, see replicas and rules, make available or download.",
    positionals: [{ name: "PATTERN", required: false, description: "a first search, SCOPE:NAME_PATTERN (e.g. open:dimuon*)" }],
    options: {
      type: { type: "string", placeholder: "T", description: "what to find (default collection = datasets and containers)", choices: DID_TYPES },
      filter: { type: "string", placeholder: "F", description: "metadata filter: key op value, ',' = AND, ';' = OR" },
      dir: { type: "string", short: "d", placeholder: "D", description: "folder for downloads (default: the notebook's)" },
    },
    examples: ["%rucio browse", "%rucio browse open:dimuon*", '%rucio browse open:* --type file --filter "energy>7500"'],
    typescript: 'datasetBrowser(rucio, { query: "open:dimuon*" })  // import { rucio, datasetBrowser } from "vre-ts"',
    async run(call, ctx, env) {
      const raw = call.optStr("PATTERN");
      if (raw !== undefined) scopeOf(call, raw);
      const client = await env.rucio();
      const via = "%rucio browse";
      return datasetBrowser(client, {
        query: raw,
        type: call.optStr("type") as SearchType | undefined,
        filter: call.optStr("filter"),
        downloadDir: resolvePath(ctx, call.optStr("dir") ?? "."),
        displayPath: (p) => displayPath(ctx, p),
        onAction: (a) => {
          const endpoint = client.settings.host;
          if (a.kind === "download") {
            for (const f of a.files) {
              env.provenance.record({ action: "read", kind: "did", service: "rucio", id: f.did, via, endpoint, checksums: { adler32: f.adler32, ...(f.md5 ? { md5: f.md5 } : {}) }, bytes: f.bytes, paths: [f.path], details: { rse: f.source.rse, verified: f.verified, alreadyPresent: f.skipped } });
            }
          } else {
            env.provenance.record({ action: "read", kind: "did", service: "rucio", id: a.did, via, endpoint, ...(a.paths.length ? { paths: a.paths } : {}), details: { rule: a.rule.id, rse: a.rse, created: a.created } });
          }
        },
      });
    },
  },
  {
    name: "paths",
    summary: "Local paths of a DID's files on the mounted destination RSE (a string array to use directly in code).",
    positionals: [didArg],
    options: { rse: { type: "string", placeholder: "R", description: "RSE (default: the profile's destination RSE)" } },
    examples: ["%rucio paths open:dimuon-sim.v1", "const files = %rucio paths open:dimuon-sim.v1"],
    typescript: 'await rucio.localPaths("open:dimuon-sim.v1")',
    async run(call, ctx, env) {
      const did = didOf(call);
      const client = await env.rucio();
      const paths = await pathsOf(client, ctx, did, call.optStr("rse"), call.prefix());
      return pathsValue(paths, did, call.optStr("rse") ?? client.settings.destinationRse);
    },
  },
  {
    name: "attachments",
    summary: "DIDs attached to this notebook as variables (saved in its metadata), and whether this kernel declared them.",
    examples: ["%rucio attachments"],
    typescript: "// attached DIDs are plain variables: const sim: string[] (declared before the first cell)",
    async run(call, _ctx, env) {
      const notebook = await env.provenance.ready();
      const how = "Attach a DID in the dataset browser (%rucio browse, select it, 'Attach to notebook as variable…'): JupyterLab saves it in the notebook's metadata, and a kernel started for the notebook declares it before the first cell.";
      if (!notebook) throw new UsageError(`${call.prefix()}: this kernel does not know its notebook (Jupyter Server sets JPY_SESSION_NAME; vre-ts run sets VRE_TS_NOTEBOOK). ${how}`);
      const { rows, problems } = attachmentRows(notebook);
      const name = path.basename(notebook);
      if (!rows.length) return [`No DID is attached to ${name} (as saved).`, ...problems, how].join("\n");
      return tableBundle(rows, [
        { label: "variable", get: (r) => r.variable },
        { label: "DID", get: (r) => r.did },
        { label: "in this kernel", get: (r) => r.here },
      ], { title: `DIDs attached to ${name} (as saved)`, footer: [...problems, "Attach or detach in the dataset browser (%rucio browse); the kernel reads the notebook's metadata as saved."].join("\n") });
    },
  },
];

export function rucioMagic(env: () => Env): MagicSpec {
  return verbMagic({
    name: "rucio",
    summary: "Find, replicate, download and upload data with Rucio (the rucio command line's verbs)",
    verbs: rucioVerbs,
    env,
    footer: 'In TypeScript: import { rucio } from "vre-ts" gives the same client the magic uses; each verb\'s help shows its call.',
  });
}
