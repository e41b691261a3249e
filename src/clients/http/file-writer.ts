/**
 * How a download's bytes reach its file. DirectFileWriter is the fast path; BufferedFileWriter the one for
 * slow file systems.
 *
 * BufferedFileWriter: copies incoming bytes into a few large buffers and writes each full buffer with one
 * positional write, one at a time. The bytes given to `write` may be reused by the caller as soon as the
 * call returns (the bulk download reads every socket chunk into the same buffer).
 *
 * Memory is fixed (`buffers` × `bufferSize`); when every buffer is full or on its way to disk, `write`
 * returns a promise and the producer should wait. Bytes that still arrive meanwhile (a read already under
 * way cannot be stopped) go to a temporary extra buffer rather than being refused. One write in flight
 * keeps the thread pool hops few and the kernel from serialising writers on the file's lock.
 */
import { writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";

/** Where a download's bytes go: `write` copies or writes them before it returns, and asks to wait with a promise. */
export interface FileSink {
  write(data: Uint8Array): Promise<void> | undefined;
  /** Resolves once every byte is written (to the page cache); rejects with the first error. */
  flush(): Promise<void>;
}

export class BufferedFileWriter implements FileSink {
  private readonly spare: Buffer[] = [];
  private current: Buffer | undefined;
  private filled = 0;
  private readonly full: { buf: Buffer; len: number; extra: boolean }[] = [];
  private currentIsExtra = false;
  private writing: Promise<void> | undefined;
  private failure: unknown;
  private readonly waiters: (() => void)[] = [];
  private ownedBuffers = 0;

  constructor(
    private readonly fh: Pick<FileHandle, "write">,
    /** File position of the next byte. */
    private position = 0,
    private readonly opts: { bufferSize?: number; buffers?: number } = {},
  ) {}

  private get bufferSize(): number {
    return this.opts.bufferSize ?? 4 * 1024 * 1024;
  }

  /** Copies `data`; returns a promise when the caller should wait before writing more. */
  write(data: Uint8Array): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    let off = 0;
    while (off < data.length) {
      if (!this.current) this.takeBuffer();
      const n = Math.min(data.length - off, this.bufferSize - this.filled);
      this.current!.set(data.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === this.bufferSize) this.queueCurrent();
    }
    if (this.spare.length > 0 || this.ownedBuffers < (this.opts.buffers ?? 4)) return undefined;
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
  }

  /** Writes what is buffered and resolves once all of it is on disk (in the page cache); rejects with the first error. */
  async flush(): Promise<void> {
    if (this.failure === undefined && this.current && this.filled > 0) this.queueCurrent();
    while (this.writing) await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  private takeBuffer(): void {
    const limit = this.opts.buffers ?? 4;
    this.currentIsExtra = false;
    if (this.spare.length > 0) this.current = this.spare.pop();
    else if (this.ownedBuffers < limit) {
      this.ownedBuffers++;
      this.current = Buffer.allocUnsafe(this.bufferSize);
    } else {
      this.current = Buffer.allocUnsafe(this.bufferSize);
      this.currentIsExtra = true;
    }
    this.filled = 0;
  }

  private queueCurrent(): void {
    this.full.push({ buf: this.current!, len: this.filled, extra: this.currentIsExtra });
    this.current = undefined;
    this.filled = 0;
    if (!this.writing) this.writing = this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.full.length > 0 && this.failure === undefined) {
        const { buf, len, extra } = this.full[0]!;
        let done = 0;
        while (done < len) {
          const n = (await this.fh.write(buf as unknown as Uint8Array, done, len - done, this.position + done)).bytesWritten;
          if (n === 0) throw Object.assign(new Error("the disk accepted no more bytes"), { code: "ENOSPC" });
          done += n;
        }
        this.full.shift();
        this.position += len;
        if (!extra) this.spare.push(buf);
        for (const wake of this.waiters.splice(0)) wake();
      }
    } catch (e) {
      this.failure = e;
      this.full.length = 0;
      for (const wake of this.waiters.splice(0)) wake();
    } finally {
      this.writing = undefined;
    }
  }
}

/** A write to the page cache takes well under a millisecond; one this slow means a remote or saturated file system. */
const SLOW_WRITE_MS = 20;

/**
 * DirectFileWriter: writes each chunk at once, on this thread, from the caller's own buffer, which is still
 * in the CPU cache (the download reads the socket into a small buffer). Handing large buffers to the thread
 * pool instead costs twice the kernel time per byte on a fast link: the data has gone cold, and the other
 * core is the one serving or receiving it.
 *
 * A synchronous write holds the event loop, so the first write slower than SLOW_WRITE_MS (a network file
 * system, a disk that cannot keep up) hands the rest of the file to a BufferedFileWriter.
 */
export class DirectFileWriter implements FileSink {
  private slow: BufferedFileWriter | undefined;

  constructor(
    private readonly fh: Pick<FileHandle, "write" | "fd">,
    /** File position of the next byte. */
    private position = 0,
    private readonly opts: { slowWriteMs?: number } = {},
  ) {}

  /** Whether writes have moved to the thread pool. */
  get buffered(): boolean {
    return this.slow !== undefined;
  }

  write(data: Uint8Array): Promise<void> | undefined {
    if (this.slow) return this.slow.write(data);
    const start = performance.now();
    let done = 0;
    while (done < data.length) {
      const n = writeSync(this.fh.fd, data, done, data.length - done, this.position + done);
      if (n === 0) throw Object.assign(new Error("the disk accepted no more bytes"), { code: "ENOSPC" });
      done += n;
    }
    this.position += done;
    if (performance.now() - start > (this.opts.slowWriteMs ?? SLOW_WRITE_MS)) this.slow = new BufferedFileWriter(this.fh, this.position);
    return undefined;
  }

  flush(): Promise<void> {
    return this.slow ? this.slow.flush() : Promise.resolve();
  }
}
