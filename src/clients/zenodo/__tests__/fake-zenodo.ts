/**
 * Test support: a loopback server with the behaviour of Zenodo's legacy deposit API (Bearer token, depositions
 * with a files bucket, publish/edit/discard/newversion, records/licences/communities search, X-RateLimit-*).
 * Fault switches let tests drop the connection after an action took effect or corrupt a stored file.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface FakeDeposition {
  id: number;
  conceptrecid: number;
  state: "unsubmitted" | "inprogress" | "done";
  submitted: boolean;
  created: string;
  modified: string;
  metadata: Record<string, unknown>;
  bucket: string;
  files: Map<string, { id: string; data: Buffer; checksum: string }>;
  latestDraft?: number;
  doi?: string;
}

export interface FakeZenodo {
  url: string;
  api: string;
  token: string;
  depositions: Map<number, FakeDeposition>;
  counts: Record<string, number>;
  seen: { method: string; url: string; headers: Record<string, unknown> }[];
  /** Drop the connection after carrying out the next request whose `METHOD path` matches. */
  dropAfter: { match: RegExp; times: number }[];
  /** Answer the next matching request with this status and body, without acting. */
  failNext: { match: RegExp; status: number; body: string; times: number; headers?: Record<string, string> }[];
  /** Store a wrong checksum for the next bucket upload. */
  corruptNextUpload: boolean;
  /** X-RateLimit-Remaining to announce on the next answer (then reset). */
  rateLimitRemaining?: { remaining: number; resetSeconds: number };
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeZenodo(token = "zenodo-test-token-ABCDEFGH12345678"): Promise<FakeZenodo> {
  const depositions = new Map<number, FakeDeposition>();
  const state = {
    token,
    depositions,
    counts: {} as Record<string, number>,
    seen: [] as FakeZenodo["seen"],
    dropAfter: [] as FakeZenodo["dropAfter"],
    failNext: [] as FakeZenodo["failNext"],
    corruptNextUpload: false,
    rateLimitRemaining: undefined as FakeZenodo["rateLimitRemaining"],
  };
  let nextId = 1000;
  let base = "";

  const view = (d: FakeDeposition) => {
    const api = `${base}/api`;
    return {
      id: d.id,
      conceptrecid: String(d.conceptrecid),
      record_id: d.id,
      created: d.created,
      modified: d.modified,
      owner: 1,
      state: d.state,
      submitted: d.submitted,
      title: (d.metadata.title as string) ?? "",
      doi: d.doi ?? "",
      doi_url: d.doi ? `https://doi.org/${d.doi}` : undefined,
      files: [...d.files.entries()].map(([filename, f]) => ({ id: f.id, filename, filesize: f.data.length, checksum: f.checksum.replace(/^md5:/, ""), links: { self: `${api}/deposit/depositions/${d.id}/files/${f.id}` } })),
      links: {
        self: `${api}/deposit/depositions/${d.id}`,
        html: `${base}/deposit/${d.id}`,
        bucket: d.submitted && d.state === "done" ? undefined : `${api}/files/${d.bucket}`,
        publish: `${api}/deposit/depositions/${d.id}/actions/publish`,
        edit: `${api}/deposit/depositions/${d.id}/actions/edit`,
        discard: `${api}/deposit/depositions/${d.id}/actions/discard`,
        newversion: `${api}/deposit/depositions/${d.id}/actions/newversion`,
        latest_draft: `${api}/deposit/depositions/${d.latestDraft ?? d.id}`,
        record_html: d.submitted ? `${base}/records/${d.id}` : undefined,
      },
      metadata: { ...d.metadata, prereserve_doi: { doi: `10.5281/zenodo.${d.id}`, recid: d.id } },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://x");
    const p = url.pathname;
    const key = `${method} ${p}`;
    state.seen.push({ method, url: req.url ?? "", headers: { ...req.headers } });
    state.counts[key.replace(/\d+/g, "{id}").replace(/files\/[0-9a-f-]{36}/, "files/{bucket}")] = (state.counts[key.replace(/\d+/g, "{id}").replace(/files\/[0-9a-f-]{36}/, "files/{bucket}")] ?? 0) + 1;

    const headers: Record<string, string | number> = { "content-type": "application/json", "x-ratelimit-limit": 100 };
    if (state.rateLimitRemaining) {
      headers["x-ratelimit-remaining"] = state.rateLimitRemaining.remaining;
      headers["x-ratelimit-reset"] = Math.ceil(Date.now() / 1000) + state.rateLimitRemaining.resetSeconds;
      state.rateLimitRemaining = undefined;
    } else headers["x-ratelimit-remaining"] = 99;
    const send = (status: number, value: unknown) => {
      const text = value === undefined ? "" : JSON.stringify(value);
      res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(text) });
      res.end(text);
    };
    const fail = state.failNext.find((f) => f.times > 0 && f.match.test(key));
    if (fail) {
      fail.times--;
      res.writeHead(fail.status, { ...headers, ...(fail.headers ?? {}) });
      res.end(fail.body);
      return;
    }
    const drop = state.dropAfter.find((d) => d.times > 0 && d.match.test(key));
    const done = (status: number, value: unknown) => {
      if (drop) {
        drop.times--;
        req.socket.destroy();
        return;
      }
      send(status, value);
    };

    const anonymous = /^\/api\/(records|licenses|communities)/.test(p);
    const auth = req.headers.authorization;
    if (!anonymous || auth) {
      if (url.searchParams.has("access_token")) return send(400, { status: 400, message: "token must not be in the URL in this test" });
      if (!auth) return send(401, { status: 401, message: "The server could not verify that you are authorized to access the URL requested." });
      if (auth !== `Bearer ${token}`) return send(401, { status: 401, message: "The server could not verify that you are authorized to access the URL requested." });
    }

    const m = /^\/api\/deposit\/depositions(?:\/(\d+))?(?:\/(files|actions)(?:\/([^/]+))?)?$/.exec(p);
    if (m) {
      const id = m[1] ? Number(m[1]) : undefined;
      if (id === undefined) {
        if (method === "GET") {
          let list = [...depositions.values()];
          if (url.searchParams.get("sort") === "mostrecent") list = list.sort((a, b) => b.created.localeCompare(a.created));
          return send(200, list.map(view));
        }
        if (method === "POST") {
          if (req.headers["content-type"] !== "application/json") return send(415, { status: 415, message: "Unsupported media type" });
          const input = JSON.parse(body.toString() || "{}") as { metadata?: Record<string, unknown> };
          const d: FakeDeposition = {
            id: ++nextId,
            conceptrecid: nextId + 500,
            state: "unsubmitted",
            submitted: false,
            created: new Date().toISOString(),
            modified: new Date().toISOString(),
            metadata: input.metadata ?? {},
            bucket: randomUUID(),
            files: new Map(),
          };
          depositions.set(d.id, d);
          return done(201, view(d));
        }
      }
      const d = id !== undefined ? depositions.get(id) : undefined;
      if (!d) return send(404, { status: 404, message: "PID does not exist." });
      if (!m[2]) {
        if (method === "GET") return send(200, view(d));
        if (method === "PUT") {
          if (d.submitted && d.state === "done") return send(403, { status: 403, message: "You do not have permission to edit a published deposition." });
          const input = JSON.parse(body.toString()) as { metadata: Record<string, unknown> };
          if (!input.metadata?.title) return send(400, { status: 400, message: "Validation error.", errors: [{ field: "metadata.title", message: "Field may not be null." }] });
          d.metadata = input.metadata;
          d.modified = new Date().toISOString();
          return done(200, view(d));
        }
        if (method === "DELETE") {
          if (d.submitted) return send(403, { status: 403, message: "Cannot delete a published deposition." });
          depositions.delete(d.id);
          res.writeHead(204, headers);
          res.end();
          return;
        }
      }
      if (m[2] === "files") {
        if (method === "GET") return send(200, view(d).files);
        if (method === "DELETE" && m[3]) {
          const entry = [...d.files.entries()].find(([, f]) => f.id === m[3]);
          if (!entry) return send(404, { status: 404, message: "File not found." });
          d.files.delete(entry[0]);
          res.writeHead(204, headers);
          res.end();
          return;
        }
      }
      if (m[2] === "actions" && method === "POST") {
        const action = m[3];
        if (action === "publish") {
          if (d.submitted && d.state === "done") return send(400, { status: 400, message: "Deposition is already published." });
          if (!d.metadata.title) return send(400, { status: 400, message: "Validation error.", errors: [{ field: "metadata.title", messages: ["Missing data for required field."] }] });
          d.state = "done";
          d.submitted = true;
          d.doi = `10.5072/zenodo.${d.id}`;
          return done(202, view(d));
        }
        if (action === "edit") {
          if (!d.submitted) return send(400, { status: 400, message: "Deposition is not published." });
          d.state = "inprogress";
          return done(201, view(d));
        }
        if (action === "discard") {
          if (d.state !== "inprogress") return send(400, { status: 400, message: "Deposition is not being edited." });
          d.state = "done";
          return done(201, view(d));
        }
        if (action === "newversion") {
          if (!d.submitted) return send(400, { status: 400, message: "Deposition must be published first." });
          if (d.latestDraft && depositions.get(d.latestDraft)?.submitted === false) return send(400, { status: 400, message: "A new version draft already exists." });
          const nv: FakeDeposition = {
            id: ++nextId,
            conceptrecid: d.conceptrecid,
            state: "unsubmitted",
            submitted: false,
            created: new Date().toISOString(),
            modified: new Date().toISOString(),
            metadata: { ...d.metadata },
            bucket: randomUUID(),
            files: new Map([...d.files.entries()].map(([k, f]) => [k, { ...f }])),
          };
          depositions.set(nv.id, nv);
          d.latestDraft = nv.id;
          return done(201, view(d));
        }
      }
    }
    const b = /^\/api\/files\/([0-9a-f-]{36})\/(.+)$/.exec(p);
    if (b) {
      const d = [...depositions.values()].find((x) => x.bucket === b[1]);
      if (!d) return send(404, { status: 404, message: "Bucket does not exist." });
      const name = decodeURIComponent(b[2]);
      if (method === "PUT") {
        if (d.submitted && d.state === "done") return send(403, { status: 403, message: "Bucket is locked." });
        const md5 = createHash("md5").update(body).digest("hex");
        const checksum = state.corruptNextUpload ? `md5:${"0".repeat(32)}` : `md5:${md5}`;
        state.corruptNextUpload = false;
        d.files.set(name, { id: randomUUID(), data: body, checksum });
        return done(201, { key: name, mimetype: "application/octet-stream", checksum, size: body.length, version_id: randomUUID(), links: { self: `${base}${p}` } });
      }
      if (method === "DELETE") {
        d.files.delete(name);
        res.writeHead(204, headers);
        res.end();
        return;
      }
    }
    if (p === "/api/records" && method === "GET") {
      const q = url.searchParams.get("q") ?? "";
      const hits = [...depositions.values()]
        .filter((d) => d.submitted)
        .filter((d) => !q || JSON.stringify(d.metadata).toLowerCase().includes(q.toLowerCase()))
        .filter((d) => !url.searchParams.get("communities") || JSON.stringify(d.metadata.communities ?? []).includes(url.searchParams.get("communities")!))
        .map((d) => ({ id: d.id, conceptrecid: String(d.conceptrecid), doi: d.doi, created: d.created, links: { self: `${base}/api/records/${d.id}`, html: `${base}/records/${d.id}` }, metadata: { ...d.metadata, resource_type: { type: d.metadata.upload_type, title: "Dataset" } }, files: [] }));
      return send(200, { hits: { hits, total: hits.length }, links: { self: req.url }, aggregations: {} });
    }
    const r = /^\/api\/records\/(\d+)$/.exec(p);
    if (r && method === "GET") {
      const d = depositions.get(Number(r[1]));
      if (!d || !d.submitted) return send(404, { status: 404, message: "PID does not exist." });
      return send(200, { id: d.id, doi: d.doi, metadata: { ...d.metadata }, links: { html: `${base}/records/${d.id}` } });
    }
    if (p === "/api/licenses" && method === "GET") {
      return send(200, {
        hits: {
          hits: [
            { id: "cc-by-4.0", title: { en: "Creative Commons Attribution 4.0 International" }, props: { url: "https://creativecommons.org/licenses/by/4.0/legalcode", scheme: "spdx" } },
            { id: "mit", title: { en: "MIT License" }, props: { url: "https://opensource.org/licenses/MIT", scheme: "spdx" } },
          ],
          total: 2,
        },
      });
    }
    if (p === "/api/communities" && method === "GET") {
      return send(200, { hits: { hits: [{ id: "7b8b5b4c-0000-4000-8000-000000000001", slug: "escape2020", metadata: { title: "ESCAPE 2020" }, links: {} }], total: { value: 1, relation: "eq" } } });
    }
    send(404, { status: 404, message: `The requested URL was not found on the server: ${method} ${p}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake = Object.assign(state, {
    url: base,
    api: `${base}/api`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return fake as FakeZenodo;
}
