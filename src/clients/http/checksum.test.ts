import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as ADLER32 from "adler-32";
import { ChecksumAccumulator, checksumFile, formatAdler32, ParallelChecksumAccumulator, PARALLEL_MAX_IN_FLIGHT } from "./checksum";

describe("checksums", () => {
  it("adler32 of known values (as Rucio stores them: 8 lower-case hex digits)", () => {
    const a = new ChecksumAccumulator();
    a.update(Buffer.from("Wikipedia"));
    expect(a.digest()).toEqual({ adler32: "11e60398", md5: createHash("md5").update("Wikipedia").digest("hex"), bytes: 9 });
    expect(new ChecksumAccumulator().digest().adler32).toBe("00000001");
  });

  it("the worker-backed accumulator gives the same sums, chunk by chunk, under backpressure", async () => {
    const data = randomBytes(PARALLEL_MAX_IN_FLIGHT * 2 + 12345);
    const p = new ParallelChecksumAccumulator();
    let waited = 0;
    for (let o = 0; o < data.length; o += 1 << 20) {
      const w = p.update(data.subarray(o, o + (1 << 20)));
      if (w) {
        waited++;
        await w;
      }
    }
    const sums = await p.digest();
    expect(sums.adler32).toBe(formatAdler32(ADLER32.buf(data)));
    expect(sums.md5).toBe(createHash("md5").update(data).digest("hex"));
    expect(sums.bytes).toBe(data.length);
    expect(waited).toBeGreaterThan(0);
    // A cancelled session does not disturb the next one.
    const c = new ParallelChecksumAccumulator();
    c.update(data.subarray(0, 1000));
    c.cancel();
    const q = new ParallelChecksumAccumulator();
    q.update(Buffer.from("Wikipedia"));
    expect((await q.digest()).adler32).toBe("11e60398");
  });

  it("checksums files of both sizes alike", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-ck-"));
    for (const n of [10, 9 * 1024 * 1024]) {
      const data = randomBytes(n);
      const f = join(dir, `f${n}`);
      writeFileSync(f, data);
      expect(await checksumFile(f)).toEqual({ adler32: formatAdler32(ADLER32.buf(data)), md5: createHash("md5").update(data).digest("hex"), bytes: n });
    }
  });
});
