/**
 * adler32, Rucio's default checksum, by a SIMD WebAssembly module (adler32.wat): several GB/s, so
 * verifying a transfer costs little next to moving its bytes.
 *
 * The module hashes bytes in its own memory. Bytes from elsewhere are copied in, a slice at a time. The
 * bulk transfers avoid even that copy: they borrow their I/O buffers from the module's memory
 * (`lendHashBuffer`), so the socket or the file fills them and the hash runs where the bytes already are,
 * while they are still in the CPU cache.
 */
import { ADLER32_WASM_BASE64 } from "./adler32-wasm";

// The WebAssembly API is a global of Node; the project's lib settings (no DOM) leave it untyped, so the
// little used here is declared.
declare namespace WebAssembly {
  class Memory {
    constructor(d: { initial: number; maximum?: number });
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

const PAGE = 65536;
/** Where bytes from elsewhere are copied to be hashed. */
const SLICE = 1 << 20;
/** Buffers lent to transfers, in granules. The memory never grows (growing would detach lent buffers). */
const GRANULE = 128 * 1024;
const GRANULES = 128;

interface Engine {
  memory: ArrayBuffer;
  bytes: Uint8Array;
  run: (seed: number, ptr: number, len: number) => number;
  /** Per granule: 0 when free, else the length (in granules) of the loan it belongs to. */
  lent: Uint8Array;
  /** The buffers out on loan (a buffer given back twice must not free another loan). */
  loans: Set<Uint8Array>;
}
let engine: Engine | undefined;

function load(): Engine {
  const pages = (SLICE + GRANULE * GRANULES) / PAGE;
  // Pages are committed only when touched: the unused part of the arena costs no memory.
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const module = new WebAssembly.Module(Buffer.from(ADLER32_WASM_BASE64, "base64") as unknown as Uint8Array);
  const run = new WebAssembly.Instance(module, { env: { memory } }).exports.adler32 as Engine["run"];
  return { memory: memory.buffer, bytes: new Uint8Array(memory.buffer), run, lent: new Uint8Array(GRANULES), loans: new Set() };
}

/** adler32 of `data`, continuing from `seed` (1 for a new checksum). */
export function adler32(data: Uint8Array, seed = 1): number {
  const e = (engine ??= load());
  if (data.buffer === e.memory) return e.run(seed >>> 0, data.byteOffset, data.length) >>> 0;
  let value = seed >>> 0;
  for (let off = 0; off < data.length; off += SLICE) {
    const slice = data.subarray(off, off + SLICE);
    e.bytes.set(slice, 0);
    value = e.run(value, 0, slice.length) >>> 0;
  }
  return value;
}

/** Lent buffers from `lendHashBuffer` that are still out (tests check that transfers give theirs back). */
export function hashBuffersLent(): number {
  return engine?.loans.size ?? 0;
}

/**
 * A buffer of `bytes` that adler32 hashes in place. Give it back with `returnHashBuffer` once nothing can
 * write into it any more. When the arena is used up (many transfers at once), an ordinary buffer is
 * returned: everything still works, with one copy more.
 */
export function lendHashBuffer(bytes: number): Uint8Array {
  const e = (engine ??= load());
  const need = Math.ceil(bytes / GRANULE);
  if (need >= 1 && need <= GRANULES) {
    for (let first = 0; first + need <= GRANULES; ) {
      let free = 0;
      while (free < need && e.lent[first + free] === 0) free++;
      if (free === need) {
        e.lent.fill(need, first, first + need);
        const buf = new Uint8Array(e.memory, SLICE + first * GRANULE, bytes);
        e.loans.add(buf);
        return buf;
      }
      first += free + 1;
    }
  }
  return new Uint8Array(bytes);
}

/** Gives back a buffer from `lendHashBuffer` (an ordinary one is simply dropped). */
export function returnHashBuffer(buf: Uint8Array): void {
  if (!engine?.loans.delete(buf)) return;
  const first = (buf.byteOffset - SLICE) / GRANULE;
  engine.lent.fill(0, first, first + engine.lent[first]!);
}

/** 8 lower-case hex digits, as Rucio stores it. */
export function formatAdler32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, "0");
}
