// adler32 and md5 throughput on a 2 GB file (created in the OS temp folder, deleted after): each alone
// over a page-cache-resident pass (adler32 both by vre-ts's SIMD WebAssembly and by the pure-JS package
// `adler-32`, for comparison), then checksumFile() with adler32 only and with md5 too (md5 in the worker).
//   npm run build && node bench/clients/checksums.js [sizeMB]     (default 2048)
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const crypto = require("node:crypto");
const ADLER32 = require("adler-32");
const { requireDist, rssMeter, fmt } = require("./lib/common");
const { checksumFile, adler32 } = requireDist("clients/http/checksum.js");

async function makeFile(file, mb) {
  const block = crypto.randomBytes(16 * 1024 * 1024);
  const fd = fs.openSync(file, "w");
  for (let written = 0; written < mb; written += 16) fs.writeSync(fd, block, 0, Math.min(16, mb - written) * 1024 * 1024);
  fs.closeSync(fd);
}

async function timeStream(file, update) {
  const t0 = process.hrtime.bigint();
  for await (const c of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) update(c);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main() {
  const mb = Number(process.argv[2] ?? 2048);
  const file = path.join(os.tmpdir(), `vre-ts-bench-${process.pid}.bin`);
  try {
    await makeFile(file, mb);
    // Warm the page cache so every variant reads from memory.
    await timeStream(file, () => {});
    const read = await timeStream(file, () => {});
    let a = 1;
    const adlerJs = await timeStream(file, (c) => (a = ADLER32.buf(c, a)));
    let w = 1;
    const adler = await timeStream(file, (c) => (w = adler32(c, w)));
    if ((w >>> 0) !== (a >>> 0)) throw new Error("the two adler32 implementations disagree");
    const h = crypto.createHash("md5");
    const md5 = await timeStream(file, (c) => h.update(c));
    h.digest();
    const meter = rssMeter();
    let t0 = process.hrtime.bigint();
    await checksumFile(file, { md5: false });
    const adlerFile = Number(process.hrtime.bigint() - t0) / 1e9;
    t0 = process.hrtime.bigint();
    const sums = await checksumFile(file);
    const both = Number(process.hrtime.bigint() - t0) / 1e9;
    meter.stop();
    console.log(`file ${mb} MB (page cache warm), node ${process.version}`);
    console.log(`read only          ${fmt(mb / read).padStart(8)} MB/s`);
    console.log(`adler32 (SIMD)     ${fmt(mb / adler).padStart(8)} MB/s`);
    console.log(`adler32 (adler-32) ${fmt(mb / adlerJs).padStart(8)} MB/s`);
    console.log(`md5                ${fmt(mb / md5).padStart(8)} MB/s`);
    console.log(`checksumFile, adler32     ${fmt(mb / adlerFile).padStart(8)} MB/s`);
    console.log(`checksumFile, adler32+md5 ${fmt(mb / both).padStart(8)} MB/s   peak RSS ${fmt(meter.peakMB())} MB   adler32=${sums.adler32}`);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
