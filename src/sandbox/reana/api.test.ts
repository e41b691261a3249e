import { readdirSync } from "node:fs";
import { request } from "node:http";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request as undiciRequest } from "undici";
import yauzl from "yauzl";
import { call, testSandbox, waitFor, type Reply, type TestSandbox } from "./__tests__/client";
import { checkResponse } from "./__tests__/openapi";

/** The emulated REANA 0.9 REST API, checked against the REANA 0.9.11 OpenAPI document over real HTTP. */

let sbx: TestSandbox;
const previousRuntime = process.env.VRE_SANDBOX_CONTAINER_RUNTIME;
beforeAll(async () => {
  process.env.VRE_SANDBOX_CONTAINER_RUNTIME = "none"; // host shell, whatever daemons the machine has
  sbx = await testSandbox();
});
afterAll(async () => {
  await sbx.dispose();
  if (previousRuntime === undefined) delete process.env.VRE_SANDBOX_CONTAINER_RUNTIME;
  else process.env.VRE_SANDBOX_CONTAINER_RUNTIME = previousRuntime;
});

function expectSpec(method: string, path: string, reply: Reply, optional: string[] = []): void {
  expect(checkResponse(method, path, reply.status, reply.body, optional)).toEqual([]);
}

const SPEC = {
  version: "0.9.0",
  inputs: { files: ["code/hello.sh"], parameters: { who: "world", times: 2 } },
  workflow: {
    type: "serial",
    specification: {
      steps: [
        { name: "greet", environment: "docker.io/library/python:3.12-slim", commands: ["mkdir -p out && echo hello ${who} x$times > out/greeting.txt"] },
        { name: "count", environment: "docker.io/library/python:3.12-slim", commands: ["wc -c out/greeting.txt > out/count.txt"] },
      ],
    },
  },
  outputs: { files: ["out/greeting.txt", "out/count.txt"] },
};

async function create(name: string, spec: unknown = SPEC): Promise<{ workflow_id: string; workflow_name: string }> {
  const r = await sbx.reana("POST", "/api/workflows", { query: { workflow_name: name }, json: spec });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  expectSpec("POST", "/api/workflows", r);
  return r.body as { workflow_id: string; workflow_name: string };
}

async function finished(id: string): Promise<Record<string, unknown>> {
  return waitFor(async () => {
    const r = await sbx.reana("GET", `/api/workflows/${id}/status`);
    const body = r.body as { status: string };
    return ["finished", "failed", "stopped"].includes(body.status) ? (r.body as Record<string, unknown>) : undefined;
  }, 20000, `workflow ${id} to end`);
}

describe("authentication (token only as ?access_token=)", () => {
  it("answers 401 without a token, 403 with a wrong one, and ignores Authorization headers", async () => {
    const none = await call(`${sbx.url}/reana`, "GET", "/api/you");
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ message: "User not signed in" });
    expectSpec("GET", "/api/you", none);
    const bad = await call(`${sbx.url}/reana`, "GET", "/api/you", { query: { access_token: "nope" } });
    expect(bad.status).toBe(403);
    expect(bad.body).toEqual({ message: "Token not valid." });
    const bearer = await call(`${sbx.url}/reana`, "GET", "/api/workflows", {
      query: { type: "batch" },
      headers: { Authorization: `Bearer ${sbx.reanaToken}` },
    });
    expect(bearer.status).toBe(401);
  });

  it("serves /api/ping without a token", async () => {
    const r = await call(`${sbx.url}/reana`, "GET", "/api/ping");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ message: "OK", status: "200" });
    expectSpec("GET", "/api/ping", r);
  });
});

describe("user and server information", () => {
  it("/api/you has the user, version, token and quota", async () => {
    const r = await sbx.reana("GET", "/api/you");
    expect(r.status).toBe(200);
    expectSpec("GET", "/api/you", r, ["quota.cpu.limit", "quota.disk.limit"]);
    const body = r.body as { reana_server_version: string; quota: { disk: { usage: { raw: number } } } };
    expect(body.reana_server_version).toMatch(/^0\.9\./);
    expect(typeof body.quota.disk.usage.raw).toBe("number");
  });

  it("/api/info lists every documented setting as {title, value}", async () => {
    const r = await sbx.reana("GET", "/api/info");
    expect(r.status).toBe(200);
    expectSpec("GET", "/api/info", r);
    expect((r.body as { compute_backends: { value: string[] } }).compute_backends.value).toContain("kubernetes");
  });
});

describe("workflow creation and validation", () => {
  it("creates runs name.1, name.2 and lists them with filters, search, sort and pages", async () => {
    const a = await create("listing");
    const b = await create("listing");
    expect(a.workflow_name).toBe("listing.1");
    expect(b.workflow_name).toBe("listing.2");
    const all = await sbx.reana("GET", "/api/workflows", {
      query: { type: "batch", include_progress: "true", search: JSON.stringify({ name: ["listing"] }) },
    });
    expect(all.status).toBe(200);
    expectSpec("GET", "/api/workflows", all, ["items[].session_status", "items[].session_type", "items[].session_uri"]);
    const names = (all.body as { items: { name: string }[] }).items.map((i) => i.name);
    expect(names).toEqual(["listing.2", "listing.1"]);
    const asc = await sbx.reana("GET", "/api/workflows", {
      query: { type: "batch", sort: "asc", search: JSON.stringify({ name: ["listing"] }), page: "1", size: "1", include_progress: "true" },
    });
    const page = asc.body as { items: { name: string; progress: { total: unknown } }[]; total: number };
    expect(page.total).toBe(2);
    expect(page.items.map((i) => i.name)).toEqual(["listing.1"]);
    expect(page.items[0]!.progress.total).toEqual({ total: 0, job_ids: [] });
    const created = await sbx.reana("GET", "/api/workflows", { query: { type: "batch", status: ["created", "queued"] } });
    expect((created.body as { items: { status: string }[] }).items.every((i) => i.status === "created" || i.status === "queued")).toBe(true);
    const badSize = await sbx.reana("GET", "/api/workflows", { query: { type: "batch", size: "0" } });
    expect(badSize.status).toBe(400);
    expect(badSize.body).toEqual({ message: "Field 'size': Must be at least 1." });
    const noType = await sbx.reana("GET", "/api/workflows");
    expect(noType.status).toBe(400);
    const badSearch = await sbx.reana("GET", "/api/workflows", { query: { type: "batch", search: "{name" } });
    expect(badSearch.status).toBe(400);
  });

  it("refuses names with a dot or a UUID, and invalid specifications, with 400 {message}", async () => {
    const dotted = await sbx.reana("POST", "/api/workflows", { query: { workflow_name: "my.flow" }, json: SPEC });
    expect(dotted.status).toBe(400);
    expect((dotted.body as { message: string }).message).toContain('illegal character "."');
    expectSpec("POST", "/api/workflows", dotted);
    const uuid = await sbx.reana("POST", "/api/workflows", { query: { workflow_name: "2f2d8a0e-9a57-4e0f-9d0c-5a6f8f0b1c2d" }, json: SPEC });
    expect(uuid.body).toEqual({ message: "Workflow name cannot be a valid UUIDv4." });
    const noSteps = await sbx.reana("POST", "/api/workflows", {
      query: { workflow_name: "bad" },
      json: { workflow: { type: "serial", specification: { steps: [] } } },
    });
    expect(noSteps.status).toBe(400);
    expect((noSteps.body as { message: string }).message).toBe(
      "REANA specification is invalid: [] is too short (in workflow.specification.steps).",
    );
    const noWorkflow = await sbx.reana("POST", "/api/workflows", { query: { workflow_name: "bad" }, json: { inputs: {} } });
    expect((noWorkflow.body as { message: string }).message).toContain("'workflow' is a required property");
    const badType = await sbx.reana("POST", "/api/workflows", {
      query: { workflow_name: "bad" },
      json: { workflow: { type: "make", specification: {} } },
    });
    expect((badType.body as { message: string }).message).toContain("'make' is not one of");
    const badOption = await sbx.reana("POST", "/api/workflows", {
      query: { workflow_name: "bad" },
      json: { ...SPEC, inputs: { options: { REPORT: "x" } } },
    });
    expect(badOption.status).toBe(400);
    expect((badOption.body as { message: string }).message).toContain("Operational option REPORT not supported");
    const notJson = await sbx.reana("POST", "/api/workflows", {
      query: { workflow_name: "bad" },
      body: "{not json",
      headers: { "Content-Type": "application/json" },
    });
    expect(notJson.status).toBe(400);
  });

  it("treats unknown top-level keys as warnings, like reana-commons", async () => {
    const r = await create("extra", { ...SPEC, comment: "not in the schema" });
    const status = await sbx.reana("GET", `/api/workflows/${r.workflow_id}/status`);
    expect((status.body as { logs: string }).logs).toContain("Unknown property 'comment'");
  });

  it("returns parameters and specification", async () => {
    const wf = await create("introspect");
    const params = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/parameters`);
    expectSpec("GET", "/api/workflows/{workflow_id_or_name}/parameters", params);
    expect(params.body).toMatchObject({ id: wf.workflow_id, name: "introspect.1", type: "serial", parameters: { who: "world", times: 2 } });
    const spec = await sbx.reana("GET", `/api/workflows/introspect/specification`);
    // The specification is echoed as submitted: sections the user left out stay absent.
    expectSpec("GET", "/api/workflows/{workflow_id_or_name}/specification", spec, [
      "specification.inputs.directories",
      "specification.inputs.options",
      "specification.outputs.directories",
      "specification.workflow.file",
    ]);
    expect((spec.body as { specification: unknown }).specification).toEqual(SPEC);
    const missing = await sbx.reana("GET", "/api/workflows/nope/status");
    expect(missing.status).toBe(404);
    expectSpec("GET", "/api/workflows/{workflow_id_or_name}/status", missing);
  });
});

describe("workspace", () => {
  it("uploads (octet-stream only), lists, downloads single files and zips, deletes", async () => {
    const wf = await create("files");
    const up = await sbx.reana("POST", `/api/workflows/${wf.workflow_id}/workspace`, {
      query: { file_name: "code/hello.sh" },
      body: "echo hi\n",
      headers: { "Content-Type": "application/octet-stream" },
    });
    expect(up.status).toBe(200);
    expectSpec("POST", "/api/workflows/{workflow_id_or_name}/workspace", up);
    await sbx.reana("POST", `/api/workflows/${wf.workflow_id}/workspace`, {
      query: { file_name: "data/a.csv" },
      body: "x,y\n1,2\n",
      headers: { "Content-Type": "application/octet-stream" },
    });
    const wrongType = await sbx.reana("POST", `/api/workflows/${wf.workflow_id}/workspace`, {
      query: { file_name: "x.txt" },
      body: "abc",
      headers: { "Content-Type": "text/plain" },
    });
    expect(wrongType.status).toBe(400);
    expect((wrongType.body as { message: string }).message).toContain("Wrong Content-Type");
    for (const escape of ["../outside.txt", "/etc/passwd", "a/../../b"]) {
      const r = await sbx.reana("POST", `/api/workflows/${wf.workflow_id}/workspace`, {
        query: { file_name: escape },
        body: "x",
        headers: { "Content-Type": "application/octet-stream" },
      });
      expect(r.status, escape).toBe(400);
    }
    // An upload cut off by the client leaves neither the file nor a temporary behind.
    await new Promise<void>((resolve) => {
      const req = request(`${sbx.url}/reana/api/workflows/${wf.workflow_id}/workspace?file_name=cut.bin&access_token=${sbx.reanaToken}`, {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream", "Content-Length": String(1024 * 1024) },
      });
      req.on("error", () => resolve());
      req.write(Buffer.alloc(128 * 1024));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    await waitFor(async () => (readdirSync(path.join(sbx.dataDir, "reana", "staging")).length === 0 ? true : undefined), 5000, "staging cleanup");

    const list = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/workspace`);
    expectSpec("GET", "/api/workflows/{workflow_id_or_name}/workspace", list);
    const items = (list.body as { items: { name: string; size: { raw: number; human_readable: string } }[] }).items;
    expect(items.map((i) => i.name)).toEqual(["code/hello.sh", "data/a.csv"]);
    expect(items[0]!.size).toEqual({ raw: 8, human_readable: "8 Bytes" });
    const glob = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/workspace`, { query: { file_name: "data/*.csv" } });
    expect((glob.body as { total: number }).total).toBe(1);
    const paged = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/workspace`, { query: { page: "2", size: "1" } });
    expect((paged.body as { items: { name: string }[]; total: number }).items.map((i) => i.name)).toEqual(["data/a.csv"]);
    const searched = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/workspace`, { query: { search: JSON.stringify({ name: ["hello"] }) } });
    expect((searched.body as { total: number }).total).toBe(1);

    const one = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/workspace/${encodeURIComponent("data/a.csv")}`);
    expect(one.status).toBe(200);
    expect(Buffer.from(one.bytes).toString()).toBe("x,y\n1,2\n");
    expect(one.headers.get("content-disposition")).toContain("a.csv");
    const zip = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/workspace/${encodeURIComponent("**/*.*")}`);
    expect(zip.headers.get("content-type")).toBe("application/zip");
    expect(zip.headers.get("content-disposition")).toContain("files.1.zip");
    expect(await zipEntries(zip.bytes)).toEqual(["code/hello.sh", "data/a.csv"]);
    const absent = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/workspace/nothing.txt`);
    expect(absent.status).toBe(404);
    expectSpec("GET", "/api/workflows/{workflow_id_or_name}/workspace/{file_name}", absent);

    const del = await sbx.reana("DELETE", `/api/workflows/${wf.workflow_id}/workspace/data/a.csv`);
    expect(del.status).toBe(200);
    expectSpec("DELETE", "/api/workflows/{workflow_id_or_name}/workspace/{file_name}", del);
    expect(del.body).toEqual({ deleted: { "data/a.csv": { size: 8 } }, failed: {} });
    const again = await sbx.reana("DELETE", `/api/workflows/${wf.workflow_id}/workspace/data/a.csv`);
    expect(again.status).toBe(404);
  });
});

describe("workspace maintenance", () => {
  it("moves files, lists retention rules and prunes everything but inputs and outputs", async () => {
    const wf = await create("maintenance", { ...SPEC, workspace: { retention_days: { "tmp/*": 1 } } });
    const put = async (name: string) =>
      sbx.reana("POST", `/api/workflows/${wf.workflow_id}/workspace`, {
        query: { file_name: name },
        body: name,
        headers: { "Content-Type": "application/octet-stream" },
      });
    for (const name of ["code/hello.sh", "tmp/scratch.txt", "out/greeting.txt", "notes.txt"]) await put(name);
    const moved = await sbx.reana("PUT", `/api/workflows/move_files/${wf.workflow_id}`, { query: { source: "notes.txt", target: "doc/notes.txt" } });
    expect(moved.status).toBe(200);
    expectSpec("PUT", "/api/workflows/move_files/{workflow_id_or_name}", moved);
    const missing = await sbx.reana("PUT", `/api/workflows/move_files/${wf.workflow_id}`, { query: { source: "nope", target: "x" } });
    expect(missing.status).toBe(409);
    const rules = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/retention_rules`);
    expect(rules.status).toBe(200);
    expect((rules.body as { retention_rules: { workspace_files: string; retention_days: number }[] }).retention_rules).toMatchObject([
      { workspace_files: "tmp/*", retention_days: 1 },
    ]);
    const pruned = await sbx.reana("POST", `/api/workflows/${wf.workflow_id}/prune`);
    expect(pruned.status).toBe(200);
    expectSpec("POST", "/api/workflows/{workflow_id_or_name}/prune", pruned);
    const left = (await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/workspace`)).body as { items: { name: string }[] };
    expect(left.items.map((i) => i.name)).toEqual(["code/hello.sh", "out/greeting.txt"]);
  });
});

describe("runs through the API", () => {
  it("starts only from created, reports status/progress/logs in REANA's shapes, deletes with the workspace", async () => {
    const wf = await create("lifecycle");
    const start = await sbx.reana("POST", `/api/workflows/${wf.workflow_id}/start`, { json: { input_parameters: { who: "sandbox" } } });
    expect(start.status).toBe(200);
    expectSpec("POST", "/api/workflows/{workflow_id_or_name}/start", start);
    expect(start.body).toMatchObject({ message: "Workflow submitted.", status: "queued", workflow_name: "lifecycle.1", run_number: 1 });
    const status = await finished(wf.workflow_id);
    expect(status.status).toBe("finished");
    const statusReply = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/status`);
    expectSpec("GET", "/api/workflows/{workflow_id_or_name}/status", statusReply);
    const progress = (statusReply.body as { progress: Record<string, { total: number; job_ids: string[] }> }).progress;
    expect(progress.total!.total).toBe(2);
    expect(progress.finished!.total).toBe(2);
    expect(progress.failed).toEqual({ total: 0, job_ids: [] });

    const again = await sbx.reana("POST", `/api/workflows/${wf.workflow_id}/start`);
    expect(again.status).toBe(403);
    expect((again.body as { message: string }).message).toBe("Workflow lifecycle.1 is already finished and cannot be started again.");

    const logs = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/logs`);
    expectSpec("GET", "/api/workflows/{workflow_id_or_name}/logs", logs);
    const parsed = JSON.parse((logs.body as { logs: string }).logs) as {
      workflow_logs: string;
      engine_specific: unknown;
      job_logs: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(parsed).sort()).toEqual(["engine_specific", "job_logs", "workflow_logs"]);
    const jobs = Object.values(parsed.job_logs);
    expect(jobs).toHaveLength(2);
    for (const job of jobs) {
      expect(Object.keys(job).sort()).toEqual(
        ["backend_job_id", "cmd", "compute_backend", "docker_img", "finished_at", "job_name", "logs", "started_at", "status", "workflow_uuid"].sort(),
      );
    }
    expect(jobs[0]).toMatchObject({ job_name: "greet", status: "finished", docker_img: "docker.io/library/python:3.12-slim", cmd: "mkdir -p out && echo hello sandbox x2 > out/greeting.txt" });
    // Step filter as a JSON array in the GET body, as reana-client sends it.
    const filtered = await undiciRequest(`${sbx.url}/reana/api/workflows/${wf.workflow_id}/logs?access_token=${sbx.reanaToken}`, {
      method: "GET",
      body: JSON.stringify(["count"]),
      headers: { "Content-Type": "application/json" },
    });
    const filteredBody = (await filtered.body.json()) as { logs: string };
    const onlyCount = JSON.parse(filteredBody.logs) as { job_logs: Record<string, { job_name: string }> };
    expect(Object.values(onlyCount.job_logs).map((j) => j.job_name)).toEqual(["count"]);
    const greeting = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/workspace/out/greeting.txt`);
    expect(Buffer.from(greeting.bytes).toString()).toBe("hello sandbox x2\n");

    const del = await sbx.reana("PUT", `/api/workflows/${wf.workflow_id}/status`, { query: { status: "deleted" }, json: { workspace: true } });
    expect(del.status).toBe(200);
    expectSpec("PUT", "/api/workflows/{workflow_id_or_name}/status", del);
    expect(del.body).toMatchObject({ status: "deleted", workflow_name: "lifecycle.1" });
    const gone = await sbx.reana("GET", `/api/workflows/${wf.workflow_id}/workspace`);
    expect(gone.status).toBe(404);
    const listed = await sbx.reana("GET", "/api/workflows", { query: { type: "batch", status: "deleted" } });
    expect((listed.body as { items: { id: string }[] }).items.map((i) => i.id)).toContain(wf.workflow_id);
    const resume = await sbx.reana("PUT", `/api/workflows/${wf.workflow_id}/status`, { query: { status: "resume" } });
    expect(resume.status).toBe(501);
    expect(resume.body).toEqual({ message: "Status resume is not supported yet." });
  });

  it("creates Yadage workflows but refuses to run them with a clear message (no packaged engine)", async () => {
    const wf = await create("yadflow", { workflow: { type: "yadage", specification: { stages: [] } } });
    const start = await sbx.reana("POST", `/api/workflows/${wf.workflow_id}/start`);
    expect(start.status).toBe(501);
    expect((start.body as { message: string }).message).toContain("cannot run Yadage workflows");
  });
});

describe("secrets", () => {
  it("adds (409 on clash unless overwrite), lists without values, deletes (404 with unknown names)", async () => {
    const add = await sbx.reana("POST", "/api/secrets/", {
      json: { API_KEY: { name: "API_KEY", value: Buffer.from("s3cr3t").toString("base64"), type: "env" } },
    });
    expect(add.status).toBe(201);
    expectSpec("POST", "/api/secrets/", add);
    const clash = await sbx.reana("POST", "/api/secrets/", {
      json: { API_KEY: { name: "API_KEY", value: "eA==", type: "env" } },
    });
    expect(clash.status).toBe(409);
    expect(clash.body).toEqual({ message: "The submitted secrets API_KEY already exist." });
    const over = await sbx.reana("POST", "/api/secrets/", {
      query: { overwrite: "True" },
      json: { API_KEY: { name: "API_KEY", value: "eA==", type: "env" } },
    });
    expect(over.status).toBe(201);
    const list = await sbx.reana("GET", "/api/secrets");
    expectSpec("GET", "/api/secrets", list);
    expect(list.body).toEqual([{ name: "API_KEY", type: "env" }]);
    expect(Buffer.from(list.bytes).toString()).not.toContain("eA==");
    const unknown = await sbx.reana("DELETE", "/api/secrets/", { json: ["API_KEY", "NOPE"] });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(["NOPE"]);
    const del = await sbx.reana("DELETE", "/api/secrets/", { json: ["API_KEY"] });
    expect(del.status).toBe(200);
    expectSpec("DELETE", "/api/secrets/", del);
    expect(del.body).toEqual(["API_KEY"]);
  });
});

async function zipEntries(bytes: Uint8Array): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(Buffer.from(bytes), { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const names: string[] = [];
      zip.on("entry", (e: yauzl.Entry) => {
        names.push(e.fileName);
        zip.readEntry();
      });
      zip.on("end", () => resolve(names.sort()));
      zip.on("error", reject);
      zip.readEntry();
    });
  });
}
