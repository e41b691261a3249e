/**
 * The type checker on its own thread. Building tslab's TypeScript program takes seconds cold and checking a cell
 * tens of milliseconds; on the kernel thread that blocked heartbeats' partners (kernel_info, comm messages,
 * completion) and made jupyter_server nudge the kernel at start-up. Here the `CellCompiler` lives in a worker:
 * the kernel thread sends it cells and runs the JavaScript it returns.
 *
 * Requests are answered in order, one at a time, so a `commit` or `takeFastCell` sent after a cell always takes effect
 * before the next cell's `convert`. When the compiled worker script is missing (running from sources), or the
 * worker cannot start, the same compiler runs on the calling thread.
 *
 * The checker's state is what earlier cells declared. The kernel thread keeps a journal of the calls that built it
 * (each committed cell, each fast-path cell, each `@module` cell), so a checker that dies (out of memory, a crash in
 * the compiler) is replaced by a new one that replays the journal before anything else: the cell that was being
 * checked fails with an error saying so, and later cells still see every earlier declaration.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { CellCompiler, type CompiledCell, type TslabCompletion, type TslabDiagnostic } from "./cell-compiler";
import type { FastDeclaration } from "./fast-cell";

interface Api {
  warmUp(): void;
  convert(src: string, earlier: readonly string[]): CompiledCell;
  commit(): void;
  takeFastCell(src: string, declarations: readonly FastDeclaration[]): TslabDiagnostic[];
  complete(src: string, position: number): TslabCompletion;
  inspect(src: string, position: number): string | undefined;
}
type Op = keyof Api;
interface Request {
  id: number;
  op: Op;
  args: unknown[];
}
type Response = { id: number; value: unknown } | { id: number; error: { name: string; message: string; stack?: string } };
type JournalEntry = { op: "convert"; args: Parameters<Api["convert"]> } | { op: "commit"; args: [] } | { op: "takeFastCell"; args: Parameters<Api["takeFastCell"]> };

const WORKER_FLAG = "vre-ts.type-check-worker";
/** Checkers replaced after dying before checking moves to the kernel thread (a cell that kills every checker). */
const MAX_RESTARTS = 3;

/** The kernel thread's handle on the type checker. Every call resolves in the order it was made. */
export class TypeChecker {
  private worker: Worker | undefined;
  private local: CellCompiler | undefined;
  private seq = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private chain: Promise<unknown> = Promise.resolve();
  /** The calls that built the checker's state, in order (see the module comment). */
  private readonly journal: JournalEntry[] = [];
  /** The last cell sent to `convert`, journaled when it commits. */
  private lastConvert: JournalEntry | undefined;
  private restarts = 0;
  private readonly script = join(__dirname, "type-check-worker.js");

  constructor(
    private readonly cwd: string,
    private readonly log: (text: string) => void,
  ) {
    if (existsSync(this.script) && !process.env.VRE_TS_CHECK_ON_MAIN_THREAD) {
      try {
        this.worker = this.spawn(this.script);
      } catch (e) {
        this.log(`type-check worker unavailable, checking on the kernel thread: ${(e as Error).message}`);
      }
    }
    this.call("warmUp").catch((e: Error) => this.log(`TypeScript warm-up failed: ${e.stack ?? e.message}`));
  }

  /** How many calls the journal holds (what a replacement checker would replay). */
  get journalLength(): number {
    return this.journal.length;
  }

  private spawn(script: string): Worker {
    const worker = new Worker(script, { workerData: { [WORKER_FLAG]: true, cwd: this.cwd }, stdout: true, stderr: true });
    // The kernel redirects its own stdout/stderr into cells; the checker's console goes to the kernel log instead.
    worker.stdout.on("data", (d: Buffer) => this.log(`type checker: ${String(d).trimEnd()}`));
    worker.stderr.on("data", (d: Buffer) => this.log(`type checker: ${String(d).trimEnd()}`));
    worker.on("message", (m: Response) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if ("error" in m) p.reject(Object.assign(new Error(m.error.message), { name: m.error.name, stack: m.error.stack }));
      else p.resolve(m.value);
    });
    const fail = (e: Error) => {
      this.worker = undefined;
      const lost = new Error(`The type checker stopped (${e.message}) while checking this cell; it was restarted with the earlier cells' declarations. Run the cell again.`);
      for (const p of this.pending.values()) p.reject(lost);
      this.pending.clear();
      this.replace(e);
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (this.worker === worker) fail(new Error(`exit code ${code}`));
    });
    worker.unref();
    return worker;
  }

  /** A new checker (a worker while restarts last, else this thread) that first replays the journal. */
  private replace(cause: Error): void {
    const where = this.restarts < MAX_RESTARTS ? "a new worker" : "the kernel thread";
    this.log(`type-check worker stopped (${cause.message}); replaying ${this.journal.length} earlier calls on ${where}`);
    if (this.restarts++ < MAX_RESTARTS) {
      try {
        this.worker = this.spawn(this.script);
      } catch (e) {
        this.log(`type-check worker unavailable, checking on the kernel thread: ${(e as Error).message}`);
      }
    }
    void this.send("warmUp").catch(() => undefined);
    for (const entry of this.journal) {
      void (this.send(entry.op, ...entry.args) as Promise<unknown>).catch((e: Error) => this.log(`replaying ${entry.op} failed: ${e.message}`));
    }
  }

  /** Sends a call, journaling those that build the checker's state. */
  private call<K extends Op>(op: K, ...args: Parameters<Api[K]>): Promise<ReturnType<Api[K]>> {
    if (op === "convert") this.lastConvert = { op: "convert", args: args as Parameters<Api["convert"]> };
    else if (op === "commit" && this.lastConvert) {
      this.journal.push(this.lastConvert, { op: "commit", args: [] });
      this.lastConvert = undefined;
    }
    else if (op === "takeFastCell") this.journal.push({ op: "takeFastCell", args: args as Parameters<Api["takeFastCell"]> });
    const sent = this.send(op, ...args);
    if (op === "convert") {
      // An `@module` cell is registered without a commit: journal it once it turns out to be one.
      const entry = this.lastConvert!;
      void sent.then((r) => (r as CompiledCell).kind === "module" && this.journal.push(entry), () => undefined);
    }
    return sent;
  }

  private send<K extends Op>(op: K, ...args: Parameters<Api[K]>): Promise<ReturnType<Api[K]>> {
    if (this.worker) {
      const id = ++this.seq;
      const worker = this.worker;
      return new Promise((resolve, reject) => {
        this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        worker.postMessage({ id, op, args } satisfies Request);
      });
    }
    // On this thread: still one after another, and never inside the caller's turn of the event loop.
    const run = this.chain.then(() => {
      const compiler = (this.local ??= new CellCompiler(this.cwd));
      return (compiler[op] as (...a: unknown[]) => unknown)(...args) as ReturnType<Api[K]>;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  convert(src: string, earlier: readonly string[]): Promise<CompiledCell> {
    return this.call("convert", src, earlier);
  }

  commit(): void {
    void this.call("commit").catch((e: Error) => this.log(`commit failed: ${e.message}`));
  }

  /** Takes in the declarations of a cell that ran on the fast path. */
  takeFastCell(src: string, declarations: readonly FastDeclaration[]): void {
    void this.call("takeFastCell", src, declarations).then(
      (diagnostics) => {
        if (diagnostics.length) this.log(`fast-path cell has type errors after all (${diagnostics[0].messageText}): ${JSON.stringify(src)}`);
      },
      (e: Error) => this.log(`taking in a fast-path cell failed: ${e.message}`),
    );
  }

  complete(src: string, position: number): Promise<TslabCompletion> {
    return this.call("complete", src, position);
  }

  inspect(src: string, position: number): Promise<string | undefined> {
    return this.call("inspect", src, position);
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
    this.local?.close();
  }
}

/** Worker side: one compiler, requests handled in arrival order. */
function serve(): void {
  const { cwd } = workerData as { cwd: string };
  const compiler = new CellCompiler(cwd);
  parentPort!.on("message", ({ id, op, args }: Request) => {
    let response: Response;
    try {
      response = { id, value: (compiler[op] as (...a: unknown[]) => unknown)(...args) };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      response = { id, error: { name: err.name, message: err.message, stack: err.stack } };
    }
    parentPort!.postMessage(response);
  });
}

if (!isMainThread && (workerData as Record<string, unknown> | undefined)?.[WORKER_FLAG]) serve();
