/**
 * Sandbox Rucio benchmark: catalogue writes (durable commits), search, replica listing, storage download/upload
 * and rule transfer throughput, with peak RSS. Files go to a temporary folder that is removed afterwards.
 *
 *   npx esbuild src/sandbox/rucio/__tests__/bench.ts --bundle --platform=node --outfile=/tmp/rucio-bench.js && node /tmp/rucio-bench.js [FILES] [MB]
 */
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSandbox } from "../../index";
import { checksums, u8 } from "../checksum";

async function main(): Promise<void> {
  const nFiles = Number(process.argv[2] ?? 5000);
  const mb = Number(process.argv[3] ?? 64);
  const dir = mkdtempSync(path.join(os.tmpdir(), "vre-rucio-bench-"));
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const sb = await startSandbox({ dataDir: dir });
  const base = sb.profiles.rucio.host;
  const login = await fetch(`${base}/auth/userpass`, { headers: { "X-Rucio-Username": "demo", "X-Rucio-Password": sb.profiles.rucio.password } });
  const token = login.headers.get("x-rucio-auth-token")!;
  const send = (method: string, p: string, body: unknown) =>
    fetch(`${base}${p}`, { method, headers: { "X-Rucio-Auth-Token": token, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const get = (p: string) => fetch(`${base}${p}`, { headers: { "X-Rucio-Auth-Token": token } });
  const time = async (label: string, fn: () => Promise<unknown>, unit?: (ms: number) => string) => {
    const t = performance.now();
    await fn();
    const ms = performance.now() - t;
    process.stdout.write(`${label.padEnd(58)} ${ms.toFixed(0).padStart(7)} ms${unit ? `  ${unit(ms)}` : ""}\n`);
  };

  const batch = 100;
  await send("POST", "/dids/user.demo/bench", { type: "DATASET" });
  await time(`register ${nFiles} files (POST /replicas + attach, ${batch}/request)`, async () => {
    for (let i = 0; i < nFiles; i += batch) {
      const files = Array.from({ length: Math.min(batch, nFiles - i) }, (_, k) => ({
        scope: "user.demo",
        name: `f${String(i + k).padStart(6, "0")}.dat`,
        bytes: 1000 + i + k,
        adler32: "0000abcd",
        meta: { run_number: (i + k) % 50 },
      }));
      await send("POST", "/replicas", { rse: "SANDBOX-DISK1", files });
      await send("POST", "/dids/user.demo/bench/dids", { dids: files.map((f) => ({ scope: f.scope, name: f.name })) });
    }
  }, (ms) => `${((nFiles / ms) * 1000).toFixed(0)} files/s`);
  await time("search type=file filters run_number=7 (long)", async () => {
    const text = await (await get(`/dids/user.demo/dids/search?type=file&long=1&filters=${encodeURIComponent("[{'run_number': 7}]")}`)).text();
    if (text.split("\n").filter(Boolean).length !== Math.ceil(nFiles / 50)) throw new Error("wrong search result");
  });
  await time("search name=f00* (names)", () => get(`/dids/user.demo/dids/search?type=file&name=f00*`).then((r) => r.text()));
  await time(`list replicas of the ${nFiles}-file dataset (NDJSON)`, () => send("POST", "/replicas/list", { dids: [{ scope: "user.demo", name: "bench" }] }).then((r) => r.text()));
  await time("list scope root DIDs", () => get("/dids/user.demo/").then((r) => r.text()));

  // Data plane: one large file.
  const size = mb * 1024 * 1024;
  const data = Buffer.alloc(size, 7);
  const sums = checksums(u8(data));
  await send("POST", "/replicas", { rse: "SANDBOX-DISK1", files: [{ scope: "user.demo", name: "big.bin", bytes: size, adler32: sums.adler32, state: "C" }] });
  const pfns = (await (await get("/rses/SANDBOX-DISK1/lfns2pfns?lfns=user.demo:big.bin&scheme=http")).json()) as Record<string, string>;
  const url = pfns["user.demo:big.bin"]!;
  const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
  await time(`upload ${mb} MB (PUT /rucio-storage, checksummed, fsync)`, () => fetch(url, { method: "PUT", headers: { "X-Rucio-Auth-Token": token }, body: u8(data) }), rate);
  await send("PUT", "/replicas", { rse: "SANDBOX-DISK1", files: [{ scope: "user.demo", name: "big.bin", state: "A" }] });
  await time(`download ${mb} MB (GET /rucio-storage)`, async () => {
    const r = await fetch(url, { headers: { "X-Rucio-Auth-Token": token } });
    let n = 0;
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) n += chunk.length;
    if (n !== size) throw new Error("short download");
  }, rate);
  await time(`rule to SANDBOX-DISK2: copy + adler32 verify ${mb} MB`, async () => {
    const [id] = (await (await send("POST", "/rules/", { dids: [{ scope: "user.demo", name: "big.bin" }], account: "demo", copies: 1, rse_expression: "SANDBOX-DISK2" })).json()) as string[];
    for (;;) {
      const rule = (await (await get(`/rules/${id}`)).json()) as { state: string };
      if (rule.state === "OK") break;
      if (rule.state === "STUCK") throw new Error("transfer failed");
      await new Promise((r) => setTimeout(r, 10));
    }
  }, rate);
  clearInterval(sample);
  process.stdout.write(`${"peak RSS".padEnd(58)} ${(peak / 1024 / 1024).toFixed(0).padStart(7)} MB\n`);
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
