import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testSandbox, waitFor, type TestSandbox } from "./__tests__/client";

/**
 * With a container runtime, each job runs in its step's image through the runtime's CLI. No daemon runs on the
 * test machines, so a stand-in `docker` executable records its arguments and runs the job's `bash -c` command;
 * this pins the exact command line the sandbox hands to docker/podman.
 */

let sbx: TestSandbox;
let binDir: string;
let argLog: string;
const saved = { PATH: process.env.PATH, runtime: process.env.VRE_SANDBOX_CONTAINER_RUNTIME };

beforeAll(async () => {
  binDir = mkdtempSync(path.join(os.tmpdir(), "vre-fake-docker-"));
  argLog = path.join(binDir, "calls.log");
  const script = `#!/bin/bash
printf '%s\\n' "$*" >> ${JSON.stringify(argLog)}
case "$1" in
  info) echo '{}'; exit 0 ;;
  kill|stop) exit 0 ;;
  run)
    shift
    while [ $# -gt 0 ]; do
      case "$1" in --rm) shift ;; --name|-v|-w|--user|-e) shift 2 ;; *) break ;; esac
    done
    echo "[image $1]"
    shift
    exec "$@" ;;
esac
exit 1
`;
  writeFileSync(path.join(binDir, "docker"), script);
  chmodSync(path.join(binDir, "docker"), 0o755);
  process.env.PATH = `${binDir}:${process.env.PATH ?? ""}`;
  process.env.VRE_SANDBOX_CONTAINER_RUNTIME = "docker";
  sbx = await testSandbox();
});

afterAll(async () => {
  await sbx.dispose();
  process.env.PATH = saved.PATH;
  if (saved.runtime === undefined) delete process.env.VRE_SANDBOX_CONTAINER_RUNTIME;
  else process.env.VRE_SANDBOX_CONTAINER_RUNTIME = saved.runtime;
  rmSync(binDir, { recursive: true, force: true });
});

describe("jobs in container images", () => {
  it("runs `docker run --rm -v WS:WS -w WS --user UID:GID -e SECRET IMAGE bash -c 'cd WS && CMD'`", async () => {
    await sbx.reana("POST", "/api/secrets/", { json: { TOKEN_A: { name: "TOKEN_A", value: Buffer.from("v").toString("base64"), type: "env" } } });
    const created = await sbx.reana("POST", "/api/workflows", {
      query: { workflow_name: "contained" },
      json: { workflow: { type: "serial", specification: { steps: [{ name: "s", environment: "docker.io/library/python:3.12-slim", commands: ["echo in-image > f.txt"] }] } } },
    });
    const id = (created.body as { workflow_id: string }).workflow_id;
    await sbx.reana("POST", `/api/workflows/${id}/start`);
    const status = await waitFor(async () => {
      const s = (await sbx.reana("GET", `/api/workflows/${id}/status`)).body as { status: string; logs: string };
      return ["finished", "failed"].includes(s.status) ? s : undefined;
    });
    expect(status.status, status.logs).toBe("finished");
    expect(status.logs).toContain("Jobs run in their step images with docker");
    expect(status.logs).not.toContain("NOT used");
    const ws = path.join(sbx.dataDir, "reana", "workspaces", id);
    expect(readFileSync(path.join(ws, "f.txt"), "utf8")).toBe("in-image\n");
    const run = readFileSync(argLog, "utf8").split("\n").find((l) => l.startsWith("run "))!;
    const uid = `${process.getuid!()}:${process.getgid!()}`;
    expect(run).toMatch(new RegExp(`^run --rm --name reana-sandbox-run-job-[0-9a-f-]{36} -v ${ws}:${ws} -w ${ws} --user ${uid} -e TOKEN_A docker.io/library/python:3.12-slim bash -c cd ${ws} && echo in-image > f.txt$`));
    const logs = JSON.parse(((await sbx.reana("GET", `/api/workflows/${id}/logs`)).body as { logs: string }).logs) as {
      job_logs: Record<string, { backend_job_id: string; logs: string }>;
    };
    const job = Object.values(logs.job_logs)[0]!;
    expect(job.backend_job_id).toMatch(/^reana-sandbox-run-job-/);
    expect(job.logs).toContain("[image docker.io/library/python:3.12-slim]");
  });
});

describe("stopping jobs in container images", () => {
  /** Starts a containerized step that ignores SIGTERM and returns the run id and the job's container name. */
  async function stubborn(name: string): Promise<{ id: string; container: string }> {
    const created = await sbx.reana("POST", "/api/workflows", {
      query: { workflow_name: name },
      json: { workflow: { type: "serial", specification: { steps: [{ name: "s", environment: "docker.io/library/bash:5.2", commands: ["trap '' TERM; echo ready; sleep 64"] }] } } },
    });
    const id = (created.body as { workflow_id: string }).workflow_id;
    await sbx.reana("POST", `/api/workflows/${id}/start`);
    const job = await waitFor(async () => {
      const logs = JSON.parse(((await sbx.reana("GET", `/api/workflows/${id}/logs`)).body as { logs: string }).logs) as {
        job_logs: Record<string, { backend_job_id: string; logs: string }>;
      };
      const j = Object.values(logs.job_logs)[0];
      return j?.logs.includes("ready") ? j : undefined;
    });
    return { id, container: job.backend_job_id };
  }
  const calls = () => readFileSync(argLog, "utf8").split("\n");

  it("a normal stop asks the runtime to stop the container with the grace period; a forced stop kills it at once", async () => {
    const normal = await stubborn("contained-stop");
    const stop = await sbx.reana("PUT", `/api/workflows/${normal.id}/status`, { query: { status: "stop" } });
    expect(stop.body).toMatchObject({ status: "stopped" });
    expect(calls()).toContain(`stop --time 3 ${normal.container}`);
    expect(calls()).not.toContain(`kill ${normal.container}`);

    const forced = await stubborn("contained-force");
    const asked = Date.now();
    const killed = await sbx.reana("PUT", `/api/workflows/${forced.id}/status`, { query: { status: "stop" }, json: { force_stop: true } });
    expect(killed.body).toMatchObject({ status: "stopped" });
    expect(Date.now() - asked).toBeLessThan(1500);
    expect(calls()).toContain(`kill ${forced.container}`);
    expect(calls()).not.toContain(`stop --time 3 ${forced.container}`);
  }, 30_000);
});
