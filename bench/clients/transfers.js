// Download and upload of a large file over loopback, side by side with curl in the same run.
//   npm run build && node bench/clients/transfers.js [--size MB] [--rounds N] [--warmup N] [--dir DIR] [--cases a,b]
// Defaults: 2048 MB, 3 rounds after 1 warm-up round (run, not counted), the OS temp folder (files deleted
// after). Each round runs curl and vre-ts one after the other for every case, so both see the same machine
// state; the table shows medians. The warm-up matters: in the first round the kernel spent up to twice as
// much time per byte as in later ones (seen for both tools), which says nothing about either.
//
// Cases (what vre-ts does is what the clients do by default):
//   download       downloadToFile → .part, size + adler32 verified, rename      vs  curl -o FILE
//   download+md5   the same, md5 verified too (Rucio download --verify-all)      vs  curl URL | tee FILE | md5sum
//   upload         uploadFile, streamed PUT, adler32 computed (REANA)            vs  curl -T FILE
//   upload+md5     the same with md5 too (Rucio and Zenodo uploads)              vs  tee >(md5sum) < FILE | curl -T -
// md5 runs at a fixed speed per core (shown as "md5 ceiling"): cases with md5 cannot go faster than it.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const crypto = require("node:crypto");
const { execFileSync } = require("node:child_process");
const { parseArgs } = require("node:util");
const { requireDist, rssMeter, startServer, fmt } = require("./lib/common");
const { HttpClient } = requireDist("clients/http/client.js");
const { downloadToFile, uploadFile } = requireDist("clients/http/transfer.js");
const { checksumFile } = requireDist("clients/http/checksum.js");

const { values: args } = parseArgs({
  options: {
    size: { type: "string", default: "2048" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    dir: { type: "string", default: os.tmpdir() },
    cases: { type: "string", default: "download,download+md5,upload,upload+md5" },
  },
});
const mb = Number(args.size);
const rounds = Number(args.rounds);
const warmup = Number(args.warmup);

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sh = (script) => execFileSync("bash", ["-c", `set -o pipefail; ${script}`], { stdio: ["ignore", "ignore", "inherit"] });

/** Single-core md5 speed on this machine, in MB/s (bytes in memory). */
function md5Ceiling() {
  const buf = crypto.randomBytes(256 * 1024 * 1024);
  const t0 = now();
  crypto.createHash("md5").update(buf).digest();
  return 256 / (now() - t0);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(args.dir, "vre-ts-bench-"));
  const src = path.join(dir, "source.bin");
  const block = crypto.randomBytes(16 * 1024 * 1024);
  const fd = fs.openSync(src, "w");
  for (let w = 0; w < mb; w += 16) fs.writeSync(fd, block, 0, Math.min(16, mb - w) * 1024 * 1024);
  fs.closeSync(fd);
  const server = await startServer("storage-server.js", [src]);
  const http = new HttpClient({ service: "bench", baseUrl: server.url, timeouts: { bodyMs: 600_000, headersMs: 600_000 } });
  const meter = rssMeter();
  const expected = await checksumFile(src);
  const dest = path.join(dir, "dest.bin");
  const q = (s) => `'${s}'`;

  const cases = [
    {
      name: "download",
      curl: () => sh(`curl -sS -o ${q(dest)} ${q(`${server.url}/f`)}`),
      ours: async () => {
        const r = await downloadToFile(http, { path: "f", what: "download" }, dest, { expected: { bytes: expected.bytes, adler32: expected.adler32 } });
        if (r.verified.join() !== "bytes,adler32") throw new Error("download not verified");
      },
    },
    {
      name: "download+md5",
      curl: () => sh(`curl -sS ${q(`${server.url}/f`)} | tee ${q(dest)} | md5sum`),
      ours: async () => {
        const r = await downloadToFile(http, { path: "f", what: "download" }, dest, { expected });
        if (r.verified.join() !== "bytes,adler32,md5") throw new Error("download not verified");
      },
    },
    {
      name: "upload",
      curl: () => sh(`curl -sS -T ${q(src)} -o /dev/null ${q(`${server.url}/up`)}`),
      ours: async () => {
        const r = await uploadFile(http, { path: "up", what: "upload" }, src, { md5: false });
        if (r.adler32 !== expected.adler32) throw new Error("upload checksum differs");
      },
    },
    {
      name: "upload+md5",
      curl: () => sh(`tee >(md5sum >/dev/null) < ${q(src)} | curl -sS -T - -o /dev/null ${q(`${server.url}/up`)}`),
      ours: async () => {
        const r = await uploadFile(http, { path: "up", what: "upload" }, src);
        if (r.md5 !== expected.md5) throw new Error("upload checksum differs");
      },
    },
  ];

  const chosen = args.cases.split(",");
  cases.splice(0, cases.length, ...cases.filter((c) => chosen.includes(c.name)));
  const results = new Map(cases.map((c) => [c.name, { curl: [], ours: [], rss: 0 }]));
  try {
    for (let round = 1 - warmup; round <= rounds; round++) {
      for (const c of cases) {
        const r = round > 0 ? results.get(c.name) : { curl: [], ours: [], rss: 0 };
        let t0 = now();
        c.curl();
        r.curl.push(mb / (now() - t0));
        fs.rmSync(dest, { force: true });
        meter.reset();
        t0 = now();
        await c.ours();
        r.ours.push(mb / (now() - t0));
        r.rss = Math.max(r.rss, meter.peakMB());
        fs.rmSync(dest, { force: true });
      }
      process.stderr.write(round > 0 ? `round ${round}/${rounds} done\n` : "warm-up round done\n");
    }
    const ceiling = md5Ceiling();
    console.log(`${mb} MB over loopback, ${rounds} rounds after ${warmup} warm-up (medians), node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    console.log(`md5 ceiling on this machine: ${fmt(ceiling, 0)} MB/s (one core, bytes in memory)`);
    console.log("case            curl MB/s   vre-ts MB/s   vre-ts/curl   peak RSS MB   (all rounds: curl | vre-ts)");
    for (const c of cases) {
      const r = results.get(c.name);
      const cm = median(r.curl);
      const om = median(r.ours);
      console.log(
        `${c.name.padEnd(14)} ${fmt(cm, 0).padStart(10)}   ${fmt(om, 0).padStart(11)}   ${fmt((100 * om) / cm, 0).padStart(10)}%   ${fmt(r.rss).padStart(11)}   (${r.curl.map((x) => fmt(x, 0)).join(" ")} | ${r.ours.map((x) => fmt(x, 0)).join(" ")})`,
      );
    }
  } finally {
    meter.stop();
    await http.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
