import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkflow, testSandbox, waitFor, type TestSandbox } from "./__tests__/client";
import { checkResponse } from "./__tests__/openapi";
import { CwlLogParser } from "./engine-logs";
import { startEngine } from "./engines";

/**
 * REANA's forced stop (`PUT /workflows/{id}/status?status=stop` with `{"force_stop": true}`, what
 * `reana-client stop --force` sends: "stop the workflow immediately, without waiting for the jobs to finish"), with
 * real processes behind the sandbox's API: a step that ignores SIGTERM outlives a normal stop's grace period (SIGTERM,
 * SIGKILL 3 s later) but is killed at once by a forced stop, for serial, CWL and Snakemake runs alike, and the run
 * ends `stopped`. A `force_stop` that is not a boolean is refused with 400, as REANA's request schema does.
 */

let sbx: TestSandbox;
const previousRuntime = process.env.VRE_SANDBOX_CONTAINER_RUNTIME;
beforeAll(async () => {
  process.env.VRE_SANDBOX_CONTAINER_RUNTIME = "none"; // host processes: their signals are what is tested
  sbx = await testSandbox();
});
afterAll(async () => {
  await sbx.dispose();
  if (previousRuntime === undefined) delete process.env.VRE_SANDBOX_CONTAINER_RUNTIME;
  else process.env.VRE_SANDBOX_CONTAINER_RUNTIME = previousRuntime;
});

/** The normal stop's grace period before SIGKILL (runtime.ts, engines.ts). */
const GRACE_MS = 3000;
/** "At once": the kill plus recording the stop, with room for a loaded machine; well under the grace period. */
const AT_ONCE_MS = 1500;

/** A step that ignores SIGTERM (the ignore is inherited by `sleep`), so only SIGKILL ends it. */
const STUBBORN = "trap '' TERM; echo ready; sleep 61";

interface Status {
  status: string;
  logs: string;
  progress: { run_stopped_at: string | null };
}
interface JobLog {
  job_name: string;
  status: string;
}

const create = (name: string, body: Record<string, unknown>, files: Record<string, string> = {}) => createWorkflow(sbx, name, body, files, { start: true });

const status = async (id: string) => (await sbx.reana("GET", `/api/workflows/${id}/status`)).body as Status;
async function jobs(id: string): Promise<JobLog[]> {
  const r = await sbx.reana("GET", `/api/workflows/${id}/logs`);
  return Object.values((JSON.parse((r.body as { logs: string }).logs) as { job_logs: Record<string, JobLog> }).job_logs);
}

/** Live (not zombie) `sleep 61` processes working in the run's workspace: the stubborn step's sleep. */
function stubbornSleeps(id: string): number[] {
  const root = realpathSync(path.join(sbx.dataDir, "reana", "workspaces", id));
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cmd === "sleep 61" && (cwd === root || cwd.startsWith(`${root}/`))) out.push(Number(entry));
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return out;
}

/** Waits until the stubborn step sleeps (its SIGTERM trap is set by then). */
async function sleeping(id: string, timeoutMs: number): Promise<void> {
  await waitFor(async () => (stubbornSleeps(id).length > 0 ? true : undefined), timeoutMs, `the stubborn step of ${id} to sleep`);
}

/** Stops the run with `body` and returns how long the stop request took (it answers once the run is recorded stopped). */
async function stop(id: string, body: unknown): Promise<number> {
  const asked = Date.now();
  const r = await sbx.reana("PUT", `/api/workflows/${id}/status`, { query: { status: "stop" }, json: body });
  const took = Date.now() - asked;
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body).toMatchObject({ status: "stopped" });
  expect(checkResponse("PUT", "/api/workflows/{workflow_id_or_name}/status", 200, r.body)).toEqual([]);
  return took;
}

/** What a stop must leave: the run and its step `stopped`, the stop time set, and no process of the step alive. */
async function expectStopped(id: string, step: string, forced: boolean): Promise<void> {
  const s = await status(id);
  expect(s.status).toBe("stopped");
  expect(s.progress.run_stopped_at).not.toBeNull();
  if (forced) expect(s.logs).toContain("was force-stopped on request: its running jobs were killed at once");
  else expect(s.logs).not.toContain("force-stopped");
  expect((await jobs(id)).find((j) => j.job_name === step)?.status).toBe("stopped");
  // Killed processes may take a moment to be gone (or zombies) after the answer.
  await waitFor(async () => (stubbornSleeps(id).length === 0 ? true : undefined), 1000, `no sleeping step left in ${id}`);
}

const serial = (commands: string[]) => ({
  workflow: {
    type: "serial",
    specification: { steps: [{ name: "stubborn", environment: "docker.io/library/bash:5.2", commands }] },
  },
});

describe("forced stop of a serial run", () => {
  it("kills a step that ignores SIGTERM at once; a normal stop only after the grace period", async () => {
    const forced = await create("force-serial", serial([STUBBORN, "echo never"]));
    await sleeping(forced, 15000);
    const tookForced = await stop(forced, { force_stop: true });
    expect(tookForced).toBeLessThan(AT_ONCE_MS);
    await expectStopped(forced, "stubborn", true);
    expect((await jobs(forced)).map((j) => j.job_name)).toEqual(["stubborn"]);

    const normal = await create("normal-serial", serial([STUBBORN]));
    await sleeping(normal, 15000);
    const tookNormal = await stop(normal, { force_stop: false });
    expect(tookNormal).toBeGreaterThanOrEqual(GRACE_MS - 200);
    await expectStopped(normal, "stubborn", false);
  }, 60_000);

  it("cuts short the grace period of a normal stop still waiting for the step", async () => {
    const id = await create("force-after-normal", serial([STUBBORN]));
    await sleeping(id, 15000);
    const asked = Date.now();
    const normal = sbx.reana("PUT", `/api/workflows/${id}/status`, { query: { status: "stop" } });
    await new Promise((r) => setTimeout(r, 300));
    // Still running: the step ignored the SIGTERM and waits for the SIGKILL.
    expect((await status(id)).status).toBe("running");
    expect(stubbornSleeps(id).length).toBeGreaterThan(0);
    const tookForced = await stop(id, { force_stop: true });
    expect(tookForced).toBeLessThan(AT_ONCE_MS);
    expect((await normal).status).toBe(200);
    expect(Date.now() - asked).toBeLessThan(GRACE_MS);
    await expectStopped(id, "stubborn", true);
  }, 60_000);
});

describe("force_stop validation", () => {
  it("answers 400 for a force_stop that is not a boolean, and leaves the run running", async () => {
    const id = await create("force-invalid", serial([STUBBORN]));
    await sleeping(id, 15000);
    for (const bad of ["yes", 1, null, { now: true }, ["true"]]) {
      const r = await sbx.reana("PUT", `/api/workflows/${id}/status`, { query: { status: "stop" }, json: { force_stop: bad } });
      expect(r.status, `force_stop: ${JSON.stringify(bad)}`).toBe(400);
      expect(r.body).toEqual({ message: "Field 'force_stop': Not a valid boolean." });
      expect(checkResponse("PUT", "/api/workflows/{workflow_id_or_name}/status", 400, r.body)).toEqual([]);
    }
    expect((await status(id)).status).toBe("running");
    expect(stubbornSleeps(id).length).toBeGreaterThan(0);
    // A body without force_stop, or with a boolean, is a normal request.
    const took = await stop(id, { force_stop: true });
    expect(took).toBeLessThan(AT_ONCE_MS);
    await expectStopped(id, "stubborn", true);
  }, 60_000);
});

// One CWL tool that ignores SIGTERM, in the packed (`$graph`) layout reana-client sends.
const CWL = {
  cwlVersion: "v1.0",
  $graph: [
    {
      class: "Workflow",
      id: "#main",
      inputs: [],
      outputs: [],
      steps: [{ id: "#main/stubborn", run: "#stubborn.cwl", in: [], out: [] }],
    },
    {
      class: "CommandLineTool",
      id: "#stubborn.cwl",
      baseCommand: ["bash", "-c"],
      arguments: [STUBBORN],
      inputs: [],
      outputs: [],
    },
  ],
};

const SNAKEFILE = `rule all:
    input: "results/done.txt"

rule stubborn:
    output: "results/done.txt"
    shell: "${STUBBORN}; touch {output}"
`;
// The specification as reana-client sends it for a Snakefile: its rules as steps, with their dependencies.
const snakemake = {
  inputs: { files: ["Snakefile"], parameters: {} },
  workflow: {
    type: "snakemake",
    file: "Snakefile",
    specification: {
      job_dependencies: { all: ["stubborn"], stubborn: [] },
      steps: [{ name: "stubborn", environment: "docker.io/library/ubuntu:24.04", commands: [STUBBORN] }],
    },
  },
};

describe("forced stop of CWL and Snakemake runs", () => {
  it("CWL: cwltool and its step are killed at once; a normal stop waits out the grace period", async () => {
    const forced = await create("force-cwl", { workflow: { type: "cwl", specification: CWL } });
    await sleeping(forced, 120_000);
    expect(await stop(forced, { force_stop: true })).toBeLessThan(AT_ONCE_MS);
    await expectStopped(forced, "stubborn", true);

    const normal = await create("normal-cwl", { workflow: { type: "cwl", specification: CWL } });
    await sleeping(normal, 120_000);
    expect(await stop(normal, {})).toBeGreaterThanOrEqual(GRACE_MS - 200);
    await expectStopped(normal, "stubborn", false);
  }, 300_000);

  it("Snakemake: the engine and the running rule are killed at once; a normal stop waits out the grace period", async () => {
    const forced = await create("force-smk", snakemake, { Snakefile: SNAKEFILE });
    await sleeping(forced, 120_000);
    expect(await stop(forced, { force_stop: true })).toBeLessThan(AT_ONCE_MS);
    await expectStopped(forced, "stubborn", true);

    const normal = await create("normal-smk", snakemake, { Snakefile: SNAKEFILE });
    await sleeping(normal, 120_000);
    expect(await stop(normal, {})).toBeGreaterThanOrEqual(GRACE_MS - 200);
    await expectStopped(normal, "stubborn", false);
  }, 300_000);
});

describe("forced stop of an engine whose steps run in containers", () => {
  it("kills the steps' containers by id (from their clients' --cidfile), which killing the clients would not stop", async () => {
    // No daemon runs on the test machines: a stand-in `docker` client records its calls and, for `run`, writes its
    // container id into the --cidfile and waits, ignoring SIGTERM, as cwltool's `docker run --cidfile=...` does.
    const dir = mkdtempSync(path.join(os.tmpdir(), "vre-force-engine-"));
    try {
      const calls = path.join(dir, "calls.log");
      const docker = path.join(dir, "docker");
      const cidfile = path.join(dir, "step.cid");
      writeFileSync(
        docker,
        `#!/bin/bash
printf '%s\\n' "$*" >> ${JSON.stringify(calls)}
if [ "$1" = run ]; then
  for a in "$@"; do case "$a" in --cidfile=*) printf 0123456789abcdef0123 > "\${a#--cidfile=}" ;; esac; done
  trap '' TERM
  sleep 63
fi
`,
      );
      chmodSync(docker, 0o755);
      const engine = path.join(dir, "engine");
      writeFileSync(engine, `#!/bin/bash\n${JSON.stringify(docker)} run -i --rm --cidfile=${cidfile} docker.io/library/bash:5.2 true &\nwait\n`);
      chmodSync(engine, 0o755);
      const handle = startEngine(
        { executable: engine, args: [], parser: new CwlLogParser(), steps: [], expectedJobs: 0, warnings: [] },
        dir,
        {},
        () => undefined,
      );
      await waitFor(async () => (existsSync(cidfile) && readFileSync(cidfile, "utf8").length > 0 ? true : undefined), 10000, "the step's container id");
      const asked = Date.now();
      handle.kill(true);
      await handle.done;
      expect(Date.now() - asked).toBeLessThan(AT_ONCE_MS);
      await waitFor(
        async () => (readFileSync(calls, "utf8").split("\n").includes("kill 0123456789abcdef0123") ? true : undefined),
        5000,
        "docker kill of the step's container",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
