import { createHash, type Hash } from "node:crypto";
import * as ADLER32 from "adler-32";

/** Streaming adler32 + md5, fed chunk by chunk while bytes are written. */
export class Checksummer {
  private adler = 1;
  private readonly md5: Hash = createHash("md5");
  bytes = 0;

  update(chunk: Uint8Array): void {
    this.adler = ADLER32.buf(chunk, this.adler);
    this.md5.update(chunk);
    this.bytes += chunk.length;
  }

  digest(): { adler32: string; md5: string; bytes: number } {
    return { adler32: (this.adler >>> 0).toString(16).padStart(8, "0"), md5: this.md5.digest("hex"), bytes: this.bytes };
  }
}

export function checksums(data: Uint8Array): { adler32: string; md5: string; bytes: number } {
  const c = new Checksummer();
  c.update(data);
  return c.digest();
}

/** A Buffer seen as a plain Uint8Array (TypeScript 5.9's generic typed arrays vs @types/node 20's Buffer). */
export function u8(b: Buffer | Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
