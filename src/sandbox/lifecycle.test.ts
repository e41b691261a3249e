/**
 * The sandbox shared by several kernels, with real processes: each client process joins it the way a kernel does
 * (the compiled `Session` of dist/, `session.sandbox()`), the server is a detached process of its own, and
 * processes are killed with SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { liveUsers, openSandbox, stopSandbox } from "./lifecycle";
import { processAlive, readDataDirOwner } from "./store";

const ROOT = path.resolve(__dirname, "..", "..");
const DIST_SESSION = path.join(ROOT, "dist", "session", "index.js");
const work = mkdtempSync(path.join(os.tmpdir(), "vre-sandbox-shared-"));
const servers = new Set<string>();
afterAll(async () => {
  for (const dir of servers) await stopSandbox(dir).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

/**
 * A client process: a Session from dist/ (what the kernel runs) answering one JSON command per stdin line with one
 * JSON line: `open` (join), `get` (an HTTP GET on the sandbox, with the service's credentials), `post`.
 */
const CLIENT = `
const { Session } = require(${JSON.stringify(DIST_SESSION)});
const readline = require("node:readline");
const session = new Session({ sandboxDir: process.env.SANDBOX_DIR, env: { HOME: process.env.HOME_DIR, VRE_TS_CONFIG: process.env.HOME_DIR + "/config.json" }, notice: () => {} });
function auth(service, url) {
  return session.sandbox().then((sb) => {
    const p = sb.profiles;
    if (service === "reana") { url.searchParams.set("access_token", p.reana.accessToken); return {}; }
    if (service === "zenodo") return { Authorization: "Bearer " + p.zenodo.token };
    return fetch(p.rucio.authHost + "/auth/userpass", { headers: { "X-Rucio-Account": p.rucio.account, "X-Rucio-Username": p.rucio.username, "X-Rucio-Password": p.rucio.password } })
      .then((r) => ({ "X-Rucio-Auth-Token": r.headers.get("x-rucio-auth-token") }));
  });
}
async function call(cmd) {
  const sb = await session.sandbox();
  if (cmd.op === "open") return { url: sb.url, server: sb.pid, owned: sb.owned, pid: process.pid };
  const url = new URL(sb.url + cmd.path);
  const headers = await auth(cmd.service, url);
  const init = { method: cmd.op === "post" ? "POST" : "GET", headers: { ...headers } };
  if (cmd.json !== undefined) { init.body = JSON.stringify(cmd.json); init.headers["Content-Type"] = "application/json"; }
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, text, url: sb.url, server: sb.pid };
}
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  call(JSON.parse(line)).then((r) => process.stdout.write(JSON.stringify(r) + "\\n"), (e) => process.stdout.write(JSON.stringify({ error: String(e && e.stack || e) }) + "\\n"));
});
`;

interface Client {
  proc: ChildProcess;
  send(cmd: Record<string, unknown>): Promise<Record<string, unknown>>;
}

function client(dataDir: string): Client {
  if (!existsSync(DIST_SESSION)) throw new Error(`${DIST_SESSION} is missing: run \`npm run build\` before the sandbox lifecycle tests`);
  const script = path.join(work, "client.js");
  writeFileSync(script, CLIENT);
  const home = mkdtempSync(path.join(work, "home-"));
  const env: NodeJS.ProcessEnv = { ...process.env, SANDBOX_DIR: dataDir, HOME_DIR: home, VRE_SANDBOX_CONTAINER_RUNTIME: "none" };
  const proc = spawn(process.execPath, [script], { stdio: ["pipe", "pipe", "inherit"], env });
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  let buf = "";
  proc.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      waiting.shift()?.(JSON.parse(line) as Record<string, unknown>);
    }
  });
  return {
    proc,
    send: (cmd) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(cmd)}`)), 90_000);
        waiting.push((v) => {
          clearTimeout(timer);
          if (v.error) reject(new Error(String(v.error)));
          else resolve(v);
        });
        proc.stdin!.write(`${JSON.stringify(cmd)}\n`);
      }),
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const killed = (p: ChildProcess) => new Promise<void>((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.once("exit", () => resolve())));

const SPEC = {
  version: "0.9.0",
  workflow: { type: "serial", specification: { steps: [{ name: "slow", environment: "docker.io/library/python:3.12-slim", commands: ["sleep 4 && echo done > done.txt"] }] } },
  outputs: { files: ["done.txt"] },
};

describe("one sandbox shared by several kernels", () => {
  it("outlives the kernel that started it: the others keep Rucio, REANA and Zenodo with the same data, and its REANA run finishes", async () => {
    const dataDir = path.join(work, "shared");
    servers.add(dataDir);
    const a = client(dataDir);
    const b = client(dataDir);
    try {
      const openedA = await a.send({ op: "open" });
      expect(openedA.owned).toBe(true);
      const server = openedA.server as number;
      expect(server).not.toBe(a.proc.pid); // a process of its own, not the kernel
      const openedB = await b.send({ op: "open" });
      expect(openedB).toMatchObject({ url: openedA.url, server, owned: false });
      expect((await liveUsers(dataDir)).sort()).toEqual([a.proc.pid, b.proc.pid].sort());

      // A writes to all three services, then starts a run that is still going when A is killed.
      const dep = await a.send({ op: "post", service: "zenodo", path: "/zenodo/api/deposit/depositions", json: {} });
      expect(dep.status).toBe(201);
      const depId = (JSON.parse(dep.text as string) as { id: number }).id;
      const wf = await a.send({ op: "post", service: "reana", path: "/reana/api/workflows?workflow_name=outlives", json: SPEC });
      expect(wf.status, String(wf.text)).toBe(201);
      expect((await a.send({ op: "post", service: "reana", path: "/reana/api/workflows/outlives/start", json: {} })).status).toBe(200);
      const did = await a.send({ op: "post", service: "rucio", path: "/rucio/dids/user.demo/kept-dataset", json: { type: "DATASET" } });
      expect(did.status).toBe(201);

      a.proc.kill("SIGKILL");
      await killed(a.proc);

      expect(processAlive(server)).toBe(true);
      const zen = await b.send({ op: "get", service: "zenodo", path: `/zenodo/api/deposit/depositions/${depId}` });
      expect(zen.status).toBe(200);
      expect(JSON.parse(zen.text as string)).toMatchObject({ id: depId, state: "unsubmitted" });
      const search = await b.send({ op: "get", service: "rucio", path: "/rucio/dids/user.demo/dids/search?type=dataset" });
      expect(search).toMatchObject({ status: 200, server });
      expect(search.text).toContain('"kept-dataset"');
      const status = await until("the run started by the killed kernel to finish", async () => {
        const r = await b.send({ op: "get", service: "reana", path: "/reana/api/workflows/outlives/status" });
        const s = (JSON.parse(r.text as string) as { status: string }).status;
        return ["finished", "failed", "stopped"].includes(s) ? s : undefined;
      });
      expect(status).toBe("finished");
      // The killed kernel no longer counts as a user; the lock still names the server.
      expect(await liveUsers(dataDir)).toEqual([b.proc.pid]);
      expect((await readDataDirOwner(dataDir))?.pid).toBe(server);

      // ------------------------------------------------------------------ the server itself is killed
      process.kill(server, "SIGKILL");
      const restarted = await until("a kernel to start the sandbox again", async () => {
        const r = await b.send({ op: "open" });
        return r.server !== server ? r : undefined;
      });
      // Same folder, same port (it was free again), same data; the stale lock was taken over.
      expect(restarted.url).toBe(openedA.url);
      expect((await readDataDirOwner(dataDir))?.pid).toBe(restarted.server);
      const again = await b.send({ op: "get", service: "zenodo", path: `/zenodo/api/deposit/depositions/${depId}` });
      expect(again).toMatchObject({ status: 200, server: restarted.server });
      const rucioAgain = await b.send({ op: "get", service: "rucio", path: "/rucio/dids/user.demo/dids/search?type=dataset" });
      expect(rucioAgain.text).toContain('"kept-dataset"');
      const run = await b.send({ op: "get", service: "reana", path: "/reana/api/workflows/outlives/status" });
      expect(JSON.parse(run.text as string)).toMatchObject({ status: "finished" });
    } finally {
      a.proc.kill("SIGKILL");
      b.proc.kill("SIGKILL");
    }
  }, 180_000);

  it("takes over a lock whose pid now belongs to another process, and the idle server exits once nobody uses it", async () => {
    const dataDir = path.join(work, "stale");
    servers.add(dataDir);
    mkdirSync(dataDir, { recursive: true });
    // A lock left by a killed server whose pid was recycled: the pid is alive (this test process), its start is not.
    writeFileSync(path.join(dataDir, "sandbox.lock"), JSON.stringify({ pid: process.pid, url: "http://127.0.0.1:1", started_at: "2026-01-01T00:00:00Z", pid_start: "1" }));
    const handle = await openSandbox({ dataDir, idleExitSeconds: 1 });
    try {
      expect(handle.owned).toBe(true);
      expect(handle.pid).not.toBe(process.pid);
      const lock = JSON.parse(readFileSync(path.join(dataDir, "sandbox.lock"), "utf8")) as { pid: number };
      expect(lock.pid).toBe(handle.pid);
      expect((await fetch(`${handle.url}/rucio/ping`)).status).toBe(200);
      // While this process is a user, the server stays even though no request comes.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(processAlive(handle.pid)).toBe(true);
    } finally {
      await handle.close();
    }
    await until("the unused server to exit", () => !processAlive(handle.pid), 20_000);
    expect(existsSync(path.join(dataDir, "sandbox.lock"))).toBe(false);
    expect(readFileSync(path.join(dataDir, "sandbox.log"), "utf8")).toContain("unused for 1 s");
  }, 60_000);
});
