import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import * as ADLER32 from "adler-32";
import { hashBuffersLent, lendHashBuffer, returnHashBuffer } from "./adler32";
import { adler32, ChecksumAccumulator, checksumFile, formatAdler32, hashFileInto, StreamingChecksum } from "./checksum";
import { BLOCK_COUNT, BLOCK_SIZE, freeBlocks, MAX_BLOCKS_IN_FLIGHT, WorkerMd5 } from "./md5-worker";

/** adler32 as zlib computes it (the trailer of a zlib stream): an implementation independent of ours. */
const zlibAdler32 = (data: Uint8Array) => {
  const z = deflateSync(data, { level: 0 });
  return formatAdler32(z.readUInt32BE(z.length - 4));
};
const md5 = (data: Uint8Array) => createHash("md5").update(data).digest("hex");

describe("adler32 (SIMD WebAssembly)", () => {
  it("matches zlib and the adler-32 library on every length around its 32-byte steps and 4 KiB blocks", () => {
    for (const n of [0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 4095, 4096, 4097, 4127, 4128, 8192 + 7, 65536 + 3, 300_001]) {
      const data = randomBytes(n);
      expect(formatAdler32(adler32(data))).toBe(zlibAdler32(data));
      expect(adler32(data)).toBe(ADLER32.buf(data) >>> 0);
    }
  });

  it("holds for the worst case for its sums (all bytes 0xff) and when continued from any seed", () => {
    const ff = Buffer.alloc(5 * 1024 * 1024 + 13, 0xff);
    expect(formatAdler32(adler32(ff))).toBe(zlibAdler32(ff));
    const data = randomBytes(100_003);
    let v = 1;
    for (let o = 0; o < data.length; o += 7919) v = adler32(data.subarray(o, o + 7919), v);
    expect(formatAdler32(v)).toBe(zlibAdler32(data));
  });

  it("hashes lent buffers in place; lends separate memory until it runs out, then ordinary buffers", () => {
    const data = randomBytes(200_001);
    const lent = lendHashBuffer(data.length);
    lent.set(data);
    expect(formatAdler32(adler32(lent))).toBe(zlibAdler32(data));
    expect(formatAdler32(adler32(lent.subarray(7, 100_007)))).toBe(zlibAdler32(data.subarray(7, 100_007)));
    // Take everything that is left (large loans, then small ones): each loan is its own memory.
    const inArena = (b: Uint8Array) => b.buffer === lent.buffer;
    const more: Uint8Array[] = [];
    for (const size of [1 << 20, 128 * 1024]) {
      for (let b = lendHashBuffer(size); inArena(b); b = lendHashBuffer(size)) more.push(b.fill(more.length));
    }
    expect(more.length).toBeGreaterThanOrEqual(8);
    more.forEach((b, i) => expect(b.every((x) => x === i % 256)).toBe(true));
    expect(Buffer.from(lent.buffer, lent.byteOffset, lent.length).equals(data)).toBe(true);
    const ordinary = lendHashBuffer(1000);
    expect(inArena(ordinary)).toBe(false);
    ordinary.set(data.subarray(0, 1000));
    expect(formatAdler32(adler32(ordinary))).toBe(zlibAdler32(data.subarray(0, 1000)));
    expect(hashBuffersLent()).toBe(1 + more.length);
    returnHashBuffer(ordinary); // not lent: nothing happens
    returnHashBuffer(lent);
    returnHashBuffer(lent); // twice: must not free another loan
    expect(hashBuffersLent()).toBe(more.length);
    const again = lendHashBuffer(data.length);
    expect(inArena(again)).toBe(true);
    more.forEach((b, i) => expect(b.every((x) => x === i % 256)).toBe(true));
    for (const b of [again, ...more]) returnHashBuffer(b);
    expect(hashBuffersLent()).toBe(0);
  });

  it("gives Rucio's known values (8 lower-case hex digits)", () => {
    const a = new ChecksumAccumulator();
    a.update(Buffer.from("Wikipedia"));
    expect(a.digest()).toEqual({ adler32: "11e60398", md5: md5(Buffer.from("Wikipedia")), bytes: 9 });
    expect(new ChecksumAccumulator().digest().adler32).toBe("00000001");
  });
});

describe("StreamingChecksum", () => {
  const data = randomBytes(BLOCK_SIZE * (MAX_BLOCKS_IN_FLIGHT + 3) + 12345);

  for (const variant of [
    { name: "md5 in the worker", opts: {}, async: true },
    { name: "md5 on this thread (small size)", opts: { size: 1000 }, async: false },
    { name: "without md5", opts: { md5: false }, async: false },
  ]) {
    it(`${variant.name}: same sums for any chunking, and every worker block back in the pool`, async () => {
      const h = new StreamingChecksum(variant.opts);
      let waited = 0;
      for (let o = 0; o < data.length; ) {
        const n = 1 + Math.floor(Math.random() * 200_000);
        const w = h.update(data.subarray(o, o + n));
        o += n;
        if (w) {
          waited++;
          await w;
        }
      }
      expect(await h.digest()).toEqual({ adler32: zlibAdler32(data), md5: variant.opts.md5 === false ? "" : md5(data), bytes: data.length });
      // Work on this thread ends before update returns; the worker makes a fast producer wait.
      if (variant.async) expect(waited).toBeGreaterThan(0);
      else expect(waited).toBe(0);
      expect(freeBlocks()).toBe(BLOCK_COUNT);
    });
  }
});

describe("WorkerMd5", () => {
  const data = randomBytes(BLOCK_SIZE * 5 + 77);

  it("a cancelled stream frees its blocks and does not disturb the next one", async () => {
    const c = new WorkerMd5();
    c.update(data);
    c.cancel();
    const q = new WorkerMd5();
    q.update(Buffer.from("Wikipedia"));
    expect(await q.digest()).toBe(md5(Buffer.from("Wikipedia")));
    await new Promise((r) => setTimeout(r, 50));
    expect(freeBlocks()).toBe(BLOCK_COUNT);
  });

  it("many streams at once share the pool without deadlock (more blocks wanted than exist)", async () => {
    const run = async () => {
      const h = new WorkerMd5();
      for (let o = 0; o < data.length; o += 300_000) await h.update(data.subarray(o, o + 300_000));
      return h.digest();
    };
    const all = await Promise.all(Array.from({ length: 10 }, run));
    for (const s of all) expect(s).toBe(md5(data));
    expect(freeBlocks()).toBe(BLOCK_COUNT);
  });

  it("a wait for a block ends with the stream's signal", async () => {
    const hogs = Array.from({ length: BLOCK_COUNT / MAX_BLOCKS_IN_FLIGHT }, () => new WorkerMd5());
    const big = Buffer.alloc(BLOCK_SIZE * MAX_BLOCKS_IN_FLIGHT);
    for (const h of hogs) h.update(big); // every block taken (some may already be on their way back)
    const ac = new AbortController();
    const late = new WorkerMd5(ac.signal);
    const wait = late.update(big);
    ac.abort(new Error("interrupted"));
    if (wait) await expect(wait).rejects.toThrow(/interrupted|already/);
    late.cancel();
    for (const h of hogs) await h.digest();
    await new Promise((r) => setTimeout(r, 50));
    expect(freeBlocks()).toBe(BLOCK_COUNT);
  });
});

describe("checksumFile", () => {
  it("checksums files of every size alike, read straight into the hash memory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-ck-"));
    for (const n of [0, 10, BLOCK_SIZE, 9 * 1024 * 1024 + 1]) {
      const data = randomBytes(n);
      const f = join(dir, `f${n}`);
      writeFileSync(f, data);
      expect(await checksumFile(f)).toEqual({ adler32: zlibAdler32(data), md5: md5(data), bytes: n });
      expect((await checksumFile(f, { md5: false })).md5).toBe("");
    }
  });

  it("hashes any byte range of a file (a resumed download's kept prefix), stops on abort, and gives its buffer back", async () => {
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const f = join(mkdtempSync(join(tmpdir(), "vre-ts-ck-")), "f.bin");
    writeFileSync(f, data);
    for (const [start, end] of [[0, 1], [7, 1024 * 1024 + 9], [2 * 1024 * 1024, undefined], [5, 5]] as const) {
      const sums = new StreamingChecksum({ md5: false });
      await hashFileInto(f, sums, { start, end });
      expect((await sums.digest()).adler32).toBe(zlibAdler32(data.subarray(start, end)));
    }
    const ac = new AbortController();
    ac.abort(Object.assign(new Error("interrupted"), { name: "AbortError" }));
    await expect(hashFileInto(f, new StreamingChecksum({ md5: false }), { signal: ac.signal })).rejects.toMatchObject({ name: "AbortError" });
    await expect(checksumFile(join(tmpdir(), "vre-ts-no-such-file"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(hashBuffersLent()).toBe(0);
  });
});
