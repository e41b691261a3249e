import { spawn, execFile, type ChildProcess } from "node:child_process";
import { appendFileSync, closeSync, openSync, realpathSync } from "node:fs";
import { guardProcessGroup } from "./group-guard";
import { bootTicks, descendantsOf, processesWithOpen, signalProcesses, STOP_GRACE_MS, stopper } from "./processes";

/**
 * Where a serial job runs: in the step's container image when Docker or Podman has a working daemon, otherwise in
 * a host shell. Both run `bash -c "cd <workspace> && <command>"`, the way REANA's job controller does, and put the
 * job in its own process group so a stop kills everything it started.
 */

export interface ContainerRuntime {
  /** Executable name: docker or podman. */
  command: string;
}

/** Finds a container runtime whose daemon answers within a few seconds; `undefined` when there is none. */
export async function detectContainerRuntime(candidates = runtimeCandidates()): Promise<ContainerRuntime | undefined> {
  for (const command of candidates) {
    const ok = await new Promise<boolean>((resolve) => {
      execFile(command, ["info", "--format", "{{json .}}"], { timeout: 4000 }, (err) => resolve(!err));
    });
    if (ok) return { command };
  }
  return undefined;
}

/**
 * `VRE_SANDBOX_CONTAINER_RUNTIME`: `none` runs every job on the host (e.g. offline machines whose daemon cannot
 * pull images), `docker` or `podman` picks one; unset tries docker, then podman.
 */
function runtimeCandidates(): string[] {
  const choice = process.env.VRE_SANDBOX_CONTAINER_RUNTIME?.trim().toLowerCase();
  if (choice === "none") return [];
  if (choice === "docker" || choice === "podman") return [choice];
  return ["docker", "podman"];
}

export interface JobSpec {
  workspace: string;
  command: string;
  image: string;
  env: Record<string, string>;
  /** Folder holding the user's `file` secrets: mounted read-only at /etc/reana/secrets in containers. */
  secretsDir?: string;
  logFile: string;
  /** Unique name, used as the container name. */
  name: string;
}

export interface RunningJob {
  /** Identifier shown as `backend_job_id`. */
  backendId: string;
  /** Resolves with the exit code (or a signal name) once the job's main process ended and what it left is killed. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Stops the job: its process group, what it started outside the group, and its container. SIGTERM first and
   * SIGKILL after a grace period; `force` (REANA's `force_stop`) kills at once with SIGKILL, also when a graceful
   * stop is already waiting out its grace period.
   */
  kill(force?: boolean): void;
}

export function startJob(spec: JobSpec, runtime: ContainerRuntime | undefined): RunningJob {
  const shellCommand = `cd ${shellQuote(spec.workspace)} && ${spec.command}`;
  // The job writes its stdout and stderr straight into its log file, not through a pipe to the sandbox: a process
  // it leaves behind (in the background, or outside its process group) holding its output then cannot keep the
  // job from ending, and the file tells who still has it open.
  const logFd = openSync(spec.logFile, "a", 0o600);
  const handedOut = bootTicks();
  let child: ChildProcess;
  let backendId: string;
  try {
    if (runtime) {
      const args = ["run", "--rm", "--name", spec.name, "-v", `${spec.workspace}:${spec.workspace}`, "-w", spec.workspace];
      // Run as the sandbox's user so files written into the workspace stay owned (and deletable) by that user.
      if (typeof process.getuid === "function" && typeof process.getgid === "function") {
        args.push("--user", `${process.getuid()}:${process.getgid()}`);
      }
      if (spec.secretsDir) args.push("-v", `${spec.secretsDir}:/etc/reana/secrets:ro`);
      for (const key of Object.keys(spec.env)) args.push("-e", key);
      args.push(spec.image, "bash", "-c", shellCommand);
      child = spawn(runtime.command, args, {
        cwd: spec.workspace,
        detached: true,
        stdio: ["ignore", logFd, logFd],
        env: { ...process.env, ...spec.env },
      });
      backendId = spec.name;
    } else {
      child = spawn("bash", ["-c", shellCommand], {
        cwd: spec.workspace,
        detached: true,
        stdio: ["ignore", logFd, logFd],
        // On the host /etc/reana/secrets cannot be provided; the file secrets' folder is given by REANA_SECRETS_DIR.
        env: { ...hostEnvironment(), ...spec.env, ...(spec.secretsDir ? { REANA_SECRETS_DIR: spec.secretsDir } : {}) },
      });
      backendId = `host-pid-${child.pid ?? "unknown"}`;
    }
  } finally {
    closeSync(logFd);
  }
  const logPath = realpathSync(spec.logFile);
  // Host jobs die with the sandbox (containers are killed by name when the sandbox restarts).
  const release = runtime ? () => undefined : guardProcessGroup(child.pid);
  /** Processes below the job when it was stopped: `timeout` and `setsid` take theirs out of the job's group. */
  const below = new Set<number>();
  /** Signals the job's process group, what was below it, and every process that still writes into its log. */
  const signalAll = (signal: NodeJS.Signals) => signalProcesses(signal, child.pid, [...below, ...processesWithOpen(logPath, handedOut)]);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra?: string) => {
      if (settled) return;
      settled = true;
      release();
      if (extra) appendFileSync(spec.logFile, extra);
      resolve({ code, signal });
    };
    child.on("error", (err) => finish(127, null, `\n${err.message}\n`));
    // The job ends with its main process, as a REANA job ends with its container: what it started and left
    // behind is killed with it.
    child.on("exit", (code, signal) => {
      signalAll("SIGKILL");
      finish(code, signal);
    });
  });
  return {
    backendId,
    done,
    kill: stopper({
      // What ignores SIGTERM gets SIGKILL after the grace period (once the main process is gone, its exit does that).
      signal: signalAll,
      done,
      prepare: (force) => {
        // The container gets the same treatment: `stop` is SIGTERM and SIGKILL after the grace period, `kill` is SIGKILL.
        if (runtime) execFile(runtime.command, force ? ["kill", spec.name] : ["stop", "--time", String(STOP_GRACE_MS / 1000), spec.name], () => undefined);
        if (child.pid !== undefined) for (const pid of descendantsOf(child.pid)) below.add(pid);
      },
    }),
  };
}

/** The host environment minus variables that carry the sandbox's or the user's credentials. */
export function hostEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/TOKEN|PASSWORD|SECRET/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
