/**
 * Crash safety: the sandbox runs as a child process and is killed with SIGKILL in the middle of an upload to the
 * RSE storage and in the middle of a rule's transfers. After a restart on the same data folder, everything that
 * was acknowledged is intact, no partial file sits at a final path, and the interrupted operation shows up (the
 * replica is not AVAILABLE; the rule resumes and completes) instead of being silently lost.
 */
import { request } from "node:http";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checksums, u8 } from "./checksum";
import { hashPath } from "./catalog";
import { bundleChild, login, startChild, until, type ChildSandbox } from "./__tests__/harness";

let script: string;
const dirs: string[] = [];
const children: ChildSandbox[] = [];

beforeAll(() => {
  script = bundleChild();
});
afterAll(() => {
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  rmSync(path.dirname(script), { recursive: true, force: true });
});

function tmpDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "vre-sandbox-crash-"));
  dirs.push(d);
  return d;
}

async function start(dataDir: string, opts: { seed?: boolean; env?: Record<string, string> } = {}): Promise<ChildSandbox> {
  const c = await startChild(script, dataDir, opts);
  children.push(c);
  return c;
}

async function kill(c: ChildSandbox): Promise<void> {
  c.proc.kill("SIGKILL");
  await c.exited;
}

function partFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".part")) out.push(p);
    }
  };
  walk(root);
  return out;
}

const api = (c: ChildSandbox, token: string) => ({
  get: (p: string) => fetch(`${c.url}/rucio${p}`, { headers: { "X-Rucio-Auth-Token": token } }),
  send: (method: string, p: string, body: unknown) =>
    fetch(`${c.url}/rucio${p}`, { method, headers: { "X-Rucio-Auth-Token": token, "Content-Type": "application/json" }, body: JSON.stringify(body) }),
});

function payload(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe("sandbox killed mid-upload", () => {
  it("keeps acknowledged uploads, leaves no partial file and reports the interrupted replica as not available", async () => {
    const dataDir = tmpDir();
    let c = await start(dataDir);
    let token = await login(c.url, c.password);
    let rucio = api(c, token);
    const rse = "SANDBOX-DISK2";

    // 1. A complete, acknowledged upload: register (C), PUT the bytes, mark available (A).
    const small = payload(64 * 1024, 1);
    const smallSums = checksums(u8(small));
    expect((await rucio.send("POST", "/replicas", { rse, files: [{ scope: "user.demo", name: "small.bin", bytes: small.length, adler32: smallSums.adler32, md5: smallSums.md5, state: "C" }] })).status).toBe(201);
    const pfns = (await (await rucio.get(`/rses/${rse}/lfns2pfns?lfns=user.demo:small.bin&lfns=user.demo:big.bin&scheme=http&operation=write`)).json()) as Record<string, string>;
    const put = await fetch(pfns["user.demo:small.bin"]!, { method: "PUT", headers: { "X-Rucio-Auth-Token": token }, body: u8(small) });
    expect(put.status).toBe(201);
    expect(put.headers.get("x-checksum-adler32")).toBe(smallSums.adler32);
    expect((await rucio.send("PUT", "/replicas", { rse, files: [{ scope: "user.demo", name: "small.bin", state: "A" }] })).status).toBe(200);

    // 2. A large upload, registered as COPYING, killed while the bytes are streaming.
    const big = payload(4 * 1024 * 1024, 2);
    const bigSums = checksums(u8(big));
    expect((await rucio.send("POST", "/replicas", { rse, files: [{ scope: "user.demo", name: "big.bin", bytes: big.length, adler32: bigSums.adler32, md5: bigSums.md5, state: "C" }] })).status).toBe(201);
    const folder = path.join(dataDir, "rucio", "rse", rse);
    const target = new URL(pfns["user.demo:big.bin"]!);
    const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: "PUT", headers: { "X-Rucio-Auth-Token": token, "Content-Length": big.length } });
    req.on("error", () => undefined);
    req.write(u8(big.subarray(0, 1024 * 1024)));
    await until("the partial upload on disk", async () => partFiles(folder).some((p) => statSync(p).size > 0));
    await kill(c);
    req.destroy();

    // 3. Restart on the same folder.
    c = await start(dataDir);
    expect(c.stderr()).toMatch(/removed 1 incomplete file/);
    token = await login(c.url, c.password);
    rucio = api(c, token);
    expect(partFiles(folder)).toEqual([]);
    const bigPath = path.join(folder, hashPath("user.demo", "big.bin"));
    expect(existsSync(bigPath)).toBe(false);
    // The acknowledged upload is intact, byte for byte, and still AVAILABLE.
    const smallBack = Buffer.from(await (await fetch(pfns["user.demo:small.bin"]!.replace(/127\.0\.0\.1:\d+/, new URL(c.url).host), { headers: { "X-Rucio-Auth-Token": token } })).arrayBuffer());
    expect(createHash("md5").update(u8(smallBack)).digest("hex")).toBe(smallSums.md5);
    const lines = (await (await rucio.send("POST", "/replicas/list", { dids: [{ scope: "user.demo", name: "small.bin" }, { scope: "user.demo", name: "big.bin" }], all_states: true })).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { name: string; states: Record<string, string> });
    expect(lines.find((l) => l.name === "small.bin")!.states[rse]).toBe("AVAILABLE");
    // The interrupted one is reported: its replica is still COPYING, never AVAILABLE.
    expect(lines.find((l) => l.name === "big.bin")!.states[rse]).toBe("COPYING");
    const available = (await (await rucio.send("POST", "/replicas/list", { dids: [{ scope: "user.demo", name: "big.bin" }] })).text()).trim();
    expect(available).toBe("");

    // 4. Retrying the upload completes it.
    const retry = await fetch(`${c.url}${target.pathname}`, { method: "PUT", headers: { "X-Rucio-Auth-Token": token }, body: u8(big) });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("x-checksum-md5")).toBe(bigSums.md5);
    expect((await rucio.send("PUT", "/replicas", { rse, files: [{ scope: "user.demo", name: "big.bin", state: "A" }] })).status).toBe(200);
    expect(createHash("md5").update(u8(readFileSync(bigPath))).digest("hex")).toBe(bigSums.md5);
    await kill(c);
  }, 60_000);
});

describe("sandbox killed mid-transfer", () => {
  it("resumes the rule's transfers after a restart and ends with complete, verified copies", async () => {
    const dataDir = tmpDir();
    // Throttled to ~100 KB/s so the seeded dataset (~314 KB) takes a few seconds to copy.
    let c = await start(dataDir, { seed: true, env: { VRE_SANDBOX_TRANSFER_RATE: "100000" } });
    let token = await login(c.url, c.password);
    let rucio = api(c, token);
    const created = await rucio.send("POST", "/rules/", { dids: [{ scope: "open", name: "dimuon-sim.v1" }], account: "demo", copies: 1, rse_expression: "SANDBOX-DISK2" });
    expect(created.status).toBe(201);
    const [ruleId] = (await created.json()) as string[];
    const dest = path.join(dataDir, "rucio", "rse", "SANDBOX-DISK2");
    const rule = async () => (await (await rucio.get(`/rules/${ruleId}`)).json()) as { state: string; locks_ok_cnt: number; locks_replicating_cnt: number };
    expect((await rule()).state).toBe("REPLICATING");
    await until("a transfer in flight", async () => partFiles(dest).some((p) => statSync(p).size > 0));
    await kill(c);
    expect(partFiles(dest).length).toBeGreaterThan(0);

    c = await start(dataDir, { seed: true });
    expect(c.stderr()).toMatch(/resuming \d+ transfer\(s\)/);
    token = await login(c.url, c.password);
    rucio = api(c, token);
    const done = await until("the rule to finish", async () => {
      const r = await rule();
      return r.state === "OK" ? r : undefined;
    });
    expect(done.locks_ok_cnt).toBe(4);
    expect(partFiles(dest)).toEqual([]);
    // Every copy matches the catalogue's checksums.
    const files = (await (await rucio.get("/dids/open/dimuon-sim.v1/dids")).text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { name: string; adler32: string; md5: string; bytes: number });
    for (const f of files) {
      const sums = checksums(u8(readFileSync(path.join(dest, hashPath("open", f.name)))));
      expect(sums).toEqual({ adler32: f.adler32, md5: f.md5, bytes: f.bytes });
    }
    const states = (await (await rucio.send("POST", "/replicas/list", { dids: [{ scope: "open", name: "dimuon-sim" }] })).text())
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { states: Record<string, string> }).states["SANDBOX-DISK2"]);
    expect(states).toEqual(["AVAILABLE", "AVAILABLE", "AVAILABLE", "AVAILABLE"]);
    await kill(c);
  }, 60_000);
});
