/**
 * %vre: the notebook's session — which profile each service uses (sandbox or real), switching profiles, logging
 * in with hidden prompts (secrets stay in memory, never in the notebook), one status table for all services, and
 * the provenance log of what the notebook read, ran and published.
 */
import type { Session, ServiceName } from "../session";
import type { ProvenanceAction, ProvenanceEntry } from "../session/provenance";
import type { RecordSession } from "../session/record";
import { zenodoInstance } from "../clients/zenodo/instance";
import { clipEcho, type VerbCall } from "./args";
import { verbMagic, type Verb } from "./args-dispatch";
import { UsageError, type MagicContext, type MagicSpec } from "./types";
import { anySignal, ask } from "./vre-common";
import { formatDate, tableBundle, withDisplay } from "./vre-format";
import { recordBundle } from "./vre-format";
import { resolvePath } from "./vre-common";
import * as path from "node:path";

type Env = Pick<Session, "rucio" | "reana" | "zenodo" | "profiles" | "use" | "login" | "settings" | "provenance">;

const SERVICES: ServiceName[] = ["rucio", "reana", "zenodo"];

function serviceArg(call: VerbCall, name = "SERVICE"): ServiceName {
  const s = call.str(name).toLowerCase();
  if (!SERVICES.includes(s as ServiceName)) throw new UsageError(`${call.prefix()}: ${clipEcho(JSON.stringify(s))} is not a service; use rucio, reana or zenodo.\nUsage: ${call.usage()}`);
  return s as ServiceName;
}

export interface ServiceStatus {
  service: ServiceName;
  profile: string;
  kind: string;
  endpoint: string;
  /** Where the endpoint comes from (config.json, rucio.cfg with its path, an environment variable, ...). */
  source?: string;
  identity?: string;
  reachable: boolean;
  ms?: number;
  version?: string;
  problem?: string;
}

const PROBE_TIMEOUT_MS = 15_000;

/** Reachability and identity of one service, never throwing (a problem becomes the row's text). */
async function probe(env: Env, service: ServiceName, signal: AbortSignal): Promise<ServiceStatus> {
  const row: ServiceStatus = { service, profile: "", kind: "", endpoint: "", reachable: false };
  const timeout = anySignal(signal, AbortSignal.timeout(PROBE_TIMEOUT_MS));
  const started = Date.now();
  try {
    const active = await env.settings(service);
    row.profile = active.profile;
    row.kind = active.kind;
    row.source = active.source;
    const s = active.settings as unknown as Record<string, unknown>;
    row.endpoint = String(s.host ?? s.serverUrl ?? s.baseUrl ?? "");
    if (service === "rucio") {
      const c = await env.rucio();
      row.version = (await c.ping({ signal: timeout })).version;
      row.reachable = true;
      row.ms = Date.now() - started;
      row.identity = (await c.whoami({ signal: timeout })).account;
    } else if (service === "reana") {
      const c = await env.reana();
      await c.ping({ signal: timeout });
      row.reachable = true;
      row.ms = Date.now() - started;
      const you = await c.you({ signal: timeout });
      row.identity = you.email ?? you.username ?? you.fullName;
      row.version = you.serverVersion;
    } else {
      const c = await env.zenodo();
      await c.searchRecords({ size: 1, signal: timeout });
      row.reachable = true;
      row.ms = Date.now() - started;
      await c.listDepositions({ size: 1, signal: timeout });
      row.identity = `token valid (${zenodoInstance(c.settings).short})`;
    }
  } catch (e) {
    if (signal.aborted) throw e;
    const err = e as { message?: string; hint?: string; code?: string };
    row.problem = `${err.message ?? String(e)}${err.hint ? ` ${err.hint}` : ""}`;
  }
  return row;
}

function provenanceRows(entries: ProvenanceEntry[], sessions: RecordSession[], mirror: { file?: string; error?: string }) {
  // Sessions are numbered in the order they first ran this notebook: S1, S2, ...
  const number = new Map(sessions.map((s, i) => [s.session, `S${i + 1}`]));
  const used = sessions.filter((s) => entries.some((e) => e.session === s.session));
  const sessionLines = used.map((s) => {
    const env = s.environment;
    const params = s.parameters && Object.keys(s.parameters).length ? `; parameters ${JSON.stringify(s.parameters)}` : "";
    const code = s.notebookSha256 ? `; code sha256 ${s.notebookSha256.slice(0, 12)}… (${s.codeCells} cells)` : "";
    return `${number.get(s.session)} started ${formatDate(s.started)}${s.notebook ? ` on ${s.notebook}` : ""}: vre-ts ${env?.vreTs}, tslab ${env?.tslab}, TypeScript ${env?.typescript}, Node ${env?.node}, ${env?.os?.platform} ${env?.os?.release}${code}${params}`;
  });
  return tableBundle(
    entries,
    [
      { label: "#", get: (e) => e.seq, align: "right" },
      { label: "session", get: (e) => (e.session ? (number.get(e.session) ?? e.session.slice(0, 8)) : ""), nowrap: true },
      { label: "time", get: (e) => formatDate(e.time), nowrap: true },
      { label: "action", get: (e) => e.action, nowrap: true },
      { label: "service", get: (e) => e.service, nowrap: true },
      { label: "what", get: (e) => `${e.kind} ${e.id}${e.label && e.label !== e.id ? ` (${e.label})` : ""}` },
      // The DOI before the long columns, so it is in view; hashes shortened (whole in the tooltip and the value).
      { label: "doi", get: (e) => e.doi, nowrap: true },
      { label: "checksums", get: (e) => Object.entries(e.checksums ?? {}).map(([k, v]) => `${k}:${v}`).join(" "), shorten: 12 },
      { label: "paths", get: (e) => e.paths?.join(", ") },
    ],
    {
      title: `Provenance of this notebook (${entries.length} entr${entries.length === 1 ? "y" : "ies"}, ${used.length} kernel session${used.length === 1 ? "" : "s"})`,
      footer: [
        ...sessionLines,
        mirror.file
          ? `Kept in ${mirror.file}${mirror.error ? ` (last write failed: ${mirror.error})` : ""}; a restarted kernel goes on with it. %vre record saves it with the notebook in JupyterLab.`
          : "Kept in this kernel's memory (the kernel does not know its notebook); set VRE_TS_PROVENANCE_FILE to keep it in a file.",
      ].join("\n"),
    },
  );
}

async function login(call: VerbCall, ctx: MagicContext, env: Env) {
  const service = serviceArg(call);
  const instead = "Configure the credentials with environment variables or a profile instead (see %vre profiles).";
  const secret = (prompt: string) => ask(ctx, prompt, { password: true }, instead);
  let secrets: Record<string, string>;
  if (service === "rucio") {
    if (call.flag("token")) {
      secrets = { authType: "token", token: (await secret("Rucio token (JWT): ")).trim() };
    } else {
      const current = (await env.settings("rucio").catch(() => undefined))?.settings as { username?: string; account?: string } | undefined;
      let username = call.optStr("username") ?? "";
      if (!username) {
        const answer = (await ask(ctx, `Rucio username${current?.username ? ` [${current.username}]` : ""}: `, {}, instead)).trim();
        username = answer || current?.username || "";
      }
      if (!username) throw new UsageError(`${call.prefix()}: a username is needed for userpass login (or use --token).`);
      secrets = { authType: "userpass", username, password: await secret(`Rucio password for ${username}: `) };
      const account = call.optStr("account");
      if (account) secrets.account = account;
    }
  } else if (service === "reana") {
    secrets = { accessToken: (await secret("REANA access token: ")).trim() };
  } else {
    secrets = { token: (await secret("Zenodo personal access token: ")).trim() };
  }
  if (Object.entries(secrets).some(([k, v]) => ["password", "token", "accessToken"].includes(k) && !v)) {
    throw new UsageError(`${call.prefix()}: nothing was entered; login cancelled.`);
  }
  // The credentials are for the service the notebook is on now: keep its endpoint and settings (a token alone
  // would otherwise resolve to the production default), minus the old secrets.
  const active = (await env.settings(service)).settings as unknown as Record<string, unknown>;
  const keep: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(active)) if (!/password|token|secret/i.test(k) && k !== "authType" && v !== undefined) keep[k] = v;
  await env.login(service, { ...keep, ...secrets } as never);
  const row = await probe(env, service, ctx.signal);
  if (row.problem) {
    // Put the previous credentials back, so a typo does not break the calls that worked before.
    await env.login(service, { ...active } as never);
    throw new UsageError(
      `The ${service} login at ${row.endpoint} failed: ${row.problem}\nThe previous credentials stay in use; run %vre login ${service} again to retry.`,
    );
  }
  return withDisplay({ service, endpoint: row.endpoint, identity: row.identity }, () => ({
    "text/plain": `Logged in to ${service} at ${row.endpoint} as ${row.identity ?? "?"}. The credentials stay in this kernel's memory only.`,
  }));
}

export const vreVerbs: Verb<Env>[] = [
  {
    name: "profiles",
    summary: "List the profiles of each service, marking the active one and whether it is the local sandbox or a real service.",
    examples: ["%vre profiles"],
    typescript: "session().profiles()",
    run(_call, _ctx, env) {
      const rows = env.profiles();
      return withDisplay(rows, () =>
        tableBundle(rows, [
          { label: "service", get: (p) => p.service },
          { label: "profile", get: (p) => p.name },
          { label: "active", get: (p) => (p.active ? "●" : "") },
          { label: "kind", get: (p) => (p.kind === "sandbox" ? "local sandbox" : "real service") },
          { label: "endpoint", get: (p) => p.endpoint },
          { label: "from", get: (p) => p.source },
        ], { title: "Profiles", footer: "Switch with %vre use PROFILE (\"sandbox\" for the local sandbox, \"default\" for the configured services)." }),
      );
    },
  },
  {
    name: "use",
    summary: 'Switch every service to a profile: a name from ~/.config/vre-ts/config.json, "sandbox", or "default".',
    positionals: [{ name: "PROFILE", description: "profile name, sandbox or default" }],
    examples: ["%vre use sandbox", "%vre use escape"],
    typescript: 'session().use("escape")',
    run(call, _ctx, env) {
      env.use(call.str("PROFILE"));
      const rows = env.profiles().filter((p) => p.active);
      return withDisplay(rows, () =>
        tableBundle(rows, [
          { label: "service", get: (p) => p.service },
          { label: "profile", get: (p) => p.name },
          { label: "kind", get: (p) => (p.kind === "sandbox" ? "local sandbox" : "real service") },
          { label: "endpoint", get: (p) => p.endpoint },
          { label: "from", get: (p) => p.source },
        ], { title: `Now using profile ${clipEcho(call.str("PROFILE"))}` }),
      );
    },
  },
  {
    name: "login",
    summary: "Log in to a service with hidden prompts; the secrets stay in this kernel's memory (never in the notebook or on disk).",
    positionals: [{ name: "SERVICE", description: "rucio, reana or zenodo" }],
    options: {
      username: { type: "string", short: "u", placeholder: "USER", description: "rucio: the userpass username (asked if not given)" },
      account: { type: "string", placeholder: "ACCOUNT", description: "rucio: the account to act as" },
      token: { type: "boolean", description: "rucio: paste a token (e.g. an OIDC JWT) instead of username and password" },
    },
    examples: ["%vre login rucio", "%vre login rucio --token", "%vre login zenodo"],
    typescript: 'await session().login("zenodo", { token })',
    run: login,
  },
  {
    name: "status",
    summary: "One table for every service: profile, endpoint, identity and reachability.",
    examples: ["%vre status"],
    typescript: "await Promise.all([rucio.whoami(), reana.you(), zenodo.listDepositions({ size: 1 })])",
    async run(_call, ctx, env) {
      const rows = await Promise.all(SERVICES.map((s) => probe(env, s, ctx.signal)));
      return withDisplay(rows, () =>
        tableBundle(rows, [
          { label: "service", get: (r) => r.service },
          { label: "profile", get: (r) => `${r.profile}${r.kind === "sandbox" && r.profile !== "sandbox" ? " (local sandbox)" : ""}` },
          { label: "endpoint", get: (r) => r.endpoint },
          { label: "from", get: (r) => r.source },
          { label: "identity", get: (r) => r.identity },
          { label: "reachable", get: (r) => (r.reachable ? `yes (${r.ms} ms)` : "no") },
          { label: "version", get: (r) => r.version },
          { label: "problem", get: (r) => r.problem },
        ], { title: "vre-ts services" }),
      );
    },
  },
  {
    name: "provenance",
    summary: "What this notebook has read, run and published, over every kernel session that ran it: DIDs with checksums, workflows with their specification digest, deposits with DOIs.",
    options: {
      action: { type: "string", description: "only one kind of entry", choices: ["read", "write", "run", "publish"] },
      service: { type: "string", description: "only one service", choices: SERVICES },
    },
    examples: ["%vre provenance", "%vre provenance --action publish", "const prov = %vre provenance --json"],
    typescript: "session().provenance.entries({ action, service })",
    async run(call, _ctx, env) {
      await env.provenance.ready(); // the notebook's history, when the kernel asks the Jupyter server which notebook it runs
      const entries = env.provenance.entries({ action: call.optStr("action") as ProvenanceAction | undefined, service: call.optStr("service") });
      return withDisplay(entries, () => provenanceRows(entries, env.provenance.sessions(), env.provenance.mirrorStatus()));
    },
  },
  {
    name: "record",
    summary: "A compact live view of this notebook's research record (entries per service, the last DOI) that also writes the record into the notebook's metadata, so saving the notebook in JupyterLab keeps it (as vre-ts run does).",
    examples: ["%vre record"],
    typescript: 'recordWidget(session().provenance)  // import { session, recordWidget } from "vre-ts"',
    async run(_call, ctx, env) {
      const { recordWidget } = await import("../widgets/record");
      await env.provenance.ready(); // the widget writes next to the notebook, once the kernel knows which one it runs
      return recordWidget(env.provenance, { dir: ctx.cwd });
    },
  },
  {
    name: "crate",
    summary: "Write this notebook's research record as an RO-Crate 1.1 (ro-crate-metadata.json, Workflow Run Crate and Provenance Run Crate profiles): the notebook, each REANA run with its inputs and outputs, the Rucio DIDs with checksums, the DOIs.",
    positionals: [{ name: "DIR", required: false, description: "folder of the crate (default: the notebook's folder)" }],
    options: { notebook: { type: "string", placeholder: "PATH", description: "the notebook, when the kernel does not know which one it runs" } },
    examples: ["%vre crate", "%vre crate results", "const crate = %vre crate --json"],
    typescript: 'await writeCrate({ notebook, record: session().provenance.toRecord(), dir })  // import { session, writeCrate } from "vre-ts"',
    async run(call, ctx, env) {
      const given = call.optStr("notebook");
      const notebook = given ? resolvePath(ctx, given) : await env.provenance.ready();
      if (!notebook) {
        throw new UsageError(`${call.prefix()}: this kernel does not know which notebook it runs; name it with --notebook PATH (or run the notebook with vre-ts run).`);
      }
      const dirArg = call.optStr("DIR");
      const dir = dirArg ? resolvePath(ctx, dirArg) : path.dirname(notebook);
      const { writeCrate } = await import("../session/crate");
      const { checkRunCrate } = await import("../session/crate-profile");
      const { file, crate } = await writeCrate({ notebook, record: env.provenance.toRecord(), recordFile: env.provenance.mirrorStatus().file, dir });
      const problems = checkRunCrate(crate);
      const graph = crate["@graph"] as Array<Record<string, unknown>>;
      const value = { file, runs: graph.filter((e) => e["@type"] === "CreateAction").length, entities: graph.length, problems, crate };
      return withDisplay(value, () =>
        recordBundle(
          [
            ["crate", file],
            ["main entity", path.relative(dir, notebook)],
            ["runs", `${value.runs} (the notebook's kernel sessions and each REANA run)`],
            ["entities", value.entities],
            ["profiles", problems.length ? `does not conform: ${problems.join("; ")}` : "RO-Crate 1.1; Process, Workflow and Provenance Run Crate 0.5: conforms"],
          ],
          { title: "RO-Crate of this notebook", footer: "Deposit it with the notebook: %%zenodo deposit attaches both by default." },
        ),
      );
    },
  },
];

export function vreMagic(env: () => Env): MagicSpec {
  return verbMagic({
    name: "vre",
    summary: "The notebook's research environment: profiles, login, service status and provenance",
    verbs: vreVerbs,
    env,
    footer: 'In TypeScript: import { session } from "vre-ts"; session().profiles(), session().provenance.entries(), ...',
  });
}

