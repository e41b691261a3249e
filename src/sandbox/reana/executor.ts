import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ParameterExpansionError, substitute } from "./params";
import { EngineLogger } from "./engine-run";
import { findEngine, isEngineType, missingEngineMessage, prepareEngine, startEngine, type EngineInvocation } from "./engines";
import { processGroupMembers } from "./processes";
import { startJob, type ContainerRuntime, type RunningJob } from "./runtime";
import { reanaTime, type JobRecord, type ReanaStateStore, type WorkflowRecord } from "./state";

/**
 * A local copy of REANA's serial workflow engine: expand parameters (`string.Template` rules, start-time
 * `input_parameters` over `inputs.parameters`), select steps with FROM/TARGET (case-insensitive step names), run
 * every command of every step as one job (`bash -c "cd <workspace> && <command>"`), strictly in order, stop at the
 * first job that does not finish, then check `outputs`. Progress, job records and logs use REANA's shapes.
 */

export interface ExecutorDeps {
  store: ReanaStateStore;
  /** Service data folder; job logs live under `<dataDir>/logs/<workflow id>/`. */
  dataDir: string;
  workspaceOf(id: string): string;
  runtime(): Promise<ContainerRuntime | undefined>;
  /** Environment variables from the user's `env` secrets. */
  secretEnv(): Record<string, string>;
  /** `file` secrets as name → bytes. */
  secretFiles(): Record<string, Buffer>;
  log(message: string): void;
}

interface ActiveRun {
  stopRequested: boolean;
  /** The stop is forced (REANA's `force_stop`): jobs are killed at once, with no grace period. */
  forceStop: boolean;
  job?: Pick<RunningJob, "kill">;
  finished: Promise<void>;
}

/** Engine log line in the style of REANA's engine logs. */
export function engineLine(message: string, level: "INFO" | "WARNING" | "ERROR" = "INFO", engine = "serial"): string {
  const now = new Date().toISOString().replace("T", " ").replace("Z", "").replace(".", ",");
  return `${now} | reana-sandbox-${engine}-engine | MainThread | ${level} | ${message}\n`;
}

/** Step names as the engine compares them for FROM/TARGET. */
function stepNames(steps: Record<string, unknown>[]): string[] {
  return steps.map((s) => String(s.name ?? "").toLowerCase());
}

export interface PlannedJob {
  stepIndex: number;
  stepName: string;
  command: string;
  image: string;
  computeBackend: string;
}

/** Expands parameters and selects the steps to run; throws ParameterExpansionError or Error with a user message. */
export function planRun(
  specification: Record<string, unknown>,
  inputParameters: Record<string, unknown>,
  operationalOptions: Record<string, unknown>,
  warn: (message: string) => void = () => undefined,
  expand = true,
): PlannedJob[] {
  const inputs = (specification.inputs ?? {}) as Record<string, unknown>;
  const parameters = { ...((inputs.parameters ?? {}) as Record<string, unknown>), ...inputParameters };
  const options = { ...((inputs.options ?? {}) as Record<string, unknown>), ...operationalOptions };
  const workflow = specification.workflow as Record<string, unknown>;
  const steps = ((workflow.specification as Record<string, unknown>).steps ?? []) as Record<string, unknown>[];
  const names = stepNames(steps);
  let from = 0;
  let to = steps.length;
  if (options.FROM !== undefined && options.FROM !== null) {
    from = names.indexOf(String(options.FROM).toLowerCase());
    if (from < 0) throw new Error(`Step "${String(options.FROM)}" given as FROM does not exist in the workflow.`);
  }
  if (options.TARGET !== undefined && options.TARGET !== null) {
    const target = names.indexOf(String(options.TARGET).toLowerCase());
    if (target < 0) throw new Error(`Step "${String(options.TARGET)}" given as TARGET does not exist in the workflow.`);
    to = target + 1;
  }
  if (from >= to) {
    warn(`FROM step "${String(options.FROM)}" comes after TARGET step "${String(options.TARGET)}"; running all steps.`);
    from = 0;
    to = steps.length;
  }
  const planned: PlannedJob[] = [];
  for (let i = from; i < to; i += 1) {
    const step = steps[i]!;
    const commands = (step.commands ?? []) as unknown[];
    for (const command of commands) {
      planned.push({
        stepIndex: i,
        stepName: String(step.name ?? ""),
        command: expand ? substitute(String(command), parameters) : String(command),
        image: step.environment === undefined ? "" : expand ? substitute(String(step.environment), parameters) : String(step.environment),
        computeBackend: String(step.compute_backend ?? "kubernetes"),
      });
    }
  }
  return planned;
}

/** True when FROM/TARGET (start-time options over `inputs.options`) leave out some steps. */
function isPartialSelection(specification: Record<string, unknown>, operationalOptions: Record<string, unknown>): boolean {
  const inputs = (specification.inputs ?? {}) as Record<string, unknown>;
  const options = { ...((inputs.options ?? {}) as Record<string, unknown>), ...operationalOptions };
  if (options.FROM == null && options.TARGET == null) return false;
  const all = planRun(specification, {}, {}, () => undefined, false).length;
  const chosen = planRun(specification, {}, operationalOptions, () => undefined, false).length;
  return chosen < all;
}

export class SerialExecutor {
  private readonly active = new Map<string, ActiveRun>();
  private shuttingDown = false;

  constructor(private readonly deps: ExecutorDeps) {}

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** Runs a queued workflow in the background. */
  start(id: string): void {
    const run: ActiveRun = { stopRequested: false, forceStop: false, finished: Promise.resolve() };
    run.finished = this.execute(id, run)
      .catch(async (err: unknown) => {
        this.deps.log(`workflow ${id}: engine error: ${(err as Error).message}`);
        await this.deps.store
          .update((s) => {
            const wf = s.workflows[id];
            if (!wf || isTerminal(wf.status)) return;
            wf.status = "failed";
            wf.progress.run_finished_at = reanaTime();
            wf.workflow_logs += engineLine(`Internal sandbox error: ${(err as Error).message}`, "ERROR");
          })
          .catch(() => undefined);
      })
      .finally(() => this.active.delete(id));
    this.active.set(id, run);
  }

  /**
   * Asks a run to stop, kills its current job and waits until the run is recorded as stopped. A normal stop sends
   * SIGTERM and leaves what ignores it a grace period before SIGKILL; `force` (REANA's `force_stop`) kills the jobs at
   * once with SIGKILL, and cuts short the grace period of a normal stop still waiting for its jobs.
   */
  async stop(id: string, options: { force?: boolean } = {}): Promise<void> {
    const run = this.active.get(id);
    if (!run) return;
    const force = options.force === true;
    run.stopRequested = true;
    if (force) run.forceStop = true;
    run.job?.kill(force);
    await run.finished;
  }

  /**
   * Interrupts every run because the sandbox is shutting down: the jobs are killed and the runs recorded as
   * failed with that reason (not as user stops).
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    const runs = [...this.active.values()];
    for (const run of runs) {
      run.stopRequested = true;
      run.job?.kill();
    }
    await Promise.all(runs.map((run) => run.finished));
  }

  /** Writes the user's file secrets for one job into a private folder (removed when the job ends). */
  private async writeSecretFiles(jobId: string): Promise<string | undefined> {
    const files = this.deps.secretFiles();
    if (Object.keys(files).length === 0) return undefined;
    const dir = path.join(this.deps.dataDir, "run-secrets", jobId);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const [name, bytes] of Object.entries(files)) {
      await fs.writeFile(path.join(dir, path.basename(name)), bytes as unknown as Uint8Array, { mode: 0o600 });
    }
    return dir;
  }

  private jobLogFile(workflowId: string, jobId: string): string {
    return path.join("logs", workflowId, `${jobId}.log`);
  }

  private async execute(id: string, run: ActiveRun): Promise<void> {
    const { store } = this.deps;
    const wf0 = store.state.workflows[id];
    if (!wf0) return;
    if (isEngineType(wf0.type)) return this.executeEngine(id, run, wf0.type);
    await store.update((s) => {
      const wf = s.workflows[id]!;
      wf.status = "pending";
      wf.workflow_logs += engineLine(`Workflow ${wf.id} (${wf.name}.${wf.run_number}) is pending on the local sandbox.`);
    });
    let planned: PlannedJob[];
    const warnings: string[] = [];
    try {
      planned = planRun(wf0.specification, wf0.input_parameters, wf0.operational_options, (m) => warnings.push(m));
    } catch (err) {
      const message = err instanceof ParameterExpansionError ? err.message : (err as Error).message;
      await store.update((s) => {
        const wf = s.workflows[id]!;
        wf.status = "failed";
        wf.progress.run_started_at = reanaTime();
        wf.progress.run_finished_at = reanaTime();
        wf.workflow_logs += engineLine(message, "ERROR");
      });
      return;
    }
    const runtime = await this.deps.runtime();
    const workspace = this.deps.workspaceOf(id);
    await fs.mkdir(path.join(this.deps.dataDir, "logs", id), { recursive: true });
    await store.update((s) => {
      const wf = s.workflows[id]!;
      if (run.stopRequested) return;
      wf.status = "running";
      wf.progress.run_started_at = reanaTime();
      wf.progress.total = { total: planned.length, job_ids: [] };
      for (const w of warnings) wf.workflow_logs += engineLine(w, "WARNING");
      wf.workflow_logs += engineLine(`Workflow ${wf.id} started: ${planned.length} job(s) to run in ${workspace}.`);
      if (!runtime) {
        const images = [...new Set(planned.map((p) => p.image).filter(Boolean))];
        wf.workflow_logs += engineLine(
          `No container runtime (docker or podman daemon) is available: the step image(s) ${images.join(", ") || "(none)"} ` +
            "were NOT used; commands run in a host shell with the host's tools.",
          "WARNING",
        );
      } else {
        wf.workflow_logs += engineLine(`Jobs run in their step images with ${runtime.command}.`);
      }
    });
    if (run.stopRequested) return this.recordStopped(id, undefined);

    for (const [index, plannedJob] of planned.entries()) {
      if (run.stopRequested) return this.recordStopped(id, undefined);
      const jobId = randomUUID();
      const logFile = this.jobLogFile(id, jobId);
      if (!plannedJob.image) {
        await store.update((s) => {
          const wf = s.workflows[id]!;
          wf.status = "failed";
          wf.progress.run_finished_at = reanaTime();
          wf.workflow_logs += engineLine(
            `Step "${plannedJob.stepName || plannedJob.stepIndex}" has no 'environment' (container image); REANA requires one for every serial step.`,
            "ERROR",
          );
        });
        return;
      }
      const job: JobRecord = {
        id: jobId,
        job_name: plannedJob.stepName,
        compute_backend: capitalise(plannedJob.computeBackend),
        backend_job_id: "",
        docker_img: plannedJob.image,
        cmd: plannedJob.command,
        status: "running",
        started_at: reanaTime(),
        finished_at: null,
        log_file: logFile,
      };
      const secretsDir = await this.writeSecretFiles(jobId);
      // A stop asked for while the secrets were written: the job is not started at all.
      if (run.stopRequested) {
        if (secretsDir) await fs.rm(secretsDir, { recursive: true, force: true });
        return this.recordStopped(id, undefined);
      }
      const handle = startJob(
        {
          workspace,
          command: plannedJob.command,
          image: plannedJob.image,
          env: this.deps.secretEnv(),
          secretsDir,
          logFile: path.join(this.deps.dataDir, logFile),
          name: `reana-sandbox-run-job-${jobId}`,
        },
        runtime,
      );
      run.job = handle;
      job.backend_job_id = handle.backendId;
      const startedMs = Date.now();
      await store.update((s) => {
        const wf = s.workflows[id]!;
        wf.jobs.push(job);
        wf.progress.running = { total: 1, job_ids: [jobId] };
        wf.progress.current_command = plannedJob.command;
        wf.progress.current_step_name = plannedJob.stepName;
        wf.workflow_logs += engineLine(
          `Publishing step:${plannedJob.stepIndex}, cmd: ${plannedJob.command}, total steps ${planned.length} (job ${index + 1}).`,
        );
      });
      if (run.stopRequested) handle.kill(run.forceStop);
      const result = await handle.done;
      run.job = undefined;
      if (secretsDir) await fs.rm(secretsDir, { recursive: true, force: true });
      const elapsed = Date.now() - startedMs;
      if (run.stopRequested) return this.recordStopped(id, { jobId, elapsed }, run.forceStop);
      const ok = result.code === 0;
      await store.update((s) => {
        const wf = s.workflows[id]!;
        const rec = wf.jobs.find((j) => j.id === jobId)!;
        rec.status = ok ? "finished" : "failed";
        rec.finished_at = reanaTime();
        wf.cpu_ms += elapsed;
        wf.progress.running = { total: 0, job_ids: [] };
        const bucket = ok ? wf.progress.finished : wf.progress.failed;
        bucket.job_ids.push(jobId);
        bucket.total = bucket.job_ids.length;
        wf.progress.total.job_ids.push(jobId);
        if (!ok) {
          wf.status = "failed";
          wf.progress.run_finished_at = reanaTime();
          const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${String(result.code)}`;
          wf.workflow_logs += engineLine(
            `Job ${jobId} of step "${plannedJob.stepName}" ${how}; the workflow stops here (serial workflows stop at the first failure).`,
            "ERROR",
          );
        }
      });
      if (!ok) return;
    }
    const partial = planned.length > 0 && isPartialSelection(wf0.specification, wf0.operational_options);
    await this.finish(id, partial);
  }

  /**
   * CWL and Snakemake: the real engine runs the whole DAG in the workspace (one process group); its console output
   * becomes the workflow log, and each step/rule it runs becomes a REANA job with its own log and status.
   */
  private async executeEngine(id: string, run: ActiveRun, type: "cwl" | "snakemake"): Promise<void> {
    const { store } = this.deps;
    const wf0 = store.state.workflows[id]!;
    const fail = (message: string) =>
      store.update((s) => {
        const wf = s.workflows[id]!;
        wf.status = "failed";
        wf.progress.run_started_at ??= reanaTime();
        wf.progress.run_finished_at = reanaTime();
        wf.workflow_logs += engineLine(message, "ERROR", type);
      });
    await store.update((s) => {
      const wf = s.workflows[id]!;
      wf.status = "pending";
      wf.workflow_logs += engineLine(`Workflow ${wf.id} (${fullRunName(wf)}) is pending on the local sandbox.`, "INFO", type);
    });
    const executable = findEngine(type);
    if (!executable) return fail(missingEngineMessage(type));
    const runtime = await this.deps.runtime();
    const workspace = this.deps.workspaceOf(id);
    let invocation: EngineInvocation;
    try {
      invocation = await prepareEngine({
        type,
        executable,
        workspace,
        runDir: path.join(this.deps.dataDir, "engine", id),
        specification: wf0.specification,
        inputParameters: wf0.input_parameters,
        operationalOptions: wf0.operational_options,
        runtime,
      });
    } catch (err) {
      return fail((err as Error).message);
    }
    await fs.mkdir(path.join(this.deps.dataDir, "logs", id), { recursive: true });
    if (run.stopRequested) return this.recordStopped(id, undefined);
    const logger = new EngineLogger({
      store,
      dataDir: this.deps.dataDir,
      workflowId: id,
      type,
      steps: invocation.steps,
      logFile: (jobId) => this.jobLogFile(id, jobId),
    });
    const env = this.deps.secretEnv();
    const handle = startEngine(invocation, workspace, env, (line) => logger.line(invocation.parser, line));
    run.job = {
      kill(force?: boolean) {
        logger.stopping = true;
        handle.kill(force);
      },
    };
    logger.enginePid = handle.pid;
    await store.update((s) => {
      const wf = s.workflows[id]!;
      wf.status = "running";
      wf.engine_pid = handle.pid;
      wf.progress.run_started_at = reanaTime();
      wf.progress.total = { total: invocation.expectedJobs, job_ids: [] };
      for (const w of invocation.warnings) wf.workflow_logs += engineLine(w, "WARNING", type);
      const containers = type === "cwl" && runtime;
      if (!containers) {
        const images = [...new Set(invocation.steps.map((p) => p.image).filter(Boolean))];
        wf.workflow_logs += engineLine(
          `No container runtime is used: the step image(s) ${images.join(", ") || "(none)"} were NOT used; ` +
            "steps run on the host with the host's tools.",
          "WARNING",
          type,
        );
      }
      wf.workflow_logs += engineLine(`Running ${path.basename(executable)} ${invocation.args.join(" ")} in ${workspace}.`, "INFO", type);
    });
    if (run.stopRequested) run.job.kill(run.forceStop);
    const startedMs = Date.now();
    const result = await handle.done;
    run.job = undefined;
    await logger.close();
    await store.update((s) => {
      const wf = s.workflows[id]!;
      wf.cpu_ms += Date.now() - startedMs;
      delete wf.engine_pid;
    });
    if (run.stopRequested) {
      await logger.endRunningJobs(this.shuttingDown ? "failed" : "stopped");
      return this.recordStopped(id, undefined, run.forceStop);
    }
    if (result.code !== 0) {
      await logger.endRunningJobs("failed");
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${String(result.code)}`;
      return fail(`${path.basename(executable)} ${how}; the workflow failed (see the engine output above and the job logs).`);
    }
    await logger.endRunningJobs("finished");
    await this.finish(id, false, type);
  }

  private async finish(id: string, partial: boolean, engine = "serial"): Promise<void> {
    const wf = this.deps.store.state.workflows[id]!;
    const outputs = (partial ? {} : (wf.specification.outputs ?? {})) as { files?: string[]; directories?: string[] };
    const workspace = this.deps.workspaceOf(id);
    const missing: string[] = [];
    for (const file of outputs.files ?? []) {
      const stat = await fs.stat(path.join(workspace, file)).catch(() => undefined);
      if (!stat?.isFile()) missing.push(file);
    }
    for (const dir of outputs.directories ?? []) {
      const stat = await fs.stat(path.join(workspace, dir)).catch(() => undefined);
      if (!stat?.isDirectory()) missing.push(`${dir}/`);
    }
    await this.deps.store.update((s) => {
      const rec = s.workflows[id]!;
      rec.progress.current_command = null;
      rec.progress.current_step_name = null;
      rec.progress.run_finished_at = reanaTime();
      if (missing.length > 0) {
        rec.status = "failed";
        rec.workflow_logs += engineLine(
          `All jobs finished but declared output(s) are missing from the workspace: ${missing.join(", ")}.`,
          "ERROR",
          engine,
        );
      } else {
        if (partial) {
          rec.workflow_logs += engineLine("Declared outputs were not checked: FROM/TARGET ran only part of the workflow.");
        }
        rec.status = "finished";
        rec.workflow_logs += engineLine(`Workflow ${rec.id} finished. Files were saved in the workspace.`, "INFO", engine);
      }
    });
  }

  private async recordStopped(id: string, job: { jobId: string; elapsed: number } | undefined, forced = false): Promise<void> {
    await this.deps.store.update((s) => {
      const wf = s.workflows[id]!;
      if (job) {
        const rec = wf.jobs.find((j) => j.id === job.jobId);
        if (rec) {
          rec.status = this.shuttingDown ? "failed" : "stopped";
          rec.finished_at = reanaTime();
        }
        wf.cpu_ms += job.elapsed;
      }
      wf.progress.running = { total: 0, job_ids: [] };
      if (wf.status !== "stopped" && wf.status !== "failed") {
        wf.status = this.shuttingDown ? "failed" : "stopped";
      }
      if (wf.status === "stopped") {
        wf.progress.run_stopped_at = reanaTime();
        wf.workflow_logs += engineLine(
          forced ? `Workflow ${wf.id} was force-stopped on request: its running jobs were killed at once.` : `Workflow ${wf.id} was stopped on request.`,
          "WARNING",
        );
      } else {
        wf.progress.run_finished_at = reanaTime();
        wf.workflow_logs += engineLine(
          "The sandbox was shut down during the run; the run was interrupted and is reported as failed.",
          "ERROR",
        );
      }
    });
  }

}

function fullRunName(wf: WorkflowRecord): string {
  return `${wf.name}.${wf.run_number}${wf.run_minor ? `.${wf.run_minor}` : ""}`;
}

export function isTerminal(status: WorkflowRecord["status"]): boolean {
  return status === "finished" || status === "failed" || status === "stopped" || status === "deleted";
}

function capitalise(value: string): string {
  return value === "kubernetes" ? "Kubernetes" : value;
}

/**
 * After a restart, runs that were queued, pending or running when the previous sandbox process died are reported
 * as failed (never silently lost), with a line in the workflow log and in the interrupted job's log.
 */
export async function recoverInterruptedRuns(
  store: ReanaStateStore,
  dataDir: string,
  workspaceOf: (id: string) => string,
): Promise<number> {
  const now = reanaTime();
  const interrupted = Object.values(store.state.workflows).filter((wf) =>
    ["queued", "pending", "running"].includes(wf.status),
  );
  if (interrupted.length === 0) return 0;
  for (const wf of interrupted) {
    if (wf.engine_pid !== undefined) await killOrphan(`host-pid-${wf.engine_pid}`, workspaceOf(wf.id));
    for (const job of wf.jobs.filter((j) => j.status === "running" || j.status === "queued" || j.status === "created")) {
      await killOrphan(job.backend_job_id, workspaceOf(wf.id));
      await fs
        .appendFile(path.join(dataDir, job.log_file), "\n[sandbox] The sandbox stopped during this job; it did not complete.\n")
        .catch(() => undefined);
    }
  }
  await store.update((s) => {
    for (const ref of interrupted) {
      const wf = s.workflows[ref.id]!;
      for (const job of wf.jobs) {
        if (job.status === "running" || job.status === "queued" || job.status === "created") {
          job.status = "failed";
          job.finished_at = now;
          wf.progress.failed.job_ids.push(job.id);
          wf.progress.failed.total = wf.progress.failed.job_ids.length;
          wf.progress.total.job_ids.push(job.id);
        }
      }
      wf.progress.running = { total: 0, job_ids: [] };
      wf.progress.run_finished_at = now;
      delete wf.engine_pid;
      wf.status = "failed";
      wf.workflow_logs += engineLine(
        `The sandbox stopped during the run (it was ${ref.status}); the run was interrupted and is reported as failed. ` +
          "Start a new run to retry.",
        "ERROR",
      );
    }
  });
  return interrupted.length;
}

/**
 * A job (or engine) of a killed sandbox keeps running on its own: it leads its own process group. Kill that group
 * if it still belongs to this run: a member works in the run's workspace (its current folder or its command line
 * is inside it). The leader's command line alone is not enough: bash replaces itself with the job's last command,
 * and the leader may have exited while its children still write into the workspace.
 */
async function killOrphan(backendJobId: string, workspace: string): Promise<void> {
  const m = /^host-pid-(\d+)$/.exec(backendJobId);
  if (m) {
    const pgid = Number(m[1]);
    const root = await fs.realpath(workspace).catch(() => workspace);
    const members = processGroupMembers(pgid);
    let ours = false;
    for (const pid of members) {
      const cwd = await fs.readlink(`/proc/${pid}/cwd`).catch(() => "");
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      if (cwd === root || cwd.startsWith(`${root}/`) || cmdline.includes(workspace) || cmdline.includes(root)) {
        ours = true;
        break;
      }
    }
    if (!ours) return;
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
    return;
  }
  if (backendJobId.startsWith("reana-sandbox-run-job-")) {
    for (const runtime of ["docker", "podman"]) {
      await new Promise<void>((resolve) => execFile(runtime, ["kill", backendJobId], { timeout: 5000 }, () => resolve()));
    }
  }
}
