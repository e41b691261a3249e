/**
 * %zenodo: preservation from the notebook — search records, manage depositions, upload files, set metadata,
 * publish (with confirmation, never twice), and `%%zenodo deposit`, which does it all in one resumable step.
 * A thin parser over ZenodoClient (src/clients/zenodo); every verb's help names the client call it maps to.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { checksumFile } from "../clients/http/checksum";
import { ZenodoError, zenodoInstance, assertValidMetadata, codemetaFileToZenodo, depositFileProblems, resumableDeposit, type DepositFileResult, type DepositMetadata, type Deposition, type ZenodoClient, type ZenodoRecord } from "../clients/zenodo";
import type { Session } from "../session";
import { clipEcho, type VerbCall } from "./args";
import { verbMagic, type Verb } from "./args-dispatch";
import { depositForm } from "../widgets/deposit-form";
import { depositInstance } from "../clients/zenodo/resumable";
import { type RecordAttachment, recordAttachment } from "../session/deposit-record";

/** A licence as an id, whether Zenodo gave a string or `{id}`. */
function licenseId(l: unknown): string | undefined {
  return typeof l === "string" ? l : l && typeof l === "object" && typeof (l as { id?: unknown }).id === "string" ? (l as { id: string }).id : undefined;
}
import { Progress } from "./progress";
import { UsageError, type MagicContext, type MagicSpec, type MimeBundle } from "./types";
import { confirm, displayPath, plural, readJson, resolvePath, withProgress, writeJsonAtomic } from "./vre-common";
import { escapeHtml, formatBytes, formatDate, recordBundle, tableBundle, withDisplay } from "./vre-format";

type Env = Pick<Session, "zenodo" | "provenance" | "rucio">;

// ---------------------------------------------------------------------------------------------------------------
// Values

/** Which Zenodo the client talks to, in plain words, read from its base URL. */
export function instanceLabel(client: ZenodoClient): string {
  const at = zenodoInstance(client.settings);
  if (at.kind === "local") return "local sandbox (test DOIs 10.5072; nothing leaves this machine)";
  if (at.kind === "sandbox") return "Zenodo sandbox (test DOIs 10.5072)";
  if (at.kind === "production") return "Zenodo PRODUCTION (real, permanent DOIs)";
  return `${at.host} (a Zenodo-compatible service, not zenodo.org${client.settings.sandbox ? "; configured as a test instance" : ""})`;
}

/** The instance as the provenance log names it: "local sandbox", "zenodo sandbox", "zenodo", or the service's host. */
function instanceName(client: ZenodoClient): string {
  const at = zenodoInstance(client.settings);
  return at.kind === "local" ? "local sandbox" : at.kind === "sandbox" ? "zenodo sandbox" : at.kind === "production" ? "zenodo" : at.host;
}

export interface DepositionSummary {
  id: number;
  title: string;
  state: string;
  submitted: boolean;
  doi?: string;
  files: number;
  modified?: string;
  url?: string;
}

function summarize(d: Deposition): DepositionSummary {
  return {
    id: d.id,
    title: d.metadata?.title ?? d.title ?? "",
    state: d.submitted ? (d.state === "done" ? "published" : `published (${d.state})`) : d.state === "inprogress" ? "draft" : d.state,
    submitted: d.submitted,
    doi: d.doi || undefined,
    files: d.files?.length ?? 0,
    modified: d.modified ?? undefined,
    url: d.links.html ?? undefined,
  };
}

function depositionValue(d: Deposition, title: string, note?: string): Deposition {
  const s = summarize(d);
  return withDisplay(d, () =>
    recordBundle(
      [
        ["id", s.id],
        ["title", s.title],
        ["state", s.state],
        ["doi", s.doi],
        ["files", (d.files ?? []).map((f) => `${f.filename} (${formatBytes(f.filesize)})`).join(", ") || "none"],
        ["modified", formatDate(s.modified)],
        ["link", s.url],
      ],
      { title, footer: note },
    ),
  );
}

const depositionColumns = [
  { label: "id", get: (d: DepositionSummary) => d.id, align: "right" as const },
  { label: "title", get: (d: DepositionSummary) => d.title },
  { label: "state", get: (d: DepositionSummary) => d.state },
  { label: "doi", get: (d: DepositionSummary) => d.doi },
  { label: "files", get: (d: DepositionSummary) => d.files, align: "right" as const },
  { label: "modified", get: (d: DepositionSummary) => formatDate(d.modified) },
];

export interface RecordSummary {
  id: string;
  title: string;
  doi?: string;
  published?: string;
  type?: string;
  creators: string[];
  url?: string;
}

function recordSummary(r: ZenodoRecord): RecordSummary {
  return {
    id: String(r.id),
    title: r.metadata.title ?? "",
    doi: r.doi ?? undefined,
    published: r.metadata.publication_date ?? undefined,
    type: r.metadata.resource_type?.type ?? undefined,
    creators: (r.metadata.creators ?? []).map((c) => c.name ?? "").filter(Boolean),
    url: r.links?.html ?? undefined,
  };
}

function creatorsText(c: string[]): string {
  return c.length > 2 ? `${c[0]} et al.` : c.join("; ");
}

/** The DOI badge as Markdown (to paste in a README) and an inline HTML rendering that needs no network. */
export function doiBadge(doi: string, client: ZenodoClient): { markdown: string; html: string } {
  const origin = (() => {
    try {
      return new URL(client.settings.baseUrl).origin;
    } catch {
      return "https://zenodo.org";
    }
  })();
  const image = client.settings.local ? `${origin}/zenodo/badge/DOI/${doi}.svg` : `${origin}/badge/DOI/${doi}.svg`;
  const markdown = `[![DOI](${image})](https://doi.org/${doi})`;
  const html =
    `<span style="display:inline-flex;font:11px/18px Verdana,sans-serif;border-radius:3px;overflow:hidden">` +
    `<span style="background:#555;color:#fff;padding:0 6px">DOI</span>` +
    `<span style="background:#007ec6;color:#fff;padding:0 6px">${escapeHtml(doi)}</span></span>`;
  return { markdown, html };
}

export interface PublishValue {
  id: number;
  title: string;
  doi?: string;
  recordId?: string | number;
  recordUrl?: string;
  alreadyPublished: boolean;
  instance: string;
  badge?: string;
}

function publishValue(client: ZenodoClient, d: Deposition, doi: string | undefined, recordId: string | number | undefined, recordUrl: string | undefined, already: boolean): PublishValue {
  const badge = doi ? doiBadge(doi, client) : undefined;
  const value: PublishValue = {
    id: d.id,
    title: d.metadata?.title ?? d.title ?? "",
    doi,
    recordId,
    recordUrl,
    alreadyPublished: already,
    instance: instanceLabel(client),
    badge: badge?.markdown,
  };
  return withDisplay(value, () => {
    const head = already ? `Deposition ${d.id} was already published; nothing was sent.` : `Published deposition ${d.id}.`;
    const text = [head, `  title:  ${value.title}`, `  DOI:    ${doi ?? "(none yet)"}`, `  record: ${recordUrl ?? ""}`, `  on:     ${value.instance}`];
    if (badge) text.push(`  badge:  ${badge.markdown}`);
    const html =
      `<div class="vre-result"><div><strong>${escapeHtml(head)}</strong></div>` +
      `<div>${escapeHtml(value.title)}</div>` +
      (badge && doi ? `<div style="margin:0.3em 0"><a href="https://doi.org/${escapeHtml(doi)}" target="_blank" rel="noopener">${badge.html}</a></div>` : "") +
      (recordUrl ? `<div><a href="${escapeHtml(recordUrl)}" target="_blank" rel="noopener">${escapeHtml(recordUrl)}</a></div>` : "") +
      `<div style="opacity:0.7;font-size:0.85em">${escapeHtml(value.instance)}</div>` +
      (badge ? `<pre style="font-size:0.85em">${escapeHtml(badge.markdown)}</pre>` : "") +
      `</div>`;
    return { "text/plain": text.join("\n"), "text/html": html };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// YAML bodies

/** Parses a YAML cell body into an object; syntax errors become a UsageError with the line. */
export function parseYamlBody(body: string, what: string): Record<string, unknown> {
  const doc = parseDocument(body, { prettyErrors: true });
  if (doc.errors.length) {
    throw new UsageError(`${what}: the cell body is not valid YAML:\n${doc.errors.map((e) => `  ${e.message}`).join("\n")}`);
  }
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) throw new UsageError(`${what}: the cell body is empty; write the metadata as YAML (title:, upload_type:, creators:, description: ...).`);
  if (typeof value !== "object" || Array.isArray(value)) throw new UsageError(`${what}: the cell body must be a YAML mapping (key: value lines).`);
  return value as Record<string, unknown>;
}

/** Accepts `metadata:` wrapping or bare fields; YAML dates become YYYY-MM-DD strings. */
function metadataOf(doc: Record<string, unknown>): Record<string, unknown> {
  const m = doc.metadata && typeof doc.metadata === "object" && !Array.isArray(doc.metadata) ? { ...(doc.metadata as Record<string, unknown>) } : { ...doc };
  delete m.files;
  for (const [k, v] of Object.entries(m)) if (v instanceof Date) m[k] = v.toISOString().slice(0, 10);
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
// Resumable deposit

export interface DepositValue {
  id: number;
  title: string;
  state: "draft" | "published";
  resumed: boolean;
  files: DepositFileResult[];
  doi?: string;
  recordUrl?: string;
  draftUrl?: string;
  /** Where the progress of this deposit is remembered (next to the notebook). */
  stateFile: string;
  instance: string;
  badge?: string;
}

/**
 * The state file of a deposit form: keyed by the Zenodo instance (depositInstance: the base URL, or the local
 * sandbox's data folder, so a restarted sandbox on another port finds it) and the form's name.
 */
export function formStateFile(cwd: string, endpoint: string, name: string): string {
  const hash = createHash("sha256").update(`${endpoint}\nform:${name}`).digest("hex").slice(0, 20);
  return path.join(cwd, ".vre-ts", "deposits", `form-${hash}.json`);
}

/** The state file for a deposit body: keyed by the Zenodo instance (see formStateFile) and the body's text. */
export function depositStateFile(cwd: string, endpoint: string, body: string): string {
  const hash = createHash("sha256").update(`${endpoint}\n${body.trim()}`).digest("hex").slice(0, 20);
  return path.join(cwd, ".vre-ts", "deposits", `${hash}.json`);
}


async function deposit(call: VerbCall, ctx: MagicContext, env: Env, body: string): Promise<DepositValue> {
  const what = "%%zenodo deposit";
  const doc = parseYamlBody(body, what);
  const metadata = metadataOf(doc);
  const fileList = doc.files;
  const entries = fileList === undefined ? [] : Array.isArray(fileList) ? fileList : [fileList];
  const files = entries.map((f) => {
    const spec = typeof f === "string" ? { path: f } : (f as { path?: unknown; name?: unknown });
    if (typeof spec.path !== "string" || !spec.path) throw new UsageError(`${what}: each entry of files: must be a path (or {path, name}); got ${JSON.stringify(f)}.`);
    const local = resolvePath(ctx, spec.path);
    const name = typeof spec.name === "string" && spec.name ? spec.name : path.basename(local);
    return { local, name };
  });
  if (files.length === 0) throw new UsageError(`${what}: list the files to deposit under files: (paths relative to the notebook's folder).`);
  const [problem] = depositFileProblems(files);
  if (problem) {
    const { local, name } = problem.file;
    if (problem.problem === "missing") throw new UsageError(`${what}: ${clipEcho(displayPath(ctx, local))} does not exist (paths are relative to ${ctx.cwd}).`);
    if (problem.problem === "not a file") throw new UsageError(`${what}: ${displayPath(ctx, local)} is not a file; Zenodo deposits are flat lists of files.`);
    throw new UsageError(`${what}: two files would be named ${name} in the deposit; give one a name: ({path: ..., name: ...}).`);
  }
  // Offline validation before anything is sent.
  assertValidMetadata(metadata);

  const client = await env.zenodo();
  const signal = ctx.signal;
  const endpoint = client.settings.baseUrl;
  // The notebook and its RO-Crate go with the results (unless --no-record), and the DOI points back to the inputs.
  const record = call.flag("no-record") ? undefined : notebookRecord(env, client, signal);
  if (record) files.push(...(await record.files(metadata, files)));
  const stateFile = depositStateFile(ctx.cwd, depositInstance(client.settings), body);
  const title = String(metadata.title ?? "");
  const progress = new Progress(ctx, { title: `Depositing "${title}"`, interruptNote: "Run the cell again to continue the same deposition." });
  const totalBytes = files.reduce((n, f) => n + fs.statSync(f.local).size, 0);
  progress.update({ status: "starting", bytes: 0, totalBytes, files: 0, totalFiles: files.length });

  return withProgress(progress, signal, async () => {
    const recordWrite = (dep: Deposition, results: DepositFileResult[]) => {
      env.provenance.record({
        action: "write",
        kind: "deposit",
        service: "zenodo",
        id: String(dep.id),
        label: title,
        via: "%%zenodo deposit",
        endpoint,
        details: { files: results.map((r) => ({ name: r.name, md5: r.md5, bytes: r.size })) },
      });
    };
    const out = await resumableDeposit(client, {
      metadata,
      files,
      stateFile,
      fresh: call.flag("new"),
      newVersion: call.flag("new-version"),
      prepare: record ? (draft) => record.prepare(draft, metadata) : undefined,
      signal,
      onUploaded: recordWrite,
      onProgress: (p) => progress.update({ status: p.status, current: p.current, ...(p.bytes !== undefined ? { bytes: p.bytes } : {}), ...(p.files !== undefined ? { files: p.files } : {}) }),
      publish: call.flag("publish")
        ? async (draft) => call.flag("yes") || confirm(ctx, `Publish "${title}" (deposition ${draft.id}) on ${instanceLabel(client)}? A DOI cannot be withdrawn.`)
        : false,
    });
    if (out.alreadyPublished) {
      progress.update({ bytes: totalBytes, files: files.length });
      return depositValue(client, out.deposition, out.files, out.resumed, stateFile);
    }
    if (out.published) recordPublish(env, client, out.deposition, out.published.doi, out.published.recordId, "%%zenodo deposit --publish", out.files);
    return depositValue(client, out.deposition, out.files, out.resumed, stateFile);
  });
}

/** The notebook's research record to attach to a deposit, when the kernel knows its notebook. */
function notebookRecord(env: Env, client: ZenodoClient, signal: AbortSignal): RecordAttachment | undefined {
  const notebook = env.provenance.notebook;
  if (!notebook || !fs.existsSync(notebook)) return undefined;
  // A DID's DOI, if its Rucio metadata has one (a DID without, or a Rucio that cannot answer, gives none).
  const doiOf = async (did: string) => {
    const meta = (await (await env.rucio()).dids.meta(did, { plugin: "ALL", signal })) as Record<string, unknown>;
    return typeof meta.doi === "string" && meta.doi ? meta.doi : undefined;
  };
  return recordAttachment(env.provenance, notebook, client.settings.baseUrl, doiOf);
}

function recordPublish(env: Env, client: ZenodoClient, d: Deposition, doi: string | undefined, recordId: string | number | undefined, via: string, files?: Array<{ name: string; md5: string; size: number }>): void {
  env.provenance.record({
    action: "publish",
    kind: "deposit",
    service: "zenodo",
    id: String(recordId ?? d.id),
    label: d.metadata?.title ?? d.title ?? undefined,
    doi,
    via,
    endpoint: client.settings.baseUrl,
    details: {
      deposition: d.id,
      instance: instanceName(client),
      files: files?.map((f) => ({ name: f.name, md5: f.md5, bytes: f.size })) ?? (d.files ?? []).map((f) => ({ name: f.filename, md5: (f.checksum ?? "").replace(/^md5:/, ""), bytes: f.filesize })),
      conceptDoi: d.conceptdoi ?? undefined,
      recordUrl: d.links.record_html ?? d.record_url ?? undefined,
      // what a crate written later needs to describe the deposit
      metadata: { title: d.metadata?.title, license: licenseId(d.metadata?.license), creators: d.metadata?.creators, keywords: d.metadata?.keywords },
    },
  });
}

function depositValue(client: ZenodoClient, d: Deposition, files: DepositFileResult[], resumed: boolean, stateFile: string): DepositValue {
  const published = d.submitted;
  const doi = d.doi || undefined;
  const value: DepositValue = {
    id: d.id,
    title: d.metadata?.title ?? d.title ?? "",
    state: published ? "published" : "draft",
    resumed,
    files,
    doi,
    recordUrl: published ? (d.links.record_html ?? d.links.html ?? d.record_url ?? undefined) : undefined,
    draftUrl: published ? undefined : (d.links.html ?? undefined),
    stateFile,
    instance: instanceLabel(client),
    badge: doi && published ? doiBadge(doi, client).markdown : undefined,
  };
  return withDisplay(value, () => {
    const head = `${published ? "Published" : "Draft"} deposition ${d.id}: ${value.title}${resumed ? " (continued from an earlier run)" : ""}`;
    const table = tableBundle(
      files,
      [
        { label: "file", get: (f) => f.name },
        { label: "size", get: (f) => formatBytes(f.size), align: "right" },
        { label: "md5", get: (f) => f.md5 },
        { label: "status", get: (f) => f.status },
      ],
      { title: head },
    );
    const lines = [
      doi ? `DOI: ${doi}` : "",
      value.recordUrl ?? value.draftUrl ?? "",
      published ? "" : "Not published yet: review it, then %zenodo publish " + d.id + " (or rerun with --publish).",
      value.instance,
    ].filter(Boolean);
    const badge = doi && published ? doiBadge(doi, client).html : "";
    return {
      "text/plain": `${table["text/plain"]}\n${lines.join("\n")}`,
      "text/html": `${table["text/html"]}${badge ? `<div style="margin:0.3em 0">${badge}</div>` : ""}${lines.map((l) => `<div style="font-size:0.9em">${escapeHtml(l)}</div>`).join("")}`,
    } as MimeBundle;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Verbs

const idArg = { name: "ID", description: "deposition id (the number in the deposit's URL)" };

function depositionIdOf(call: VerbCall): number {
  const raw = call.str("ID");
  const m = /^(?:.*\/)?(\d+)\/?$/.exec(raw.trim());
  // Past 2^53 the digits are no longer the number sent to Zenodo (99999999999999999999 would become 1e+20).
  if (!m || !Number.isSafeInteger(Number(m[1]))) {
    throw new UsageError(`${call.prefix()}: ${clipEcho(JSON.stringify(raw))} is not a deposition id (a number up to 2^53, or a deposit URL ending in one).\nUsage: ${call.usage()}`);
  }
  return Number(m[1]);
}

export const zenodoVerbs: Verb<Env>[] = [
  {
    name: "ping",
    summary: "Check that Zenodo answers (no token needed); shows whether it is the sandbox or production.",
    examples: ["%zenodo ping"],
    typescript: "await zenodo.searchRecords({ size: 1 })",
    async run(_call, ctx, env) {
      const client = await env.zenodo();
      const started = Date.now();
      const r = await client.searchRecords({ size: 1, signal: ctx.signal });
      const value = { endpoint: client.settings.baseUrl, instance: instanceLabel(client), reachable: true, records: r.total, ms: Date.now() - started };
      return withDisplay(value, () => recordBundle(Object.entries(value), { title: "Zenodo" }));
    },
  },
  {
    name: "whoami",
    summary: "Check the configured token (lists one deposition) and show which Zenodo it is for.",
    examples: ["%zenodo whoami"],
    typescript: "await zenodo.listDepositions({ size: 1 })",
    async run(_call, ctx, env) {
      const client = await env.zenodo();
      const deps = await client.listDepositions({ size: 1, sort: "mostrecent", signal: ctx.signal });
      const value = { endpoint: client.settings.baseUrl, instance: instanceLabel(client), token: "valid", latestDeposition: deps[0] ? summarize(deps[0]) : undefined };
      return withDisplay(value, () =>
        recordBundle(
          [
            ["endpoint", value.endpoint],
            ["instance", value.instance],
            ["token", "valid (the token itself is never shown)"],
            ["latest deposition", value.latestDeposition ? `${value.latestDeposition.id} ${value.latestDeposition.title} (${value.latestDeposition.state})` : "none"],
          ],
          { title: "Zenodo account" },
        ),
      );
    },
  },
  {
    name: "search",
    summary: "Search published records (Elasticsearch query syntax, as on zenodo.org).",
    positionals: [{ name: "QUERY", variadic: true, description: "search words or a query like title:dimuon" }],
    options: {
      community: { type: "string", placeholder: "C", description: "only records of this community (e.g. escape2020)" },
      type: { type: "string", placeholder: "T", description: "resource type: dataset, software, publication, ..." },
      size: { type: "integer", placeholder: "N", min: 1, max: 100, description: "records per page (default 10; Zenodo allows at most 100)" },
      page: { type: "integer", placeholder: "N", min: 1, max: 10_000, description: "page number (default 1)" },
      sort: { type: "string", description: "bestmatch, mostrecent or -mostrecent" },
    },
    examples: ["%zenodo search dimuon", '%zenodo search "title:(muon AND mass)" --type dataset --community escape2020'],
    typescript: "await zenodo.searchRecords({ q, communities, type, size, page })",
    async run(call, ctx, env) {
      const client = await env.zenodo();
      const q = call.list("QUERY").join(" ");
      const r = await client.searchRecords({ q, communities: call.optStr("community"), type: call.optStr("type"), size: call.num("size") ?? 10, page: call.num("page"), sort: call.optStr("sort"), signal: ctx.signal });
      const rows = r.hits.map(recordSummary);
      return withDisplay(rows, () =>
        tableBundle(
          rows,
          [
            { label: "id", get: (x) => x.id },
            { label: "title", get: (x) => x.title },
            { label: "doi", get: (x) => x.doi },
            { label: "published", get: (x) => x.published },
            { label: "type", get: (x) => x.type },
            { label: "creators", get: (x) => creatorsText(x.creators) },
          ],
          { title: `Zenodo records matching ${clipEcho(JSON.stringify(q))}: ${r.total}`, footer: r.total > rows.length ? `showing ${rows.length} of ${r.total}; use --page/--size for more` : undefined },
        ),
      );
    },
  },
  {
    name: "show",
    summary: "Show a published record: metadata and files.",
    positionals: [{ name: "RECORD", description: "record id (or its URL)" }],
    examples: ["%zenodo show 1234567"],
    typescript: "await zenodo.getRecord(id)",
    async run(call, ctx, env) {
      const client = await env.zenodo();
      const raw = call.str("RECORD");
      const id = /(\d+)\/?$/.exec(raw)?.[1] ?? raw;
      const r = await client.getRecord(id, { signal: ctx.signal });
      const s = recordSummary(r);
      return withDisplay(r, () => {
        const meta = recordBundle(
          [
            ["id", s.id],
            ["title", s.title],
            ["doi", s.doi],
            ["published", s.published],
            ["type", s.type],
            ["creators", s.creators.join("; ")],
            ["version", r.metadata.version],
            ["access", r.metadata.access_right],
            ["license", typeof r.metadata.license === "object" && r.metadata.license ? (r.metadata.license as { id?: string }).id : r.metadata.license],
            ["link", s.url],
          ],
          { title: `Zenodo record ${s.id}` },
        );
        const files = tableBundle(r.files ?? [], [
          { label: "file", get: (f) => f.key },
          { label: "size", get: (f) => formatBytes(f.size), align: "right" },
          { label: "checksum", get: (f) => f.checksum },
        ]);
        return { "text/plain": `${meta["text/plain"]}\n\n${files["text/plain"]}`, "text/html": `${meta["text/html"]}${files["text/html"]}` };
      });
    },
  },
  {
    name: "list",
    summary: "List your depositions (drafts and published).",
    options: {
      status: { type: "string", description: "only drafts or only published ones", choices: ["draft", "published"] },
      size: { type: "integer", placeholder: "N", min: 1, max: 100, description: "how many (default 20; at most 100)" },
    },
    examples: ["%zenodo list", "%zenodo list --status draft"],
    typescript: "await zenodo.listDepositions({ status, size })",
    async run(call, ctx, env) {
      const client = await env.zenodo();
      const deps = await client.listDepositions({ status: call.optStr("status") as "draft" | "published" | undefined, size: call.num("size") ?? 20, sort: "mostrecent", signal: ctx.signal });
      const rows = deps.map(summarize);
      return withDisplay(rows, () => tableBundle(rows, depositionColumns, { title: `Your depositions on ${instanceLabel(client)}` }));
    },
  },
  {
    name: "create",
    summary: "Create an empty draft deposition (optionally with YAML metadata as the cell body).",
    body: "optional",
    bodyHelp: "Deposit metadata as YAML (title, upload_type, creators, description, ...), validated before sending.",
    examples: ["%zenodo create", "%%zenodo create\ntitle: Dimuon mass spectrum\nupload_type: dataset\ndescription: Fit results\ncreators:\n  - name: Doe, Jane"],
    typescript: "await zenodo.createDeposition(metadata?)",
    async run(call, ctx, env, body) {
      const metadata = body !== undefined && body.trim() ? metadataOf(parseYamlBody(body, "%%zenodo create")) : undefined;
      if (metadata) assertValidMetadata(metadata);
      const client = await env.zenodo();
      const d = await client.createDeposition(metadata as DepositMetadata | undefined, { signal: ctx.signal, validate: false });
      return depositionValue(d, `New draft deposition ${d.id}`, `Next: %zenodo upload ${d.id} FILE..., %%zenodo metadata ${d.id}, %zenodo publish ${d.id}`);
    },
  },
  {
    name: "upload",
    summary: "Upload files (paths relative to the notebook) into a draft deposition; md5 verified.",
    positionals: [idArg, { name: "FILE", variadic: true, description: "local files" }],
    examples: ["%zenodo upload 123 results/mass.csv results/fit.png"],
    typescript: "await zenodo.uploadFile(id, localPath, { onProgress })",
    async run(call, ctx, env) {
      const id = depositionIdOf(call);
      const locals = call.list("FILE").map((f) => resolvePath(ctx, f));
      for (const f of locals) {
        if (!fs.existsSync(f) || !fs.statSync(f).isFile()) throw new UsageError(`${call.prefix()}: ${clipEcho(displayPath(ctx, f))} is not a file (paths are relative to ${ctx.cwd}).`);
      }
      const client = await env.zenodo();
      const dep = await client.getDeposition(id, { signal: ctx.signal });
      const totalBytes = locals.reduce((n, f) => n + fs.statSync(f).size, 0);
      const progress = new Progress(ctx, { title: `Uploading to deposition ${id}` });
      const results = await withProgress(progress, ctx.signal, async () => {
        const out: DepositFileResult[] = [];
        let done = 0;
        for (const [i, f] of locals.entries()) {
          progress.update({ current: path.basename(f), bytes: done, totalBytes, files: i, totalFiles: locals.length });
          const base = done;
          const up = await client.uploadFile(dep, f, { signal: ctx.signal, onProgress: (p) => progress.update({ bytes: base + p.bytes }) });
          done += up.size;
          out.push({ name: up.key, path: f, size: up.size, md5: up.md5, status: "uploaded" });
          progress.update({ bytes: done, files: i + 1 });
        }
        return out;
      });
      env.provenance.record({ action: "write", kind: "deposit", service: "zenodo", id: String(id), via: "%zenodo upload", endpoint: client.settings.baseUrl, details: { files: results.map((r) => ({ name: r.name, md5: r.md5, bytes: r.size })) } });
      return withDisplay(results, () =>
        tableBundle(results, [
          { label: "file", get: (f) => f.name },
          { label: "size", get: (f) => formatBytes(f.size), align: "right" },
          { label: "md5 (verified)", get: (f) => f.md5 },
        ], { title: `Uploaded ${plural(results.length, "file")} to deposition ${id}` }),
      );
    },
  },
  {
    name: "metadata",
    summary: "Show a deposition's metadata; as %%zenodo metadata ID, set it from the YAML cell body (validated first).",
    positionals: [idArg],
    options: { merge: { type: "boolean", description: "lay the body over the current metadata instead of replacing it" } },
    body: "optional",
    bodyHelp: "Deposit metadata as YAML. Zenodo replaces the whole metadata unless --merge is given.",
    examples: ["%zenodo metadata 123", "%%zenodo metadata 123 --merge\nkeywords: [dimuon, CMS]\nversion: 1.0.1"],
    typescript: "(await zenodo.getDeposition(id)).metadata  /  await zenodo.updateMetadata(id, metadata, { merge })",
    async run(call, ctx, env, body) {
      const id = depositionIdOf(call);
      const client = await env.zenodo();
      let d: Deposition;
      if (body !== undefined) {
        const metadata = metadataOf(parseYamlBody(body, "%%zenodo metadata"));
        if (!call.flag("merge")) assertValidMetadata(metadata);
        d = await client.updateMetadata(id, metadata as Partial<DepositMetadata>, { merge: call.flag("merge"), signal: ctx.signal });
      } else {
        d = await client.getDeposition(id, { signal: ctx.signal });
      }
      const meta = (d.metadata ?? {}) as Record<string, unknown>;
      return withDisplay(meta, () =>
        recordBundle(
          Object.entries(meta).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : v] as [string, unknown]),
          { title: `${body !== undefined ? "Updated metadata" : "Metadata"} of deposition ${id}` },
        ),
      );
    },
  },
  {
    name: "publish",
    summary: "Publish a deposition and get its DOI (asks for confirmation unless --yes; never publishes twice).",
    positionals: [idArg],
    options: { yes: { type: "boolean", short: "y", description: "do not ask for confirmation" } },
    examples: ["%zenodo publish 123", "%zenodo publish 123 --yes"],
    typescript: "await zenodo.publish(id)  // returns { doi, recordUrl, alreadyPublished }",
    async run(call, ctx, env) {
      const id = depositionIdOf(call);
      const client = await env.zenodo();
      const before = await client.getDeposition(id, { signal: ctx.signal });
      if (before.submitted && before.state === "done") {
        return publishValue(client, before, before.doi ?? undefined, before.record_id ?? undefined, before.links.record_html ?? before.links.html ?? undefined, true);
      }
      const title = before.metadata?.title ?? before.title ?? "";
      if (!call.flag("yes") && !(await confirm(ctx, `Publish "${title}" (deposition ${id}) on ${instanceLabel(client)}? A DOI cannot be withdrawn.`))) {
        return withDisplay({ id, published: false }, () => ({ "text/plain": `Not published: deposition ${id} stays a draft.` }));
      }
      const pub = await client.publish(id, { signal: ctx.signal });
      if (!pub.alreadyPublished) recordPublish(env, client, pub.deposition, pub.doi, pub.recordId, "%zenodo publish");
      return publishValue(client, pub.deposition, pub.doi, pub.recordId, pub.recordUrl, pub.alreadyPublished);
    },
  },
  {
    name: "newversion",
    summary: "Start a new version of a published deposition (returns the new draft; reuses an open one).",
    positionals: [idArg],
    examples: ["%zenodo newversion 123"],
    typescript: "await zenodo.newVersion(id)",
    async run(call, ctx, env) {
      const client = await env.zenodo();
      const d = await client.newVersion(depositionIdOf(call), { signal: ctx.signal });
      return depositionValue(d, `New version draft ${d.id}`, `Replace files with %zenodo upload ${d.id} ..., then %zenodo publish ${d.id}`);
    },
  },
  {
    name: "edit",
    summary: "Reopen a published deposition's metadata for editing.",
    positionals: [idArg],
    examples: ["%zenodo edit 123"],
    typescript: "await zenodo.edit(id)",
    async run(call, ctx, env) {
      const client = await env.zenodo();
      const d = await client.edit(depositionIdOf(call), { signal: ctx.signal });
      return depositionValue(d, `Deposition ${d.id} open for editing`, `Change it with %%zenodo metadata ${d.id}, then %zenodo publish ${d.id} (or %zenodo discard ${d.id})`);
    },
  },
  {
    name: "discard",
    summary: "Discard the pending edit of a deposition.",
    positionals: [idArg],
    examples: ["%zenodo discard 123"],
    typescript: "await zenodo.discard(id)",
    async run(call, ctx, env) {
      const client = await env.zenodo();
      const d = await client.discard(depositionIdOf(call), { signal: ctx.signal });
      return depositionValue(d, `Edit of deposition ${d.id} discarded`);
    },
  },
  {
    name: "delete",
    summary: "Delete an unpublished draft deposition (asks for confirmation unless --yes).",
    positionals: [idArg],
    options: { yes: { type: "boolean", short: "y", description: "do not ask for confirmation" } },
    examples: ["%zenodo delete 123 --yes"],
    typescript: "await zenodo.deleteDeposition(id)",
    async run(call, ctx, env) {
      const id = depositionIdOf(call);
      const client = await env.zenodo();
      if (!call.flag("yes") && !(await confirm(ctx, `Delete draft deposition ${id} and its files?`))) {
        return withDisplay({ id, deleted: false }, () => ({ "text/plain": `Kept deposition ${id}.` }));
      }
      await client.deleteDeposition(id, { signal: ctx.signal });
      return withDisplay({ id, deleted: true }, () => ({ "text/plain": `Deleted draft deposition ${id}.` }));
    },
  },
  {
    name: "form",
    summary: "Describe and deposit results in a live form: metadata checked as you type, save a draft, publish once.",
    body: "optional",
    bodyHelp:
      "YAML to prefill the form, as %%zenodo deposit takes it (title, upload_type, creators, description, license, keywords, ... " +
      "and files:). The NAME keys the deposit's progress in .vre-ts/deposits/ next to the notebook: reopening the form with the " +
      "same name continues the same deposition, and a published one is never published again.",
    positionals: [{ name: "NAME", description: "a name for this deposit in this folder, e.g. dimuon-results" }],
    options: {
      codemeta: { type: "string", placeholder: "FILE", description: "prefill from a codemeta.json (as eOSSR does)" },
      "no-record": { type: "boolean", description: "do not attach the notebook and its RO-Crate to the deposit" },
      file: { type: "string", short: "f", multiple: true, placeholder: "PATH", description: "a file to deposit (relative to the notebook)" },
    },
    examples: ["%zenodo form dimuon-results --file results/mass.csv", "%zenodo form my-code --codemeta codemeta.json", "%%zenodo form dimuon-results\ntitle: Dimuon invariant mass spectrum\nupload_type: dataset\nfiles: [results/mass.csv]"],
    typescript: 'depositForm(zenodo, { name, stateFile, cwd, instance, metadata, files })  // import { zenodo, depositForm } from "vre-ts"',
    async run(call, ctx, env, body) {
      const name = call.str("NAME");
      let metadata: Record<string, unknown> | undefined;
      let files: string[] = call.list("file");
      if (body !== undefined && body.trim()) {
        const doc = parseYamlBody(body, "%%zenodo form");
        metadata = metadataOf(doc);
        const listed = doc.files === undefined ? [] : Array.isArray(doc.files) ? doc.files : [doc.files];
        files = [...listed.map((f) => (typeof f === "string" ? f : String((f as { path?: unknown })?.path ?? ""))).filter(Boolean), ...files];
      }
      const codemeta = call.optStr("codemeta");
      if (codemeta) {
        const converted = await codemetaFileToZenodo(resolvePath(ctx, codemeta));
        metadata = { ...(converted.metadata as unknown as Record<string, unknown>), ...(metadata ?? {}) };
      }
      const client = await env.zenodo();
      const endpoint = client.settings.baseUrl;
      return depositForm(client, {
        name,
        stateFile: formStateFile(ctx.cwd, depositInstance(client.settings), name),
        record: call.flag("no-record") ? undefined : notebookRecord(env, client, ctx.signal),
        cwd: ctx.cwd,
        metadata,
        files,
        instance: instanceLabel(client),
        onAction: (a) => {
          if (a.kind === "save") {
            env.provenance.record({
              action: "write",
              kind: "deposit",
              service: "zenodo",
              id: String(a.deposition.id),
              label: a.deposition.metadata?.title ?? a.deposition.title ?? undefined,
              via: "%zenodo form",
              endpoint,
              details: { files: a.files.map((r) => ({ name: r.name, md5: r.md5, bytes: r.size })) },
            });
          } else recordPublish(env, client, a.deposition, a.doi, a.recordId, "%zenodo form", a.files);
        },
      });
    },
  },
  {
    name: "deposit",
    summary: "Create a deposition, upload files, set metadata and optionally publish, in one resumable step.",
    body: "required",
    bodyHelp:
      "YAML: the deposit metadata (title, upload_type, creators, description, license, keywords, ...) plus a files: list " +
      "of paths relative to the notebook. Progress is remembered in .vre-ts/deposits/ next to the notebook, so rerunning " +
      "the cell after a failure continues the same deposition (files already uploaded with the same md5 are skipped) " +
      "instead of creating a second one; a published deposit is never published again. The progress is keyed by the " +
      "Zenodo instance (for the local sandbox its data folder, whatever its port) and the body's text: an edited body starts a " +
      "new deposition (discard the old draft with %zenodo delete ID); --new-version makes a new version of a published one. " +
      "When the kernel knows its notebook, the notebook and its RO-Crate are deposited too, and related_identifiers point to " +
      "the DOIs of the input DIDs and to the notebook (--no-record leaves them out).",
    options: {
      publish: { type: "boolean", description: "publish once everything is uploaded (asks for confirmation unless --yes)" },
      yes: { type: "boolean", short: "y", description: "do not ask for confirmation" },
      new: { type: "boolean", description: "ignore the remembered progress and start a new deposition" },
      "no-record": { type: "boolean", description: "do not attach the notebook and its RO-Crate, nor add related identifiers for its inputs" },
      "new-version": { type: "boolean", description: "when the remembered deposit is published, make a new version of it with these files (a new DOI under the same concept DOI)" },
    },
    examples: [
      "%%zenodo deposit --publish --yes\ntitle: Dimuon invariant mass spectrum\nupload_type: dataset\ndescription: Histogram of the simulated dimuon sample.\ncreators:\n  - name: Doe, Jane\n    affiliation: CERN\nlicense: cc-by-4.0\nfiles:\n  - results/mass.csv",
    ],
    typescript: "createDeposition(metadata) → uploadFile(...) → updateMetadata(...) → publish(id)",
    async run(call, ctx, env, body) {
      return deposit(call, ctx, env, body ?? "");
    },
  },
];

export function zenodoMagic(env: () => Env): MagicSpec {
  return verbMagic({
    name: "zenodo",
    summary: "Preserve results on Zenodo: search, deposit, upload, set metadata, publish and get a DOI",
    verbs: zenodoVerbs,
    env,
    footer: 'In TypeScript: import { zenodo } from "vre-ts" gives the same client the magic uses; each verb\'s help shows its call.',
  });
}
