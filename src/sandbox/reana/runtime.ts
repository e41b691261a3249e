import { spawn, execFile, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { guardProcessGroup } from "./group-guard";

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
  /** Resolves with the exit code (or a signal name) once the job and its log are finished. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the job's whole process group (and its container). */
  kill(): void;
}

export function startJob(spec: JobSpec, runtime: ContainerRuntime | undefined): RunningJob {
  const shellCommand = `cd ${shellQuote(spec.workspace)} && ${spec.command}`;
  let child: ChildProcess;
  let backendId: string;
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
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...spec.env },
    });
    backendId = spec.name;
  } else {
    child = spawn("bash", ["-c", shellCommand], {
      cwd: spec.workspace,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // On the host /etc/reana/secrets cannot be provided; the file secrets' folder is given by REANA_SECRETS_DIR.
      env: { ...hostEnvironment(), ...spec.env, ...(spec.secretsDir ? { REANA_SECRETS_DIR: spec.secretsDir } : {}) },
    });
    backendId = `host-pid-${child.pid ?? "unknown"}`;
  }
  // Host jobs die with the sandbox (containers are killed by name when the sandbox restarts).
  const release = runtime ? () => undefined : guardProcessGroup(child.pid);
  const log = createWriteStream(spec.logFile, { flags: "a", mode: 0o600 });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra?: string) => {
      if (settled) return;
      settled = true;
      release();
      if (extra) log.write(extra);
      log.end(() => resolve({ code, signal, }));
    };
    child.on("error", (err) => finish(127, null, `\n${err.message}\n`));
    child.on("close", (code, signal) => finish(code, signal));
  });
  let killed = false;
  return {
    backendId,
    done,
    kill() {
      if (killed) return;
      killed = true;
      if (runtime) execFile(runtime.command, ["kill", spec.name], () => undefined);
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 3000);
      timer.unref();
      child.once("close", () => clearTimeout(timer));
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
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
