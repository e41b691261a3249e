/**
 * Benchmark of the sandbox REANA and Zenodo services, run in a child process so its memory can be read from
 * /proc: streamed uploads (REANA workspace, Zenodo bucket with md5), workspace download, run latency of a
 * one-command workflow, and listing many runs.
 *
 *   npx esbuild src/sandbox/reana/__tests__/bench.ts --bundle --platform=node --outfile=/tmp/sbx-bench.js \
 *     && npx esbuild src/sandbox/reana/__tests__/serve.ts --bundle --platform=node --outfile=/tmp/sbx-serve.js \
 *     && node /tmp/sbx-bench.js /tmp/sbx-serve.js [MiB=256]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";

const serveScript = process.argv[2];
const mib = Number(process.argv[3] ?? 256);
if (!serveScript) {
  process.stderr.write("usage: bench.js <bundled serve.js> [MiB]\n");
  process.exit(2);
}

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

function zeroStream(bytes: number): Readable {
  const chunk = Buffer.alloc(1024 * 1024, 0x5a);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

function send(url: string, method: string, headers: Record<string, string>, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, "Content-Length": String(bytes) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    zeroStream(bytes).pipe(req);
  });
}

function drain(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let n = 0;
      res.on("data", (d: Buffer) => (n += d.length));
      res.on("end", () => resolve(n));
    })
      .on("error", reject)
      .end();
  });
}

async function json(url: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const r = await fetch(url, init);
  return (await r.json()) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "sbx-bench-"));
  const child = spawn(process.execPath, [serveScript!, dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, VRE_SANDBOX_CONTAINER_RUNTIME: "none" },
  });
  const info = await new Promise<{ url: string; reanaToken: string; zenodoToken: string }>((resolve) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!));
    });
  });
  const bytes = mib * 1024 * 1024;
  const reana = `${info.url}/reana/api`;
  const q = `access_token=${info.reanaToken}`;
  const results: Record<string, string> = {};
  try {
    const baseRss = peakRssMiB(child.pid!);
    const created = await json(`${reana}/workflows?workflow_name=bench&${q}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ workflow: { type: "serial", specification: { steps: [{ environment: "x", commands: ["true"] }] } } }),
    });
    const id = created.workflow_id as string;
    let t = performance.now();
    const up = await send(`${reana}/workflows/${id}/workspace?file_name=big.bin&${q}`, "POST", { "Content-Type": "application/octet-stream" }, bytes);
    let s = (performance.now() - t) / 1000;
    results["REANA workspace upload"] = `${mib} MiB in ${s.toFixed(2)} s = ${(mib / s).toFixed(0)} MiB/s (HTTP ${up})`;
    t = performance.now();
    const got = await drain(`${reana}/workflows/${id}/workspace/big.bin?${q}`);
    s = (performance.now() - t) / 1000;
    results["REANA workspace download"] = `${(got / 1048576).toFixed(0)} MiB in ${s.toFixed(2)} s = ${(mib / s).toFixed(0)} MiB/s`;

    const dep = await json(`${info.url}/zenodo/api/deposit/depositions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${info.zenodoToken}`, "Content-Type": "application/json" },
      body: "{}",
    });
    t = performance.now();
    const zput = await send(`${(dep.links as Record<string, string>).bucket}/big.bin`, "PUT", { Authorization: `Bearer ${info.zenodoToken}` }, bytes);
    s = (performance.now() - t) / 1000;
    results["Zenodo bucket PUT (md5 while streaming)"] = `${mib} MiB in ${s.toFixed(2)} s = ${(mib / s).toFixed(0)} MiB/s (HTTP ${zput})`;
    results["server peak RSS"] = `${peakRssMiB(child.pid!).toFixed(0)} MiB (at start ${baseRss.toFixed(0)} MiB) while moving ${3 * mib} MiB`;

    const latencies: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      t = performance.now();
      const wf = await json(`${reana}/workflows?workflow_name=latency&${q}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ workflow: { type: "serial", specification: { steps: [{ environment: "x", commands: ["true"] }] } } }),
      });
      await fetch(`${reana}/workflows/${wf.workflow_id as string}/start?${q}`, { method: "POST" });
      for (;;) {
        const st = await json(`${reana}/workflows/${wf.workflow_id as string}/status?${q}`);
        if (st.status === "finished" || st.status === "failed") break;
        await new Promise((r) => setTimeout(r, 5));
      }
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    results["create+start+finish of a 1-job workflow"] = `median ${latencies[5]!.toFixed(0)} ms, max ${latencies[9]!.toFixed(0)} ms (10 runs, 5 ms polling)`;
    for (let i = 0; i < 290; i += 1) {
      await fetch(`${reana}/workflows?workflow_name=many&${q}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ workflow: { type: "serial", specification: { steps: [{ environment: "x", commands: ["true"] }] } } }),
      });
    }
    t = performance.now();
    const list = await json(`${reana}/workflows?type=batch&include_progress=true&${q}`);
    results["list 301 workflows with progress"] = `${(performance.now() - t).toFixed(0)} ms (${String(list.total)} items)`;
    t = performance.now();
    await json(`${reana}/workflows?type=batch&page=3&size=20&${q}`);
    results["list page 3 of 20"] = `${(performance.now() - t).toFixed(0)} ms`;
  } finally {
    child.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  }
  for (const [k, v] of Object.entries(results)) process.stdout.write(`${k}: ${v}\n`);
}

void main();
