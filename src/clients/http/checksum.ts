/** Checksums computed while bytes stream through: adler32 (Rucio's default) and md5. */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import * as ADLER32 from "adler-32";

export interface Checksums {
  /** 8 lower-case hex digits, as Rucio stores it. */
  adler32: string;
  /** 32 lower-case hex digits. */
  md5: string;
  bytes: number;
}

/** Incremental adler32 + md5 + byte count. */
export class ChecksumAccumulator {
  private adler = 1;
  private readonly md5: Hash | undefined;
  bytes = 0;

  constructor(opts: { md5?: boolean } = {}) {
    this.md5 = opts.md5 === false ? undefined : createHash("md5");
  }

  update(chunk: Buffer | Uint8Array): void {
    this.adler = ADLER32.buf(chunk as Uint8Array, this.adler);
    this.md5?.update(chunk as Uint8Array);
    this.bytes += chunk.length;
  }

  digest(): Checksums {
    return { adler32: formatAdler32(this.adler), md5: this.md5 ? this.md5.digest("hex") : "", bytes: this.bytes };
  }
}

export function formatAdler32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
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

/** Checksums a local file in constant memory. */
export async function checksumFile(path: string, opts: { signal?: AbortSignal; md5?: boolean } = {}): Promise<Checksums> {
  const acc = new ChecksumAccumulator({ md5: opts.md5 });
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024, signal: opts.signal });
  for await (const chunk of stream) acc.update(chunk as Buffer);
  return acc.digest();
}
