/**
 * The module that touches tslab's internals (with `cell-compiler.ts`, which loads them through `loadTslab` on the
 * type-check worker thread). tslab 1.0.22 is effectively frozen and ships a patched
 * TypeScript 5.0.4 fork; we reuse its compiler/executor core (incremental program, declarations carried between
 * cells, completion, quick info, is_complete) and nothing of its Jupyter layer. The versions are asserted at
 * start-up so an unexpected upgrade fails loudly instead of misbehaving.
 */
import { dirname } from "node:path";
import Module from "node:module";
import type { CodeMetadata, CompiledCell, TslabCompletion, TslabConversion, TslabDiagnostic } from "./cell-compiler";
import { classifyCompleteness, type CompletenessStatus } from "./completeness";
import { compileFastCell } from "./fast-cell";
import { TypeChecker } from "./type-check-worker";

export const TSLAB_VERSION = "1.0.22";
export const TYPESCRIPT_FORK_VERSION = "5.0.4";

/* Shapes of the tslab internals we use (tslab/dist/*.d.ts, pinned above). */
interface TslabExecutor {
  execute(src: string): Promise<boolean>;
  inspect(src: string, position: number): unknown;
  complete(src: string, position: number): TslabCompletion;
  interrupt(): void;
  reset(): void;
  close(): void;
  /** The `exports` object carrying variables between cells. */
  locals: Record<string, unknown>;
}
interface ConsoleHook {
  log(message?: unknown, ...rest: unknown[]): void;
  error(message?: unknown, ...rest: unknown[]): void;
}
type DisplayWriter = (data: { data: Record<string, unknown>; metadata?: Record<string, unknown>; transient?: { display_id?: string } }, update: boolean) => void;

/** Minimal view of the TypeScript fork's API used by the kernel (parse checks and `ts.sys`). */
export interface TsModule {
  version: string;
  sys: Record<string, unknown> & { getCurrentDirectory(): string };
  createSourceFile(name: string, text: string, target: number, setParents?: boolean, kind?: number): {
    parseDiagnostics?: { start?: number; length?: number; code?: number; messageText: unknown }[];
    statements: { kind: number; expression?: unknown }[];
  };
  ScriptTarget: { Latest: number };
  ScriptKind: { TS: number };
  SyntaxKind: { ExpressionStatement: number };
}

const tslabDir = dirname(require.resolve("tslab/package.json"));
const load = <T>(id: string): T => require(require.resolve(id, { paths: [tslabDir] })) as T;
/** Loads a module of tslab's (`tslab/dist/...`); for the cell compiler, the other user of tslab's internals. */
export const loadTslab = load;

let tsModule: TsModule | undefined;
/** The TypeScript instance tslab compiles with (its fork, not the project's own TypeScript). */
export function typescript(): TsModule {
  return (tsModule ??= load<TsModule>("@tslab/typescript-for-tslab"));
}

/** Throws when the installed tslab or its TypeScript fork is not the version this adapter was written for. */
export function assertVersions(): void {
  const tslabVersion = (load<{ version: string }>("tslab/package.json")).version;
  const tsVersion = (load<{ version: string }>("@tslab/typescript-for-tslab/package.json")).version;
  if (tslabVersion !== TSLAB_VERSION || tsVersion !== TYPESCRIPT_FORK_VERSION) {
    throw new Error(
      `vre-ts needs tslab ${TSLAB_VERSION} with TypeScript ${TYPESCRIPT_FORK_VERSION}, found tslab ${tslabVersion} ` +
        `with TypeScript ${tsVersion}. Reinstall vre-ts so its pinned dependencies are used.`,
    );
  }
}

export interface CompileDiagnostic {
  line: number; // 1-based
  column: number; // 1-based
  message: string;
  file?: string;
}

/** What one execution produced. */
export interface ExecOutcome {
  ok: boolean;
  /** True when the cell ended with an expression whose value is not undefined (null is shown, as in Node's REPL). */
  hasValue: boolean;
  value?: unknown;
  diagnostics: CompileDiagnostic[];
  /** Set when the cell threw (or was interrupted). */
  error?: { value: unknown; interrupted: boolean };
}

const ASYNC_INTERRUPT_MESSAGE = "Interrupted asynchronously";

/** The executor's rejection on interrupt, or Node's error for a synchronous script stopped by SIGINT. */
export function isInterruptError(e: unknown): boolean {
  return (
    e instanceof Error &&
    (e.message === ASYNC_INTERRUPT_MESSAGE ||
      (e as NodeJS.ErrnoException).code === "ERR_SCRIPT_EXECUTION_INTERRUPTED" ||
      /^Script execution (was )?interrupted/.test(e.message))
  );
}

/**
 * The names in `src` that earlier cells left in the executor's exports (what the source fixes of `cell-rewrite`
 * ask about), found from the cell's text so the message to the checker does not grow with the notebook.
 */
function earlierNamesIn(src: string, locals: Record<string, unknown>): string[] {
  const names = new Set<string>();
  for (const m of src.matchAll(/[A-Za-z_$\u00a0-\uffff][\w$\u00a0-\uffff]*/g)) {
    if (Object.prototype.hasOwnProperty.call(locals, m[0])) names.add(m[0]);
  }
  return [...names];
}

/**
 * tslab's executor reads each cell's leading JSDoc tags (`@module`, `@browser`) with `tslab/dist/metadata`,
 * which loads the whole TypeScript compiler (0.5–1 s) on the kernel thread. The type-check worker has already read
 * them, so the executor's copy of that module is replaced, before the executor loads it, by one that returns the
 * worker's reading for the cell being run. (The worker thread has its own module cache and the real module.)
 */
function shimCodeMetadata(current: () => CodeMetadata): void {
  const path = require.resolve("tslab/dist/metadata", { paths: [tslabDir] });
  if (require.cache[path]) return;
  const shim = new Module(path);
  shim.filename = path;
  shim.loaded = true;
  shim.exports = { getCodeMetadata: () => current() };
  require.cache[path] = shim;
}

/**
 * One TypeScript session: tslab's executor on this thread, its converter (the type checker) on the type-check
 * worker thread, created lazily by `warmUp()`. Executions must not overlap; the kernel runs them one after another.
 *
 * A cell is checked and compiled on the worker, then run here by tslab's executor, which is handed that
 * conversion through a stand-in converter. A cell that provably needs no checker (`fast-cell.ts`) is compiled
 * here and runs at once; the worker takes in its declarations afterwards. Type errors therefore still stop every
 * cell before it runs, with tslab's messages and positions.
 */
export class TsSession {
  private executor: TslabExecutor | undefined;
  private checker: TypeChecker | undefined;
  private capture: ExecOutcome | undefined;
  /** The converter's name for the last compiled cell's last-expression value. */
  private lastExpressionVar: string | undefined;
  /** What the stand-in converter (and metadata reader) hand the executor for the cell being run. */
  private next: { converted?: TslabConversion; moduleDiagnostics?: TslabDiagnostic[]; meta?: CodeMetadata } = {};
  private interruptConvert: ((e: Error) => void) | undefined;
  private started: { promise: Promise<void>; resolve(): void } | undefined;

  constructor(
    private readonly rootDir: string,
    private readonly log: (text: string) => void = () => undefined,
  ) {}

  get ready(): boolean {
    return this.executor !== undefined;
  }

  /**
   * While a cell waits for the checker: settles once it has started running (or failed to compile). Messages
   * that may depend on what the cell sets up first (comm handlers) wait for it, as they did when compiling
   * blocked the kernel thread.
   */
  get compiling(): Promise<void> | undefined {
    return this.started?.promise;
  }

  /** Starts the type checker (it builds the TypeScript program on its thread) and creates the executor. */
  warmUp(): void {
    if (this.executor) return;
    this.checker = new TypeChecker(this.rootDir, this.log);
    shimCodeMetadata(() => this.next.meta ?? {});
    const { createExecutor } = load<{
      createExecutor(root: string, convs: unknown, console: ConsoleHook): TslabExecutor;
    }>("tslab/dist/executor");
    const standIn = {
      convert: () => {
        const converted = this.next.converted;
        this.next = {};
        if (!converted) throw new Error("internal error: no compiled cell to run");
        return converted;
      },
      addModule: () => this.next.moduleDiagnostics ?? [],
      close: () => undefined,
    };
    const checker = this.checker;
    const convs = { node: standIn, browser: standIn, close: () => checker.close() };
    const hook: ConsoleHook = {
      log: (value) => {
        if (!this.capture) return;
        this.capture.hasValue = true;
        this.capture.value = value;
      },
      error: (first, ...rest) => {
        const c = this.capture;
        if (!c) return;
        if (typeof first === "string" && first === "%s%d:%d - %s" && rest.length === 4) {
          const [file, line, column, message] = rest as [string, number, number, string];
          c.diagnostics.push({ file: file.trim() || undefined, line, column, message });
        } else {
          c.error = { value: first, interrupted: isInterruptError(first) };
        }
      },
    };
    this.executor = createExecutor(this.rootDir, convs, hook);
  }

  async execute(src: string): Promise<ExecOutcome> {
    this.warmUp();
    const outcome: ExecOutcome = { ok: false, hasValue: false, diagnostics: [] };
    const executor = this.executor!;
    const checker = this.checker!;
    if (tslabDisplayWriter && /\btslab\b/.test(src)) installTslabDisplayWriter();
    let code = src;
    let after: (() => void) | undefined;
    const fast = compileFastCell(src);
    if (fast) {
      this.next = { converted: fast };
      after = () => checker.takeFastCell(src, fast.declarations);
    } else {
      let resolveStarted = () => undefined as void;
      const started = new Promise<void>((r) => (resolveStarted = r));
      this.started = { promise: started, resolve: resolveStarted };
      let compiled: CompiledCell;
      try {
        compiled = await new Promise<CompiledCell>((resolve, reject) => {
          this.interruptConvert = reject;
          checker.convert(src, earlierNamesIn(src, executor.locals)).then(resolve, reject);
        });
      } catch (e) {
        outcome.error = { value: e, interrupted: isInterruptError(e) };
        this.markStarted();
        return outcome;
      } finally {
        this.interruptConvert = undefined;
      }
      code = compiled.code;
      if (compiled.kind === "cell") {
        this.next = { converted: compiled.converted, meta: compiled.meta };
        after = () => checker.commit();
      } else if (compiled.kind === "module") {
        this.next = { moduleDiagnostics: compiled.diagnostics, meta: compiled.meta };
      } else {
        this.next = { meta: compiled.meta };
      }
    }
    this.lastExpressionVar = this.next.converted?.lastExpressionVar;
    this.capture = outcome;
    try {
      const running = executor.execute(code); // runs the cell's synchronous part now
      this.markStarted();
      outcome.ok = await running;
    } catch (e) {
      outcome.ok = false;
      outcome.error ??= { value: e, interrupted: isInterruptError(e) };
    } finally {
      this.capture = undefined;
      this.next = {};
      this.markStarted();
    }
    if (outcome.ok) {
      outcome.error = undefined;
      this.takeNullResult(outcome);
      after?.();
    }
    return outcome;
  }

  private markStarted(): void {
    this.started?.resolve();
    this.started = undefined;
  }

  /**
   * tslab hands over a last value only when it is not null/undefined and leaves the others in `exports`.
   * A null is a result (Node's REPL and IPython show it); undefined is not. Either way it leaves `exports`.
   */
  private takeNullResult(outcome: ExecOutcome): void {
    const name = this.lastExpressionVar;
    const locals = this.executor!.locals;
    if (outcome.hasValue || !name || !Object.prototype.hasOwnProperty.call(locals, name)) return;
    const value = locals[name];
    delete locals[name];
    if (value === null) {
      outcome.hasValue = true;
      outcome.value = null;
    }
  }

  complete(src: string, position: number): Promise<TslabCompletion> {
    this.warmUp();
    return this.checker!.complete(src, position);
  }

  /** Quick info (type and docs) at `position`, or undefined when there is nothing there. */
  inspect(src: string, position: number): Promise<string | undefined> {
    this.warmUp();
    return this.checker!.inspect(src, position);
  }

  interrupt(): void {
    this.interruptConvert?.(new Error(ASYNC_INTERRUPT_MESSAGE));
    this.executor?.interrupt();
  }

  close(): void {
    this.executor?.close();
  }
}

export type { CompletenessStatus } from "./completeness";

/** is_complete semantics (see `classifyCompleteness`); tslab's `isCompleteCode` supplies the indent. */
export function checkCompleteness(src: string): { status: CompletenessStatus; indent?: string } {
  const { isCompleteCode } = load<{ isCompleteCode(s: string): { completed: boolean; indent?: string } }>(
    "tslab/dist/converter",
  );
  const ts = typescript();
  const file = ts.createSourceFile("cell.ts", src, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  return classifyCompleteness(src, file.parseDiagnostics ?? [], () => isCompleteCode(src).indent ?? "");
}

/** True when `text` parses as exactly one TypeScript expression (used for `{expr}` magic interpolation). */
export function isExpression(text: string): boolean {
  if (!text.trim()) return false;
  const ts = typescript();
  const file = ts.createSourceFile("expr.ts", `(${text}\n);`, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  return (
    (file.parseDiagnostics?.length ?? 0) === 0 &&
    file.statements.length === 1 &&
    file.statements[0].kind === ts.SyntaxKind.ExpressionStatement
  );
}

let tslabDisplayWriter: DisplayWriter | undefined;

/**
 * Routes tslab's own `tslab.display.*` API to the kernel. tslab's Jupyter module loads the whole TypeScript
 * compiler, so it is only loaded (and the writer installed) before the first cell that mentions `tslab`.
 */
export function setTslabDisplayWriter(writer: DisplayWriter): void {
  tslabDisplayWriter = writer;
}

function installTslabDisplayWriter(): void {
  const jupyter = load<{ lastWriteDisplayData: DisplayWriter | null }>("tslab/dist/jupyter");
  jupyter.lastWriteDisplayData = tslabDisplayWriter ?? null;
  tslabDisplayWriter = undefined;
}
