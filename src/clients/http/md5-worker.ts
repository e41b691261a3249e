/**
 * md5 in a worker thread, so that hashing a large transfer overlaps with moving its bytes.
 *
 * md5 cannot be parallelised within one stream and runs at a few hundred MB/s per core: on the main thread
 * it would serialise with the I/O. Bytes are staged in blocks of one SharedArrayBuffer that the worker maps
 * too, so nothing is serialised between threads. The pool is fixed (BLOCK_COUNT blocks), a session keeps at
 * most MAX_BLOCKS_IN_FLIGHT of them, and `update` returns a promise when the caller should wait: memory
 * stays flat whatever the file size. One worker serves the process and holds it open only while it has work.
 */
import { Worker } from "node:worker_threads";

export const BLOCK_SIZE = 1 << 20;
export const BLOCK_COUNT = 32;
export const MAX_BLOCKS_IN_FLIGHT = 8;

// The worker's code travels as source: it must run from dist/ and from the TypeScript sources alike.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const bytes = new Uint8Array(workerData.buffer);
const sessions = new Map();
parentPort.on("message", (m) => {
  if (m.op === "update") {
    let h = sessions.get(m.id);
    if (!h) sessions.set(m.id, (h = createHash("md5")));
    h.update(bytes.subarray(m.off, m.off + m.len));
    parentPort.postMessage({ id: m.id, off: m.off });
  } else if (m.op === "digest") {
    const h = sessions.get(m.id) || createHash("md5");
    sessions.delete(m.id);
    parentPort.postMessage({ id: m.id, md5: h.digest("hex") });
  } else if (m.op === "drop") {
    sessions.delete(m.id);
  }
});
`;

interface SessionState {
  onAck: (offset: number) => void;
  onDigest?: (md5: string) => void;
  onFail: (e: Error) => void;
}

let shared: { worker: Worker; bytes: Uint8Array } | undefined;
const sessions = new Map<number, SessionState>();
const free: number[] = [];
const blockWaiters: { give: (offset: number) => void; fail: (e: unknown) => void }[] = [];
let busy = 0;
let nextId = 1;

function start(): NonNullable<typeof shared> {
  if (shared) return shared;
  const buffer = new SharedArrayBuffer(BLOCK_SIZE * BLOCK_COUNT);
  free.length = 0;
  for (let i = BLOCK_COUNT - 1; i >= 0; i--) free.push(i * BLOCK_SIZE);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { buffer } });
  worker.unref();
  worker.on("message", (m: { id: number; off?: number; md5?: string }) => {
    if (m.off !== undefined) releaseBlock(m.off);
    const s = sessions.get(m.id);
    if (!s) return;
    if (m.md5 !== undefined) {
      sessions.delete(m.id);
      track(-1);
      s.onDigest?.(m.md5);
    } else if (m.off !== undefined) s.onAck(m.off);
  });
  const fail = (e: unknown) => {
    if (shared?.worker !== worker) return;
    shared = undefined;
    const err = e instanceof Error ? e : new Error(`the md5 worker stopped (${String(e)})`);
    for (const s of [...sessions.values()]) s.onFail(err);
    sessions.clear();
    busy = 0;
    for (const w of blockWaiters.splice(0)) w.fail(err);
  };
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`the md5 worker exited with code ${code}`)));
  shared = { worker, bytes: new Uint8Array(buffer) };
  return shared;
}

/** Keeps the process alive exactly while some block or digest is pending in the worker. */
function track(delta: number): void {
  busy += delta;
  if (busy === 1 && delta > 0) shared?.worker.ref();
  if (busy === 0) shared?.worker.unref();
}

/** A block goes straight to the longest waiting session, or back to the pool. */
function putBlock(offset: number): void {
  const w = blockWaiters.shift();
  if (w) w.give(offset);
  else free.push(offset);
}

function releaseBlock(offset: number): void {
  track(-1);
  putBlock(offset);
}

function acquireBlock(signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const waiter = {
      give: (offset: number) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(offset);
      },
      fail: reject,
    };
    const onAbort = () => {
      const i = blockWaiters.indexOf(waiter);
      if (i >= 0) blockWaiters.splice(i, 1);
      reject(signal!.reason);
    };
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    blockWaiters.push(waiter);
  });
}

/** Blocks free in the pool now (for tests: all are back once every session ended). */
export function freeBlocks(): number {
  return shared ? free.length : BLOCK_COUNT;
}

/** The md5 of one stream, computed by the worker. */
export class WorkerMd5 {
  private readonly id = nextId++;
  private current: { offset: number; len: number } | undefined;
  private inFlight = 0;
  private readonly drainWaiters: (() => void)[] = [];
  private failure: Error | undefined;
  private ended = false;
  private readonly bytes: Uint8Array;
  private readonly worker: Worker;

  constructor(private readonly signal?: AbortSignal) {
    const s = start();
    this.bytes = s.bytes;
    this.worker = s.worker;
    sessions.set(this.id, {
      onAck: () => {
        this.inFlight--;
        for (const wake of this.drainWaiters.splice(0)) wake();
      },
      onFail: (e) => {
        this.failure = e;
        this.inFlight = 0;
        for (const wake of this.drainWaiters.splice(0)) wake();
      },
    });
  }

  /** Stages `chunk`; returns a promise when the caller should wait before the next one. */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    let off = 0;
    while (off < chunk.length) {
      if (!this.current) {
        if (free.length === 0 || blockWaiters.length > 0) return this.updateLater(chunk.subarray(off));
        this.current = { offset: free.pop()!, len: 0 };
      }
      const n = Math.min(chunk.length - off, BLOCK_SIZE - this.current.len);
      this.bytes.set(chunk.subarray(off, off + n), this.current.offset + this.current.len);
      this.current.len += n;
      off += n;
      if (this.current.len === BLOCK_SIZE) this.send();
    }
    return this.inFlight >= MAX_BLOCKS_IN_FLIGHT ? this.drain(MAX_BLOCKS_IN_FLIGHT - 1) : undefined;
  }

  async digest(): Promise<string> {
    if (this.failure) throw this.failure;
    if (this.current?.len) this.send();
    else this.giveBack();
    this.ended = true;
    const md5 = await new Promise<string>((resolve, reject) => {
      const s = sessions.get(this.id)!;
      s.onDigest = resolve;
      s.onFail = reject;
      track(1);
      this.worker.postMessage({ op: "digest", id: this.id });
    });
    return md5;
  }

  /** Abandons the stream: its blocks come back to the pool as the worker lets go of them. */
  cancel(): void {
    if (this.ended) return;
    this.ended = true;
    this.giveBack();
    sessions.delete(this.id);
    for (const wake of this.drainWaiters.splice(0)) wake();
    this.worker.postMessage({ op: "drop", id: this.id });
  }

  private async updateLater(rest: Uint8Array): Promise<void> {
    const offset = await acquireBlock(this.signal);
    if (this.failure || this.ended) {
      putBlock(offset);
      if (this.failure) throw this.failure;
      return;
    }
    this.current = { offset, len: 0 };
    const wait = this.update(rest);
    if (wait) await wait;
  }

  private giveBack(): void {
    if (!this.current) return;
    putBlock(this.current.offset);
    this.current = undefined;
  }

  private send(): void {
    const { offset, len } = this.current!;
    this.current = undefined;
    this.inFlight++;
    track(1);
    this.worker.postMessage({ op: "update", id: this.id, off: offset, len });
  }

  private async drain(target: number): Promise<void> {
    while (this.inFlight > target && !this.failure && !this.ended) await new Promise<void>((r) => this.drainWaiters.push(r));
    if (this.failure) throw this.failure;
  }
}
