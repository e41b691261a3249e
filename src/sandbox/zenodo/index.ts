import { randomUUID } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import type { ServiceContext, ServiceHandler } from "../service";
import { answerError, commitUpload, decodeSegment, HttpError, isPlainObject, readJson, sendEmpty, sendJson, streamToFile, sweepStaging, tokenMatches } from "../reana/http";
import { receiveMultipartFile } from "./multipart";
import { readOrCreateToken } from "../reana/index";
import { toBibtex, toCslJson } from "./citation";
import { validateMetadata, type FieldError } from "./metadata";
import { score, searchableOf } from "./search";
import {
  bucketObject,
  conceptVersions,
  doiFor,
  Links,
  openDraft,
  serializeDeposition,
  serializeRecord,
} from "./serialize";
import { zenodoTime, ZenodoStateStore, type Deposition, type FileEntry, type RecordDoc } from "./state";
import { RateLimiter } from "./rate-limit";
import { COMMUNITIES, communityBySlugOrId, LICENSES, licenseById } from "./vocabularies";

/**
 * The sandbox's Zenodo: the legacy deposit API (depositions, bucket uploads, old files API, publish / edit /
 * discard / new version), published records with search, licences and communities. DOIs are minted under the test
 * prefix 10.5072. The token is accepted as `Authorization: Bearer` or `?access_token=`, as on zenodo.org.
 */

export interface ZenodoService extends ServiceHandler {
  readonly accessToken: string;
  readonly ready: Promise<void>;
}

const MAX_FILES = 100;
const MAX_FILE_BYTES = 50 * 1000 * 1000 * 1000;
const OLD_API_MAX_BYTES = 100 * 1000 * 1000;
const UNAUTHORIZED =
  "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong " +
  "credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.";

function zError(status: number, message: string, errors?: FieldError[]): HttpError {
  return new HttpError(status, errors ? { status, message, errors } : { status, message });
}

function mimetypeOf(key: string): string {
  const ext = path.extname(key).toLowerCase();
  const types: Record<string, string> = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".yaml": "application/x-yaml",
    ".yml": "application/x-yaml",
    ".ipynb": "application/x-ipynb+json",
    ".h5": "application/x-hdf5",
    ".hdf5": "application/x-hdf5",
    ".fits": "application/fits",
  };
  return types[ext] ?? "application/octet-stream";
}

export function createZenodoService(ctx: ServiceContext): ZenodoService {
  const dataDir = path.resolve(ctx.dataDir);
  const token = readOrCreateToken(dataDir);
  const stagingDir = path.join(dataDir, "staging");
  const blobsDir = path.join(dataDir, "blobs");
  const store = new ZenodoStateStore(path.join(dataDir, "state.json"));
  const links = new Links(ctx.baseUrl);
  const blobPath = (blob: string) => path.join(blobsDir, blob);

  const ready = (async () => {
    await fs.mkdir(blobsDir, { recursive: true });
    const partial = await sweepStaging(stagingDir);
    if (partial > 0) ctx.log(`zenodo: dropped ${partial} file upload(s) cut off by a previous stop (never acknowledged)`);
    await store.load();
    await collectGarbage();
  })();

  /** Removes blobs no deposition or record refers to (e.g. written just before a kill, or replaced). */
  async function collectGarbage(): Promise<void> {
    const used = new Set<string>();
    for (const d of Object.values(store.state.depositions)) for (const f of d.files) used.add(f.blob);
    for (const r of Object.values(store.state.records)) for (const f of r.files) used.add(f.blob);
    for (const name of await fs.readdir(blobsDir).catch(() => [] as string[])) {
      if (!used.has(name)) await fs.rm(blobPath(name), { force: true });
    }
  }

  const limiter = RateLimiter.fromEnv();
  /** Budget key: the user when the request carries the sandbox token, otherwise the anonymous guest. */
  function identityOf(req: IncomingMessage, url: URL): string {
    const header = /^Bearer\s+(.+)$/i.exec(req.headers.authorization?.trim() ?? "");
    const given = header ? header[1]!.trim() : url.searchParams.get("access_token");
    return tokenMatches(given, token) ? "user" : "guest";
  }

  // ---------------------------------------------------------------------------------------------- helpers
  function authenticate(req: IncomingMessage, url: URL, required: boolean): boolean {
    const header = req.headers.authorization;
    let given: string | null = null;
    if (header) {
      const m = /^Bearer\s+(.+)$/i.exec(header.trim());
      given = m ? m[1]!.trim() : "";
    } else given = url.searchParams.get("access_token");
    if (given === null || given === "") {
      if (required) throw zError(401, UNAUTHORIZED);
      return false;
    }
    if (!tokenMatches(given, token)) throw zError(401, UNAUTHORIZED);
    return true;
  }

  /** Whether a browser-style page request carries the sandbox token; pages never answer 401, they redirect. */
  function isOwner(req: IncomingMessage, url: URL): boolean {
    const header = /^Bearer\s+(.+)$/i.exec(req.headers.authorization?.trim() ?? "");
    return tokenMatches(header ? header[1]!.trim() : url.searchParams.get("access_token"), token);
  }

  /** 302 to the login page with `next` = the page's path (never its query, which may hold a token). */
  function redirectToLogin(res: ServerResponse, pagePath: string): void {
    const location = `${links.base}/login/?next=${encodeURIComponent(pagePath)}`;
    const body = `<!doctype html><title>Redirecting...</title><p>You should be redirected to <a href="${location}">the login page</a>.</p>`;
    res.writeHead(302, { Location: location, "Content-Type": "text/html; charset=utf-8", "Content-Length": String(Buffer.byteLength(body)) });
    res.end(body);
  }

  async function jsonBody(req: IncomingMessage, allowEmpty: boolean): Promise<unknown> {
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    const length = Number(req.headers["content-length"] ?? "0");
    const chunked = req.headers["transfer-encoding"] !== undefined;
    if (type !== "application/json") {
      if (allowEmpty && !chunked && length === 0) {
        req.resume();
        return undefined;
      }
      req.resume();
      throw zError(415, "Unsupported media type: send JSON with Content-Type: application/json.");
    }
    return readJson(req, () => zError(400, "The browser (or proxy) sent a request that this server could not understand."));
  }

  function deposition(idText: string): Deposition {
    const dep = /^\d+$/.test(idText) ? store.state.depositions[idText] : undefined;
    if (!dep) throw zError(404, "PID does not exist.");
    return dep;
  }

  function depositionByBucket(bucket: string): Deposition {
    const dep = Object.values(store.state.depositions).find((d) => d.bucket === bucket);
    if (!dep) throw zError(404, "Bucket does not exist.");
    return dep;
  }

  function assertFilesEditable(dep: Deposition): void {
    if (dep.published) {
      throw zError(
        403,
        "The files of a published deposition are locked. Create a new version (actions/newversion) to change files.",
      );
    }
  }

  function intParam(url: URL, name: string, fallback: number, max?: number): number {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw zError(400, `Invalid ${name}: must be a positive integer.`);
    if (max !== undefined && value > max) throw zError(400, `Maximum ${name} is ${max}.`);
    return value;
  }

  const send = (res: ServerResponse, status: number, dep: Deposition) =>
    sendJson(res, status, serializeDeposition(store.state, links, dep));

  // ---------------------------------------------------------------------------------------------- depositions
  async function listDepositions(url: URL, res: ServerResponse): Promise<void> {
    const q = url.searchParams.get("q");
    const status = url.searchParams.get("status");
    const sort = url.searchParams.get("sort") ?? "mostrecent";
    const size = intParam(url, "size", 10, 100);
    const page = intParam(url, "page", 1);
    const allVersions = ["true", "1", "yes"].includes((url.searchParams.get("all_versions") ?? "").toLowerCase());
    let deps = Object.values(store.state.depositions);
    if (status === "draft") deps = deps.filter((d) => !d.published || d.editing);
    else if (status === "published") deps = deps.filter((d) => d.published);
    else if (status) throw zError(400, "Invalid status: use draft or published.");
    if (!allVersions) {
      // One entry per concept: its open draft, else its latest version.
      const best = new Map<number, Deposition>();
      for (const d of deps) {
        const cur = best.get(d.conceptrecid);
        if (!cur || (!d.published && cur.published) || (d.published === cur.published && d.id > cur.id)) best.set(d.conceptrecid, d);
      }
      deps = [...best.values()];
    }
    const scored = deps
      .map((d) => ({ d, s: score(searchableOf(d.metadata, d.published ? doiFor(d.id) : "", d.conceptrecid), q) }))
      .filter((x) => x.s > 0);
    sortHits(scored, sort, (x) => x.d.created);
    const pageItems = scored.slice((page - 1) * size, page * size);
    sendJson(res, 200, pageItems.map((x) => serializeDeposition(store.state, links, x.d)));
  }

  async function createDeposition(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await jsonBody(req, true);
    if (body !== undefined && !isPlainObject(body)) throw zError(400, "Validation error.", [{ field: "", message: "Not a valid object." }]);
    let metadata: Record<string, unknown> = {};
    if (isPlainObject(body) && body.metadata !== undefined) {
      const check = validateMetadata(body.metadata, (c) => communityBySlugOrId(c) !== undefined);
      if (check.errors.length > 0) throw zError(400, "Validation error.", check.errors);
      metadata = check.metadata;
    }
    const now = zenodoTime();
    const dep = await store.update((s) => {
      const conceptrecid = s.next_id;
      const id = s.next_id + 1;
      s.next_id += 2;
      const d: Deposition = {
        id,
        conceptrecid,
        owner: s.user_id,
        created: now,
        modified: now,
        bucket: randomUUID(),
        metadata,
        files: [],
        published: false,
        editing: false,
      };
      s.depositions[String(id)] = d;
      return d;
    });
    send(res, 201, dep);
  }

  async function updateDeposition(dep: Deposition, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await jsonBody(req, false);
    if (dep.published && !dep.editing) {
      throw zError(403, "A published deposition cannot be modified. Open it with actions/edit first.");
    }
    if (!isPlainObject(body) || body.metadata === undefined) {
      throw zError(400, "Validation error.", [{ field: "metadata", message: "Missing data for required field." }]);
    }
    const check = validateMetadata(body.metadata, (c) => communityBySlugOrId(c) !== undefined);
    if (check.errors.length > 0) throw zError(400, "Validation error.", check.errors);
    const { doi: _doi, prereserve_doi: _pre, ...metadata } = check.metadata;
    await store.update(() => {
      dep.metadata = metadata;
      dep.modified = zenodoTime();
    });
    send(res, 200, dep);
  }

  async function deleteDeposition(dep: Deposition, res: ServerResponse): Promise<void> {
    if (dep.published) {
      throw zError(403, "A published deposition cannot be deleted.");
    }
    await store.update((s) => {
      delete s.depositions[String(dep.id)];
    });
    await collectGarbage();
    sendEmpty(res, 204);
  }

  async function publish(dep: Deposition, res: ServerResponse): Promise<void> {
    if (dep.published && !dep.editing) {
      throw zError(
        403,
        `Deposition ${dep.id} has already been published and cannot be published again. ` +
          "Use actions/edit to change its metadata or actions/newversion to publish a new version.",
      );
    }
    const check = validateMetadata(dep.metadata, (c) => communityBySlugOrId(c) !== undefined);
    const errors = [...check.errors];
    if (dep.files.length === 0) errors.push({ field: "files", message: "Minimum one file must be provided." });
    if (errors.length > 0) throw zError(400, "Validation error.", errors);
    const now = zenodoTime();
    const { doi: _doi, prereserve_doi: _pre, ...metadata } = check.metadata;
    await store.update((s) => {
      const existing = s.records[String(dep.id)];
      const record: RecordDoc = {
        id: dep.id,
        conceptrecid: dep.conceptrecid,
        owner: dep.owner,
        created: existing?.created ?? now,
        updated: now,
        doi: doiFor(dep.id),
        conceptdoi: doiFor(dep.conceptrecid),
        metadata: structuredClone(metadata),
        files: existing?.files ?? dep.files.map((f) => ({ ...f })),
        revision: (existing?.revision ?? 0) + 1,
      };
      s.records[String(dep.id)] = record;
      dep.metadata = metadata;
      dep.published = true;
      dep.editing = false;
      dep.modified = now;
    });
    send(res, 202, dep);
  }

  async function edit(dep: Deposition, res: ServerResponse): Promise<void> {
    if (!dep.published) throw zError(400, "Only published depositions can be opened for editing; this one is still a draft.");
    if (!dep.editing) {
      await store.update(() => {
        dep.editing = true;
        dep.modified = zenodoTime();
      });
    }
    send(res, 201, dep);
  }

  async function discard(dep: Deposition, res: ServerResponse): Promise<void> {
    if (!dep.published || !dep.editing) throw zError(400, "The deposition is not being edited; there is nothing to discard.");
    const record = store.state.records[String(dep.id)]!;
    await store.update(() => {
      dep.metadata = structuredClone(record.metadata);
      dep.editing = false;
      dep.modified = zenodoTime();
    });
    send(res, 201, dep);
  }

  async function newVersion(dep: Deposition, res: ServerResponse): Promise<void> {
    if (!dep.published) throw zError(400, "A new version can only be made from a published deposition.");
    const versions = conceptVersions(store.state, dep.conceptrecid);
    const latest = versions[versions.length - 1]!;
    if (latest.id !== dep.id) {
      throw zError(400, `Deposition ${dep.id} is not the latest version; make the new version from ${latest.id}.`);
    }
    if (!openDraft(store.state, dep.conceptrecid)) {
      const now = zenodoTime();
      await store.update((s) => {
        const id = s.next_id;
        s.next_id += 1;
        const { doi: _doi, prereserve_doi: _pre, publication_date: _date, version: _version, ...metadata } = structuredClone(
          s.records[String(dep.id)]!.metadata,
        );
        s.depositions[String(id)] = {
          id,
          conceptrecid: dep.conceptrecid,
          owner: dep.owner,
          created: now,
          modified: now,
          bucket: randomUUID(),
          metadata,
          files: s.records[String(dep.id)]!.files.map((f) => ({ ...f, id: randomUUID(), version_id: randomUUID() })),
          published: false,
          editing: false,
          new_version_of: dep.id,
        };
      });
    }
    send(res, 201, dep);
  }

  // ---------------------------------------------------------------------------------------------- files
  function isValidKey(key: string): boolean {
    return key !== "" && !key.includes("/") && key !== "." && key !== ".." && key.length <= 255;
  }

  /**
   * Records a committed blob as file `key` of a deposition (replacing a file of the same name when `replace`),
   * re-checking the deposition: it may have been published or deleted while the bytes were streaming.
   */
  async function addFile(depId: number, key: string, blob: string, stored: { size: number; md5: string }, replace: boolean): Promise<FileEntry> {
    const now = zenodoTime();
    let entry!: FileEntry;
    await store.update(() => {
      const live = store.state.depositions[String(depId)];
      if (!live || live.published) throw zError(403, "The deposition changed during the upload; the file was not added.");
      const old = live.files.find((f) => f.key === key);
      if (old && !replace) throw zError(400, `A file named ${key} already exists in this deposition.`);
      if (!old && live.files.length >= MAX_FILES) throw zError(403, `A deposition holds at most ${MAX_FILES} files.`);
      entry = {
        id: old?.id ?? randomUUID(),
        key,
        size: stored.size,
        md5: stored.md5,
        mimetype: mimetypeOf(key),
        blob,
        version_id: randomUUID(),
        created: old?.created ?? now,
        updated: now,
      };
      live.files = [...live.files.filter((f) => f.key !== key), entry];
      live.modified = now;
    });
    return entry;
  }

  async function putObject(dep: Deposition, key: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    assertFilesEditable(dep);
    if (!isValidKey(key)) {
      req.resume();
      throw zError(400, `Invalid file name: ${JSON.stringify(key)}. Use a plain file name (no folders).`);
    }
    const replaces = dep.files.some((f) => f.key === key);
    if (!replaces && dep.files.length >= MAX_FILES) {
      req.resume();
      throw zError(403, `A deposition holds at most ${MAX_FILES} files.`);
    }
    const blob = randomUUID();
    const stored = await streamToFile(req, blobPath(blob), stagingDir, { maxBytes: MAX_FILE_BYTES });
    let entry: FileEntry;
    try {
      entry = await addFile(dep.id, key, blob, stored, true);
    } catch (err) {
      await fs.rm(blobPath(blob), { force: true });
      throw err;
    }
    if (replaces) await collectGarbage();
    sendJson(res, 200, bucketObject(links, dep.bucket, entry));
  }

  /** Old files API: POST multipart `file` (+ `name`), limited to 100 MB per file like Zenodo's. */
  async function postOldFile(dep: Deposition, req: IncomingMessage, res: ServerResponse): Promise<void> {
    assertFilesEditable(dep);
    const upload = await receiveMultipartFile(req, stagingDir, OLD_API_MAX_BYTES);
    const key = (upload.name ?? upload.filename ?? "").trim();
    const blob = randomUUID();
    let entry: FileEntry;
    try {
      if (!isValidKey(key)) throw zError(400, `Invalid file name: ${JSON.stringify(key)}. Use a plain file name (no folders).`);
      await commitUpload(upload.staged, blobPath(blob));
      entry = await addFile(dep.id, key, blob, upload.staged, false);
    } catch (err) {
      await fs.rm(upload.staged.tmp, { force: true });
      await fs.rm(blobPath(blob), { force: true });
      throw err;
    }
    const files = serializeDeposition(store.state, links, store.state.depositions[String(dep.id)]!).files as { id: string }[];
    sendJson(res, 201, files.find((f) => f.id === entry.id));
  }

  async function sendBlob(res: ServerResponse, f: FileEntry, inline = false): Promise<void> {
    res.writeHead(200, {
      "Content-Type": f.mimetype,
      "Content-Length": String(f.size),
      "Content-Disposition": `${inline ? "inline" : "attachment"}; filename="${f.key.replace(/["\\\r\n]/g, "_")}"`,
      "Content-MD5": Buffer.from(f.md5, "hex").toString("base64"),
      ETag: `"md5:${f.md5}"`,
    });
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(blobPath(f.blob));
      stream.on("error", reject);
      res.on("close", () => resolve());
      stream.pipe(res);
    });
  }

  async function deleteFile(dep: Deposition, match: (f: FileEntry) => boolean, res: ServerResponse): Promise<void> {
    assertFilesEditable(dep);
    if (!dep.files.some(match)) throw zError(404, "File does not exist.");
    await store.update(() => {
      dep.files = dep.files.filter((f) => !match(f));
      dep.modified = zenodoTime();
    });
    await collectGarbage();
    sendEmpty(res, 204);
  }

  // ---------------------------------------------------------------------------------------------- records & vocabularies
  function sortHits<T>(hits: { s: number }[] & T[], sort: string, created: (x: T) => string): void {
    const desc = sort.startsWith("-");
    const key = sort.replace(/^-/, "");
    if (key === "bestmatch") hits.sort((a, b) => b.s - a.s);
    else if (key === "mostrecent") {
      hits.sort((a, b) => (created(a as T) < created(b as T) ? 1 : -1));
      if (desc) hits.reverse();
    } else if (key !== "") throw zError(400, `Invalid sort: ${sort}. Use bestmatch or mostrecent (prefix - for reverse).`);
  }

  function searchRecords(url: URL, res: ServerResponse): void {
    const q = url.searchParams.get("q");
    const size = intParam(url, "size", 10, 100);
    const page = intParam(url, "page", 1);
    const sort = url.searchParams.get("sort") ?? (q ? "bestmatch" : "mostrecent");
    const community = url.searchParams.get("communities");
    const type = url.searchParams.get("type");
    const subtype = url.searchParams.get("subtype");
    const allVersions = ["true", "1", "yes"].includes((url.searchParams.get("all_versions") ?? "").toLowerCase());
    let recs = Object.values(store.state.records);
    if (!allVersions) {
      const latest = new Map<number, RecordDoc>();
      for (const r of recs) if ((latest.get(r.conceptrecid)?.id ?? 0) < r.id) latest.set(r.conceptrecid, r);
      recs = [...latest.values()];
    }
    if (community) {
      recs = recs.filter((r) =>
        Array.isArray(r.metadata.communities) &&
        r.metadata.communities.some((c) => isPlainObject(c) && (c.identifier === community || communityBySlugOrId(community)?.slug === c.identifier)),
      );
    }
    if (type) recs = recs.filter((r) => r.metadata.upload_type === type);
    if (subtype) recs = recs.filter((r) => r.metadata.publication_type === subtype || r.metadata.image_type === subtype);
    const hits = recs.map((r) => ({ r, s: score(searchableOf(r.metadata, r.doi, r.conceptrecid), q) })).filter((x) => x.s > 0);
    sortHits(hits, sort, (x) => x.r.created);
    const total = hits.length;
    const selfUrl = new URL(url.toString());
    selfUrl.searchParams.delete("access_token");
    const pageLink = (p: number) => {
      const u = new URL(`${links.api}/records`);
      for (const [k, v] of selfUrl.searchParams) if (k !== "page") u.searchParams.append(k, v);
      u.searchParams.set("page", String(p));
      u.searchParams.set("size", String(size));
      return u.toString();
    };
    const pageLinks: Record<string, string> = { self: pageLink(page) };
    if (page * size < total) pageLinks.next = pageLink(page + 1);
    if (page > 1) pageLinks.prev = pageLink(page - 1);
    sendJson(res, 200, {
      aggregations: {},
      hits: {
        hits: hits.slice((page - 1) * size, page * size).map((x) => serializeRecord(store.state, links, x.r)),
        total,
      },
      links: pageLinks,
    });
  }

  function record(idText: string): RecordDoc {
    const rec = /^\d+$/.test(idText) ? store.state.records[idText] : undefined;
    if (!rec) throw zError(404, "PID does not exist.");
    return rec;
  }

  function licenseJson(l: (typeof LICENSES)[number]): Record<string, unknown> {
    return {
      id: l.id,
      title: { en: l.title },
      description: { en: "" },
      props: { url: l.url, scheme: "spdx", osi_approved: l.osi_approved ? "y" : "" },
      tags: l.tags,
      type: "licenses",
      links: { self: `${links.api}/vocabularies/licenses/${l.id}` },
      created: "2023-10-01T00:00:00+00:00",
      updated: "2023-10-01T00:00:00+00:00",
      revision_id: 1,
    };
  }

  function communityJson(c: (typeof COMMUNITIES)[number]): Record<string, unknown> {
    return {
      id: c.id,
      slug: c.slug,
      created: c.created,
      updated: c.created,
      metadata: { title: c.title, description: c.description, type: { id: c.type } },
      access: { visibility: "public", member_policy: "open", record_policy: "open" },
      links: {
        self: `${links.api}/communities/${c.id}`,
        self_html: `${links.base}/communities/${c.slug}`,
        records: `${links.api}/communities/${c.id}/records`,
      },
      revision_id: 1,
    };
  }

  function listVocabulary<T>(url: URL, res: ServerResponse, items: T[], text: (x: T) => string, toJson: (x: T) => unknown): void {
    const q = (url.searchParams.get("q") ?? "").toLowerCase().trim();
    const size = intParam(url, "size", 10, 100);
    const page = intParam(url, "page", 1);
    const hits = items.filter((x) => !q || q === "*" || text(x).toLowerCase().includes(q.replace(/\*/g, "")));
    sendJson(res, 200, {
      hits: { hits: hits.slice((page - 1) * size, page * size).map(toJson), total: hits.length },
      links: { self: url.pathname },
      sortBy: "title",
    });
  }

  function html(res: ServerResponse, title: string, body: string): void {
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
    const page = `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body>${body}</body></html>`;
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Length": String(Buffer.byteLength(page)) });
    res.end(page);
  }

  function recordPage(rec: RecordDoc, res: ServerResponse): void {
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
    const md = rec.metadata;
    const creators = Array.isArray(md.creators) ? md.creators.map((c) => esc(String((c as Record<string, unknown>).name ?? ""))).join("; ") : "";
    const files = rec.files
      .map((f) => `<li><a href="${esc(`${links.record(rec.id)}/files/${encodeURIComponent(f.key)}/content`)}">${esc(f.key)}</a> (${f.size} bytes, md5:${f.md5})</li>`)
      .join("");
    html(
      res,
      String(md.title ?? rec.id),
      `<h1>${esc(String(md.title ?? ""))}</h1><p>${creators}</p><p>DOI: <code>${esc(rec.doi)}</code> (sandbox test prefix, not registered)</p>` +
        `<div>${esc(String(md.description ?? "").replace(/<[^>]*>/g, " "))}</div><ul>${files}</ul>`,
    );
  }

  // ---------------------------------------------------------------------------------------------- routing
  async function route(req: IncomingMessage, res: ServerResponse, rawPath: string, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    const parts = rawPath.split("/").slice(1).map(decodeSegment);
    if (parts[parts.length - 1] === "" && parts.length > 1) parts.pop();
    const notAllowed = () => zError(405, "The method is not allowed for the requested URL.");
    await ready;

    if (parts[0] === "records" && parts.length === 2) {
      authenticate(req, url, false);
      return recordPage(record(parts[1]!), res);
    }
    if (parts[0] === "deposit" && parts.length === 2) {
      // As on zenodo.org (Invenio's record UI / InvenioRDM's @login_required), the page of a deposition is for its
      // owner only: a visitor who is not logged in is sent to the login page, whether the deposition exists or not.
      if (!isOwner(req, url)) return redirectToLogin(res, rawPath);
      const dep = deposition(parts[1]!);
      return html(res, `Deposition ${dep.id}`, `<h1>Deposition ${dep.id}</h1><p>State: ${dep.published ? "published" : "draft"}</p>`);
    }
    if (parts[0] === "login" && parts.length === 1) {
      return html(
        res,
        "Log in",
        "<h1>Log in</h1><p>The sandbox has no web login. Open a deposition page with <code>?access_token=</code> and the " +
          "Zenodo token from the sandbox folder's <code>credentials.json</code>.</p>",
      );
    }
    if (parts[0] !== "api") throw zError(404, "The requested URL was not found on the server.");
    const [, head, ...rest] = parts;

    if (head === "records") {
      authenticate(req, url, false);
      if (method !== "GET") throw notAllowed();
      if (rest.length === 0) return searchRecords(url, res);
      const rec = record(rest[0]!);
      if (rest.length === 1) {
        const accept = (req.headers.accept ?? "").toLowerCase();
        if (accept.includes("application/x-bibtex")) {
          const text = toBibtex(rec);
          res.writeHead(200, { "Content-Type": "application/x-bibtex; charset=utf-8", "Content-Length": String(Buffer.byteLength(text)) });
          res.end(text);
          return;
        }
        if (accept.includes("application/vnd.citationstyles.csl+json")) {
          return sendJson(res, 200, toCslJson(rec), { "Content-Type": "application/vnd.citationstyles.csl+json" });
        }
        return sendJson(res, 200, serializeRecord(store.state, links, rec));
      }
      if (rest[1] === "files" && rest.length === 2) {
        return sendJson(res, 200, {
          entries: rec.files.map((f) => ({
            key: f.key,
            size: f.size,
            checksum: `md5:${f.md5}`,
            mimetype: f.mimetype,
            links: { content: `${links.record(rec.id)}/files/${encodeURIComponent(f.key)}/content` },
          })),
        });
      }
      if (rest[1] === "files" && (rest.length === 3 || (rest.length === 4 && rest[3] === "content"))) {
        const f = rec.files.find((x) => x.key === rest[2]);
        if (!f) throw zError(404, "File does not exist.");
        return sendBlob(res, f);
      }
      if (rest[1] === "versions" && rest.length === 2) {
        const versions = conceptVersions(store.state, rec.conceptrecid).reverse();
        return sendJson(res, 200, { hits: { hits: versions.map((v) => serializeRecord(store.state, links, v)), total: versions.length } });
      }
      throw zError(404, "The requested URL was not found on the server.");
    }
    if (head === "licenses" || (head === "vocabularies" && rest[0] === "licenses")) {
      authenticate(req, url, false);
      const args = head === "licenses" ? rest : rest.slice(1);
      if (args.length === 0) return listVocabulary(url, res, LICENSES, (l) => `${l.id} ${l.title}`, licenseJson);
      const l = licenseById(args[0]!);
      if (!l) throw zError(404, `License ${args[0]} does not exist.`);
      return sendJson(res, 200, licenseJson(l));
    }
    if (head === "communities") {
      authenticate(req, url, false);
      if (rest.length === 0) return listVocabulary(url, res, COMMUNITIES, (c) => `${c.slug} ${c.title} ${c.description}`, communityJson);
      const c = communityBySlugOrId(rest[0]!);
      if (!c) throw zError(404, "The community does not exist.");
      return sendJson(res, 200, communityJson(c));
    }

    authenticate(req, url, true);
    if (head === "deposit" && rest[0] === "depositions") {
      const args = rest.slice(1);
      if (args.length === 0) {
        if (method === "GET") return listDepositions(url, res);
        if (method === "POST") return createDeposition(req, res);
        throw notAllowed();
      }
      const dep = deposition(args[0]!);
      if (args.length === 1) {
        if (method === "GET") return send(res, 200, dep);
        if (method === "PUT") return updateDeposition(dep, req, res);
        if (method === "DELETE") return deleteDeposition(dep, res);
        throw notAllowed();
      }
      if (args[1] === "actions" && args.length === 3) {
        if (method !== "POST") throw notAllowed();
        req.resume();
        switch (args[2]) {
          case "publish":
            return publish(dep, res);
          case "edit":
            return edit(dep, res);
          case "discard":
            return discard(dep, res);
          case "newversion":
            return newVersion(dep, res);
          default:
            throw zError(404, `Unknown action ${args[2]}.`);
        }
      }
      if (args[1] === "files") {
        if (args.length === 2) {
          if (method === "GET") {
            return sendJson(res, 200, (serializeDeposition(store.state, links, dep).files as unknown[]) ?? []);
          }
          if (method === "POST") return postOldFile(dep, req, res);
          throw notAllowed();
        }
        if (args.length === 3) {
          const file = dep.files.find((f) => f.id === args[2]);
          if (method === "GET") {
            if (!file) throw zError(404, "File does not exist.");
            const files = serializeDeposition(store.state, links, dep).files as { id: string }[];
            return sendJson(res, 200, files.find((f) => f.id === file.id));
          }
          if (method === "DELETE") return deleteFile(dep, (f) => f.id === args[2], res);
          throw notAllowed();
        }
      }
      throw zError(404, "The requested URL was not found on the server.");
    }
    if (head === "files" && rest.length >= 1) {
      const dep = depositionByBucket(rest[0]!);
      if (rest.length === 1) {
        if (method !== "GET") throw notAllowed();
        const size = dep.files.reduce((sum, f) => sum + f.size, 0);
        return sendJson(res, 200, {
          id: dep.bucket,
          created: dep.created,
          updated: dep.modified,
          locked: dep.published,
          size,
          quota_size: MAX_FILE_BYTES,
          max_file_size: MAX_FILE_BYTES,
          contents: dep.files.map((f) => bucketObject(links, dep.bucket, f)),
          links: { self: links.bucket(dep.bucket), versions: `${links.bucket(dep.bucket)}?versions`, uploads: `${links.bucket(dep.bucket)}?uploads` },
        });
      }
      const key = rest.slice(1).join("/");
      if (method === "PUT") return putObject(dep, key, req, res);
      const file = dep.files.find((f) => f.key === key);
      if (method === "GET") {
        if (!file) throw zError(404, "Object does not exist.");
        return sendBlob(res, file);
      }
      if (method === "DELETE") return deleteFile(dep, (f) => f.key === key, res);
      throw notAllowed();
    }
    throw zError(404, "The requested URL was not found on the server.");
  }

  return {
    accessToken: token,
    ready,
    async handle(req, res, rawPath, url) {
      try {
        const decision = limiter.take(identityOf(req, url));
        res.setHeader("X-RateLimit-Limit", String(decision.limit));
        res.setHeader("X-RateLimit-Remaining", String(decision.remaining));
        res.setHeader("X-RateLimit-Reset", String(decision.reset));
        if (!decision.allowed) {
          const wait = Math.max(1, decision.reset - Math.floor(Date.now() / 1000));
          throw new HttpError(
            429,
            { status: 429, message: `Too many requests: at most ${decision.limit} per minute; retry in ${wait} s.` },
            { "Retry-After": String(wait) },
          );
        }
        await route(req, res, rawPath, url);
      } catch (err) {
        answerError(err, req, res, {
          service: "zenodo",
          path: rawPath,
          log: ctx.log,
          internalBody: { status: 500, message: "Internal server error." },
          // Zenodo's error bodies carry the status too.
          shape: (e) => (isPlainObject(e.body) && e.body.status === undefined ? { status: e.status, ...e.body } : e.body),
        });
      }
    },
    async close() {
      await ready.catch(() => undefined);
    },
  };
}

