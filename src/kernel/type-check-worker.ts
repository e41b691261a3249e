/**
 * The type checker on its own thread. Building tslab's TypeScript program takes seconds cold and checking a cell
 * tens of milliseconds; on the kernel thread that blocked heartbeats' partners (kernel_info, comm messages,
 * completion) and made jupyter_server nudge the kernel at start-up. Here the `CellCompiler` lives in a worker:
 * the kernel thread sends it cells and runs the JavaScript it returns.
 *
 * Requests are answered in order, one at a time, so a `commit` or `takeFastCell` sent after a cell always takes effect
 * before the next cell's `convert`. When the compiled worker script is missing (running from sources), or the
 * worker cannot start, the same compiler runs on the calling thread.
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

const WORKER_FLAG = "vre-ts.type-check-worker";

/** The kernel thread's handle on the type checker. Every call resolves in the order it was made. */
export class TypeChecker {
  private worker: Worker | undefined;
  private local: CellCompiler | undefined;
  private seq = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly cwd: string,
    private readonly log: (text: string) => void,
  ) {
    const script = join(__dirname, "type-check-worker.js");
    if (existsSync(script) && !process.env.VRE_TS_CHECK_ON_MAIN_THREAD) {
      try {
        this.worker = this.spawn(script);
      } catch (e) {
        this.log(`type-check worker unavailable, checking on the kernel thread: ${(e as Error).message}`);
      }
    }
    this.call("warmUp").catch((e: Error) => this.log(`TypeScript warm-up failed: ${e.stack ?? e.message}`));
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
      this.log(`type-check worker stopped (${e.message}); checking on the kernel thread from now on`);
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (this.worker === worker) fail(new Error(`exit code ${code}`));
    });
    worker.unref();
    return worker;
  }

  private call<K extends Op>(op: K, ...args: Parameters<Api[K]>): Promise<ReturnType<Api[K]>> {
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
