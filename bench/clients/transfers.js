// Download and upload of a large file over loopback, side by side with curl in the same run.
//   npm run build && node bench/clients/transfers.js [sizeMB]     (default 2048; files in the OS temp folder, deleted after)
// Our download streams to <dest>.part computing adler32+md5, verifies them, fsyncs and renames; our upload
// streams a PUT computing both checksums. curl only moves bytes, so it is also shown followed by the same
// verification (`curl … && md5sum`), which is the equivalent end-to-end job.
"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const crypto = require("node:crypto");
const { execFileSync } = require("node:child_process");
const { requireDist, rssMeter, startServer, fmt } = require("./lib/common");
const { HttpClient } = requireDist("clients/http/client.js");
const { downloadToFile, uploadFile } = requireDist("clients/http/transfer.js");
const { checksumFile } = requireDist("clients/http/checksum.js");

function seconds(f) {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function secondsAsync(f) {
  const t0 = process.hrtime.bigint();
  const r = await f();
  return [Number(process.hrtime.bigint() - t0) / 1e9, r];
}

async function main() {
  const mb = Number(process.argv[2] ?? 2048);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vre-ts-bench-"));
  const src = path.join(dir, "source.bin");
  const block = crypto.randomBytes(16 * 1024 * 1024);
  const fd = fs.openSync(src, "w");
  for (let w = 0; w < mb; w += 16) fs.writeSync(fd, block, 0, Math.min(16, mb - w) * 1024 * 1024);
  fs.closeSync(fd);
  const server = await startServer("storage-server.js", [src]);
  const http = new HttpClient({ service: "bench", baseUrl: server.url, timeouts: { bodyMs: 600_000, headersMs: 600_000 } });
  const meter = rssMeter();
  const rows = [];
  try {
    const expected = await checksumFile(src);
    const curlDest = path.join(dir, "curl.bin");
    const oursDest = path.join(dir, "ours.bin");
    // Download: curl, curl + md5sum, ours (verified).
    const tCurl = seconds(() => execFileSync("curl", ["-sS", "-o", curlDest, `${server.url}/f`]));
    const tMd5 = seconds(() => execFileSync("md5sum", [curlDest]));
    fs.rmSync(curlDest);
    meter.reset();
    const [tOurs, res] = await secondsAsync(() => downloadToFile(http, { path: "f", what: "download" }, oursDest, { expected }));
    const dlPeak = meter.peakMB();
    if (res.verified.length !== 3) throw new Error("download not verified");
    fs.rmSync(oursDest);
    rows.push(["download", tCurl, tCurl + tMd5, tOurs, dlPeak]);
    // Upload: curl -T, ours (streamed PUT with checksums).
    const tCurlUp = seconds(() => execFileSync("curl", ["-sS", "-T", src, "-o", "/dev/null", `${server.url}/up`]));
    meter.reset();
    const [tOursUp, up] = await secondsAsync(() => uploadFile(http, { path: "up", what: "upload" }, src));
    const upPeak = meter.peakMB();
    if (up.adler32 !== expected.adler32) throw new Error("upload checksum differs");
    rows.push(["upload", tCurlUp, tCurlUp + tMd5, tOursUp, upPeak]);
    console.log(`${mb} MB over loopback, node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}`);
    console.log("op        curl MB/s   curl+md5sum MB/s   vre-ts (verified) MB/s   vs curl   vs curl+md5sum   peak RSS MB");
    for (const [op, c, cv, o, peak] of rows) {
      console.log(
        `${op.padEnd(9)} ${fmt(mb / c).padStart(9)}   ${fmt(mb / cv).padStart(16)}   ${fmt(mb / o).padStart(22)}   ${fmt((100 * c) / o, 0).padStart(6)}%   ${fmt((100 * cv) / o, 0).padStart(13)}%   ${fmt(peak).padStart(11)}`,
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
