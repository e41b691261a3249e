/**
 * Test support: a loopback REANA 0.9.x server. Every request is checked against the REANA OpenAPI document
 * (path template, method, declared query parameters) by OpenApiRecorder, and against REANA's auth rule (the token
 * only as `?access_token=`, never a header). It answers with the shapes real servers send.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { OpenApiRecorder } from "./openapi-recorder";
import { makeZip } from "./zip-builder";

export const REANA_OPENAPI = path.join(__dirname, "reana_server-0.9.11.json");

interface FakeWorkflow {
  id: string;
  name: string;
  runNumber: number;
  status: string;
  created: string;
  spec: Record<string, unknown>;
  files: Map<string, Buffer>;
  polls: number;
  startBody?: Record<string, unknown>;
}

export interface FakeReana {
  url: string;
  token: string;
  recorder: OpenApiRecorder;
  workflows: Map<string, FakeWorkflow>;
  secrets: Map<string, { type: string; value: string }>;
  /** Every raw request (for secret-leak checks), with headers. */
  seen: { method: string; url: string; headers: Record<string, unknown> }[];
  authViolations: string[];
  /** Status answers to force once for a path regexp (e.g. 503 bursts). */
  failNext: { match: RegExp; status: number; body: string; times: number }[];
  /** Drop the connection (after reading the body) for a path regexp. */
  dropNext: { match: RegExp; times: number }[];
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*\*/g, "\u0000").replace(/\*/g, "[^/]*").replace(/\u0000/g, ".*").replace(/\?/g, ".")}$`);
}

export async function startFakeReana(token = "reana-test-token-0123456789abcdef"): Promise<FakeReana> {
  const recorder = new OpenApiRecorder(REANA_OPENAPI);
  const workflows = new Map<string, FakeWorkflow>();
  const secrets = new Map<string, { type: string; value: string }>();
  const runs = new Map<string, number>();
  const state: Omit<FakeReana, "url" | "close"> = { token, recorder, workflows, secrets, seen: [], authViolations: [], failNext: [], dropNext: [] };
  let counter = 0;

  const find = (idOrName: string): FakeWorkflow | undefined => {
    const byId = workflows.get(idOrName);
    if (byId) return byId;
    const all = [...workflows.values()].filter((w) => w.status !== "deleted");
    const exact = all.find((w) => `${w.name}.${w.runNumber}` === idOrName);
    if (exact) return exact;
    return all.filter((w) => w.name === idOrName).sort((a, b) => b.runNumber - a.runNumber)[0];
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", "http://x");
    const method = req.method ?? "GET";
    state.seen.push({ method, url: req.url ?? "", headers: { ...req.headers } });
    recorder.check(method, req.url ?? "/", req.headers, body.length > 0);

    const drop = state.dropNext.find((d) => d.times > 0 && d.match.test(url.pathname));
    const fail = state.failNext.find((f) => f.times > 0 && f.match.test(url.pathname));

    if (req.headers.authorization) state.authViolations.push(`${method} ${url.pathname}: Authorization header sent`);
    const p = url.pathname;
    if (p !== "/api/ping") {
      const t = url.searchParams.get("access_token");
      if (!t) return json(res, 401, { message: "User not signed in" });
      if (t !== token) return json(res, 403, { message: "Token not valid." });
    }
    if (fail) {
      fail.times--;
      res.writeHead(fail.status, { "content-type": "application/json" });
      res.end(fail.body);
      return;
    }
    const parts = p.split("/").filter(Boolean).map(decodeURIComponent); // ["api", ...]
    const route = parts.slice(1);

    // --- account ---
    if (method === "GET" && p === "/api/ping") return json(res, 200, { message: "OK", status: "200" });
    if (method === "GET" && p === "/api/you") {
      return json(res, 200, {
        email: "jane@example.org",
        full_name: "Jane Doe",
        username: "jdoe",
        reana_server_version: "0.9.4",
        reana_token: { value: token, status: "active", requested_at: null },
        quota: { cpu: { usage: { raw: 10, human_readable: "10s" }, health: "healthy" }, disk: { usage: { raw: 2048, human_readable: "2 KiB" }, limit: { raw: 0, human_readable: "0" }, health: "healthy" } },
      });
    }
    if (method === "GET" && p === "/api/info") {
      return json(res, 200, {
        compute_backends: { title: "List of supported compute backends", value: ["kubernetes"] },
        default_workspace: { title: "Default workspace", value: "/var/reana" },
        workspaces_available: { title: "List of available workspaces", value: ["/var/reana"] },
      });
    }
    // --- secrets ---
    if (p === "/api/secrets" && method === "GET") return json(res, 200, [...secrets.entries()].map(([name, s]) => ({ name, type: s.type })));
    if (p === "/api/secrets/" && method === "POST") {
      const input = JSON.parse(body.toString()) as Record<string, { name: string; value: string; type: string }>;
      const overwrite = url.searchParams.get("overwrite") === "true";
      const clash = Object.keys(input).filter((n) => secrets.has(n));
      if (clash.length && !overwrite) return json(res, 409, { message: `Operation cancelled. Secret ${clash.join(", ")} already exist. Use --overwrite to change the value of secrets.` });
      for (const [name, s] of Object.entries(input)) secrets.set(name, { type: s.type, value: s.value });
      return json(res, 201, { message: "Secrets successfully added." });
    }
    if (p === "/api/secrets/" && method === "DELETE") {
      const names = JSON.parse(body.toString()) as string[];
      const missing = names.filter((n) => !secrets.has(n));
      if (missing.length) return json(res, 404, missing);
      for (const n of names) secrets.delete(n);
      return json(res, 200, names);
    }
    // --- workflows ---
    if (p === "/api/workflows" && method === "GET") {
      const statuses = url.searchParams.getAll("status");
      const search = url.searchParams.get("search");
      const name = search ? (JSON.parse(search) as { name: string[] }).name[0] : undefined;
      let items = [...workflows.values()].filter((w) => (statuses.length ? statuses.includes(w.status) : true)).filter((w) => (name ? w.name.includes(name) : true));
      items.sort((a, b) => (url.searchParams.get("sort") === "asc" ? a.created.localeCompare(b.created) : b.created.localeCompare(a.created)));
      const size = Number(url.searchParams.get("size") ?? (items.length || 1));
      const page = Number(url.searchParams.get("page") ?? 1);
      const total = items.length;
      items = items.slice((page - 1) * size, page * size);
      return json(res, 200, {
        total,
        items: items.map((w) => ({
          id: w.id,
          name: `${w.name}.${w.runNumber}`,
          status: w.status,
          created: w.created,
          user: "00000000-0000-0000-0000-000000000000",
          size: { raw: -1, human_readable: "" },
          progress: url.searchParams.get("include_progress") === "true" ? { total: { total: 1, job_ids: [] }, finished: { total: 0, job_ids: [] } } : undefined,
          launcher_url: null,
        })),
      });
    }
    if (p === "/api/workflows" && method === "POST") {
      const name = url.searchParams.get("workflow_name") ?? "";
      if (name.includes(".")) return json(res, 400, { message: "Workflow name cannot contain dots." });
      const spec = JSON.parse(body.toString()) as Record<string, unknown>;
      if (!(spec.workflow as { specification?: unknown })?.specification) return json(res, 400, { message: "Workflow specification is missing." });
      const n = (runs.get(name) ?? 0) + 1;
      runs.set(name, n);
      const id = `00000000-0000-4000-8000-${String(++counter).padStart(12, "0")}`;
      workflows.set(id, { id, name, runNumber: n, status: "created", created: new Date(Date.now() + counter).toISOString(), spec, files: new Map(), polls: 0 });
      if (drop && drop.times-- > 0) {
        req.socket.destroy();
        return;
      }
      return json(res, 201, { message: "The workflow has been successfully created.", workflow_id: id, workflow_name: `${name}.${n}` });
    }
    if (route[0] === "workflows" && route.length >= 3) {
      const wf = find(route[1]);
      if (!wf) return json(res, 404, { message: `REANA_WORKON is set to ${route[1]}, but that workflow does not exist.` });
      const action = route[2];
      const fullName = `${wf.name}.${wf.runNumber}`;
      if (action === "workspace" && method === "POST") {
        if (req.headers["content-type"] !== "application/octet-stream") return json(res, 400, { message: "Wrong Content-Type application/json use application/octet-stream" });
        const fileName = url.searchParams.get("file_name") ?? "";
        if (fileName.startsWith("/") || fileName.split("/").includes("..")) return json(res, 400, { message: "Path cannot contain '..' or start with '/'" });
        wf.files.set(fileName, body);
        return json(res, 200, { message: `${fileName} has been successfully uploaded.` });
      }
      if (action === "workspace" && method === "GET" && route.length === 3) {
        const glob = url.searchParams.get("file_name");
        const items = [...wf.files.entries()]
          .filter(([n]) => (glob ? globToRegExp(glob).test(n) : true))
          .map(([name, data]) => ({ name, size: { raw: data.length, human_readable: `${data.length} Bytes` }, "last-modified": "2026-11-25T04:00:00" }));
        return json(res, 200, { items, total: items.length });
      }
      if (action === "workspace" && method === "GET" && route.length > 3) {
        const rel = route.slice(3).join("/");
        if (/[*?[]/.test(rel) || !wf.files.has(rel)) {
          const dirPrefix = rel.endsWith("/") ? rel : `${rel}/`;
          const matches = [...wf.files.entries()].filter(([n]) => globToRegExp(rel).test(n) || n.startsWith(dirPrefix));
          if (matches.length === 0) return json(res, 404, { message: `${rel} does not exist.` });
          if (matches.length === 1 && /[*?[]/.test(rel)) {
            res.writeHead(200, { "content-type": "application/octet-stream", "content-disposition": `attachment; filename=${path.basename(matches[0][0])}` });
            res.end(matches[0][1]);
            return;
          }
          const zip = makeZip(matches.map(([name, data]) => ({ name, data })));
          res.writeHead(200, { "content-type": "application/zip", "content-disposition": `attachment; filename=${wf.name}.zip`, "content-length": zip.length });
          res.end(zip);
          return;
        }
        const data = wf.files.get(rel)!;
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": data.length, "content-disposition": `attachment; filename=${path.basename(rel)}` });
        res.end(data);
        return;
      }
      if (action === "workspace" && method === "DELETE") {
        const rel = route.slice(3).join("/");
        const deleted: Record<string, { size: number }> = {};
        for (const [n, d] of [...wf.files.entries()]) if (globToRegExp(rel).test(n)) (deleted[n] = { size: d.length }), wf.files.delete(n);
        return json(res, 200, { deleted, failed: {} });
      }
      if (action === "start" && method === "POST") {
        if (wf.status !== "created") return json(res, 403, { message: `Workflow ${fullName} is already ${wf.status} and cannot be started again.` });
        wf.startBody = body.length ? (JSON.parse(body.toString()) as Record<string, unknown>) : {};
        wf.status = "queued";
        if (drop && drop.times-- > 0) {
          req.socket.destroy();
          return;
        }
        return json(res, 200, { message: "Workflow submitted.", workflow_id: wf.id, workflow_name: fullName, status: "queued", run_number: wf.runNumber, user: "u" });
      }
      if (action === "status" && method === "GET") {
        wf.polls++;
        if (wf.status === "queued" && wf.polls >= 1) wf.status = "running";
        else if (wf.status === "running" && wf.polls >= 3) wf.status = (wf.spec as { fail?: boolean }).fail ? "failed" : "finished";
        const finished = wf.status === "finished" ? 2 : wf.status === "running" ? 1 : 0;
        return json(res, 200, {
          id: wf.id,
          name: fullName,
          created: wf.created,
          status: wf.status,
          user: "u",
          logs: "",
          progress: {
            total: { total: 2, job_ids: [] },
            running: { total: wf.status === "running" ? 1 : 0, job_ids: [] },
            finished: { total: finished, job_ids: [] },
            failed: { total: wf.status === "failed" ? 1 : 0, job_ids: wf.status === "failed" ? ["job-2"] : [] },
            current_step_name: wf.status === "running" ? "fit" : null,
            current_command: wf.status === "running" ? "python fit.py" : null,
            run_started_at: "2026-11-25T04:00:00",
            run_finished_at: wf.status === "finished" ? "2026-11-25T04:01:00" : null,
          },
        });
      }
      if (action === "status" && method === "PUT") {
        const target = url.searchParams.get("status");
        if (target === "stop") {
          if (wf.status !== "running" && wf.status !== "queued") return json(res, 403, { message: `${fullName} is not running.` });
          wf.status = "stopped";
          return json(res, 200, { message: "Workflow successfully stopped.", workflow_id: wf.id, workflow_name: fullName, status: "stopped", user: "u" });
        }
        if (target === "deleted") {
          const opts = JSON.parse(body.toString() || "{}") as { workspace?: boolean };
          wf.status = "deleted";
          if (opts.workspace) wf.files.clear();
          return json(res, 200, { message: "Workflow successfully deleted", workflow_id: wf.id, workflow_name: fullName, status: "deleted", user: "u" });
        }
        return json(res, 501, { message: `Status ${target} is not supported yet.` });
      }
      if (action === "logs" && method === "GET") {
        const logs = {
          workflow_logs: "engine: starting\n",
          engine_specific: null,
          job_logs: {
            "job-2": { workflow_uuid: wf.id, job_name: "fit", compute_backend: "Kubernetes", backend_job_id: "b2", docker_img: "root6", cmd: "python fit.py", status: "finished", logs: "fit done\n", started_at: "2026-11-25T04:00:30", finished_at: "2026-11-25T04:00:50" },
            "job-1": { workflow_uuid: wf.id, job_name: "skim", compute_backend: "Kubernetes", backend_job_id: "b1", docker_img: "root6", cmd: "python skim.py", status: "finished", logs: "skimmed 1000 events\n", started_at: "2026-11-25T04:00:00", finished_at: "2026-11-25T04:00:20" },
          },
        };
        return json(res, 200, { workflow_id: wf.id, workflow_name: fullName, user: "u", logs: JSON.stringify(logs) });
      }
      if (action === "specification" && method === "GET") return json(res, 200, { specification: wf.spec, parameters: (wf.spec.inputs as { parameters?: unknown })?.parameters ?? {} });
      if (action === "parameters" && method === "GET") {
        return json(res, 200, { id: wf.id, name: fullName, type: (wf.spec.workflow as { type: string }).type, parameters: (wf.spec.inputs as { parameters?: unknown })?.parameters ?? {} });
      }
    }
    return json(res, 404, { message: `No route for ${method} ${p}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => json(res, 500, { message: String(e) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...state,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
