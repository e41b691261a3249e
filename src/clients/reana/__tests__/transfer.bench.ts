/**
 * Benchmark: REANA workspace transfers through ReanaClient on loopback, side by side with curl, plus safe zip
 * extraction (compared with `unzip`) and reana.yaml validation. Run from the repository root:
 *
 *   npx esbuild --bundle --platform=node --log-level=warning src/clients/reana/__tests__/transfer.bench.ts \
 *     --outfile=/tmp/reana-bench.js && node /tmp/reana-bench.js [sizeMiB=1024]
 *
 * Big files live in a temporary folder that is removed at the end.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ReanaClient } from "../client";
import { parseReanaSpec } from "../spec";
import { validateReanaSpec } from "../validate";
import { extractZipSafely } from "../zip";

const sizeMiB = Number(process.argv[2] ?? 1024);
const TOKEN = "bench-token-0123456789";
// curl must not block the event loop: the server runs in this process.
const run = promisify(execFile);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "reana-bench-"));
  try {
    const big = path.join(dir, "big.bin");
    // Incompressible-ish content: repeated random MiB.
    const block = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
    const ws = createWriteStream(big);
    for (let i = 0; i < sizeMiB; i++) if (!ws.write(block)) await new Promise((r) => ws.once("drain", r));
    await new Promise((r) => ws.end(r));
    const bytes = statSync(big).size;

    // The server runs in its own process, like a real REANA server (and like curl's peer).
    const serverCode = `
      const http = require("node:http"), fs = require("node:fs");
      const big = process.env.BIG, token = process.env.TOKEN, bytes = fs.statSync(big).size;
      const server = http.createServer((req, res) => {
        const url = new URL(req.url, "http://x");
        if (url.searchParams.get("access_token") !== token) return res.writeHead(403).end('{"message":"Token not valid."}');
        if (req.method === "GET") {
          res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes });
          return fs.createReadStream(big, { highWaterMark: 1024 * 1024 }).pipe(res);
        }
        let received = 0;
        req.on("data", (c) => (received += c.length));
        req.on("end", () => res.writeHead(received === bytes ? 200 : 400, { "content-type": "application/json" }).end(JSON.stringify({ message: "received " + received })));
      });
      server.listen(0, "127.0.0.1", () => process.send(server.address().port));`;
    const child = spawn(process.execPath, ["-e", serverCode], { env: { ...process.env, BIG: big, TOKEN }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const port = await new Promise<number>((resolve) => child.once("message", (m) => resolve(Number(m))));
    const base = `http://127.0.0.1:${port}`;
    const client = new ReanaClient({ serverUrl: base, accessToken: TOKEN });

    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
    const rate = (ms: number) => `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(0)} MiB/s`;

    const url = `${base}/api/workflows/bench/workspace/big.bin?access_token=${TOKEN}`;
    let t = Date.now();
    await run("curl", ["-s", "-o", path.join(dir, "curl.bin"), url]);
    const curlDown = Date.now() - t;
    rmSync(path.join(dir, "curl.bin"));
    peak = process.memoryUsage().rss;
    t = Date.now();
    await client.download("bench", "big.bin", { dest: path.join(dir, "client.bin") });
    const clientDown = Date.now() - t;
    const downPeak = peak;
    rmSync(path.join(dir, "client.bin"));

    t = Date.now();
    await run("curl", ["-s", "-o", "/dev/null", "-H", "Content-Type: application/octet-stream", "--data-binary", `@${big}`, `${base}/api/workflows/bench/workspace?file_name=big.bin&access_token=${TOKEN}`]);
    const curlUp = Date.now() - t;
    peak = process.memoryUsage().rss;
    t = Date.now();
    await client.uploadFile("bench", big, "big.bin");
    const clientUp = Date.now() - t;
    const upPeak = peak;
    clearInterval(sampler);
    await client.close();
    child.kill();

    // Zip extraction: 64 files of size/64 each, stored (as REANA's zips of outputs typically are for ROOT files).
    const src = path.join(dir, "zipsrc");
    execFileSync("mkdir", ["-p", src]);
    const per = Math.max(1, Math.floor(sizeMiB / 64));
    for (let i = 0; i < 64; i++) execFileSync("sh", ["-c", `head -c ${per * 1024 * 1024} ${big} > ${path.join(src, `f${i}.bin`)}`]);
    const zip = path.join(dir, "out.zip");
    execFileSync("zip", ["-q", "-0", "-r", zip, "."], { cwd: src });
    const zipBytes = statSync(zip).size;
    t = Date.now();
    execFileSync("unzip", ["-q", "-o", zip, "-d", path.join(dir, "unzip")]);
    const unzipMs = Date.now() - t;
    peak = process.memoryUsage().rss;
    const sampler2 = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    t = Date.now();
    await extractZipSafely(zip, path.join(dir, "safe"));
    const safeMs = Date.now() - t;
    clearInterval(sampler2);

    // Validation speed.
    const spec = parseReanaSpec(
      "inputs:\n  parameters: {n: 1}\nworkflow:\n  type: serial\n  specification:\n    steps:\n" +
        Array.from({ length: 50 }, (_, i) => `      - {name: s${i}, environment: img, commands: ["run --n \${n} $$HOME"]}\n`).join(""),
    );
    validateReanaSpec(spec);
    t = performance.now();
    for (let i = 0; i < 200; i++) validateReanaSpec(spec);
    const validateMs = (performance.now() - t) / 200;

    console.log(`file ${mib(bytes)} MiB on loopback (2 cores shared)`);
    console.log(`download  curl ${rate(curlDown)}  ReanaClient.download ${rate(clientDown)} (${((curlDown / clientDown) * 100).toFixed(0)}% of curl; .part+fsync+rename)  peak RSS ${mib(downPeak)} MiB`);
    console.log(`upload    curl ${rate(curlUp)}  ReanaClient.uploadFile ${rate(clientUp)} (${((curlUp / clientUp) * 100).toFixed(0)}% of curl; md5+adler32 while streaming)  peak RSS ${mib(upPeak)} MiB`);
    console.log(`zip ${mib(zipBytes)} MiB, 64 entries: unzip ${unzipMs} ms, extractZipSafely ${safeMs} ms (${((unzipMs / safeMs) * 100).toFixed(0)}% of unzip's speed) peak RSS ${mib(peak)} MiB`);
    console.log(`validateReanaSpec, 50-step serial spec: ${validateMs.toFixed(2)} ms per call`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
