/**
 * Checksums computed while bytes stream through: adler32 (Rucio's default) and md5.
 *
 * adler32 runs here, in SIMD WebAssembly (adler32.ts), at several GB/s. md5 is the expensive one (a few
 * hundred MB/s, one core): on large streams it runs in the md5 worker, overlapping with the I/O, and it is
 * computed only when asked for.
 */
import { createHash, type Hash } from "node:crypto";
import { stat } from "node:fs/promises";
import { Transform, type TransformCallback } from "node:stream";
import { adler32, formatAdler32 } from "./adler32";
import { readFileChunks } from "./file-reader";
import { WorkerMd5 } from "./md5-worker";

export { adler32, formatAdler32 } from "./adler32";

export interface Checksums {
  /** 8 lower-case hex digits, as Rucio stores it. */
  adler32: string;
  /** 32 lower-case hex digits; "" when md5 was not asked for. */
  md5: string;
  bytes: number;
}

/** Incremental adler32 + md5 + byte count, all on this thread (small data, zip entries). */
export class ChecksumAccumulator {
  private adler = 1;
  private readonly md5: Hash | undefined;
  bytes = 0;

  constructor(opts: { md5?: boolean } = {}) {
    this.md5 = opts.md5 === false ? undefined : createHash("md5");
  }

  update(chunk: Buffer | Uint8Array): void {
    this.adler = adler32(chunk as Uint8Array, this.adler);
    this.md5?.update(chunk as Uint8Array);
    this.bytes += chunk.length;
  }

  digest(): Checksums {
    return { adler32: formatAdler32(this.adler), md5: this.md5 ? this.md5.digest("hex") : "", bytes: this.bytes };
  }
}

/** From this size on (or when the size is unknown) md5 runs in the worker. */
export const WORKER_MD5_THRESHOLD = 8 * 1024 * 1024;

export interface StreamingChecksumOptions {
  /** Compute md5 too (default true). adler32 is always computed: it costs little. */
  md5?: boolean;
  /** Expected size; below WORKER_MD5_THRESHOLD md5 runs here, which beats a round trip to the worker. */
  size?: number;
  /** Ends a wait for the worker. */
  signal?: AbortSignal;
}

/** Checksums of a stream of any size: `update` returns a promise when the caller should wait (backpressure). */
export class StreamingChecksum {
  bytes = 0;
  private adler = 1;
  private readonly md5Here: Hash | undefined;
  private readonly md5Worker: WorkerMd5 | undefined;

  constructor(opts: StreamingChecksumOptions = {}) {
    if (opts.md5 !== false) {
      if (opts.size !== undefined && opts.size < WORKER_MD5_THRESHOLD) this.md5Here = createHash("md5");
      else this.md5Worker = new WorkerMd5(opts.signal);
    }
  }

  update(chunk: Uint8Array): Promise<void> | undefined {
    this.adler = adler32(chunk, this.adler);
    this.bytes += chunk.length;
    this.md5Here?.update(chunk);
    return this.md5Worker?.update(chunk);
  }

  async digest(): Promise<Checksums> {
    const md5 = this.md5Here ? this.md5Here.digest("hex") : this.md5Worker ? await this.md5Worker.digest() : "";
    return { adler32: formatAdler32(this.adler), md5, bytes: this.bytes };
  }

  /** Abandons the checksum (the transfer failed); frees what the worker holds for it. */
  cancel(): void {
    this.md5Worker?.cancel();
  }
}

/** Normalises a checksum string from a server ("52590737", "0x52590737", upper case, missing zeros). */
export function normaliseAdler32(value: string): string {
  return value.trim().toLowerCase().replace(/^0x/, "").padStart(8, "0");
}

/** A pass-through stream that checksums what flows through it. */
export class ChecksumStream extends Transform {
  readonly sums: ChecksumAccumulator;

  constructor(acc: ChecksumAccumulator = new ChecksumAccumulator()) {
    super();
    this.sums = acc;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.sums.update(chunk);
    cb(null, chunk);
  }
}

/** Read size when hashing a file: large reads, hashed in place (the buffer is borrowed from the adler32 memory). */
const HASH_READ_BYTES = 1024 * 1024;

/** Feeds bytes `start` (default 0) to `end` (exclusive, default the end) of a local file into `sums`. */
export function hashFileInto(path: string, sums: StreamingChecksum, opts: { signal?: AbortSignal; start?: number; end?: number } = {}): Promise<void> {
  // A returned wait means the md5 worker may still need the bytes: the buffer is not reused before it settles.
  return readFileChunks(path, (chunk) => sums.update(chunk), { ...opts, chunkBytes: HASH_READ_BYTES });
}

/** Checksums a local file in constant memory. */
export async function checksumFile(path: string, opts: { signal?: AbortSignal; md5?: boolean } = {}): Promise<Checksums> {
  const { size } = await stat(path);
  const sums = new StreamingChecksum({ md5: opts.md5 !== false, size, signal: opts.signal });
  try {
    await hashFileInto(path, sums, { signal: opts.signal });
    return await sums.digest();
  } catch (e) {
    sums.cancel();
    throw e;
  }
}
