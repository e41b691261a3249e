/**
 * FileReader: positional reads of a local file for the bulk transfers. A read from the page cache takes
 * microseconds, and making it on this thread keeps the bytes in this core's cache for what follows (the
 * checksum, the socket or the file write) and saves the thread pool's round trip: a third of an upload's
 * throughput on a fast link. The first read slower than SLOW_READ_MS (a cold disk, a network or FUSE file
 * system) moves the rest of the file to the thread pool, so the event loop is never held for long.
 * `readFileChunks` is the loop local copies and checksums use.
 */
import { readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { lendHashBuffer, returnHashBuffer } from "./adler32";

const SLOW_READ_MS = 20;

export class FileReader {
  private slow = false;

  constructor(
    private readonly fh: Pick<FileHandle, "read" | "fd">,
    private readonly opts: { slowReadMs?: number } = {},
  ) {}

  /** Whether reads have moved to the thread pool. */
  get onThreadPool(): boolean {
    return this.slow;
  }

  /** Reads up to `length` bytes at `position` into the start of `buf`; 0 at the end of the file. */
  async read(buf: Uint8Array, length: number, position: number): Promise<number> {
    if (this.slow) return (await this.fh.read(buf, 0, length, position)).bytesRead;
    const start = performance.now();
    const n = readSync(this.fh.fd, buf, 0, length, position);
    this.slow = performance.now() - start > (this.opts.slowReadMs ?? SLOW_READ_MS);
    return n;
  }
}

/** Reads that never wait would hold the event loop: it gets a turn after this many bytes (timers, aborts). */
const YIELD_BYTES = 32 * 1024 * 1024;

/**
 * Feeds bytes `start` to `end` (exclusive; default the whole file) of a local file to `consume`, a chunk at a
 * time, through one buffer borrowed from the adler32 memory (so checksums run in place). The chunk is valid
 * during the call; when `consume` returns a promise, the buffer is reused only once it settles.
 */
export async function readFileChunks(
  path: string,
  consume: (chunk: Uint8Array) => Promise<void> | undefined,
  opts: { chunkBytes: number; start?: number; end?: number; signal?: AbortSignal },
): Promise<void> {
  const end = opts.end ?? Infinity;
  let pos = opts.start ?? 0;
  if (end <= pos) return;
  opts.signal?.throwIfAborted();
  const fh = await open(path, "r");
  const buf = lendHashBuffer(opts.chunkBytes);
  try {
    const reader = new FileReader(fh);
    for (let sinceYield = 0; pos < end; ) {
      const n = await reader.read(buf, Math.min(buf.length, end - pos), pos);
      if (n === 0) return;
      pos += n;
      const wait = consume(buf.subarray(0, n));
      if (wait) await wait;
      if ((sinceYield += n) >= YIELD_BYTES) {
        sinceYield = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
      opts.signal?.throwIfAborted();
    }
  } finally {
    await fh.close().catch(() => undefined);
    returnHashBuffer(buf);
  }
}
