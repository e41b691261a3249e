import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ChunkWriter } from "./file-writer";

describe("ChunkWriter", () => {
  it("writes every chunk in order from a start position, asking the producer to wait when far behind", async () => {
    const f = join(mkdtempSync(join(tmpdir(), "vre-ts-cw-")), "out.bin");
    const fh = await open(f, "w");
    await fh.write(Buffer.from("KEEP"), 0, 4, 0);
    const w = new ChunkWriter(fh, 4, 256 * 1024);
    const chunks = Array.from({ length: 300 }, (_, i) => randomBytes(1 + ((i * 7919) % 20000)));
    let waits = 0;
    for (const c of chunks) {
      const p = w.push(c);
      if (p) {
        waits++;
        await p;
      }
    }
    await w.flush();
    await fh.close();
    expect(readFileSync(f).equals(Buffer.concat([Buffer.from("KEEP"), ...chunks]))).toBe(true);
    expect(waits).toBeGreaterThan(0);
  });

  it("a failing write surfaces on the next push or flush, and nothing more is written", async () => {
    let calls = 0;
    const fh = {
      writev: async () => {
        calls++;
        throw Object.assign(new Error("no space"), { code: "ENOSPC" });
      },
    } as never;
    const w = new ChunkWriter(fh);
    w.push(Buffer.from("a"));
    await expect(w.flush()).rejects.toMatchObject({ code: "ENOSPC" });
    expect(() => w.push(Buffer.from("b"))).toThrow("no space");
    expect(calls).toBe(1);
  });

  it("continues a short write where it stopped", async () => {
    const written: Buffer[] = [];
    const fh = {
      writev: async (bufs: Uint8Array[]) => {
        // Accept at most 5 bytes per call.
        const all = Buffer.concat(bufs.map((b) => Buffer.from(b)));
        written.push(all.subarray(0, 5));
        return { bytesWritten: Math.min(5, all.length) };
      },
    } as never;
    const w = new ChunkWriter(fh);
    w.push(Buffer.from("hello "));
    w.push(Buffer.from("world, again"));
    await w.flush();
    expect(Buffer.concat(written).toString()).toBe("hello world, again");
  });
});
