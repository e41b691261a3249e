/**
 * ChunkWriter: writes a stream of buffers to a file with one `writev` at a time, batching whatever arrived
 * while the previous write was on disk. The buffers are written as received (no copy); memory is bounded
 * by `maxQueuedBytes`, beyond which `push` asks the producer to wait.
 *
 * One write in flight keeps the kernel from serialising concurrent writers on the file's lock, and a
 * batch per round trip keeps the thread-pool hops few.
 */
import type { FileHandle } from "node:fs/promises";

/** The kernel's limit on buffers per writev (IOV_MAX on Linux). */
const MAX_BUFFERS_PER_WRITE = 1024;

export class ChunkWriter {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private writing: Promise<void> | undefined;
  private failure: unknown;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly fh: FileHandle,
    /** File position of the next byte. */
    private position = 0,
    private readonly maxQueuedBytes = 8 * 1024 * 1024,
  ) {}

  /** Queues `chunk` (which must not be modified afterwards); returns a promise when the caller should wait. */
  push(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (chunk.length === 0) return undefined;
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (!this.writing) this.writing = this.writeLoop();
    if (this.queued <= this.maxQueuedBytes) return undefined;
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
  }

  /** Resolves once everything queued is written; rejects with the first write error. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.failure === undefined) {
        const batch = this.queue.splice(0, MAX_BUFFERS_PER_WRITE);
        let size = 0;
        for (const b of batch) size += b.length;
        await this.writeAll(batch, size);
        this.position += size;
        this.queued -= size;
        if (this.queued <= this.maxQueuedBytes / 2) for (const wake of this.waiters.splice(0)) wake();
      }
    } catch (e) {
      this.failure = e;
      this.queue = [];
      this.queued = 0;
      for (const wake of this.waiters.splice(0)) wake();
    } finally {
      this.writing = undefined;
    }
  }

  /** writev may write less than asked (a full disk, a signal): continue until all of it is written. */
  private async writeAll(batch: Uint8Array[], size: number): Promise<void> {
    let done = (await this.fh.writev(batch, this.position)).bytesWritten;
    while (done < size) {
      let skip = done;
      const rest: Uint8Array[] = [];
      for (const b of batch) {
        if (skip >= b.length) skip -= b.length;
        else {
          rest.push(skip > 0 ? b.subarray(skip) : b);
          skip = 0;
        }
      }
      const n = (await this.fh.writev(rest, this.position + done)).bytesWritten;
      if (n === 0) throw Object.assign(new Error("the disk accepted no more bytes"), { code: "ENOSPC" });
      done += n;
    }
  }
}
