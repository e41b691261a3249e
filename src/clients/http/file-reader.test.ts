import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileReader } from "./file-reader";

const data = randomBytes(3 * 1024 * 1024 + 17);
const file = join(mkdtempSync(join(tmpdir(), "vre-ts-fr-")), "data.bin");
writeFileSync(file, data);

async function readAll(reader: FileReader, chunk: number): Promise<Buffer> {
  const buf = new Uint8Array(chunk);
  const parts: Buffer[] = [];
  for (let pos = 0; ; ) {
    const n = await reader.read(buf, chunk, pos);
    if (n === 0) return Buffer.concat(parts as unknown as Uint8Array[]);
    parts.push(Buffer.from(buf.subarray(0, n)));
    pos += n;
  }
}

describe("FileReader", () => {
  it("reads on this thread while reads are fast, every byte at its position", async () => {
    const fh = await open(file, "r");
    const reader = new FileReader(fh);
    expect((await readAll(reader, 100_000)).equals(data)).toBe(true);
    expect(reader.onThreadPool).toBe(false);
    await fh.close();
  });

  it("after a slow read, moves to the thread pool and reads the same bytes", async () => {
    const fh = await open(file, "r");
    const reader = new FileReader(fh, { slowReadMs: -1 }); // every read counts as slow
    expect((await readAll(reader, 65_536)).equals(data)).toBe(true);
    expect(reader.onThreadPool).toBe(true);
    await fh.close();
  });

  it("a failing read rejects with the system's code", async () => {
    const fh = await open(tmpdir(), "r"); // a folder: reading it fails
    await expect(new FileReader(fh).read(new Uint8Array(10), 10, 0)).rejects.toMatchObject({ code: "EISDIR" });
    await expect(new FileReader(fh, { slowReadMs: -1 }).read(new Uint8Array(10), 10, 0)).rejects.toMatchObject({ code: "EISDIR" });
    await fh.close();
  });
});
