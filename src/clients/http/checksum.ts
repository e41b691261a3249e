/** Checksums computed while bytes stream through: adler32 (Rucio's default) and md5. */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Transform, type TransformCallback } from "node:stream";
import { Worker } from "node:worker_threads";
import * as ADLER32 from "adler-32";

export interface Checksums {
  /** 8 lower-case hex digits, as Rucio stores it. */
  adler32: string;
  /** 32 lower-case hex digits. */
  md5: string;
  bytes: number;
}

/** What transfers feed: a synchronous or a worker-backed accumulator. */
export interface StreamingChecksum {
  readonly bytes: number;
  /** May return a promise: wait for it before feeding more. */
  update(chunk: Buffer | Uint8Array): Promise<void> | undefined | void;
  digest(): Checksums | Promise<Checksums>;
  /** Releases resources of a transfer that failed (no-op for the inline accumulator). */
  cancel?(): void;
}

/** Files from this size on are checksummed with the worker (below it, the worker start-up does not pay). */
export const PARALLEL_THRESHOLD = 8 * 1024 * 1024;

/** The accumulator suited to a transfer of `size` bytes (unknown size: inline). */
export function checksumFor(size: number | undefined): StreamingChecksum {
  return size !== undefined && size >= PARALLEL_THRESHOLD ? new ParallelChecksumAccumulator() : new ChecksumAccumulator();
}

/** Incremental adler32 + md5 + byte count. */
export class ChecksumAccumulator implements StreamingChecksum {
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
  const size = (await stat(path)).size;
  const acc: StreamingChecksum = opts.md5 === false ? new ChecksumAccumulator({ md5: false }) : checksumFor(size);
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024, signal: opts.signal });
  for await (const chunk of stream) await acc.update(chunk as Buffer);
  return acc.digest();
}

// --- Parallel checksumming --------------------------------------------------------------------------
//
// On large transfers, adler32 (pure JavaScript) runs in a worker thread while the main thread moves bytes
// and feeds md5 (native), so hashing overlaps with I/O instead of serialising with it. One worker is shared
// by all transfers of the process and does not keep it alive. In-flight data is bounded (backpressure), so
// memory stays flat.


const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const ADLER32 = require(workerData.adlerPath);
const state = new Map();
parentPort.on("message", (m) => {
  if (m.op === "update") {
    state.set(m.id, ADLER32.buf(new Uint8Array(m.buf, 0, m.len), state.has(m.id) ? state.get(m.id) : 1));
    parentPort.postMessage({ id: m.id, ack: m.len, buf: m.buf }, [m.buf]);
  } else if (m.op === "end") {
    const v = state.has(m.id) ? state.get(m.id) : 1;
    state.delete(m.id);
    parentPort.postMessage({ id: m.id, adler: v });
  }
});
`;

interface Session {
  pending: number;
  waiters: (() => void)[];
  done?: (adler: number) => void;
}

let worker: Worker | undefined;
let nextId = 1;
/** Copy buffers travel to the worker and back (transferred, never garbage): memory stays fixed. */
const POOL_BUF = 1024 * 1024;
const POOL_MAX = 8;
const pool: ArrayBuffer[] = [];
const sessions = new Map<number, Session>();

/** The worker keeps the process alive only while it has data in flight or a digest to deliver. */
function updateRef(): void {
  if (!worker) return;
  let active = false;
  for (const s of sessions.values()) if (s.pending > 0 || s.done) active = true;
  if (active) worker.ref();
  else worker.unref();
}

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { adlerPath: require.resolve("adler-32") } });
  w.unref();
  w.on("message", (m: { id: number; ack?: number; adler?: number; buf?: ArrayBuffer }) => {
    if (m.buf && pool.length < POOL_MAX) pool.push(m.buf); // the copy buffer comes back for reuse
    const s = sessions.get(m.id);
    if (!s) return;
    if (m.ack !== undefined) {
      s.pending -= m.ack;
      if (s.pending <= PARALLEL_MAX_IN_FLIGHT / 2) for (const wake of s.waiters.splice(0)) wake();
      if (s.pending === 0) updateRef();
    } else if (m.adler !== undefined) {
      sessions.delete(m.id);
      s.done?.(m.adler);
      updateRef();
    }
  });
  w.on("error", () => {
    worker = undefined;
  });
  worker = w;
  return w;
}

/** Bytes handed to the worker but not yet hashed, per transfer. */
export const PARALLEL_MAX_IN_FLIGHT = 4 * 1024 * 1024;

/**
 * adler32 in the worker, md5 inline. `update` returns a promise when the worker is behind: wait for it
 * before feeding more (the transfer's backpressure).
 */
export class ParallelChecksumAccumulator implements StreamingChecksum {
  private readonly id = nextId++;
  private readonly md5: Hash = createHash("md5");
  private readonly session: Session = { pending: 0, waiters: [] };
  private readonly w: Worker;
  bytes = 0;

  private closed = false;

  constructor() {
    this.w = getWorker();
    sessions.set(this.id, this.session);
  }

  private cur?: Uint8Array;
  private curLen = 0;

  update(chunk: Buffer | Uint8Array): Promise<void> | undefined {
    this.md5.update(chunk as Uint8Array);
    this.bytes += chunk.length;
    if (this.session.pending === 0) this.w.ref();
    this.session.pending += chunk.length;
    // Pack chunks into pooled 1 MiB buffers; a full buffer moves to the worker.
    let off = 0;
    while (off < chunk.length) {
      this.cur ??= new Uint8Array(pool.pop() ?? new ArrayBuffer(POOL_BUF));
      const n = Math.min(chunk.length - off, POOL_BUF - this.curLen);
      this.cur.set(chunk.subarray(off, off + n), this.curLen);
      this.curLen += n;
      off += n;
      if (this.curLen === POOL_BUF) this.flush();
    }
    if (this.session.pending < PARALLEL_MAX_IN_FLIGHT) return undefined;
    return new Promise((resolve) => this.session.waiters.push(resolve));
  }

  private flush(): void {
    if (!this.cur) return;
    const buf = this.cur.buffer as ArrayBuffer;
    this.w.postMessage({ op: "update", id: this.id, buf, len: this.curLen }, [buf]);
    this.cur = undefined;
    this.curLen = 0;
  }

  async digest(): Promise<Checksums> {
    if (this.closed) throw new Error("checksum already finished");
    this.closed = true;
    this.flush();
    const adler = await new Promise<number>((resolve) => {
      this.session.done = resolve;
      this.w.ref();
      this.w.postMessage({ op: "end", id: this.id });
    });
    return { adler32: formatAdler32(adler), md5: this.md5.digest("hex"), bytes: this.bytes };
  }

  /** Abandons the session (transfer failed). */
  cancel(): void {
    if (this.closed) return;
    this.closed = true;
    sessions.delete(this.id);
    if (this.cur && pool.length < POOL_MAX) pool.push(this.cur.buffer as ArrayBuffer);
    this.cur = undefined;
    this.w.postMessage({ op: "end", id: this.id }); // frees the worker's state
    updateRef();
  }
}
