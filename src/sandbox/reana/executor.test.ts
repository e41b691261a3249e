import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testSandbox, waitFor, type TestSandbox } from "./__tests__/client";
import { startHarness } from "./__tests__/serve";
import { planRun } from "./executor";

/** The local serial engine: REANA's parameter, step-selection, job, failure, stop and output semantics. */

let sbx: TestSandbox;
const previousRuntime = process.env.VRE_SANDBOX_CONTAINER_RUNTIME;
beforeAll(async () => {
  process.env.VRE_SANDBOX_CONTAINER_RUNTIME = "none"; // deterministic: host shell even where a daemon exists
  sbx = await testSandbox();
});
afterAll(async () => {
  await sbx.dispose();
  if (previousRuntime === undefined) delete process.env.VRE_SANDBOX_CONTAINER_RUNTIME;
  else process.env.VRE_SANDBOX_CONTAINER_RUNTIME = previousRuntime;
});

const IMG = "docker.io/library/python:3.12-slim";

function spec(steps: { name: string; commands: string[] }[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    inputs: { parameters: { greeting: "hello", n: 2 } },
    workflow: { type: "serial", specification: { steps: steps.map((s) => ({ environment: IMG, ...s })) } },
    ...extra,
  };
}

interface Status {
  status: string;
  logs: string;
  progress: {
    total: { total: number; job_ids: string[] };
    running: { total: number; job_ids: string[] };
    finished: { total: number; job_ids: string[] };
    failed: { total: number; job_ids: string[] };
    current_command: string | null;
    current_step_name: string | null;
    run_started_at: string | null;
    run_finished_at: string | null;
    run_stopped_at: string | null;
  };
}

interface JobLog {
  job_name: string;
  status: string;
  cmd: string;
  logs: string;
  docker_img: string;
  backend_job_id: string;
  started_at: string | null;
  finished_at: string | null;
}

async function run(name: string, body: Record<string, unknown>, start: Record<string, unknown> = {}): Promise<string> {
  const created = await sbx.reana("POST", "/api/workflows", { query: { workflow_name: name }, json: body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = (created.body as { workflow_id: string }).workflow_id;
  const started = await sbx.reana("POST", `/api/workflows/${id}/start`, { json: start });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  return id;
}

async function status(id: string): Promise<Status> {
  return (await sbx.reana("GET", `/api/workflows/${id}/status`)).body as Status;
}

async function ended(id: string): Promise<Status> {
  return waitFor(async () => {
    const s = await status(id);
    return ["finished", "failed", "stopped"].includes(s.status) ? s : undefined;
  }, 20000, `end of ${id}`);
}

async function jobs(id: string): Promise<JobLog[]> {
  const r = await sbx.reana("GET", `/api/workflows/${id}/logs`);
  return Object.values((JSON.parse((r.body as { logs: string }).logs) as { job_logs: Record<string, JobLog> }).job_logs);
}

function workspace(id: string, file: string): string {
  return path.join(sbx.dataDir, "reana", "workspaces", id, file);
}

describe("planRun (step selection and expansion)", () => {
  const s = spec([
    { name: "Fetch", commands: ["echo a"] },
    { name: "Fit", commands: ["echo b", "echo ${greeting}"] },
    { name: "Plot", commands: ["echo c"] },
  ]);

  it("selects FROM..TARGET case-insensitively, one job per command", () => {
    const plan = planRun(s, {}, { FROM: "fit", TARGET: "FIT" });
    expect(plan.map((p) => [p.stepName, p.command])).toEqual([
      ["Fit", "echo b"],
      ["Fit", "echo hello"],
    ]);
    expect(planRun(s, {}, { TARGET: "fetch" }).map((p) => p.command)).toEqual(["echo a"]);
    expect(planRun(s, {}, { FROM: "Plot" }).map((p) => p.command)).toEqual(["echo c"]);
  });

  it("runs everything with a warning when FROM comes after TARGET, and rejects unknown steps", () => {
    const warnings: string[] = [];
    expect(planRun(s, {}, { FROM: "plot", TARGET: "fetch" }, (w) => warnings.push(w))).toHaveLength(4);
    expect(warnings[0]).toContain("running all steps");
    expect(() => planRun(s, {}, { TARGET: "nope" })).toThrow(/does not exist/);
  });

  it("lets start-time input_parameters override inputs.parameters", () => {
    expect(planRun(s, { greeting: "bye" }, { FROM: "fit", TARGET: "fit" })[1]!.command).toBe("echo bye");
  });
});

describe("serial runs", () => {
  it("expands parameters ($$ -> $), captures stdout+stderr per job and walks the statuses to finished", async () => {
    const id = await run(
      "params",
      spec([
        { name: "write", commands: ["echo '${greeting} x$n costs $$5' > out.txt", "echo to-stderr >&2"] },
        { name: "read", commands: ["cat out.txt"] },
      ]),
      { input_parameters: { greeting: "bonjour" } },
    );
    const s = await ended(id);
    expect(s.status).toBe("finished");
    expect(readFileSync(workspace(id, "out.txt"), "utf8")).toBe("bonjour x2 costs $5\n");
    const js = await jobs(id);
    expect(js.map((j) => [j.job_name, j.status])).toEqual([
      ["write", "finished"],
      ["write", "finished"],
      ["read", "finished"],
    ]);
    expect(js[1]!.logs).toBe("to-stderr\n");
    expect(js[2]!.logs).toBe("bonjour x2 costs $5\n");
    expect(js[0]!.cmd).toBe("echo 'bonjour x2 costs $5' > out.txt");
    expect(js.every((j) => j.docker_img === IMG && j.started_at && j.finished_at)).toBe(true);
    expect(s.progress.total.total).toBe(3);
    expect(s.progress.finished.total).toBe(3);
    expect(s.progress.run_started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(s.progress.run_finished_at).not.toBeNull();
    // No container runtime here: the engine log says the image was not used.
    expect(s.logs).toContain(`the step image(s) ${IMG} were NOT used`);
    expect(s.logs).toMatch(/pending[\s\S]*started[\s\S]*finished/);
  });

  it("fails with REANA's message when a parameter cannot be expanded", async () => {
    const id = await run("unexpanded", spec([{ name: "s", commands: ["echo $HOME"] }]));
    const s = await ended(id);
    expect(s.status).toBe("failed");
    expect(s.logs).toContain("Workflow parameter(s) could not be expanded");
    expect(await jobs(id)).toHaveLength(0);
  });

  it("honours FROM/TARGET given at start", async () => {
    const id = await run(
      "selected",
      spec([
        { name: "one", commands: ["echo 1 >> trace"] },
        { name: "two", commands: ["echo 2 >> trace"] },
        { name: "three", commands: ["echo 3 >> trace"] },
      ]),
      { operational_options: { FROM: "TWO", TARGET: "two" } },
    );
    expect((await ended(id)).status).toBe("finished");
    expect(readFileSync(workspace(id, "trace"), "utf8")).toBe("2\n");
    expect((await jobs(id)).map((j) => j.job_name)).toEqual(["two"]);
  });

  it("stops at the first failing job", async () => {
    const id = await run(
      "failing",
      spec([
        { name: "ok", commands: ["echo fine"] },
        { name: "bad", commands: ["echo about to fail; exit 3", "echo never > never.txt"] },
        { name: "after", commands: ["echo never > never2.txt"] },
      ]),
    );
    const s = await ended(id);
    expect(s.status).toBe("failed");
    const js = await jobs(id);
    expect(js.map((j) => [j.job_name, j.status])).toEqual([
      ["ok", "finished"],
      ["bad", "failed"],
    ]);
    expect(js[1]!.logs).toContain("about to fail");
    expect(s.progress.failed.total).toBe(1);
    expect(s.progress.failed.job_ids).toHaveLength(1);
    expect(s.progress.finished.total).toBe(1);
    expect(s.logs).toContain("exited with code 3");
    expect(existsSync(workspace(id, "never.txt"))).toBe(false);
    expect(existsSync(workspace(id, "never2.txt"))).toBe(false);
  });

  it("fails when a declared output is missing, saying which", async () => {
    const id = await run("outputs", spec([{ name: "s", commands: ["echo a > a.txt"] }], { outputs: { files: ["a.txt", "results/b.json"] } }));
    const s = await ended(id);
    expect(s.status).toBe("failed");
    expect(s.logs).toContain("declared output(s) are missing from the workspace: results/b.json");
  });

  it("stop kills the running job and everything it started, and records the run as stopped", async () => {
    const id = await run("stoppable", spec([{ name: "long", commands: ["sleep 60 & echo $$! > bg.pid; wait"] }, { name: "next", commands: ["echo no"] }]));
    const pidFile = workspace(id, "bg.pid");
    await waitFor(async () => (existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() ? true : undefined), 10000, "background pid");
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    const running = await status(id);
    expect(running.status).toBe("running");
    expect(running.progress.current_step_name).toBe("long");
    expect(running.progress.current_command).toBe("sleep 60 & echo $! > bg.pid; wait");
    expect(running.progress.running.total).toBe(1);
    const again = await sbx.reana("POST", `/api/workflows/${id}/start`);
    expect(again.status).toBe(403);
    expect((again.body as { message: string }).message).toContain("is already running and cannot be started again");

    const stop = await sbx.reana("PUT", `/api/workflows/${id}/status`, { query: { status: "stop" } });
    expect(stop.status).toBe(200);
    expect(stop.body).toMatchObject({ status: "stopped" });
    const s = await status(id);
    expect(s.status).toBe("stopped");
    expect(s.progress.run_stopped_at).not.toBeNull();
    const js = await jobs(id);
    expect(js.map((j) => [j.job_name, j.status])).toEqual([["long", "stopped"]]);
    await waitFor(async () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    }, 8000, "background process to be killed");
    const stopAgain = await sbx.reana("PUT", `/api/workflows/${id}/status`, { query: { status: "stop" } });
    expect(stopAgain.status).toBe(409);
  });

  it("exports env secrets to the jobs without writing them into logs", async () => {
    await sbx.reana("POST", "/api/secrets/", { json: { RUN_SECRET: { name: "RUN_SECRET", value: Buffer.from("tops3cret").toString("base64"), type: "env" } } });
    const md5 = createHash("md5").update("tops3cret").digest("hex");
    const id = await run(
      "secrets",
      spec([{ name: "s", commands: [`test "$$(printf %s "$$RUN_SECRET" | md5sum | cut -c1-32)" = ${md5} && echo matched`] }]),
    );
    const s = await ended(id);
    expect(s.status).toBe("finished");
    const js = await jobs(id);
    expect(js[0]!.logs).toBe("matched\n");
    expect(JSON.stringify(js)).not.toContain("tops3cret");
    await sbx.reana("DELETE", "/api/secrets/", { json: ["RUN_SECRET"] });
  });

  it("provides file secrets in a private folder named by REANA_SECRETS_DIR, removed after the job", async () => {
    await sbx.reana("POST", "/api/secrets/", { json: { "user.keytab": { name: "user.keytab", value: Buffer.from("KEYTAB").toString("base64"), type: "file" } } });
    const id = await run(
      "filesecret",
      spec([{ name: "s", commands: ['test "$$(cat "$$REANA_SECRETS_DIR/user.keytab")" = KEYTAB && stat -c %a "$$REANA_SECRETS_DIR" > mode.txt'] }]),
    );
    expect((await ended(id)).status).toBe("finished");
    expect(readFileSync(workspace(id, "mode.txt"), "utf8").trim()).toBe("700");
    expect(existsSync(path.join(sbx.dataDir, "reana", "run-secrets")) ? readdirSync(path.join(sbx.dataDir, "reana", "run-secrets")) : []).toEqual([]);
    await sbx.reana("DELETE", "/api/secrets/", { json: ["user.keytab"] });
  });
});

describe("sandbox shutdown during a run", () => {
  it("kills the job and reports the run as failed because the sandbox shut down", async () => {
    const own = await testSandbox();
    const created = await own.reana("POST", "/api/workflows", {
      query: { workflow_name: "shutdown" },
      json: spec([{ name: "long", commands: ["sleep 60"] }]),
    });
    const id = (created.body as { workflow_id: string }).workflow_id;
    await own.reana("POST", `/api/workflows/${id}/start`);
    await waitFor(async () => {
      const s = (await own.reana("GET", `/api/workflows/${id}/status`)).body as Status;
      return s.progress.running.total === 1 ? true : undefined;
    });
    await own.close();
    const again = await startHarness(own.dataDir);
    try {
      const r = await fetch(`${again.url}/reana/api/workflows/${id}/status?access_token=${again.reanaToken}`);
      const s = (await r.json()) as Status;
      expect(s.status).toBe("failed");
      expect(s.logs).toContain("The sandbox was shut down during the run");
      expect(s.progress.run_finished_at).not.toBeNull();
    } finally {
      await again.close();
      await own.dispose().catch(() => undefined);
    }
  });
});

/*
 * Stopping a serial run whose step is a shell loop, with real processes: the run and its running step end as
 * `stopped` promptly, and no process the step started is left, including processes that left the step's process
 * group (`timeout` moves itself into a group of its own) or its session (`setsid`) while writing to its output.
 */

/** "Promptly": SIGTERM at once, SIGKILL 3 s later for what ignores it, plus the time to record the stop. */
const PROMPT_MS = 5000;

/**
 * Live processes of a step: in its process group, or working in the run's workspace (where `cd <workspace> &&`
 * put every process it started). Zombies are dead and left out: they only wait for a parent to reap them.
 */
function stepProcesses(pgid: number, workspace: string): number[] {
  const root = realpathSync(workspace);
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state === "Z") continue;
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // not ours to read
      }
      if (Number(pgrp) === pgid || cwd === root || cwd.startsWith(`${root}/`)) out.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** Starts the loop, stops it once it printed `1`, and checks what a stop must leave behind. */
async function stopLoop(name: string, command: string, atLeast: number): Promise<void> {
  const id = await run(name, spec([{ name: "loop", commands: [command] }]));
  const running = await waitFor(async () => {
    const [job] = await jobs(id);
    return job?.status === "running" && job.logs.startsWith("1\n") ? job : undefined;
  }, 15000, "the loop's first line");
  expect((await status(id)).status).toBe("running");
  const pgid = Number(/^host-pid-(\d+)$/.exec(running.backend_job_id)![1]);
  // The loop's shell and the command it waits for (and what that one started) are all there.
  await waitFor(async () => (stepProcesses(pgid, workspace(id, "")).length >= atLeast ? true : undefined), 5000, "the step's processes");
  const before = stepProcesses(pgid, workspace(id, ""));

  const asked = Date.now();
  const stop = sbx.reana("PUT", `/api/workflows/${id}/status`, { query: { status: "stop" } });
  const ended = await waitFor(
    async () => {
      const [job] = await jobs(id);
      return (await status(id)).status === "stopped" && job?.status === "stopped" ? job : undefined;
    },
    PROMPT_MS,
    `run ${name} and its step to be stopped within ${PROMPT_MS} ms (processes before the stop: ${before.join(", ")})`,
  );
  const answer = await stop;
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ status: "stopped" });
  expect(Date.now() - asked).toBeLessThan(PROMPT_MS);
  expect(ended.job_name).toBe("loop");
  // No process of the step is left, none of those seen before the stop either; the loop did not go on.
  await waitFor(async () => (stepProcesses(pgid, workspace(id, "")).length === 0 ? true : undefined), 1000, "no process of the step left");
  for (const pid of before) {
    const state = (() => {
      try {
        return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]![0];
      } catch {
        return "gone";
      }
    })();
    expect(["gone", "Z"], `process ${pid} of the step`).toContain(state);
  }
  await new Promise((r) => setTimeout(r, 1500));
  const [after] = await jobs(id);
  expect(after!.logs).toBe(ended.logs);
  expect(after!.status).toBe("stopped");
  expect((await status(id)).status).toBe("stopped");
}

describe("stopping a serial step that runs a shell loop", () => {
  it("stops `for ...; do echo $i; sleep 5; done` at once: run and step stopped, no process left", async () => {
    await stopLoop("loop-sleep", "for i in 1 2 3 4 5 6 7 8 9 10; do echo $$i; sleep 5; done", 2);
  }, 30_000);

  it("also when the loop's command runs in a process group of its own (timeout)", async () => {
    // GNU timeout puts itself (and the command it runs) in a new process group: a signal to the step's group
    // misses both, and they keep the step's output open.
    await stopLoop("loop-timeout", "for i in 1 2 3 4 5 6 7 8 9 10; do echo $$i; timeout 60 sleep 20; done", 3);
  }, 60_000);

  it("also when the loop started a helper that left the step's session (setsid) but writes to its output", async () => {
    await stopLoop("loop-setsid", "setsid sleep 20 & for i in 1 2 3 4 5 6 7 8 9 10; do echo $$i; sleep 5; done", 3);
  }, 60_000);
});

describe("a step whose main process ended", () => {
  it("ends with it: a helper it left behind holding its output neither keeps the run running nor survives", async () => {
    const id = await run("leftover", spec([{ name: "main", commands: ["setsid sleep 20 & echo main-done"] }]));
    const t0 = Date.now();
    const s = await waitFor(async () => {
      const st = await status(id);
      return ["finished", "failed", "stopped"].includes(st.status) ? st : undefined;
    }, PROMPT_MS, "the run to end with its step's main process");
    expect(s.status, s.logs).toBe("finished");
    expect(Date.now() - t0).toBeLessThan(PROMPT_MS);
    const [job] = await jobs(id);
    expect(job!.status).toBe("finished");
    expect(job!.logs).toBe("main-done\n");
    const pgid = Number(/^host-pid-(\d+)$/.exec(job!.backend_job_id)![1]);
    await waitFor(async () => (stepProcesses(pgid, workspace(id, "")).length === 0 ? true : undefined), 1000, "no process of the step left");
  }, 30_000);
});
