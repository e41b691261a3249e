/**
 * adler32, Rucio's default checksum, by a SIMD WebAssembly module (adler32.wat): several GB/s, so
 * verifying a transfer costs little next to moving its bytes. Bytes are copied into the module's memory
 * in slices (a plain memcpy) and hashed there.
 */
import { ADLER32_WASM_BASE64 } from "./adler32-wasm";

// The WebAssembly API is a global of Node; the project's lib settings (no DOM) leave it untyped, so the
// little used here is declared.
declare namespace WebAssembly {
  class Memory {
    constructor(d: { initial: number });
    readonly buffer: ArrayBuffer;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: Record<string, unknown>;
  }
}

const SLICE = 1 << 20;
const PAGE = 65536;

let engine: { bytes: Uint8Array; run: (seed: number, ptr: number, len: number) => number } | undefined;

function load(): NonNullable<typeof engine> {
  const memory = new WebAssembly.Memory({ initial: SLICE / PAGE });
  const module = new WebAssembly.Module(Buffer.from(ADLER32_WASM_BASE64, "base64") as unknown as Uint8Array);
  const run = new WebAssembly.Instance(module, { env: { memory } }).exports.adler32 as (seed: number, ptr: number, len: number) => number;
  return { bytes: new Uint8Array(memory.buffer), run };
}

/** adler32 of `data`, continuing from `seed` (1 for a new checksum). */
export function adler32(data: Uint8Array, seed = 1): number {
  engine ??= load();
  let value = seed >>> 0;
  for (let off = 0; off < data.length; off += SLICE) {
    const slice = data.subarray(off, off + SLICE);
    engine.bytes.set(slice, 0);
    value = engine.run(value, 0, slice.length) >>> 0;
  }
  return value;
}

/** 8 lower-case hex digits, as Rucio stores it. */
export function formatAdler32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}
