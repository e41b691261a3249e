/**
 * The embedded sandbox as a process of its own. A kernel (or any client) calls `openSandbox()`: it joins the server
 * that serves the data folder, or starts one as a detached child process (`vre-ts sandbox --data DIR --seed
 * --idle-exit S`) and joins that. The server belongs to no kernel, so when the kernel that started it exits the
 * others keep all three services, and REANA runs go on.
 *
 * Each joined process registers itself in `<data>/users/<pid>.json`. The server exits once, for the idle time, no
 * registered process has been alive, no request has come and no REANA run has been active. If the server dies
 * anyway (killed), a joined kernel notices within seconds and starts a new one from the same data folder, on the
 * same port when it is free, so clients made earlier keep working.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Sandbox } from "./index";
import { processAlive, processStartTime, readDataDirOwner } from "./store";

/** How long a server without users, requests or REANA runs stays up (`VRE_SANDBOX_IDLE_EXIT` seconds overrides). */
export const DEFAULT_IDLE_EXIT_SECONDS = 60;
/** Header of the server's own probes, which do not count as use. */
export const PROBE_HEADER = "x-vre-sandbox-probe";

export interface SandboxHandle {
  /** `http://127.0.0.1:PORT`; changes only if the server had to be restarted on another port. */
  readonly url: string;
  readonly dataDir: string;
  readonly profiles: Sandbox["profiles"];
  /** Whether this process started the server process now serving (it does not own it: it only started it). */
  readonly owned: boolean;
  /** The server process. */
  readonly pid: number;
  /** Settles once a restart in progress (after the server died) is over; at once otherwise. */
  ready(): Promise<void>;
  /** Leaves the sandbox: this process no longer counts as a user. The server stops by itself once idle. */
  close(): Promise<void>;
}

export interface OpenSandboxOptions {
  dataDir: string;
  /** Register the demo dataset (idempotent). */
  seed?: boolean;
  /** Idle time of a server this call starts, in seconds (default: `VRE_SANDBOX_IDLE_EXIT` or 60). */
  idleExitSeconds?: number;
  /**
   * Watch the server and start a new one when it dies (kernels do). `onRestart` is told when the handle points at
   * a new server (its url may have changed).
   */
  keepAlive?: boolean;
  onRestart?: (handle: SandboxHandle) => void;
  /** How often the watchdog looks (default 2 s). */
  watchIntervalMs?: number;
}

// ------------------------------------------------------------------------------------------------ users

const usersDir = (dataDir: string) => path.join(dataDir, "users");

/** Records this process as a user of the sandbox in `dataDir`; returns the function that removes the record. */
export function registerUser(dataDir: string): () => void {
  mkdirSync(usersDir(dataDir), { recursive: true, mode: 0o700 });
  const file = path.join(usersDir(dataDir), `${process.pid}.json`);
  writeFileSync(file, JSON.stringify({ pid: process.pid, pid_start: processStartTime(process.pid), since: new Date().toISOString() }), { mode: 0o600 });
  let done = false;
  const remove = () => {
    if (done) return;
    done = true;
    process.off("exit", remove);
    try {
      unlinkSync(file);
    } catch {
      // already gone (the folder was removed, or the server swept it)
    }
  };
  process.on("exit", remove);
  return remove;
}

/** Live registered users of the folder; records of processes that are gone are removed on the way. */
export async function liveUsers(dataDir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fs.readdir(usersDir(dataDir));
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names.filter((n) => n.endsWith(".json"))) {
    const file = path.join(usersDir(dataDir), name);
    try {
      const rec = JSON.parse(await fs.readFile(file, "utf8")) as { pid: number; pid_start?: string };
      if (processAlive(rec.pid, rec.pid_start)) {
        live.push(rec.pid);
        continue;
      }
    } catch {
      // unreadable: a half-written record of a process that died at once; treat as gone
    }
    await fs.rm(file, { force: true });
  }
  return live;
}

// ------------------------------------------------------------------------------------------------ server side

export interface IdleWatch {
  stop(): void;
}

/**
 * Runs in the server process: calls `onIdle` once nothing has used the sandbox for `idleMs` (no live registered
 * user, no request, no queued/pending/running REANA run), and `onLost` at once if the folder is no longer ours
 * (its lock was removed or taken over, e.g. the folder was deleted): then nothing may be written there any more.
 */
export function watchIdle(sandbox: Sandbox, opts: { idleMs: number; checkMs?: number; onIdle: () => void; onLost: (why: string) => void }): IdleWatch {
  let lastBusy = Date.now();
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void (async () => {
      const owner = await readDataDirOwner(sandbox.dataDir);
      if (!owner || owner.pid !== process.pid) {
        clearInterval(timer);
        opts.onLost(owner ? `process ${owner.pid} serves ${sandbox.dataDir} now` : `the lock of ${sandbox.dataDir} is gone`);
        return;
      }
      const { inFlight, lastRequestAt } = sandbox.activity();
      const busy = inFlight > 0 || (await liveUsers(sandbox.dataDir)).length > 0 || (await reanaActive(sandbox));
      const now = Date.now();
      if (busy) lastBusy = now;
      else if (now - Math.max(lastBusy, lastRequestAt) >= opts.idleMs) {
        clearInterval(timer);
        opts.onIdle();
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        running = false;
      });
  }, opts.checkMs ?? 2_000);
  return { stop: () => clearInterval(timer) };
}

async function reanaActive(sandbox: Sandbox): Promise<boolean> {
  const { serverUrl, accessToken } = sandbox.profiles.reana;
  const url = `${serverUrl}/api/workflows?status=queued&status=pending&status=running&size=1&access_token=${encodeURIComponent(accessToken)}`;
  try {
    const res = await fetch(url, { headers: { [PROBE_HEADER]: "1" }, signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { total?: number };
    return (body.total ?? 0) > 0;
  } catch {
    return true; // cannot tell: do not stop under a run
  }
}

// ------------------------------------------------------------------------------------------------ client side

/** The command that serves a sandbox folder: the compiled CLI, or (from the TypeScript sources) a bundle of it. */
function serverCommand(): string[] {
  const compiled = path.join(__dirname, "..", "cli", "main.js");
  if (existsSync(compiled)) return [process.execPath, compiled, "sandbox"];
  return [process.execPath, bundledSandboxCli()];
}

let bundle: string | undefined;
/** Running from the TypeScript sources (the test suite): bundle `vre-ts sandbox` once with esbuild (dev dependency). */
function bundledSandboxCli(): string {
  if (bundle && existsSync(bundle)) return bundle;
  const source = path.join(__dirname, "..", "cli", "sandbox.ts");
  if (!existsSync(source)) throw new Error(`cannot find the sandbox server (${path.join(__dirname, "..", "cli", "main.js")}); run \`npm run build\``);
  const dir = path.join(os.tmpdir(), `vre-ts-sandbox-server-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const entry = path.join(dir, "entry.ts");
  writeFileSync(entry, `import { main } from ${JSON.stringify(source.replace(/\.ts$/, ""))};\nmain(process.argv.slice(2)).then((code) => process.exit(code));\n`);
  const out = path.join(dir, "sandbox-server.js");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require("esbuild") as typeof import("esbuild");
  esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: "node", target: "node20", outfile: out, logLevel: "error" });
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  bundle = out;
  return out;
}

function idleSeconds(opts: OpenSandboxOptions): number {
  const env = Number(process.env.VRE_SANDBOX_IDLE_EXIT);
  return opts.idleExitSeconds ?? (Number.isFinite(env) && env > 0 ? env : DEFAULT_IDLE_EXIT_SECONDS);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function answers(url: string): Promise<boolean> {
  return fetch(`${url}/rucio/ping`, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => r.ok,
    () => false,
  );
}

/** The last lines of the server's log, for an error message (the log never holds secrets). */
function logTail(dataDir: string): string {
  try {
    const lines = readFileSync(path.join(dataDir, "sandbox.log"), "utf8").trimEnd().split("\n");
    return lines.slice(-5).join("\n");
  } catch {
    return "";
  }
}

/**
 * Starts a server process on `dataDir` and resolves once some server (it, or one started at the same time by
 * another process) answers there.
 */
async function startServerProcess(dataDir: string, opts: OpenSandboxOptions, preferPort?: number): Promise<{ pid: number }> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(dataDir, "sandbox.log");
  let tooBig = false;
  try {
    tooBig = statSync(logFile).size > 1 << 20;
  } catch {
    // no log yet
  }
  const log = openSync(logFile, tooBig ? "w" : "a", 0o600);
  const [cmd, ...args] = serverCommand();
  const port = preferPort ?? lastPort(dataDir);
  const child = spawn(cmd!, [...args, "--data", dataDir, "--idle-exit", String(idleSeconds(opts)), ...(opts.seed ? ["--seed"] : []), ...(port ? ["--prefer-port", String(port)] : [])], {
    detached: true,
    stdio: ["ignore", log, log],
    cwd: dataDir,
    env: process.env,
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code));
  child.once("error", () => (exited = -1));
  child.unref();
  const deadline = Date.now() + 120_000;
  for (;;) {
    const owner = await readDataDirOwner(dataDir);
    if (owner && (await answers(owner.url))) return { pid: owner.pid };
    if (exited !== undefined && !owner) {
      throw new Error(`the sandbox server could not start on ${dataDir} (exit code ${exited})${logTail(dataDir) ? `:\n${logTail(dataDir)}` : ""}`);
    }
    if (Date.now() > deadline) throw new Error(`the sandbox server on ${dataDir} did not answer within 120 s; see ${logFile}`);
    await sleep(100);
  }
}

/** The port the folder's last server listened on (kept so that a restarted server can take it again). */
function lastPort(dataDir: string): number | undefined {
  try {
    const port = Number(readFileSync(path.join(dataDir, "sandbox.port"), "utf8").trim());
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a kernel calls: joins the server serving `dataDir` (another kernel's, or `vre-ts sandbox` in a terminal),
 * starting one as a detached process when there is none. Two servers never write the same folder.
 */
export async function openSandbox(options: OpenSandboxOptions): Promise<SandboxHandle> {
  const dataDir = path.resolve(options.dataDir);
  const { connectSandbox } = await import("./index");

  const attach = async (preferPort?: number): Promise<{ url: string; pid: number; profiles: Sandbox["profiles"]; started: boolean }> => {
    for (let attempt = 0; ; attempt++) {
      const running = await connectSandbox(dataDir);
      if (running && (await answers(running.url))) return { ...running, started: false };
      if (running && attempt < 20) {
        // A server is starting (lock taken, not answering yet) or busy: give it a moment before starting another.
        await sleep(250);
        continue;
      }
      await startServerProcess(dataDir, options, preferPort);
      const now = await connectSandbox(dataDir);
      if (now && (await answers(now.url))) return { ...now, started: true };
      if (attempt >= 20) throw new Error(`cannot reach the sandbox on ${dataDir}; see ${path.join(dataDir, "sandbox.log")}`);
    }
  };

  // Counted as a user before joining, so that a server deciding right now whether it is unused sees this process.
  const unregister = registerUser(dataDir);
  let first;
  try {
    first = await attach();
  } catch (err) {
    unregister();
    throw err;
  }
  let current = first;
  let restarting: Promise<void> | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const handle: SandboxHandle = {
    get url() {
      return current.url;
    },
    dataDir,
    get profiles() {
      return current.profiles;
    },
    get owned() {
      return current.started;
    },
    get pid() {
      return current.pid;
    },
    ready: () => restarting ?? Promise.resolve(),
    close: async () => {
      closed = true;
      if (timer) clearInterval(timer);
      await restarting?.catch(() => undefined);
      unregister();
    },
  };

  if (options.keepAlive) {
    timer = setInterval(() => {
      if (closed || restarting) return;
      const owner = readOwnerSync(dataDir);
      if (owner && owner.pid === current.pid) return;
      if (!existsSync(dataDir)) {
        // The folder was deleted: there is nothing left to serve, and starting a server would recreate it.
        closed = true;
        clearInterval(timer);
        unregister();
        return;
      }
      restarting = (async () => {
        const port = Number(new URL(current.url).port) || undefined;
        const next = await attach(port);
        const moved = next.url !== current.url || next.pid !== current.pid;
        current = next;
        if (moved) options.onRestart?.(handle);
      })()
        .catch(() => undefined) // tried again on the next tick
        .finally(() => {
          restarting = undefined;
        });
    }, options.watchIntervalMs ?? 2_000);
    timer.unref();
  }
  return handle;
}

/** The live owner of the folder's lock, read synchronously (the watchdog runs on a timer). */
function readOwnerSync(dataDir: string): { pid: number } | undefined {
  try {
    const owner = JSON.parse(readFileSync(path.join(dataDir, "sandbox.lock"), "utf8")) as { pid: number; pid_start?: string };
    return processAlive(owner.pid, owner.pid_start) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Stops the server serving `dataDir` (SIGTERM, then waits for it to release the folder); false if none ran. */
export async function stopSandbox(dataDir: string, timeoutMs = 30_000): Promise<boolean> {
  const owner = await readDataDirOwner(path.resolve(dataDir));
  if (!owner) return false;
  process.kill(owner.pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (processAlive(owner.pid, owner.pid_start)) {
    if (Date.now() > deadline) throw new Error(`the sandbox server (process ${owner.pid}) did not stop within ${Math.round(timeoutMs / 1000)} s`);
    await sleep(100);
  }
  return true;
}
