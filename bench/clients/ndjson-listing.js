// NDJSON listing throughput and memory: a DID search streaming N results from a loopback server, consumed
// with `rucio.dids.search()` (zod-validated line by line). Peak RSS must stay flat as N grows.
//   npm run build && node --expose-gc bench/clients/ndjson-listing.js [N ...]   (default: 100000 1000000)
// (--expose-gc lets each size start from a collected heap, so the peaks are comparable.)
"use strict";
const { requireDist, rssMeter, startServer, fmt } = require("./lib/common");
const { RucioClient } = requireDist("clients/rucio/index.js");

async function main() {
  const sizes = process.argv.slice(2).map(Number).filter(Boolean);
  const ns = sizes.length ? sizes : [100_000, 1_000_000];
  const server = await startServer("did-server.js");
  const rucio = new RucioClient({ host: server.url, username: "bench", password: "bench-password" });
  await rucio.scopes.list().catch(() => {}); // log in once (the 404 is fine)
  const meter = rssMeter();
  console.log(`node ${process.version}, baseline RSS ${fmt(process.memoryUsage().rss / 1048576)} MB`);
  console.log("N          seconds   DIDs/s      MB/s    peak RSS (MB)");
  for (const n of ns) {
    global.gc?.();
    meter.reset();
    const t0 = process.hrtime.bigint();
    let count = 0;
    let bytes = 0;
    for await (const d of rucio.dids.search("bench", { type: "file", limit: n })) {
      count++;
      bytes += d.name.length + 90; // approximate line size
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (count !== n) throw new Error(`expected ${n} DIDs, got ${count}`);
    console.log(`${String(n).padEnd(10)} ${fmt(s, 2).padStart(7)}   ${fmt(n / s, 0).padStart(8)}   ${fmt(bytes / s / 1048576).padStart(6)}   ${fmt(meter.peakMB()).padStart(8)}`);
  }
  meter.stop();
  await rucio.close();
  await server.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
