import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClientError } from "../errors";
import { withRetryListener } from "../http/retry-events";
import { ReanaClient } from "./client";
import { ReanaError } from "./errors";
import { loadReanaSpec } from "./spec";
import { startFakeReana, type FakeReana } from "./__tests__/fake-reana";

const SECRET_VALUE = "s3cr3t-kerberos-keytab-value";

let fake: FakeReana;
let dir: string;
let logLines: string[];

function client(token?: string): ReanaClient {
  return new ReanaClient(
    { serverUrl: fake.url, accessToken: token ?? fake.token },
    { retry: { baseDelayMs: 5, maxDelayMs: 20 }, logger: (level, line) => logLines.push(`${level} ${line}`) },
  );
}

function project(): string {
  const root = path.join(dir, "analysis");
  mkdirSync(path.join(root, "code"), { recursive: true });
  mkdirSync(path.join(root, "data/raw"), { recursive: true });
  writeFileSync(path.join(root, "code/fit.py"), "print('fit')\n");
  writeFileSync(path.join(root, "data/raw/a.csv"), "x,y\n1,2\n");
  writeFileSync(path.join(root, "data/raw/b.csv"), "x,y\n3,4\n");
  symlinkSync("/etc/hostname", path.join(root, "data/raw/link"));
  writeFileSync(
    path.join(root, "reana.yaml"),
    `inputs:
  files: [code/fit.py]
  directories: [data]
  parameters:
    events: 100
workflow:
  type: serial
  specification:
    steps:
      - name: fit
        environment: python:3.10
        commands: ["python code/fit.py --n \${events} > results/fit.txt"]
outputs:
  files: [results/fit.txt]
`,
  );
  return root;
}

beforeAll(async () => {
  fake = await startFakeReana();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "reana-client-"));
  logLines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("ReanaClient against a loopback server checked with the REANA 0.9.11 OpenAPI", () => {
  it("runs the whole API surface; every request matches the OpenAPI document and carries the token only as a query parameter", async () => {
    const c = client();
    const root = project();

    expect(await c.ping()).toMatchObject({ message: "OK" });
    const me = await c.you();
    expect(me).toMatchObject({ email: "jane@example.org", serverVersion: "0.9.4", tokenStatus: "active" });
    expect(JSON.stringify(me)).not.toContain(fake.token);
    expect((await c.info()).compute_backends.value).toEqual(["kubernetes"]);

    const loaded = loadReanaSpec(path.join(root, "reana.yaml"));
    const uploads: string[] = [];
    const run = await c.run(loaded, "fitting", { parameters: { events: 5 }, options: { CACHE: "off" }, onUpload: (p) => p.done && uploads.push(p.file) });
    expect(run.workflowName).toBe("fitting.1");
    expect(run.status).toBe("queued");
    expect(run.uploaded.map((u) => u.name).sort()).toEqual(["code/fit.py", "data/raw/a.csv", "data/raw/b.csv", "reana.yaml"]);
    expect(uploads.sort()).toEqual(["code/fit.py", "data/raw/a.csv", "data/raw/b.csv", "reana.yaml"]);
    const wf = fake.workflows.get(run.workflowId)!;
    expect(wf.spec).toMatchObject({ workflow: { type: "serial", specification: { steps: [{ name: "fit" }] } } });
    expect(wf.startBody).toEqual({ input_parameters: { events: 5 }, operational_options: { CACHE: "off" } });
    expect(wf.files.get("data/raw/a.csv")?.toString()).toBe("x,y\n1,2\n");

    const listed = await c.listWorkflows({ status: ["queued", "running"], search: "fit", sort: "asc", page: 1, size: 10, includeProgress: true, includeWorkspaceSize: true });
    expect(listed.items.map((i) => i.name)).toEqual(["fitting.1"]);
    expect((await c.listWorkflows()).total).toBe(1);

    const updates: string[] = [];
    const final = await c.follow("fitting.1", { intervalMs: 200, onUpdate: (s) => updates.push(`${s.status}:${s.progress.finished}/${s.progress.total}`) });
    expect(final).toMatchObject({ status: "finished", terminal: true, progress: { total: 2, finished: 2 } });
    expect(updates[0]).toBe("running:1/2");
    expect(updates[updates.length - 1]).toBe("finished:2/2");

    const logs = await c.logs("fitting.1");
    expect(logs.workflowLogs).toBe("engine: starting\n");
    expect(logs.jobs.map((j) => [j.step, j.logs])).toEqual([
      ["skim", "skimmed 1000 events\n"],
      ["fit", "fit done\n"],
    ]);
    expect((await c.logs("fitting.1", { steps: ["FIT"] })).jobs.map((j) => j.id)).toEqual(["job-2"]);

    wf.files.set("results/fit.txt", Buffer.from("chi2=1.2\n"));
    wf.files.set("results/plots/a.png", Buffer.from("PNG-A"));
    wf.files.set("results/plots/b.png", Buffer.from("PNG-B"));
    const listing = await c.listWorkspace("fitting.1", { glob: "results/**", page: 1, size: 20 });
    expect(listing.items.map((i) => i.name).sort()).toEqual(["results/fit.txt", "results/plots/a.png", "results/plots/b.png"]);

    const out = path.join(dir, "out");
    const single = await c.download("fitting.1", "results/fit.txt", { dest: path.join(out, "fit.txt") });
    expect(single.unpacked).toBe(false);
    expect(single.files[0].md5).toBe(createHash("md5").update("chi2=1.2\n").digest("hex"));
    expect(readFileSync(path.join(out, "fit.txt"), "utf8")).toBe("chi2=1.2\n");
    const many = await c.download("fitting.1", "results/plots/*.png", { dest: out });
    expect(many.unpacked).toBe(true);
    expect(readFileSync(path.join(out, "results/plots/b.png"), "utf8")).toBe("PNG-B");
    expect(many.files.find((f) => f.name === "results/plots/b.png")?.md5).toBe(createHash("md5").update("PNG-B").digest("hex"));
    const oneMatch = await c.download("fitting.1", "results/*.txt", { dest: path.join(out, "glob") });
    expect(oneMatch.files.map((f) => f.name)).toEqual(["fit.txt"]);
    const folder = await c.download("fitting.1", "results/plots", { dest: path.join(out, "folder") + "/" });
    expect(folder.unpacked).toBe(true);
    expect(readFileSync(path.join(out, "folder/results/plots/a.png"), "utf8")).toBe("PNG-A");
    expect(readdirSync(path.join(out, "folder")).filter((f) => f.includes(".zip") || f.endsWith(".part"))).toEqual([]);

    expect(await c.deleteFiles("fitting.1", "results/plots/*.png")).toMatchObject({ deleted: { "results/plots/a.png": { size: 5 } } });
    expect((await c.specification("fitting.1")).specification.workflow.type).toBe("serial");
    expect((await c.parameters("fitting.1")).parameters).toEqual({ events: 100 });

    const second = await c.createWorkflow(loaded, "fitting");
    expect(second.workflowName).toBe("fitting.2");
    await c.startWorkflow(second.workflowName);
    expect((await c.stopWorkflow("fitting.2", { force: true })).status).toBe("stopped");
    expect((await c.deleteWorkflow("fitting.2")).status).toBe("deleted");
    expect(fake.workflows.get(second.workflowId)?.files.size).toBe(0);

    expect(await c.addSecrets({ KRB5_KEYTAB: { value: SECRET_VALUE, type: "file" }, API_KEY: "plain-value-123" })).toMatchObject({ message: expect.any(String) });
    expect(fake.secrets.get("KRB5_KEYTAB")).toEqual({ type: "file", value: Buffer.from(SECRET_VALUE).toString("base64") });
    expect((await c.listSecrets()).map((s) => s.name).sort()).toEqual(["API_KEY", "KRB5_KEYTAB"]);
    expect(await c.deleteSecrets(["API_KEY"])).toEqual(["API_KEY"]);

    expect(fake.recorder.violations).toEqual([]);
    expect(fake.authViolations).toEqual([]);
    for (const r of fake.seen) {
      if (new URL(r.url, "http://x").pathname !== "/api/ping") expect(new URL(r.url, "http://x").searchParams.get("access_token")).toBe(fake.token);
    }
    expect([...fake.recorder.exercised].sort()).toEqual(
      [
        "GET /api/ping",
        "GET /api/you",
        "GET /api/info",
        "GET /api/workflows",
        "POST /api/workflows",
        "POST /api/workflows/{workflow_id_or_name}/workspace",
        "POST /api/workflows/{workflow_id_or_name}/start",
        "GET /api/workflows/{workflow_id_or_name}/status",
        "PUT /api/workflows/{workflow_id_or_name}/status",
        "GET /api/workflows/{workflow_id_or_name}/logs",
        "GET /api/workflows/{workflow_id_or_name}/workspace",
        "GET /api/workflows/{workflow_id_or_name}/workspace/{file_name}",
        "DELETE /api/workflows/{workflow_id_or_name}/workspace/{file_name}",
        "GET /api/workflows/{workflow_id_or_name}/specification",
        "GET /api/workflows/{workflow_id_or_name}/parameters",
        "GET /api/secrets",
        "POST /api/secrets/",
        "DELETE /api/secrets/",
      ].sort(),
    );
    // Nothing the client logged or sent in a URL that a user might print reveals the token.
    expect(logLines.join("\n")).not.toContain(fake.token);
    await c.close();
  });

  it("maps REANA's error answers to codes with hints", async () => {
    const c = client();
    await expect(client("wrong-token-value-999").listWorkflows()).rejects.toMatchObject({ code: "REANA_AUTH", status: 403, hint: expect.stringContaining("REANA_ACCESS_TOKEN") });
    const noToken = new ReanaClient({ serverUrl: fake.url });
    await expect(noToken.status("x")).rejects.toMatchObject({ code: "REANA_AUTH", message: expect.stringContaining("No REANA access token") });
    expect(await noToken.ping()).toMatchObject({ message: "OK" });
    await expect(c.status("nope")).rejects.toMatchObject({ code: "REANA_NOT_FOUND", status: 404 });

    const root = project();
    const created = await c.createWorkflow(loadReanaSpec(path.join(root, "reana.yaml")), "errs");
    await c.startWorkflow(created.workflowId);
    const again = await c.startWorkflow(created.workflowId).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ReanaError);
    expect(again).toMatchObject({ code: "REANA_REJECTED", status: 403, message: expect.stringContaining("already queued and cannot be started again") });

    await c.addSecrets({ DUP: "value-one-1234" });
    await expect(c.addSecrets({ DUP: "value-two-5678" })).rejects.toMatchObject({ code: "REANA_REJECTED", hint: "Use overwrite to replace it." });
    await c.addSecrets({ DUP: "value-two-5678" }, { overwrite: true });
    await expect(c.deleteSecrets(["NOT_THERE"])).rejects.toMatchObject({ code: "REANA_NOT_FOUND", message: expect.stringContaining("NOT_THERE") });
    await expect(c.stopWorkflow(created.workflowId)).resolves.toMatchObject({ status: "stopped" });
  });

  it("a create whose answer was lost finds the run it made instead of making another; start is never repeated", async () => {
    const c = client();
    const root = project();
    const loaded = loadReanaSpec(path.join(root, "reana.yaml"));
    const before = fake.workflows.size;
    // An older run of that name with another specification is not taken for ours.
    const other = loadReanaSpec(path.join(root, "reana.yaml"));
    (other.specification.workflow.specification as { steps: { commands: string[] }[] }).steps[0].commands = ["echo other"];
    await c.createWorkflow(other, "dropped");
    fake.dropNext.push({ match: /^\/api\/workflows$/, times: 1 });
    const reused = await c.createWorkflow(loaded, "dropped");
    expect(reused.workflowName).toBe("dropped.2");
    expect(fake.workflows.size).toBe(before + 2);
    expect(fake.seen.filter((r) => r.method === "POST" && r.url.startsWith("/api/workflows?")).filter((r) => r.url.includes("dropped"))).toHaveLength(2);

    // 503: nothing was created (the check finds nothing), so it is sent again, once.
    fake.failNext.push({ match: /^\/api\/workflows$/, status: 503, body: "", times: 1 });
    const heard: string[] = [];
    const busy = await withRetryListener((e) => heard.push(`${e.code} ${e.what}`), () => c.createWorkflow(loaded, "busy"));
    expect(heard).toEqual(["HTTP_UNAVAILABLE create workflow busy"]);
    expect(busy.workflowName).toBe("busy.1");
    expect(fake.seen.filter((r) => r.method === "POST" && r.url.includes("workflow_name=busy"))).toHaveLength(2);
    expect([...fake.workflows.values()].filter((w) => w.name === "busy")).toHaveLength(1);

    const created = await c.createWorkflow(loaded, "startdrop");
    fake.dropNext.push({ match: /\/start$/, times: 1 });
    await expect(c.startWorkflow(created.workflowName)).rejects.toMatchObject({ outcomeUnknown: true, hint: expect.stringContaining("status(") });
    expect(fake.seen.filter((r) => r.url.includes(`/workflows/${created.workflowName}/start`))).toHaveLength(1);
  });

  it("run: a local mistake (missing input folder or file, a pipe as input, unknown parameter, bad option) creates nothing", async () => {
    const c = client();
    const root = project();
    const before = fake.workflows.size;
    const posts = () => fake.seen.filter((r) => r.method === "POST").length;
    const sent = posts();
    rmSync(path.join(root, "data"), { recursive: true });
    await expect(c.run(loadReanaSpec(path.join(root, "reana.yaml")), "local")).rejects.toMatchObject({ code: "REANA_SPEC_INVALID", message: expect.stringContaining('Input directory "data"') });
    mkdirSync(path.join(root, "data"));
    rmSync(path.join(root, "code/fit.py"));
    await expect(c.run(loadReanaSpec(path.join(root, "reana.yaml")), "local")).rejects.toMatchObject({ code: "REANA_SPEC_INVALID", message: expect.stringContaining('"code/fit.py" does not exist') });
    execFileSync("mkfifo", [path.join(root, "code/fit.py")]);
    await expect(c.run(loadReanaSpec(path.join(root, "reana.yaml")), "local")).rejects.toMatchObject({ code: "REANA_SPEC_INVALID", message: expect.stringContaining("not a regular file") });
    rmSync(path.join(root, "code/fit.py"));
    writeFileSync(path.join(root, "code/fit.py"), "print('fit')\n");
    await expect(c.run(loadReanaSpec(path.join(root, "reana.yaml")), "local", { parameters: { evnets: 5 } })).rejects.toMatchObject({ code: "REANA_INVALID_REQUEST", message: expect.stringContaining('"evnets"') });
    await expect(c.run(loadReanaSpec(path.join(root, "reana.yaml")), "local", { options: { TRAGET: "fit" } })).rejects.toMatchObject({ code: "REANA_INVALID_REQUEST" });
    await expect(c.run(loadReanaSpec(path.join(root, "reana.yaml")), "lo.cal")).rejects.toMatchObject({ code: "REANA_SPEC_INVALID" });
    expect(fake.workflows.size).toBe(before);
    expect(posts()).toBe(sent);
    // Once fixed, the same call runs.
    await expect(c.run(loadReanaSpec(path.join(root, "reana.yaml")), "local", { parameters: { events: 5 } })).resolves.toMatchObject({ workflowName: "local.1", status: "queued" });
  });

  it("checks parameters, options, compute backends and workspace before acting", async () => {
    const c = client();
    const root = project();
    const loaded = loadReanaSpec(path.join(root, "reana.yaml"));
    const created = await c.createWorkflow(loaded, "checks");
    await expect(c.startWorkflow(created.workflowId, { parameters: { evnets: 5 } })).rejects.toMatchObject({
      code: "REANA_INVALID_REQUEST",
      message: expect.stringContaining('"evnets"'),
      hint: "Declared parameters: events.",
    });
    expect(fake.workflows.get(created.workflowId)?.status).toBe("created");
    const before = fake.workflows.size;
    await expect(c.run(loaded, "badopts", { options: { toplevel: "x" } })).rejects.toMatchObject({ code: "REANA_INVALID_REQUEST", message: 'Operational option "toplevel" not supported for serial workflows.' });
    expect(fake.workflows.size).toBe(before);

    writeFileSync(
      path.join(root, "reana.yaml"),
      "inputs: {}\nworkspace:\n  root_path: /eos/elsewhere\nworkflow:\n  type: serial\n  specification:\n    steps: [{name: s, environment: i, compute_backend: htcondorcern, commands: [ls]}]\n",
    );
    const report = await c.validate(loadReanaSpec(path.join(root, "reana.yaml")));
    expect(report.valid).toBe(false);
    expect(report.errors.map((e) => e.message)).toEqual([
      'Compute backend "htcondorcern" of step "s" is not available on this cluster (available: kubernetes).',
      'Workspace "/eos/elsewhere" is not available on this cluster (available: /var/reana).',
    ]);
  });

  it("accepts a server URL pasted with /api and reports progress of archive downloads", async () => {
    const c = new ReanaClient({ serverUrl: `${fake.url}/api/`, accessToken: fake.token });
    expect(c.serverUrl).toBe(fake.url);
    const created = await c.createWorkflow(loadReanaSpec(path.join(project(), "reana.yaml")), "progress");
    const wf = fake.workflows.get(created.workflowId)!;
    wf.files.set("out/a.bin", Buffer.alloc(1000, 1));
    wf.files.set("out/b.bin", Buffer.alloc(2000, 2));
    const seen: { bytes: number; done: boolean }[] = [];
    const r = await c.download(created.workflowId, "out/*.bin", { dest: path.join(dir, "p"), onProgress: (p) => seen.push(p) });
    expect(r.files.map((f) => [f.name, f.size])).toEqual([["out/a.bin", 1000], ["out/b.bin", 2000]]);
    expect(seen[seen.length - 1]).toMatchObject({ done: true });
    expect(seen[seen.length - 1].bytes).toBeGreaterThan(3000);
  });

  it("retries idempotent reads through a 503 burst", async () => {
    const c = client();
    const created = await c.createWorkflow(loadReanaSpec(path.join(project(), "reana.yaml")), "bursty");
    fake.failNext.push({ match: /\/status$/, status: 503, body: '{"message":"busy"}', times: 2 });
    const s = await c.status(created.workflowId);
    expect(s.status).toBe("created");
  });

  it("turns a malformed answer into a typed error", async () => {
    const c = client();
    fake.failNext.push({ match: /^\/api\/you$/, status: 200, body: '{"email": 42, "quota": "lots"}', times: 1 });
    const e = await c.you().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ReanaError);
    expect(e).toMatchObject({ code: "HTTP_MALFORMED_RESPONSE" });
    fake.failNext.push({ match: /\/logs$/, status: 200, body: '{"workflow_id":"a","workflow_name":"b","logs":"{not json"}', times: 1 });
    const created = await c.createWorkflow(loadReanaSpec(path.join(project(), "reana.yaml")), "badlogs");
    await expect(c.logs(created.workflowId)).rejects.toMatchObject({ code: "HTTP_MALFORMED_RESPONSE" });
  });

  it("refuses unsafe upload and download paths before sending anything", async () => {
    const c = client();
    const created = await c.createWorkflow(loadReanaSpec(path.join(project(), "reana.yaml")), "paths");
    const file = path.join(dir, "x.txt");
    writeFileSync(file, "x");
    const n = fake.seen.length;
    await expect(c.uploadFile(created.workflowId, file, "../escape.txt")).rejects.toMatchObject({ code: "REANA_UNSAFE_PATH" });
    await expect(c.uploadFile(created.workflowId, file, "/etc/passwd")).rejects.toMatchObject({ code: "REANA_UNSAFE_PATH" });
    await expect(c.download(created.workflowId, "../../etc/passwd", { dest: dir })).rejects.toMatchObject({ code: "REANA_UNSAFE_PATH" });
    expect(fake.seen.length).toBe(n);

    const root = path.join(dir, "outside-inputs");
    mkdirSync(root);
    writeFileSync(path.join(root, "reana.yaml"), "inputs:\n  files: [../x.txt]\nworkflow:\n  type: serial\n  specification:\n    steps: [{environment: i, commands: [ls]}]\n");
    await expect(c.uploadInputs(created.workflowId, loadReanaSpec(path.join(root, "reana.yaml")))).rejects.toMatchObject({ code: "REANA_UNSAFE_PATH" });
  });

  it("leaves no partial file when a download fails", async () => {
    const c = client();
    const created = await c.createWorkflow(loadReanaSpec(path.join(project(), "reana.yaml")), "dl");
    const dest = path.join(dir, "missing.root");
    await expect(c.download(created.workflowId, "results/missing.root", { dest })).rejects.toMatchObject({ code: "REANA_NOT_FOUND" });
    expect(existsSync(dest)).toBe(false);
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it("follow() ends on abort, and can throw on a failed run", async () => {
    const c = client();
    const loaded = loadReanaSpec(path.join(project(), "reana.yaml"));
    const created = await c.createWorkflow(loaded, "aborted");
    await c.startWorkflow(created.workflowId);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(c.follow(created.workflowId, { intervalMs: 10_000, signal: ac.signal })).rejects.toMatchObject({ code: "HTTP_ABORTED" });

    const failing = await c.createWorkflow(loaded, "failing");
    (fake.workflows.get(failing.workflowId)!.spec as { fail?: boolean }).fail = true;
    await c.startWorkflow(failing.workflowId);
    await expect(c.follow(failing.workflowId, { intervalMs: 200, throwOnFailure: true })).rejects.toMatchObject({
      code: "REANA_WORKFLOW_FAILED",
      message: expect.stringContaining("job-2"),
    });
  });

  it("keeps the token and secret values out of every error, hint, URL and log line", async () => {
    const errors: unknown[] = [];
    const collect = (p: Promise<unknown>) => p.catch((e: unknown) => errors.push(e));
    const bad = client("wrong-token-value-999");
    const good = client();
    await collect(bad.listWorkflows());
    await collect(bad.you());
    await collect(bad.addSecrets({ X1: SECRET_VALUE }));
    await good.addSecrets({ LEAK_CHECK: SECRET_VALUE });
    await collect(good.addSecrets({ LEAK_CHECK: SECRET_VALUE }));
    await collect(good.status("does-not-exist"));
    fake.failNext.push({ match: /^\/api\/you$/, status: 500, body: `{"message":"boom ${fake.token}"}`, times: 1 });
    await collect(good.you());
    const unreachable = new ReanaClient({ serverUrl: "http://127.0.0.1:1", accessToken: fake.token }, { retry: { retries: 0 } });
    await collect(unreachable.listWorkflows());
    expect(errors.length).toBeGreaterThanOrEqual(6);
    for (const e of errors) {
      expect(e).toBeInstanceOf(ClientError);
      const text = [String(e), (e as Error).stack, JSON.stringify(e), (e as ClientError).hint, (e as ClientError).url, String((e as Error).cause)].join("\n");
      for (const secret of [fake.token, "wrong-token-value-999", SECRET_VALUE, Buffer.from(SECRET_VALUE).toString("base64")]) {
        expect(text).not.toContain(secret);
      }
    }
    expect(logLines.join("\n")).not.toContain(fake.token);
    expect(logLines.join("\n")).not.toContain(SECRET_VALUE);
  });
});
