import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/**
 * What /proc says about the processes a job started, so that a stop reaches all of them: the members of its process
 * group, its descendants (a program such as `timeout` moves itself into a group of its own), and whatever still
 * writes into its log (a process that left both the group and the parent chain, e.g. with `setsid`). Where /proc
 * is missing the answers are empty and only the group is signalled.
 */

interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie: dead, waiting for its parent), T, ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** Start time in clock ticks since boot. */
  started: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The fields after the command name (which may hold spaces and parentheses): state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { pid, state: fields[0] ?? "", ppid: Number(fields[1]), pgrp: Number(fields[2]), started: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/** Every process that has not exited (zombies are dead: they only wait to be reaped). */
function liveProcesses(): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.state !== "Z") out.push(stat);
  }
  return out;
}

/** Live pids whose process group is `pgid`. */
export function processGroupMembers(pgid: number): number[] {
  return liveProcesses()
    .filter((p) => p.pgrp === pgid)
    .map((p) => p.pid);
}

/** Live pids below `pid` by parent links (children, grandchildren, ...), wherever their process group is. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of liveProcesses()) {
    const siblings = children.get(p.ppid);
    if (siblings) siblings.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const out: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/**
 * The clock (in the ticks of /proc/<pid>/stat's start time, USER_HZ = 100 on Linux) a little before now: processes
 * started after it are the only ones that can have inherited a descriptor opened now.
 */
export function bootTicks(): number {
  try {
    return Math.max(0, Math.floor((Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) - 1) * 100));
  } catch {
    return 0;
  }
}

/**
 * Live pids (other than this process) with a descriptor open on `file` (an absolute path without links), among the
 * processes started since `since` (bootTicks() taken before the file was handed out; 0 looks at every process).
 */
export function processesWithOpen(file: string, since = 0): number[] {
  const out: number[] = [];
  for (const p of liveProcesses()) {
    if (p.pid === process.pid || p.started < since) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p.pid}/fd`);
    } catch {
      continue; // not ours to look at
    }
    if (fds.some((fd) => readlinkOr(`/proc/${p.pid}/fd/${fd}`) === file)) out.push(p.pid);
  }
  return out;
}

function readlinkOr(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    return "";
  }
}

/** Sends `signal` to a process group and to single processes; those already gone are skipped. */
export function signalProcesses(signal: NodeJS.Signals, pgid: number | undefined, pids: Iterable<number>): void {
  if (pgid !== undefined) {
    try {
      process.kill(-pgid, signal);
    } catch {
      // the group is empty
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Containers whose clients are among `pids`: `docker|podman run ... --cidfile=FILE` processes, as cwltool starts its
 * steps, with the container id the runtime wrote into FILE. Killing such a client does not stop its container, so a
 * stop that kills the engine's processes at once kills these containers by id first (`<command> kill <id>`).
 */
export function containersOf(pids: Iterable<number>): { command: string; id: string }[] {
  const out: { command: string; id: string }[] = [];
  for (const pid of pids) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // gone
    }
    const run = argv.indexOf("run");
    const cidfile = argv.find((a) => a.startsWith("--cidfile="));
    if (run < 1 || !cidfile) continue;
    let id: string;
    try {
      id = readFileSync(cidfile.slice("--cidfile=".length), "utf8").trim();
    } catch {
      continue; // the container is not created yet
    }
    if (/^[0-9a-f]{12,64}$/i.test(id)) out.push({ command: argv[run - 1]!, id });
  }
  return out;
}

/** How long a stopped job or engine has between SIGTERM and SIGKILL (REANA's own grace is a few seconds). */
export const STOP_GRACE_MS = 3000;

/**
 * The stop of a job or an engine: `prepare` (note what is below it, stop its container), then SIGTERM and SIGKILL
 * after the grace period, or SIGKILL at once when forced. A forced stop after a graceful one cuts its grace short;
 * repeated stops do nothing. `signal` sends to everything the stop must reach; `done` settles when the process ended
 * (the pending SIGKILL is then cancelled and `onDone` runs).
 */
export function stopper(options: {
  signal: (signal: NodeJS.Signals) => void;
  done: Promise<unknown>;
  prepare?: (force: boolean) => void;
  onDone?: () => void;
}): (force?: boolean) => void {
  let stopped: "gracefully" | "forcibly" | undefined;
  return (force = false) => {
    if (stopped === "forcibly" || (stopped === "gracefully" && !force)) return;
    stopped = force ? "forcibly" : "gracefully";
    options.prepare?.(force);
    if (force) {
      options.signal("SIGKILL");
      return;
    }
    options.signal("SIGTERM");
    const timer = setTimeout(() => options.signal("SIGKILL"), STOP_GRACE_MS);
    timer.unref();
    void options.done.then(() => {
      clearTimeout(timer);
      options.onDone?.();
    });
  };
}
