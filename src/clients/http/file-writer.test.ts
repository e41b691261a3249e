import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BufferedFileWriter, DirectFileWriter } from "./file-writer";

describe("BufferedFileWriter", () => {
  it("writes every byte in order from a start position; the caller may reuse its buffer at once; it asks to wait when behind", async () => {
    const f = join(mkdtempSync(join(tmpdir(), "vre-ts-fw-")), "out.bin");
    const fh = await open(f, "w");
    await fh.write(Buffer.from("KEEP"), 0, 4, 0);
    const w = new BufferedFileWriter(fh, 4, { bufferSize: 64 * 1024, buffers: 2 });
    const expected: Buffer[] = [];
    const reused = Buffer.alloc(30_000);
    let waits = 0;
    for (let i = 0; i < 300; i++) {
      const n = 1 + ((i * 7919) % 30_000);
      randomBytes(n).copy(reused); // the same memory every time, as the bulk reader's buffer
      expected.push(Buffer.from(reused.subarray(0, n)));
      const p = w.write(reused.subarray(0, n));
      if (p) {
        waits++;
        await p;
      }
    }
    await w.flush();
    await fh.close();
    expect(readFileSync(f).equals(Buffer.concat([Buffer.from("KEEP"), ...expected]))).toBe(true);
    expect(waits).toBeGreaterThan(0);
  });

  it("takes bytes that still arrive while it is full (extra buffer) and writes them in order", async () => {
    const chunks: Buffer[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const fh = {
      write: async (buf: Uint8Array, off: number, len: number, pos: number) => {
        await gate;
        chunks[pos / 4] = Buffer.from(buf.subarray(off, off + len));
        return { bytesWritten: len, buffer: buf };
      },
    };
    const w = new BufferedFileWriter(fh as never, 0, { bufferSize: 4, buffers: 1 });
    expect(w.write(Buffer.from("aaaa"))).toBeInstanceOf(Promise);
    w.write(Buffer.from("bbbbcc")); // ignored the request to wait: still accepted
    release();
    await w.flush();
    expect(Buffer.concat(chunks).toString()).toBe("aaaabbbbcc");
  });

  it("a failing write surfaces on the next write or flush, and nothing more is written", async () => {
    let calls = 0;
    const fh = {
      write: async () => {
        calls++;
        throw Object.assign(new Error("no space"), { code: "ENOSPC" });
      },
    };
    const w = new BufferedFileWriter(fh as never, 0, { bufferSize: 4 });
    w.write(Buffer.from("abcdefgh"));
    await expect(w.flush()).rejects.toMatchObject({ code: "ENOSPC" });
    expect(() => w.write(Buffer.from("b"))).toThrow("no space");
    expect(calls).toBe(1);
  });

  it("continues a short write where it stopped", async () => {
    const out: Buffer[] = [];
    const fh = {
      write: async (buf: Uint8Array, off: number, len: number) => {
        const n = Math.min(3, len); // at most 3 bytes per call
        out.push(Buffer.from(buf.subarray(off, off + n)));
        return { bytesWritten: n, buffer: buf };
      },
    };
    const w = new BufferedFileWriter(fh as never, 0, { bufferSize: 8 });
    w.write(Buffer.from("hello world, again"));
    await w.flush();
    expect(Buffer.concat(out).toString()).toBe("hello world, again");
  });
});

describe("DirectFileWriter", () => {
  it("writes each chunk before returning, at its position, so the caller may reuse its buffer", async () => {
    const f = join(mkdtempSync(join(tmpdir(), "vre-ts-fw-")), "out.bin");
    const fh = await open(f, "w");
    await fh.write(Buffer.from("KEEP"), 0, 4, 0);
    const w = new DirectFileWriter(fh, 4);
    const reused = Buffer.alloc(70_000);
    const expected: Buffer[] = [Buffer.from("KEEP")];
    for (let i = 0; i < 50; i++) {
      const n = 1 + ((i * 7919) % 70_000);
      randomBytes(n).copy(reused);
      expected.push(Buffer.from(reused.subarray(0, n)));
      expect(w.write(reused.subarray(0, n))).toBeUndefined();
      expect(readFileSync(f).length).toBe(Buffer.concat(expected).length); // already in the file
    }
    await w.flush();
    await fh.close();
    expect(w.buffered).toBe(false);
    expect(readFileSync(f).equals(Buffer.concat(expected))).toBe(true);
  });

  it("after a slow write, hands the rest to the thread pool (buffered), still in order", async () => {
    const f = join(mkdtempSync(join(tmpdir(), "vre-ts-fw-")), "out.bin");
    const fh = await open(f, "w");
    const w = new DirectFileWriter(fh, 0, { slowWriteMs: -1 }); // every write counts as slow
    const chunks = Array.from({ length: 40 }, (_, i) => randomBytes(10_000 + i));
    const reused = Buffer.alloc(20_000);
    for (const c of chunks) {
      c.copy(reused);
      const wait = w.write(reused.subarray(0, c.length));
      if (wait) await wait;
    }
    expect(w.buffered).toBe(true);
    await w.flush();
    await fh.close();
    expect(readFileSync(f).equals(Buffer.concat(chunks))).toBe(true);
  });

  it("a failing write throws at once, with the system's code", async () => {
    const f = join(mkdtempSync(join(tmpdir(), "vre-ts-fw-")), "ro.bin");
    await (await open(f, "w")).close();
    const fh = await open(f, "r"); // not writable
    expect(() => new DirectFileWriter(fh).write(Buffer.from("x"))).toThrow(expect.objectContaining({ code: "EBADF" }));
    await fh.close();
  });
});
