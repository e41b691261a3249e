import { startHarness, type Harness } from "./serve";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Tiny raw-HTTP helpers for the sandbox service tests (deliberately not the product clients). */

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
  bytes: Uint8Array;
}

export async function call(
  base: string,
  method: string,
  route: string,
  options: { query?: Record<string, string | string[]>; json?: unknown; body?: Uint8Array | string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const url = new URL(base + route);
  for (const [k, v] of Object.entries(options.query ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
  }
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body: Uint8Array | string | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["Content-Type"] ??= "application/json";
  }
  const res = await fetch(url, { method, headers, body });
  const bytes = new Uint8Array(await res.arrayBuffer());
  let parsed: unknown = undefined;
  if ((res.headers.get("content-type") ?? "").includes("json") && bytes.length > 0) parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  return { status: res.status, headers: res.headers, body: parsed, bytes };
}

export interface TestSandbox extends Harness {
  dataDir: string;
  reana(method: string, route: string, options?: Parameters<typeof call>[3]): Promise<Reply>;
  zenodo(method: string, route: string, options?: Parameters<typeof call>[3]): Promise<Reply>;
  dispose(): Promise<void>;
}

export async function testSandbox(dataDir = mkdtempSync(path.join(os.tmpdir(), "vre-sbx-"))): Promise<TestSandbox> {
  const h = await startHarness(dataDir);
  return {
    ...h,
    dataDir,
    reana: (method, route, options = {}) =>
      call(`${h.url}/reana`, method, route, { ...options, query: { access_token: h.reanaToken, ...(options.query ?? {}) } }),
    zenodo: (method, route, options = {}) =>
      call(`${h.url}/zenodo`, method, route, { ...options, headers: { Authorization: `Bearer ${h.zenodoToken}`, ...(options.headers ?? {}) } }),
    async dispose() {
      await h.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 15000, what = "condition"): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates a workflow, uploads `files` into its workspace and, with `start`, starts it; returns its id. */
export async function createWorkflow(
  sbx: TestSandbox,
  name: string,
  body: Record<string, unknown>,
  files: Record<string, string> = {},
  options: { start?: boolean } = {},
): Promise<string> {
  const created = await sbx.reana("POST", "/api/workflows", { query: { workflow_name: name }, json: body });
  if (created.status !== 201) throw new Error(`creating ${name} answered ${created.status}: ${JSON.stringify(created.body)}`);
  const id = (created.body as { workflow_id: string }).workflow_id;
  for (const [file, text] of Object.entries(files)) {
    const up = await sbx.reana("POST", `/api/workflows/${id}/workspace`, {
      query: { file_name: file },
      body: text,
      headers: { "Content-Type": "application/octet-stream" },
    });
    if (up.status !== 200) throw new Error(`uploading ${file} answered ${up.status}: ${JSON.stringify(up.body)}`);
  }
  if (options.start) {
    const started = await sbx.reana("POST", `/api/workflows/${id}/start`, { json: {} });
    if (started.status !== 200) throw new Error(`starting ${name} answered ${started.status}: ${JSON.stringify(started.body)}`);
  }
  return id;
}
