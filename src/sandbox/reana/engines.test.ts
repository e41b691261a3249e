import { existsSync, readFileSync, realpathSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorkflow, testSandbox, waitFor, type TestSandbox } from "./__tests__/client";
import { checkResponse } from "./__tests__/openapi";
import { CwlLogParser, SnakemakeLogParser } from "./engine-logs";

/**
 * CWL and Snakemake workflows run by the real engines (Debian's cwltool and snakemake) behind the sandbox's REANA
 * API, over real HTTP: inputs from `inputs.parameters`/files, one job per step/rule with its own log, REANA's
 * progress counters, outputs in the workspace, stop killing the engine's process group, restart and diff.
 */

let sbx: TestSandbox;
const previousRuntime = process.env.VRE_SANDBOX_CONTAINER_RUNTIME;
beforeAll(async () => {
  process.env.VRE_SANDBOX_CONTAINER_RUNTIME = "none"; // steps on the host, as on machines without a daemon
  sbx = await testSandbox();
});
afterAll(async () => {
  await sbx.dispose();
  if (previousRuntime === undefined) delete process.env.VRE_SANDBOX_CONTAINER_RUNTIME;
  else process.env.VRE_SANDBOX_CONTAINER_RUNTIME = previousRuntime;
});

interface Ids {
  total: number;
  job_ids: string[];
}
interface Status {
  name: string;
  status: string;
  logs: string;
  progress: { total: Ids; running: Ids; finished: Ids; failed: Ids; current_step_name: string | null; run_stopped_at: string | null };
}
interface JobLog {
  job_name: string;
  status: string;
  cmd: string;
  logs: string;
  docker_img: string;
  backend_job_id: string;
}

const create = (name: string, body: Record<string, unknown>, files: Record<string, string>) => createWorkflow(sbx, name, body, files);

async function start(id: string, body: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const started = await sbx.reana("POST", `/api/workflows/${id}/start`, { json: body });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  return started.body as Record<string, unknown>;
}

const status = async (id: string) => (await sbx.reana("GET", `/api/workflows/${id}/status`)).body as Status;
const ended = (id: string, timeout = 150000) =>
  waitFor(async () => {
    const s = await status(id);
    return ["finished", "failed", "stopped"].includes(s.status) ? s : undefined;
  }, timeout, `end of ${id}`);
async function jobs(id: string): Promise<JobLog[]> {
  const r = await sbx.reana("GET", `/api/workflows/${id}/logs`);
  return Object.values((JSON.parse((r.body as { logs: string }).logs) as { job_logs: Record<string, JobLog> }).job_logs);
}
/** Pids in process group `pgid` that are not zombies. */
async function liveGroupMembers(pgid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z") out.push(Number(entry));
  }
  return out;
}
const workspaceFile = (id: string, file: string) => path.join(sbx.dataDir, "reana", "workspaces", id, file);

// The CWL specification as reana-client sends it: the workflow packed with its tools (`cwltool --pack` layout).
const CWL = {
  cwlVersion: "v1.0",
  $graph: [
    {
      class: "Workflow",
      id: "#main",
      inputs: [{ id: "#main/n", type: "int" }, { id: "#main/script", type: "File" }],
      outputs: [{ id: "#main/result", type: "File", outputSource: "#main/summarise/out" }],
      steps: [
        { id: "#main/generate", run: "#gen.cwl", in: [{ id: "#main/generate/n", source: "#main/n" }, { id: "#main/generate/script", source: "#main/script" }], out: ["#main/generate/data"] },
        { id: "#main/summarise", run: "#sum.cwl", in: [{ id: "#main/summarise/data", source: "#main/generate/data" }], out: ["#main/summarise/out"] },
      ],
    },
    {
      class: "CommandLineTool",
      id: "#gen.cwl",
      hints: [{ class: "DockerRequirement", dockerPull: "docker.io/library/python:3.12-slim" }],
      baseCommand: ["python3"],
      inputs: [
        { id: "#gen.cwl/script", type: "File", inputBinding: { position: 1 } },
        { id: "#gen.cwl/n", type: "int", inputBinding: { position: 2 } },
      ],
      outputs: [{ id: "#gen.cwl/data", type: "File", outputBinding: { glob: "data.txt" } }],
    },
    {
      class: "CommandLineTool",
      id: "#sum.cwl",
      requirements: [{ class: "ShellCommandRequirement" }],
      inputs: [{ id: "#sum.cwl/data", type: "File" }],
      arguments: [{ shellQuote: false, valueFrom: "echo summarising; wc -l < $(inputs.data.path) > summary.txt" }],
      outputs: [{ id: "#sum.cwl/out", type: "File", outputBinding: { glob: "summary.txt" } }],
    },
  ],
};
const GEN_PY = 'import sys\nprint("generating", sys.argv[1])\nopen("data.txt", "w").write("".join(f"{i}\\n" for i in range(int(sys.argv[1]))))\n';

const SNAKEFILE = `rule all:
    input: "results/summary.txt"

rule generate:
    output: "results/data.txt"
    params: n=config["n"]
    shell: "echo generating {params.n}; seq {params.n} > {output}"

rule summarise:
    input: "results/data.txt"
    output: "results/summary.txt"
    params: fail=config.get("fail", False), pause=config.get("pause", 0)
    shell: "echo summarising; sleep {params.pause}; test {params.fail} = False || exit 3; wc -l < {input} > {output}"
`;
// reana-client's Snakemake specification: the rules that run something and their dependencies.
const SNAKE_SPEC = {
  job_dependencies: { all: ["summarise"], generate: [], summarise: ["generate"] },
  steps: [
    { name: "generate", environment: "docker.io/library/ubuntu:24.04", commands: ["echo generating"] },
    { name: "summarise", environment: "docker.io/library/ubuntu:24.04", commands: ["wc -l"] },
  ],
};
const snakemake = (parameters: Record<string, unknown>) => ({
  inputs: { files: ["Snakefile"], parameters },
  workflow: { type: "snakemake", file: "Snakefile", specification: SNAKE_SPEC },
  outputs: { files: ["results/summary.txt"] },
});

describe("engine output parsers", () => {
  it("reads cwltool's step jobs, multi-line commands and tool output", () => {
    const p = new CwlLogParser();
    const events = [
      "INFO [workflow ] start",
      "INFO [step generate] start",
      "INFO [job generate] /tmp/x$ python3 \\",
      "    gen.py \\",
      "    5",
      "generating 5",
      "INFO [job generate] completed success",
      "INFO [job summarise] completed permanentFail",
    ].flatMap((l) => p.line(l));
    expect(events.filter((e) => e.kind !== "engine-log")).toEqual([
      { kind: "job-start", key: "generate", name: "generate" },
      { kind: "job-command", key: "generate", command: "python3 gen.py 5" },
      { kind: "job-log", key: "generate", text: "generating 5" },
      { kind: "job-end", key: "generate", ok: true },
      { kind: "job-start", key: "summarise", name: "summarise" },
      { kind: "job-end", key: "summarise", ok: false },
    ]);
  });

  it("reads Snakemake's job stats, rule blocks and failures, leaving out target rules", () => {
    const p = new SnakemakeLogParser((rule) => rule !== "all");
    const lines = [
      "Job stats:", "job          count    min threads    max threads", "---------  -------  -------------  -------------",
      "all              1              1              1", "generate         2              1              1", "total            3              1              1",
      "", "[Thu Dec  3 07:37:45 2026]", "rule generate:", "    output: a", "    jobid: 2", "    resources: tmpdir=/tmp", "",
      "seq 4 > a", "out line", "[Thu Dec  3 07:37:45 2026]", "Finished job 2.", "1 of 3 steps (33%) done",
      "[Thu Dec  3 07:37:46 2026]", "rule generate:", "    jobid: 5", "", "seq 5 > b",
      "[Thu Dec  3 07:37:46 2026]", "Error in rule generate:", "    jobid: 5", "    output: b",
      "[Thu Dec  3 07:37:47 2026]", "localrule all:", "    jobid: 0", "", "[Thu Dec  3 07:37:47 2026]", "Finished job 0.",
    ];
    const events = lines.flatMap((l) => p.line(l)).filter((e) => e.kind !== "engine-log");
    expect(events).toEqual([
      { kind: "total", counts: { all: 1, generate: 2 } },
      { kind: "job-start", key: "2", name: "generate" },
      { kind: "job-command", key: "2", command: "seq 4 > a" },
      { kind: "job-log", key: "2", text: "out line" },
      { kind: "job-end", key: "2", ok: true },
      { kind: "job-start", key: "5", name: "generate" },
      { kind: "job-command", key: "5", command: "seq 5 > b" },
      { kind: "job-end", key: "5", ok: false },
    ]);
  });
});

describe("CWL workflows with cwltool", () => {
  it("runs each step as a job with its log, inputs from inputs.parameters, outputs in the workspace", async () => {
    const id = await create(
      "cwlrun",
      {
        inputs: { files: ["gen.py"], parameters: { n: 5, script: { class: "File", path: "gen.py" } } },
        workflow: { type: "cwl", file: "workflow.cwl", specification: CWL },
        outputs: { files: ["outputs/summary.txt"] },
      },
      { "gen.py": GEN_PY },
    );
    await start(id, { input_parameters: { n: 7 } });
    const st = await ended(id);
    expect(st.status, st.logs).toBe("finished");
    expect(st.progress.total.total).toBe(2);
    expect(st.progress.finished.total).toBe(2);
    expect(st.progress.failed.total).toBe(0);
    expect(st.logs).toContain("[workflow ] completed success");
    expect(st.logs).toMatch(/step image\(s\) docker\.io\/library\/python:3\.12-slim were NOT used/);
    const js = await jobs(id);
    expect(js.map((j) => [j.job_name, j.status])).toEqual([
      ["generate", "finished"],
      ["summarise", "finished"],
    ]);
    expect(js[0]!.logs).toContain("generating 7");
    expect(js[0]!.cmd).toMatch(/^python3 \S+gen\.py 7$/);
    expect(js[0]!.docker_img).toBe("docker.io/library/python:3.12-slim");
    expect(js[1]!.logs).toContain("summarising");
    expect(readFileSync(workspaceFile(id, "outputs/summary.txt"), "utf8").trim()).toBe("7");
  }, 240000);

  it("fails the run when a step's tool fails (missing input file)", async () => {
    const id = await create(
      "cwlfail",
      { inputs: { parameters: { n: 3, script: { class: "File", path: "missing.py" } } }, workflow: { type: "cwl", specification: CWL } },
      {},
    );
    await start(id);
    const st = await ended(id);
    expect(st.status).toBe("failed");
    expect(st.logs).toMatch(/cwltool exited with code \d+; the workflow failed/);
  }, 240000);
});

describe("Snakemake workflows with snakemake", () => {
  let failedId = "";
  it("runs each rule as a job with parameters as config, a target rule is no job; a failing rule fails the run", async () => {
    const id = await create("smk", snakemake({ n: 4, fail: true }), { Snakefile: SNAKEFILE });
    await start(id, { input_parameters: { n: 6 } });
    const st = await ended(id);
    expect(st.status).toBe("failed");
    expect(st.progress.total.total).toBe(2);
    expect(st.progress.finished.total).toBe(1);
    expect(st.progress.failed.total).toBe(1);
    const js = await jobs(id);
    expect(js.map((j) => [j.job_name, j.status])).toEqual([
      ["generate", "finished"],
      ["summarise", "failed"],
    ]);
    expect(js[0]!.cmd).toBe("echo generating 6; seq 6 > results/data.txt");
    expect(js[0]!.logs).toContain("generating 6");
    expect(js[1]!.logs).toContain("summarising");
    expect(st.logs).toContain("Error in rule summarise");
    expect(readFileSync(workspaceFile(id, "results/data.txt"), "utf8").split("\n").filter(Boolean)).toHaveLength(6);
    failedId = id;
  }, 240000);

  it("restarts a failed run as name.N.1 in the same workspace; Snakemake reruns only what is missing", async () => {
    const started = await start(failedId, { restart: true, input_parameters: { n: 6, fail: false } });
    expect(checkResponse("POST", "/api/workflows/{workflow_id_or_name}/start", 200, started)).toEqual([]);
    expect(started.workflow_name).toBe("smk.1.1");
    expect(started.run_number).toBe("1.1");
    const restartId = String(started.workflow_id);
    expect(restartId).not.toBe(failedId);
    const st = await ended(restartId);
    expect(st.status, st.logs).toBe("finished");
    expect(st.name).toBe("smk.1.1");
    const js = await jobs(restartId);
    expect(js.map((j) => [j.job_name, j.status])).toEqual([["summarise", "finished"]]);
    expect(readFileSync(workspaceFile(failedId, "results/summary.txt"), "utf8").trim()).toBe("6");
    // The original run keeps its record; only finished or failed runs restart.
    expect((await status(failedId)).status).toBe("failed");
    const again = await sbx.reana("POST", `/api/workflows/smk.1.1/start`, { json: { restart: true } });
    expect(again.status).toBe(200);
    await ended(String((again.body as { workflow_id: string }).workflow_id));

    const diff = await sbx.reana("GET", `/api/workflows/smk.1/diff/smk.1.1`);
    expect(diff.status).toBe(200);
    expect(checkResponse("GET", "/api/workflows/{workflow_id_or_name_a}/diff/{workflow_id_or_name_b}", 200, diff.body)).toEqual([]);
    const sections = JSON.parse((diff.body as { reana_specification: string }).reana_specification) as Record<string, string[]>;
    expect(sections.workflow).toEqual([]);
    expect(sections.inputs).toContain("-  fail: true");
    expect(sections.inputs).toContain("+  fail: false");
    expect(JSON.parse((diff.body as { workspace_listing: string }).workspace_listing)).toBe("");
  }, 240000);

  it("diffs the workspaces of two runs (brief: which files differ)", async () => {
    const a = await create("smkdiff", snakemake({ n: 2 }), { Snakefile: SNAKEFILE });
    const b = await create("smkdiff", snakemake({ n: 3 }), { Snakefile: SNAKEFILE, "extra.txt": "x\n" });
    const brief = await sbx.reana("GET", `/api/workflows/${a}/diff/${b}`, { query: { brief: "true" } });
    expect(JSON.parse((brief.body as { workspace_listing: string }).workspace_listing)).toBe("Only in workspace b: extra.txt\n");
    const sections = JSON.parse((brief.body as { reana_specification: string }).reana_specification) as Record<string, string[]>;
    expect(sections.inputs!.filter((l) => /^[-+] /.test(l))).toEqual(["-  n: 2", "+  n: 3"]);
  });

  it("stop kills the engine's process group: the running rule never writes its output", async () => {
    const id = await create("smkstop", snakemake({ n: 2, pause: 30 }), { Snakefile: SNAKEFILE });
    await start(id);
    await waitFor(async () => {
      const s = await status(id);
      return s.progress.current_step_name === "summarise" ? true : undefined;
    }, 150000, "summarise running");
    const job = (await jobs(id)).find((j) => j.job_name === "summarise")!;
    const pgid = Number(/^host-pid-(\d+)$/.exec(job.backend_job_id)![1]);
    const stop = await sbx.reana("PUT", `/api/workflows/${id}/status`, { query: { status: "stop" }, json: {} });
    expect(stop.status).toBe(200);
    const st = await status(id);
    expect(st.status).toBe("stopped");
    expect(st.progress.run_stopped_at).not.toBeNull();
    expect((await jobs(id)).find((j) => j.job_name === "summarise")!.status).toBe("stopped");
    // No process of the engine's group is left running (killed ones may linger as zombies until reaped).
    expect(await liveGroupMembers(pgid)).toEqual([]);
    expect(existsSync(workspaceFile(id, "results/summary.txt"))).toBe(false);
  }, 240000);

  it("stop also kills what a rule moved out of the engine's process group (timeout makes a group of its own)", async () => {
    const id = await create("smktimeout", snakemake({ n: 2, pause: 60 }), { Snakefile: SNAKEFILE.replace("sleep {params.pause}", "timeout 120 sleep {params.pause}") });
    await start(id);
    const root = realpathSync(workspaceFile(id, ""));
    /** Live `timeout 120 sleep 60` processes of this run (the rule's command and the command it times). */
    const timed = async () => {
      const out: number[] = [];
      for (const entry of await readdir("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
        if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
        const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => "");
        const cmd = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).split("\0").join(" ");
        if ((cwd === root || cwd.startsWith(`${root}/`)) && /^(timeout 120 )?sleep 60 $/.test(cmd)) out.push(Number(entry));
      }
      return out;
    };
    const before = await waitFor(async () => ((await timed()).length === 2 ? timed() : undefined), 150000, "the rule's timeout and sleep");
    const stop = await sbx.reana("PUT", `/api/workflows/${id}/status`, { query: { status: "stop" }, json: {} });
    expect(stop.status).toBe(200);
    expect((await status(id)).status).toBe("stopped");
    await waitFor(async () => ((await timed()).length === 0 ? true : undefined), 2000, `processes ${before.join(", ")} to be killed`);
  }, 240000);
});

describe("engines the sandbox cannot run", () => {
  it("answers 501 with the reason for Yadage and names the package when an engine is missing", async () => {
    const y = await create("yad", { workflow: { type: "yadage", specification: { stages: [] } } }, {});
    const r = await sbx.reana("POST", `/api/workflows/${y}/start`, { json: {} });
    expect(r.status).toBe(501);
    expect((r.body as { message: string }).message).toMatch(/no packaged Yadage engine/);

    const c = await create("nocwl", { workflow: { type: "cwl", specification: CWL } }, {});
    const saved = process.env.PATH;
    process.env.PATH = path.join(sbx.dataDir, "empty-bin");
    try {
      const m = await sbx.reana("POST", `/api/workflows/${c}/start`, { json: {} });
      expect(m.status).toBe(501);
      expect((m.body as { message: string }).message).toContain('install Debian\'s "cwltool" package (apt-get install cwltool');
    } finally {
      process.env.PATH = saved;
    }
    expect((await status(c)).status).toBe("created");
  });

  it("refuses restarts of runs that did not end, and restarts with an invalid or unrunnable specification", async () => {
    const created = await create("norestart", snakemake({ n: 1 }), { Snakefile: SNAKEFILE });
    const early = await sbx.reana("POST", `/api/workflows/${created}/start`, { json: { restart: true } });
    expect(early.status).toBe(403);
    expect((early.body as { message: string }).message).toContain("Only finished or failed workflows can be restarted");
    // A Snakemake run whose Snakefile was never uploaded fails at once, with the reason.
    const failed = await create("nosnakefile", snakemake({ n: 1 }), {});
    await start(failed);
    const st = await ended(failed);
    expect(st.status).toBe("failed");
    expect(st.logs).toContain("The Snakefile Snakefile (workflow.file) is not in the workspace");
    const invalid = await sbx.reana("POST", `/api/workflows/${failed}/start`, { json: { restart: true, reana_specification: { workflow: { type: "serial" } } } });
    expect(invalid.status).toBe(400);
    const yadage = await sbx.reana("POST", `/api/workflows/${failed}/start`, { json: { restart: true, reana_specification: { workflow: { type: "yadage", specification: { stages: [] } } } } });
    expect(yadage.status).toBe(501);
  });
});
