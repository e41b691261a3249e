/**
 * ZenodoClient: the legacy deposit API (what eOSSR and the Zenodo tooling use; on today's Zenodo a
 * compatibility layer over InvenioRDM), plus records, licences and communities search.
 *
 * Sandbox or production is the base URL (https://sandbox.zenodo.org/api vs https://zenodo.org/api); the token
 * travels as `Authorization: Bearer` and is masked everywhere. Metadata is validated offline before it is sent.
 * Files go to the deposition's bucket with a streamed PUT; the md5 computed while streaming must equal the
 * checksum Zenodo reports. Publishing happens at most once: before any new attempt, and after any failure whose
 * outcome is unknown, the deposition is read back and its `submitted`/`state` decide.
 */
import { stat } from "node:fs/promises";
import * as path from "node:path";
import type { Dispatcher } from "undici";
import type { z } from "zod";
import { ClientError, type ClientErrorInit } from "../errors";
import { HttpClient, submitOnce, type HttpRequest, type StatusErrorInput, type Timeouts } from "../http/client";
import type { Logger } from "../http/log";
import { registerSecret } from "../http/redact";
import type { RetryPolicy } from "../http/retry";
import { sleep } from "../http/retry";
import { checkOption, HOUR_MS } from "../http/durations";
import { uploadFile as coreUpload, type ProgressCallback } from "../http/transfer";
import { parse, parseJsonText } from "../http/validate";
import { createZenodoError, ZenodoError, type FieldError } from "./errors";
import { assertValidMetadata, validateDepositMetadata, type DepositMetadata, type MetadataReport } from "./metadata";
import * as R from "./responses";
import type { ZenodoSettings } from "../config/types";

export type { ZenodoSettings };

export interface ZenodoClientOptions {
  logger?: Logger;
  timeouts?: Timeouts;
  retry?: Partial<RetryPolicy>;
  dispatcher?: Dispatcher;
  userAgent?: string;
  /** Waits between read-backs when checking whether a publish went through (default 1000 ms; 0 ms to 1 h). */
  confirmIntervalMs?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export type DepositionId = number | string;

export interface ListDepositionsOptions extends CallOptions {
  q?: string;
  status?: "draft" | "published";
  sort?: "bestmatch" | "mostrecent" | "-mostrecent";
  page?: number;
  size?: number;
  allVersions?: boolean;
}

export interface SearchRecordsOptions extends CallOptions {
  q?: string;
  communities?: string;
  type?: string;
  subtype?: string;
  sort?: string;
  page?: number;
  size?: number;
  allVersions?: boolean;
  status?: "draft" | "published";
}

export interface UploadedFile {
  key: string;
  size: number;
  /** md5 hex digest, verified against Zenodo's checksum. */
  md5: string;
  checksum: string;
}

export interface PublishResult {
  deposition: R.Deposition;
  doi?: string;
  recordId?: string | number;
  recordUrl?: string;
  /** True when the deposition was already published and nothing was sent. */
  alreadyPublished: boolean;
}

function fieldErrorsOf(body: unknown): FieldError[] {
  if (!body || typeof body !== "object") return [];
  const errors = (body as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return [];
  const out: FieldError[] = [];
  for (const e of errors) {
    if (!e || typeof e !== "object") continue;
    const field = String((e as { field?: unknown }).field ?? "");
    const messages = (e as { messages?: unknown }).messages;
    const message = (e as { message?: unknown }).message;
    if (Array.isArray(messages)) for (const m of messages) out.push({ field, message: String(m) });
    else if (message !== undefined) out.push({ field, message: String(message) });
  }
  return out;
}

/** Zenodo error answer → ZenodoError. 429 and 502-504 stay with the core (retries, HTTP_* codes). */
export function mapZenodoStatus(input: StatusErrorInput): ClientError | undefined {
  const { status, method, url, what } = input;
  if (status === 429 || status === 502 || status === 503 || status === 504) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(input.bodyText);
  } catch {
    body = undefined;
  }
  const said = body && typeof body === "object" && typeof (body as { message?: unknown }).message === "string" ? (body as { message: string }).message : undefined;
  const text = said ?? (input.bodyText.trim() && !input.bodyText.trim().startsWith("<") ? input.bodyText.trim().slice(0, 300) : `HTTP ${status}`);
  const base = { status, method, url };
  const fieldErrors = fieldErrorsOf(body);
  if (status === 400 && fieldErrors.length) {
    return new ZenodoError({
      ...base,
      code: "ZENODO_VALIDATION",
      message: `Zenodo rejected the request to ${what}: ${text}\n${fieldErrors.map((f) => `  ✖ ${f.field}: ${f.message}`).join("\n")}`,
      hint: "Fix the listed fields and try again.",
      fieldErrors,
    });
  }
  const map: Record<number, [ZenodoError["code"], string]> = {
    400: ["ZENODO_INVALID_REQUEST", "Check the request; the message says what Zenodo did not accept."],
    401: ["ZENODO_AUTH", "Check ZENODO_TOKEN (or ZENODO_SANDBOX_TOKEN for the sandbox): create a personal access token with the deposit:write and deposit:actions scopes."],
    403: ["ZENODO_FORBIDDEN", "The token lacks a scope (deposit:write, deposit:actions) or the deposition does not allow this (e.g. it is published: use edit or a new version)."],
    404: ["ZENODO_NOT_FOUND", "Check the deposition/record id and that it belongs to this Zenodo (sandbox and production are separate)."],
    405: ["ZENODO_INVALID_REQUEST", "This action is not available for the deposition in its current state."],
    409: ["ZENODO_CONFLICT", "Zenodo is still processing the deposition; try again in a few minutes."],
    410: ["ZENODO_NOT_FOUND", "The deposition was deleted."],
    413: ["ZENODO_INVALID_REQUEST", "The file is larger than Zenodo accepts (50 GB per record by default)."],
    415: ["ZENODO_INVALID_REQUEST", "Wrong content type for this endpoint."],
  };
  const known = map[status];
  if (known) {
    return new ZenodoError({ ...base, code: known[0], message: `Zenodo refused to ${what}: ${text}.`, hint: known[1], retriable: status === 409, fieldErrors });
  }
  if (status >= 500) {
    return new ZenodoError({ ...base, code: "ZENODO_SERVER", message: `Zenodo failed to ${what} (${status})${said ? `: ${said}` : ""}.`, hint: "A Zenodo-side problem; try again later." });
  }
  return undefined;
}

function depositionId(id: DepositionId): string {
  const s = String(id).trim();
  if (!/^\d+$/.test(s)) {
    throw new ZenodoError({ code: "ZENODO_INVALID_REQUEST", message: `"${s}" is not a deposition id.`, hint: "Deposition ids are numbers, e.g. 1234567 (see listDepositions())." });
  }
  return s;
}

/** The API base: `https://zenodo.org` (a pasted site URL) becomes `https://zenodo.org/api/`. */
function apiBase(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, "");
  try {
    const u = new URL(trimmed);
    if (u.pathname === "" || u.pathname === "/") return `${trimmed}/api/`;
  } catch {
    // HttpClient reports an invalid URL with its own message
  }
  return `${trimmed}/`;
}

const md5Of = (checksum: string) => checksum.replace(/^md5:/i, "").toLowerCase();

export class ZenodoClient {
  readonly http: HttpClient;
  readonly settings: Readonly<ZenodoSettings>;
  private readonly token?: string;
  private readonly confirmIntervalMs: number;

  constructor(settings: ZenodoSettings, options: ZenodoClientOptions = {}) {
    this.settings = { ...settings };
    this.token = settings.token?.trim() || undefined;
    registerSecret(this.token);
    this.confirmIntervalMs = checkOption(options.confirmIntervalMs, "confirmIntervalMs", { min: 0, max: HOUR_MS }, (i) => new ZenodoError(i)) ?? 1000;
    this.http = new HttpClient({
      service: "zenodo",
      baseUrl: apiBase(settings.baseUrl),
      timeouts: options.timeouts,
      retry: options.retry,
      logger: options.logger,
      dispatcher: options.dispatcher,
      userAgent: options.userAgent ?? "vre-ts (zenodo)",
      createError: createZenodoError,
      mapStatusError: mapZenodoStatus,
    });
  }

  /** Whether this client talks to a test instance (Zenodo sandbox or the local sandbox). */
  get isSandbox(): boolean {
    return this.settings.sandbox || !!this.settings.local;
  }

  private auth(what: string, required = true): Record<string, string> {
    if (!this.token) {
      if (!required) return {};
      throw new ZenodoError({
        code: "ZENODO_AUTH",
        message: `No Zenodo token is configured (needed to ${what}).`,
        hint: this.settings.sandbox ? "Set ZENODO_SANDBOX_TOKEN (a token from sandbox.zenodo.org)." : "Set ZENODO_TOKEN (Zenodo → Applications → Personal access tokens).",
      });
    }
    return { authorization: `Bearer ${this.token}` };
  }

  private async call<S extends z.ZodType>(req: HttpRequest & { anonymous?: boolean }, schema: S): Promise<z.output<S>> {
    return this.http.json({ ...req, headers: { accept: "application/json", ...this.auth(req.what, !req.anonymous), ...req.headers } }, schema);
  }

  // --- depositions ---------------------------------------------------------------------------

  /** POST /deposit/depositions — a new draft (metadata validated offline first). Never sent twice. */
  async createDeposition(metadata?: DepositMetadata, o: CallOptions & { validate?: boolean } = {}): Promise<R.Deposition> {
    if (metadata && o.validate !== false) assertValidMetadata(metadata);
    const startedAt = Date.now();
    const what = "create a deposition";
    try {
      return await this.call({ method: "POST", path: "deposit/depositions", json: metadata ? { metadata } : {}, what, retry: false, signal: o.signal }, R.Deposition);
    } catch (e) {
      if (!(e instanceof ClientError) || !e.outcomeUnknown) throw e;
      // Did the draft get created? Look for one created since we sent the request.
      const recent = await this.listDepositions({ sort: "mostrecent", size: 10, signal: o.signal }).catch(() => [] as R.Deposition[]);
      const found = recent.find((d) => d.created && Date.parse(d.created) >= startedAt - 60_000 && (!metadata || d.metadata?.title === metadata.title) && !d.submitted);
      if (found) return found;
      throw new ZenodoError({
        code: e.code,
        message: e.message,
        hint: "Check listDepositions() for a new draft before creating another one.",
        outcomeUnknown: true,
        cause: e,
      });
    }
  }

  /** GET /deposit/depositions/{id} */
  async getDeposition(id: DepositionId, o: CallOptions = {}): Promise<R.Deposition> {
    const d = depositionId(id);
    return this.call({ method: "GET", path: `deposit/depositions/${d}`, what: `read deposition ${d}`, signal: o.signal }, R.Deposition);
  }

  /** GET /deposit/depositions — the user's depositions. */
  async listDepositions(o: ListDepositionsOptions = {}): Promise<R.Deposition[]> {
    const query = { q: o.q, status: o.status, sort: o.sort, page: o.page, size: o.size, all_versions: o.allVersions };
    return this.call({ method: "GET", path: "deposit/depositions", query, what: "list depositions", signal: o.signal }, R.DepositionList);
  }

  /**
   * PUT /deposit/depositions/{id} with `{metadata}` (Zenodo replaces the whole metadata).
   * With `merge: true` the current metadata is read first and `metadata` is laid over it.
   */
  async updateMetadata(id: DepositionId, metadata: Partial<DepositMetadata>, o: CallOptions & { merge?: boolean; validate?: boolean } = {}): Promise<R.Deposition> {
    const d = depositionId(id);
    let full = metadata;
    if (o.merge) {
      const current = await this.getDeposition(d, o);
      full = { ...(current.metadata ?? {}), ...metadata } as Partial<DepositMetadata>;
    }
    if (o.validate !== false) assertValidMetadata(full);
    return this.call({ method: "PUT", path: `deposit/depositions/${d}`, json: { metadata: full }, what: `update the metadata of deposition ${d}`, signal: o.signal }, R.Deposition);
  }

  /** Offline check of deposit metadata (no request). */
  validateMetadata(metadata: unknown): MetadataReport {
    return validateDepositMetadata(metadata);
  }

  /** DELETE /deposit/depositions/{id} — discards an unpublished draft. */
  async deleteDeposition(id: DepositionId, o: CallOptions = {}): Promise<void> {
    const d = depositionId(id);
    const res = await this.http.send({
      method: "DELETE",
      path: `deposit/depositions/${d}`,
      headers: this.auth(`delete deposition ${d}`),
      what: `delete deposition ${d}`,
      expectStatus: (s) => (s >= 200 && s < 300) || s === 410,
      signal: o.signal,
    });
    await res.dump();
  }

  // --- files -------------------------------------------------------------------------------------

  /** GET /deposit/depositions/{id}/files */
  async listFiles(id: DepositionId, o: CallOptions = {}): Promise<R.DepositionFile[]> {
    const d = depositionId(id);
    return this.call({ method: "GET", path: `deposit/depositions/${d}/files`, what: `list the files of deposition ${d}`, signal: o.signal }, R.DepositionFileList);
  }

  /**
   * PUT {bucket}/{name}: streams a local file into the deposition's bucket and verifies Zenodo's md5.
   * A mismatching file is deleted again and ZENODO_CHECKSUM_MISMATCH is thrown.
   */
  async uploadFile(deposition: DepositionId | R.Deposition, localPath: string, o: CallOptions & { name?: string; onProgress?: ProgressCallback } = {}): Promise<UploadedFile> {
    const dep = typeof deposition === "object" ? deposition : await this.getDeposition(deposition, o);
    const bucket = dep.links.bucket;
    if (!bucket) {
      throw new ZenodoError({
        code: "ZENODO_INVALID_REQUEST",
        message: `Deposition ${dep.id} has no file bucket (it is ${dep.submitted ? "published" : dep.state}).`,
        hint: dep.submitted ? "Published files cannot change: use edit() for metadata or newVersion() for new files." : "Read the deposition again and retry.",
      });
    }
    const key = o.name ?? path.basename(localPath);
    if (!key || key.includes("/") || key === "." || key === "..") {
      throw new ZenodoError({ code: "ZENODO_INVALID_REQUEST", message: `"${key}" is not a valid file name for Zenodo.`, hint: "Zenodo files are flat: use a name without /." });
    }
    const what = `upload ${key} to deposition ${dep.id}`;
    const url = `${bucket.replace(/\/+$/, "")}/${encodeURIComponent(key)}`;
    const sent = await coreUpload(this.http, { method: "PUT", path: url, headers: this.auth(what), what, signal: o.signal }, localPath, {
      signal: o.signal,
      onProgress: o.onProgress,
      contentType: "application/octet-stream",
    }).catch((e: unknown) => {
      if (e instanceof ClientError && !(e instanceof ZenodoError)) throw new ZenodoError({ ...(e.toJSON() as unknown as ClientErrorInit), code: e.code, message: e.message, hint: e.hint, cause: e });
      throw e;
    });
    const ctx = { what, service: "zenodo", createError: createZenodoError };
    const answer = parse(R.BucketObject, parseJsonText(sent.responseText, ctx), ctx);
    const theirs = md5Of(answer.checksum);
    if (theirs !== sent.md5 || answer.size !== sent.bytes) {
      await this.deleteBucketObject(url, what, o.signal).catch(() => undefined);
      throw new ZenodoError({
        code: "ZENODO_CHECKSUM_MISMATCH",
        message: `Zenodo stored ${key} with ${answer.size} bytes and md5 ${theirs}, but ${sent.bytes} bytes with md5 ${sent.md5} were sent; the damaged copy was deleted.`,
        hint: "Upload the file again; if it keeps happening, check the network or a proxy that alters uploads.",
        details: { expected: sent.md5, actual: theirs },
      });
    }
    return { key: answer.key, size: answer.size, md5: theirs, checksum: answer.checksum };
  }

  private async deleteBucketObject(url: string, what: string, signal?: AbortSignal): Promise<void> {
    const res = await this.http.send({ method: "DELETE", path: url, headers: this.auth(what), what: `remove the damaged upload (${what})`, signal, expectStatus: (s) => s < 300 || s === 404 });
    await res.dump();
  }

  /** Deletes a file of a draft, by file name or file id. */
  async deleteFile(id: DepositionId, file: string, o: CallOptions = {}): Promise<void> {
    const d = depositionId(id);
    const files = await this.listFiles(d, o);
    const match = files.find((f) => f.id === file || f.filename === file);
    if (!match) {
      throw new ZenodoError({ code: "ZENODO_NOT_FOUND", message: `Deposition ${d} has no file "${file}".`, hint: `Its files: ${files.map((f) => f.filename).join(", ") || "none"}.` });
    }
    const what = `delete ${match.filename} from deposition ${d}`;
    const res = await this.http.send({ method: "DELETE", path: `deposit/depositions/${d}/files/${encodeURIComponent(match.id)}`, headers: this.auth(what), what, signal: o.signal });
    await res.dump();
  }

  // --- actions -------------------------------------------------------------------------------------

  /**
   * POST …/actions/publish, at most once. The deposition is read first (an already published one is returned
   * untouched); after a failure that may have published it, it is read back (a few times) before anything else.
   */
  async publish(id: DepositionId, o: CallOptions = {}): Promise<PublishResult> {
    const d = depositionId(id);
    const before = await this.getDeposition(d, o);
    if (before.submitted && before.state === "done") return this.published(before, true);
    const what = `publish deposition ${d}`;
    const deposition = await submitOnce(
      () => this.call({ method: "POST", path: `deposit/depositions/${d}/actions/publish`, what, retry: false, signal: o.signal }, R.Deposition),
      async () => this.confirmPublished(d, o.signal),
      { retries: 2, signal: o.signal },
    ).catch(async (e: unknown) => {
      // A refusal after an earlier attempt of ours may simply mean "already published": check once more.
      if (e instanceof ClientError) {
        const now = await this.getDeposition(d, o).catch(() => undefined);
        if (now && now.submitted && now.state === "done") return now;
      }
      throw e;
    });
    return this.published(deposition, false);
  }

  private async confirmPublished(d: string, signal?: AbortSignal): Promise<R.Deposition | undefined> {
    for (let i = 0; i < 3; i++) {
      const now = await this.getDeposition(d, { signal }).catch(() => undefined);
      if (now && now.submitted && now.state === "done") return now;
      if (i < 2) await sleep(this.confirmIntervalMs, signal);
    }
    return undefined;
  }

  private published(dep: R.Deposition, already: boolean): PublishResult {
    return {
      deposition: dep,
      doi: dep.doi ?? undefined,
      recordId: dep.record_id ?? undefined,
      recordUrl: dep.links.record_html ?? dep.links.html ?? dep.record_url ?? undefined,
      alreadyPublished: already,
    };
  }

  /** POST …/actions/edit — reopens a published deposition's metadata for editing. */
  async edit(id: DepositionId, o: CallOptions = {}): Promise<R.Deposition> {
    const d = depositionId(id);
    return this.call({ method: "POST", path: `deposit/depositions/${d}/actions/edit`, what: `edit deposition ${d}`, retry: false, signal: o.signal }, R.Deposition);
  }

  /** POST …/actions/discard — drops the changes of an edit. */
  async discard(id: DepositionId, o: CallOptions = {}): Promise<R.Deposition> {
    const d = depositionId(id);
    return this.call({ method: "POST", path: `deposit/depositions/${d}/actions/discard`, what: `discard the edit of deposition ${d}`, retry: false, signal: o.signal }, R.Deposition);
  }

  /**
   * POST …/actions/newversion on the latest published version; returns the new draft (from `links.latest_draft`).
   * An open new-version draft is returned instead of creating a second one.
   */
  async newVersion(id: DepositionId, o: CallOptions = {}): Promise<R.Deposition> {
    const d = depositionId(id);
    const draftOf = async (dep: R.Deposition): Promise<R.Deposition | undefined> => {
      const link = dep.links.latest_draft;
      const m = link ? /\/(\d+)\/?$/.exec(link) : null;
      if (!m || m[1] === d) return undefined;
      const draft = await this.getDeposition(m[1], o);
      return draft.submitted && draft.state === "done" ? undefined : draft;
    };
    const current = await this.getDeposition(d, o);
    const open = await draftOf(current);
    if (open) return open;
    const what = `create a new version of deposition ${d}`;
    const original = await submitOnce(
      () => this.call({ method: "POST", path: `deposit/depositions/${d}/actions/newversion`, what, retry: false, signal: o.signal }, R.Deposition),
      async () => {
        const again = await this.getDeposition(d, o).catch(() => undefined);
        return again && (await draftOf(again)) ? again : undefined;
      },
      { retries: 1, signal: o.signal },
    );
    const draft = await draftOf(original);
    if (!draft) {
      throw new ZenodoError({ code: "ZENODO_SERVER", message: `Zenodo did not return the new draft of deposition ${d} (no links.latest_draft).`, hint: "List your drafts with listDepositions({status: 'draft'})." });
    }
    return draft;
  }

  /**
   * The whole deposit flow in one call, as eOSSR's `upload_dir_content` does: a new draft (or a new version of
   * `newVersionOf`, whose inherited files are replaced unless `replaceFiles: false`), the files uploaded and
   * checked, the metadata set, and — only when asked — publication. Inputs are checked before any request; if a
   * later step fails, the error names the draft, which is kept so that nothing already uploaded is lost.
   */
  async deposit(
    input: { files: string[]; metadata?: DepositMetadata; newVersionOf?: DepositionId; replaceFiles?: boolean; publish?: boolean },
    o: CallOptions & { onProgress?: (p: { file: string; index: number; count: number; bytes: number; total?: number; done: boolean }) => void } = {},
  ): Promise<{ deposition: R.Deposition; uploaded: UploadedFile[]; published?: PublishResult }> {
    if (input.metadata) assertValidMetadata(input.metadata);
    else if (input.newVersionOf === undefined) {
      throw new ZenodoError({ code: "ZENODO_VALIDATION", message: "A new deposition needs metadata.", hint: "Pass metadata (title, upload_type, creators, description, …)." });
    }
    const names = new Set<string>();
    for (const f of input.files) {
      const st = await stat(f).catch(() => undefined);
      if (!st?.isFile()) throw new ZenodoError({ code: "ZENODO_INVALID_REQUEST", message: `${f} is not a file; nothing was sent.`, hint: "Zenodo stores flat files: list files, not folders (zip a folder first)." });
      const name = path.basename(f);
      if (names.has(name)) throw new ZenodoError({ code: "ZENODO_INVALID_REQUEST", message: `Two files are named ${name}; Zenodo files are flat, so names must be unique.`, hint: "Rename one of them." });
      names.add(name);
    }
    const draft = input.newVersionOf !== undefined ? await this.newVersion(input.newVersionOf, o) : await this.createDeposition(input.metadata, { ...o, validate: false });
    const keep = (e: unknown): never => {
      if (e instanceof ClientError) {
        throw new ZenodoError({
          ...(e.toJSON() as unknown as ClientErrorInit),
          code: e.code,
          message: `${e.message} (draft ${draft.id} was kept)`,
          hint: `${e.hint ? `${e.hint} ` : ""}Continue with draft ${draft.id}, or remove it with deleteDeposition(${draft.id}).`,
          fieldErrors: e instanceof ZenodoError ? e.fieldErrors : undefined,
          details: { ...(e.details ?? {}), depositionId: draft.id },
          cause: e,
        });
      }
      throw e;
    };
    try {
      if (input.newVersionOf !== undefined && input.replaceFiles !== false) {
        for (const f of await this.listFiles(draft.id, o)) await this.deleteFile(draft.id, f.id, o);
      }
      const current = await this.getDeposition(draft.id, o);
      const uploaded: UploadedFile[] = [];
      for (const [index, f] of input.files.entries()) {
        const file = path.basename(f);
        o.onProgress?.({ file, index, count: input.files.length, bytes: 0, done: false });
        const u = await this.uploadFile(current, f, { signal: o.signal, onProgress: (p) => o.onProgress?.({ file, index, count: input.files.length, bytes: p.bytes, total: p.total, done: false }) });
        o.onProgress?.({ file, index, count: input.files.length, bytes: u.size, total: u.size, done: true });
        uploaded.push(u);
      }
      let deposition = current;
      if (input.metadata && input.newVersionOf !== undefined) deposition = await this.updateMetadata(draft.id, input.metadata, { ...o, validate: false });
      const published = input.publish ? await this.publish(draft.id, o) : undefined;
      if (published) deposition = published.deposition;
      return { deposition, uploaded, published };
    } catch (e) {
      return keep(e);
    }
  }

  // --- search ------------------------------------------------------------------------------------

  /** GET /records — published records (anonymous when no token). */
  async searchRecords(o: SearchRecordsOptions = {}): Promise<{ hits: R.ZenodoRecord[]; total: number }> {
    const query = { q: o.q, communities: o.communities, type: o.type, subtype: o.subtype, sort: o.sort, page: o.page, size: o.size, all_versions: o.allVersions, status: o.status };
    const r = await this.call({ method: "GET", path: "records", query, what: "search records", signal: o.signal, anonymous: true }, R.searchResult(R.Record));
    return { hits: r.hits.hits, total: R.totalOf(r.hits.total, r.hits.hits.length) };
  }

  /** GET /records/{id} */
  async getRecord(id: DepositionId, o: CallOptions = {}): Promise<R.ZenodoRecord> {
    const d = depositionId(id);
    return this.call({ method: "GET", path: `records/${d}`, what: `read record ${d}`, signal: o.signal, anonymous: true }, R.Record);
  }

  /** GET /licenses */
  async licenses(o: CallOptions & { q?: string; page?: number; size?: number } = {}): Promise<{ hits: z.infer<typeof R.License>[]; total: number }> {
    const r = await this.call({ method: "GET", path: "licenses", query: { q: o.q, page: o.page, size: o.size }, what: "list licences", signal: o.signal, anonymous: true }, R.searchResult(R.License));
    return { hits: r.hits.hits, total: R.totalOf(r.hits.total, r.hits.hits.length) };
  }

  /** GET /communities */
  async communities(o: CallOptions & { q?: string; page?: number; size?: number } = {}): Promise<{ hits: z.infer<typeof R.Community>[]; total: number }> {
    const r = await this.call({ method: "GET", path: "communities", query: { q: o.q, page: o.page, size: o.size }, what: "search communities", signal: o.signal, anonymous: true }, R.searchResult(R.Community));
    return { hits: r.hits.hits, total: R.totalOf(r.hits.total, r.hits.hits.length) };
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
