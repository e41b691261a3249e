/**
 * FileReader: positional reads of a local file for the bulk transfers. A read from the page cache takes
 * microseconds, and making it on this thread keeps the bytes in this core's cache for what follows (the
 * checksum, the socket or the file write) and saves the thread pool's round trip: a third of an upload's
 * throughput on a fast link. The first read slower than SLOW_READ_MS (a cold disk, a network or FUSE file
 * system) moves the rest of the file to the thread pool, so the event loop is never held for long.
 */
import { readSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";

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
