/**
 * Cost of the magic layer itself (no service calls):
 *   npx vitest bench --run src/magics/args.bench.ts
 * 1. tokenizing + parsing a typical magic line against its verb table (runs on every magic call);
 * 2. rendering a 1000-row result table (text/plain + text/html);
 * 3. 10,000 progress updates (a transfer's callbacks) through the 4-per-second throttle.
 */
import { bench, describe } from "vitest";
import { parseVerb, tokenize } from "./args";
import { Progress } from "./progress";
import { rucioVerbs } from "./rucio";
import { formatBytes, tableBundle } from "./vre-format";

const listDids = rucioVerbs.find((v) => v.name === "list-dids")!;
const line = `open:dimuon* --type file --filter "energy>7500,collision=pp;run_number=3" --long --limit 500`;
const rows = Array.from({ length: 1000 }, (_, i) => ({ did: `open:dimuon_run${String(i).padStart(4, "0")}.csv`, bytes: 85_000 + i, adler32: (i * 2654435761 >>> 0).toString(16).padStart(8, "0") }));

describe("magic layer", () => {
  bench("tokenize + parse a %rucio list-dids line", () => {
    parseVerb("rucio", listDids, tokenize(line));
  });
  bench("render a 1000-row table", () => {
    tableBundle(rows, [
      { label: "did", get: (r) => r.did },
      { label: "size", get: (r) => formatBytes(r.bytes), align: "right" },
      { label: "adler32", get: (r) => r.adler32 },
    ], { maxRows: 1000 });
  });
  bench("10,000 throttled progress updates", () => {
    let shown = 0;
    const p = new Progress({ display: () => void shown++ }, { title: "bench" });
    for (let i = 0; i < 10_000; i++) p.update({ bytes: i * 1000, totalBytes: 10_000_000 });
    p.done();
  });
});
