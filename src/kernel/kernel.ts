/**
 * The vre-ts kernel: Jupyter messaging 5.3 over our own sockets, TypeScript execution through tslab's core.
 *
 * - Executes run one after another; complete/inspect/comm requests are served while a cell awaits (widgets need
 *   a cell that awaits a frontend event to be able to finish).
 * - Output is attributed with AsyncLocalStorage, so timers and promises started by a cell print into that cell.
 * - Streams are buffered and flushed every 20 ms and before any other message.
 * - After an error (stop_on_error), only the execute requests already queued at that moment are aborted.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type * as KernelMessage from "@jupyterlab/services/lib/kernel/messages";
import { UsageError, type DisplayOptions, type MagicContext } from "../magics/types";
import { getMagic, listMagics, magicHelp, registerMagic, resolveMagic } from "../magics/registry";
import { registerBuiltinMagics, time, type KernelMagicContext } from "../magics/builtins";
import { rich } from "../magics/render";
import { setBridge, type KernelBridge } from "./bridge";
import { CommManager, type JsonObject } from "./comm/manager";
import { compileErrorContent, errorContent, toMimeBundle, type ErrorContent } from "./display";
import { blankMagics, magicNameAt, magicPrefixAt, preprocess } from "./magics/preprocess";
import { mapDiagnostics, type PositionMap } from "./position-map";
import { installRuntimeFallback, PACKAGE_ROOT } from "./resolve";
import { KernelServer, type Channel, type ConnectionInfo } from "./server";
import { assertVersions, checkCompleteness, isExpression, setTslabDisplayWriter, TsSession, type ExecOutcome } from "./tslab-adapter";
import { childMessage, type WireMessage } from "./wire";
import { runStartupCells } from "./startup-cells";
import { registerWidgetControl } from "../widgets/control";

type StreamName = "stdout" | "stderr";

/** What a request being processed carries through async code. */
interface RequestContext {
  msg: WireMessage;
  abort: AbortController;
  allowStdin: boolean;
}

interface QueuedExecute {
  msg: WireMessage;
  aborted: boolean;
}

type CellResult = { ok: true; value?: unknown; hasValue: boolean } | { ok: false; error: ErrorContent };

/** Raised inside cell-magic execution to carry a formatted error out of a nested TypeScript run. */
class CellError extends Error {
  constructor(readonly content: ErrorContent) {
    super(content.evalue);
    this.name = content.ename;
  }
}

class InterruptError extends Error {
  override readonly name = "InterruptError";
  constructor() {
    super("Execution interrupted");
  }
}

/**
 * Thrown by `process.exit()` called from notebook code: it unwinds the cell, and the kernel then closes its
 * sockets (the heartbeat thread's too) and exits with the code. Exiting under open ZeroMQ sockets aborts
 * the process (SIGABRT) and loses the cell's last output.
 */
class KernelExitRequest extends Error {
  override readonly name = "KernelExitRequest";
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

/** How long `process.exit()` waits for the running cell to end (and be answered) before exiting anyway. */
const EXIT_GRACE_MS = 250;

const INTERRUPTED: ErrorContent = {
  ename: "InterruptError",
  evalue: "Execution interrupted",
  traceback: ["\x1b[1;31mInterruptError\x1b[0m: Execution interrupted"],
};

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "0.0.0";
  }
}

/** Jupyter cursor positions count Unicode code points; JavaScript strings count UTF-16 units. */
function cpToUtf16(s: string, cp: number): number {
  let i = 0;
  for (let n = 0; n < cp && i < s.length; n++) i += (s.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return i;
}
function utf16ToCp(s: string, idx: number): number {
  return [...s.slice(0, idx)].length;
}

export interface KernelOptions {
  connection: ConnectionInfo;
  /** The notebook folder (defaults to process.cwd()). */
  cwd?: string;
  /** Where the kernel logs its own problems (defaults to the process's real stderr). */
  log?: (text: string) => void;
}

export class Kernel {
  readonly session = randomUUID();
  readonly comms: CommManager;
  private readonly server: KernelServer;
  private readonly ts: TsSession;
  private readonly cwd: string;
  private readonly als = new AsyncLocalStorage<RequestContext>();
  private readonly log: (text: string) => void;
  private executionCount = 0;
  private readonly history: { line: number; input: string; output: string | null }[] = [];
  private readonly queue: QueuedExecute[] = [];
  private running: RequestContext | undefined;
  private lastExecute: RequestContext | undefined;
  private pumping = false;
  private aborting = false;
  private streams: { parent: WireMessage | undefined; name: StreamName; text: string }[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly inputWaiters: { resolve(v: string): void; reject(e: Error): void }[] = [];
  private warmedUp = false;
  private domainLoaded = false;
  /** The start-up cells (attached DIDs) ran, before the first cell. */
  private startupRan = false;
  private shuttingDown = false;
  /** Set by `process.exit()` from notebook code: the exit code, once the kernel has wound down. */
  private exitRequest: number | undefined;
  private readonly exitProcess: (code?: number) => never = process.exit.bind(process);
  private readonly realStderrWrite = process.stderr.write.bind(process.stderr);

  constructor(private readonly options: KernelOptions) {
    this.cwd = options.cwd ?? process.cwd();
    this.log = options.log ?? ((t) => void this.realStderrWrite(`[vre-ts] ${t}\n`));
    this.server = new KernelServer(options.connection, this.log);
    this.ts = new TsSession(this.cwd, this.log);
    this.comms = new CommManager({
      publish: (type, content, o) => this.publish(type, content, { metadata: o.metadata, buffers: o.buffers }),
      reportError: (e, where) => this.reportBackgroundError(e, where),
    });
  }

  /** Binds the sockets, installs the runtime hooks and starts answering. TypeScript warms up afterwards. */
  async start(): Promise<void> {
    assertVersions();
    installRuntimeFallback();
    this.patchStreams();
    setBridge(this.bridge());
    const kernel = this;
    Object.assign(globalThis, {
      display: function display(value: unknown, options?: DisplayOptions) {
        kernel.display(value, options);
      },
      input: function input(prompt?: string, options?: { password?: boolean }) {
        return kernel.input(prompt, options);
      },
    });
    setTslabDisplayWriter((data, update) =>
      this.publish(update ? "update_display_data" : "display_data", {
        data: data.data,
        metadata: data.metadata ?? {},
        transient: data.transient?.display_id ? { display_id: data.transient.display_id } : {},
      }),
    );
    registerBuiltinMagics();
    registerWidgetControl(this.comms);
    process.on("SIGINT", () => this.interrupt());
    process.exit = ((code?: number | string | null) => this.requestExit(code)) as typeof process.exit;
    process.on("unhandledRejection", (reason) => {
      if (!(reason instanceof KernelExitRequest)) this.reportBackgroundError(reason, "unhandled promise rejection");
    });
    process.on("uncaughtException", (err) => {
      if (!(err instanceof KernelExitRequest)) this.reportBackgroundError(err, "uncaught exception");
    });
    await this.server.bind((channel, msg) => this.onMessage(channel, msg));
    await this.publish("status", { execution_state: "starting" }, { parent: undefined });
    // Answer kernel_info first; build the TypeScript program right after.
    setTimeout(() => this.warmUp(), 150).unref();
  }

  /**
   * Loads the domain magics (%rucio, %reana, %zenodo, %vre) on first need (a cell or completion with `%`) or soon
   * after warm-up, so a plain TypeScript first cell does not pay for loading the clients. A broken module must not
   * take the kernel down.
   */
  private registerDomainMagics(): void {
    if (this.domainLoaded) return;
    this.domainLoaded = true;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const domain = require("../magics/domain") as { registerDomainMagics?: (register: typeof registerMagic) => void };
      domain.registerDomainMagics?.(registerMagic);
    } catch (e) {
      this.log(`domain magics unavailable: ${(e as Error).message}`);
    }
  }

  /**
   * Everything the first cell needs: domain magics, the executor, the type checker. The TypeScript program is
   * built on the type-check worker thread, so this returns at once. Idempotent.
   */
  private warmUp(): void {
    if (this.warmedUp) return;
    this.warmedUp = true;
    try {
      this.ts.warmUp();
    } catch (e) {
      this.log(`TypeScript warm-up failed: ${(e as Error).stack ?? e}`);
    }
    setTimeout(() => {
      if (!this.running) this.registerDomainMagics();
    }, 3000).unref();
  }

  // ---------------------------------------------------------------- messaging

  private currentParent(): WireMessage | undefined {
    return this.als.getStore()?.msg ?? this.running?.msg ?? this.lastExecute?.msg;
  }

  /** Publishes on iopub (after flushing buffered streams, so output order is kept). */
  publish(
    msgType: KernelMessage.IOPubMessageType,
    content: JsonObject,
    extra: { parent?: WireMessage; metadata?: JsonObject; buffers?: Buffer[] } = {},
  ): Promise<void> {
    this.flushStreams();
    const parent = "parent" in extra ? extra.parent : this.currentParent();
    const msg = childMessage(msgType, content, parent, this.session, {
      identities: [Buffer.from(`kernel.${this.session.slice(0, 8)}.${msgType}`)],
      metadata: extra.metadata,
      buffers: extra.buffers,
    });
    return this.server.send("iopub", msg);
  }

  private reply(channel: Channel, request: WireMessage, msgType: KernelMessage.MessageType, content: JsonObject, metadata: JsonObject = {}): Promise<void> {
    this.flushStreams();
    const msg = childMessage(msgType, content, request, this.session, { identities: request.identities, metadata });
    return this.server.send(channel, msg);
  }

  private status(state: "busy" | "idle", parent: WireMessage): Promise<void> {
    return this.publish("status", { execution_state: state }, { parent });
  }

  private onMessage(channel: Channel, msg: WireMessage): void {
    const type = msg.header.msg_type;
    if (channel === "stdin") {
      if (type === "input_reply") {
        const waiter = this.inputWaiters.shift();
        waiter?.resolve(String((msg.content as { value?: unknown }).value ?? ""));
      }
      return;
    }
    if (type === "execute_request") {
      this.queue.push({ msg, aborted: this.aborting });
      void this.pump();
      return;
    }
    // A comm message sent after a cell reaches the cell's handlers: while the cell waits for the type checker,
    // it waits until the cell has started (and registered them).
    const compiling = channel === "shell" && type.startsWith("comm_") ? this.ts.compiling : undefined;
    if (compiling) void compiling.then(() => this.handleRequest(channel, msg));
    else void this.handleRequest(channel, msg);
  }

  /** Non-execute requests: answered at once, with busy/idle around them unless a cell is running. */
  private async handleRequest(channel: Channel, msg: WireMessage): Promise<void> {
    const wrap = !this.running;
    if (wrap) await this.status("busy", msg);
    try {
      await this.als.run({ msg, abort: new AbortController(), allowStdin: false }, () => this.dispatch(channel, msg));
    } catch (e) {
      this.log(`${msg.header.msg_type} failed: ${(e as Error).stack ?? e}`);
    } finally {
      if (wrap) await this.status("idle", msg);
    }
  }

  private async dispatch(channel: Channel, msg: WireMessage): Promise<void> {
    const c = msg.content;
    switch (msg.header.msg_type) {
      case "kernel_info_request":
        await this.reply(channel, msg, "kernel_info_reply", this.kernelInfo());
        if (!this.warmedUp) setImmediate(() => this.warmUp());
        return;
      case "complete_request":
        return this.reply(channel, msg, "complete_reply", await this.complete(String(c.code ?? ""), Number(c.cursor_pos ?? 0)));
      case "inspect_request":
        return this.reply(channel, msg, "inspect_reply", await this.inspect(String(c.code ?? ""), Number(c.cursor_pos ?? 0)));
      case "is_complete_request":
        return this.reply(channel, msg, "is_complete_reply", this.isComplete(String(c.code ?? "")));
      case "history_request":
        return this.reply(channel, msg, "history_reply", this.historyReply(c));
      case "comm_info_request":
        return this.reply(channel, msg, "comm_info_reply", {
          status: "ok",
          comms: this.comms.info(typeof c.target_name === "string" ? c.target_name : undefined),
        });
      case "comm_open":
        return this.comms.handleOpen(c, msg.metadata, msg.buffers);
      case "comm_msg":
        return this.comms.handleMsg(c, msg.metadata, msg.buffers);
      case "comm_close":
        return this.comms.handleClose(c, msg.metadata, msg.buffers);
      case "interrupt_request":
        this.interrupt();
        return this.reply(channel, msg, "interrupt_reply", { status: "ok" });
      case "shutdown_request":
        return this.shutdown(channel, msg);
      default:
        this.log(`unsupported message type ${msg.header.msg_type} on ${channel}`);
    }
  }

  private kernelInfo(): JsonObject {
    const version = packageVersion();
    return {
      status: "ok",
      protocol_version: "5.3",
      implementation: "vre-ts",
      implementation_version: version,
      language_info: {
        name: "typescript",
        version: "5.0.4",
        mimetype: "text/typescript",
        file_extension: ".ts",
        pygments_lexer: "typescript",
        codemirror_mode: "typescript",
        nbconvert_exporter: "script",
      },
      banner: `vre-ts ${version} — TypeScript 5.0 on Node.js ${process.version} (tslab core). Magics: %lsmagic`,
      help_links: [
        { text: "TypeScript handbook", url: "https://www.typescriptlang.org/docs/handbook/intro.html" },
        { text: "Node.js API", url: "https://nodejs.org/docs/latest-v20.x/api/" },
      ],
      debugger: false,
    };
  }

  // ---------------------------------------------------------------- streams

  private patchStreams(): void {
    const make = (name: StreamName) =>
      ((chunk: unknown, encoding?: unknown, cb?: unknown) => {
        const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8");
        this.stream(name, text);
        const done = typeof encoding === "function" ? encoding : cb;
        if (typeof done === "function") process.nextTick(done as () => void);
        return true;
      }) as typeof process.stdout.write;
    process.stdout.write = make("stdout");
    process.stderr.write = make("stderr");
  }

  /** Queues text for the current cell's stream; flushed every 20 ms or before any other message. */
  stream(name: StreamName, text: string): void {
    if (!text) return;
    const parent = this.currentParent();
    if (!parent) {
      this.realStderrWrite(text);
      return;
    }
    const last = this.streams[this.streams.length - 1];
    if (last && last.parent === parent && last.name === name) last.text += text;
    else this.streams.push({ parent, name, text });
    this.flushTimer ??= setTimeout(() => this.flushStreams(), 20);
  }

  private flushStreams(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.streams.length === 0) return;
    const pending = this.streams;
    this.streams = [];
    for (const s of pending) {
      const msg = childMessage("stream", { name: s.name, text: s.text }, s.parent, this.session, {
        identities: [Buffer.from(`kernel.${this.session.slice(0, 8)}.stream`)],
      });
      void this.server.send("iopub", msg);
    }
  }

  // ---------------------------------------------------------------- display, input

  display(value: unknown, options: DisplayOptions = {}): void {
    const { data, metadata } = toMimeBundle(value, options.raw);
    const transient = options.display_id ? { display_id: options.display_id } : {};
    if (options.update && !options.display_id) throw new TypeError("display(..., { update: true }) needs a display_id");
    void this.publish(options.update ? "update_display_data" : "display_data", {
      data,
      metadata: { ...metadata, ...(options.metadata ?? {}) },
      transient,
    });
  }

  clearOutput(wait = false): void {
    void this.publish("clear_output", { wait });
  }

  input(prompt = "", options: { password?: boolean } = {}): Promise<string> {
    const ctx = this.als.getStore() ?? this.running;
    if (!ctx || ctx.msg.header.msg_type !== "execute_request") {
      return Promise.reject(new Error("input() can only be used while a cell is running"));
    }
    if (!ctx.allowStdin) {
      return Promise.reject(new Error("input() is not available: this frontend does not support stdin (allow_stdin is false)"));
    }
    this.flushStreams();
    const msg = childMessage("input_request", { prompt, password: !!options.password }, ctx.msg, this.session, {
      identities: ctx.msg.identities,
    });
    return new Promise<string>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.inputWaiters.push(waiter);
      const onAbort = () => {
        const i = this.inputWaiters.indexOf(waiter);
        if (i >= 0) this.inputWaiters.splice(i, 1);
        reject(new InterruptError());
      };
      ctx.abort.signal.addEventListener("abort", onAbort, { once: true });
      void this.server.send("stdin", msg);
    });
  }

  // ---------------------------------------------------------------- execute

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const item = this.queue.shift()!;
        if (item.aborted) await this.replyAborted(item.msg);
        else await this.execute(item.msg);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async replyAborted(msg: WireMessage): Promise<void> {
    await this.status("busy", msg);
    await this.reply("shell", msg, "execute_reply", { status: "aborted", execution_count: this.executionCount, user_expressions: {}, payload: [] });
    await this.status("idle", msg);
  }

  private async execute(msg: WireMessage): Promise<void> {
    const content = msg.content as unknown as KernelMessage.IExecuteRequestMsg["content"];
    const code = String(content.code ?? "");
    const silent = !!content.silent;
    const storeHistory = silent ? false : content.store_history !== false;
    const stopOnError = content.stop_on_error !== false;
    const ctx: RequestContext = { msg, abort: new AbortController(), allowStdin: content.allow_stdin !== false };
    this.running = ctx;
    this.lastExecute = ctx;
    await this.status("busy", msg);
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    if (!silent) await this.publish("execute_input", { code, execution_count: count }, { parent: msg });

    let result: CellResult;
    if (!code.trim()) result = { ok: true, hasValue: false };
    else result = await this.als.run(ctx, () => this.runCell(code, ctx));

    let outputText: string | null = null;
    if (result.ok && result.hasValue && !silent) {
      try {
        const { data, metadata } = toMimeBundle(result.value);
        outputText = typeof data["text/plain"] === "string" ? (data["text/plain"] as string) : null;
        await this.publish("execute_result", { execution_count: count, data, metadata }, { parent: msg });
      } catch (e) {
        result = { ok: false, error: errorContent(e) };
      }
    }
    if (!result.ok) {
      if (stopOnError) {
        for (const q of this.queue) q.aborted = true;
        this.aborting = true;
      }
      await this.publish("error", { ...result.error }, { parent: msg });
    }
    if (storeHistory) this.history.push({ line: count, input: code, output: outputText });
    // As IPython: the frontend's user_expressions are evaluated after a cell that succeeded, {} otherwise.
    const userExpressions = result.ok ? await this.als.run(ctx, () => this.userExpressions(content.user_expressions)) : {};
    const replyContent: JsonObject = result.ok
      ? { status: "ok", execution_count: count, user_expressions: userExpressions, payload: [] }
      : { status: "error", execution_count: count, ...result.error, user_expressions: {}, payload: [] };
    await this.reply("shell", msg, "execute_reply", replyContent, { started: new Date().toISOString() });
    await this.status("idle", msg);
    this.running = undefined;
    if (this.exitRequest !== undefined) return this.exitNow();
    if (this.aborting) {
      // Requests already on the socket when the error happened are read within this turn and aborted too.
      await new Promise((r) => setImmediate(r));
      this.aborting = false;
    }
  }

  private async runCell(code: string, ctx: RequestContext): Promise<CellResult> {
    this.warmUp();
    if (!this.startupRan) {
      this.startupRan = true;
      await runStartupCells({ cwd: this.cwd, execute: (c) => this.ts.execute(c), printError: (t) => this.stream("stderr", t), signal: ctx.abort.signal });
    }
    if (code.includes("%")) this.registerDomainMagics();
    try {
      const pre = preprocess(code, { isKnownMagic: (n) => getMagic(n) !== undefined, isExpression });
      if (pre.kind === "code" && pre.error) throw new UsageError(pre.error);
      if (pre.kind === "code" && pre.plainMagics) {
        // Nothing but plain magic lines: run them in order without compiling anything.
        let value: unknown;
        for (const call of pre.plainMagics) {
          value = call.help
            ? this.help(call.name)
            : await this.raceAbort(Promise.resolve(resolveMagic(call.name, false).run(call.args, this.magicContext(ctx))), ctx.abort.signal);
        }
        return { ok: true, value, hasValue: value !== undefined && value !== null };
      }
      if (pre.kind === "code") {
        // Interrupted before it started (e.g. while it was being announced): it does not run at all.
        if (ctx.abort.signal.aborted) return { ok: false, error: INTERRUPTED };
        return this.fromOutcome(await this.ts.execute(pre.code), pre, code);
      }
      if (pre.help) return { ok: true, value: this.help(pre.name), hasValue: true };
      const spec = resolveMagic(pre.name, true);
      let args = pre.args;
      if (pre.argsTemplate) {
        const out = await this.ts.execute(pre.argsTemplate);
        const r = this.fromOutcome(out, { code: pre.argsTemplate, map: pre.argsMap }, code);
        if (!r.ok) return r;
        args = String(r.value ?? "");
      }
      const value = await this.raceAbort(Promise.resolve(spec.run(args, this.magicContext(ctx), pre.body)), ctx.abort.signal);
      return { ok: true, value, hasValue: value !== undefined && value !== null };
    } catch (e) {
      if (e instanceof KernelExitRequest) return { ok: true, hasValue: false };
      if (e instanceof CellError) return { ok: false, error: e.content };
      if (e instanceof InterruptError || ctx.abort.signal.aborted) return { ok: false, error: INTERRUPTED };
      return { ok: false, error: errorContent(e) };
    }
  }

  /** Evaluates each expression as TypeScript; every result is a mime bundle or that expression's own error. */
  private async userExpressions(expressions: Record<string, unknown> | undefined): Promise<JsonObject> {
    const out: JsonObject = {};
    for (const [name, expr] of Object.entries(expressions ?? {})) {
      const source = String(expr);
      let r: CellResult;
      try {
        r = this.fromOutcome(await this.ts.execute(source), source, source);
        if (r.ok) out[name] = { status: "ok", ...toMimeBundle(r.value) } as unknown as JsonObject;
      } catch (e) {
        r = { ok: false, error: errorContent(e) };
      }
      if (!r.ok) out[name] = { status: "error", ...r.error } as unknown as JsonObject;
    }
    return out;
  }

  /** Maps an execution outcome to a result; diagnostics are taken back from `compiled` to `original`. */
  private fromOutcome(out: ExecOutcome, compiled: string | { code: string; map?: PositionMap }, original: string): CellResult {
    if (out.ok) return { ok: true, value: out.value, hasValue: out.hasValue };
    if (out.diagnostics.length > 0) {
      const rewritten = typeof compiled === "string" || !compiled.map ? undefined : { code: compiled.code, map: compiled.map };
      return { ok: false, error: compileErrorContent(mapDiagnostics(out.diagnostics, rewritten, original), original) };
    }
    if (out.error?.interrupted) return { ok: false, error: INTERRUPTED };
    if (out.error) {
      const v = out.error.value;
      if (v instanceof KernelExitRequest) return { ok: true, hasValue: false };
      if (v instanceof CellError) return { ok: false, error: v.content };
      if (v instanceof InterruptError) return { ok: false, error: INTERRUPTED };
      return { ok: false, error: errorContent(v) };
    }
    return { ok: false, error: { ename: "Error", evalue: "execution failed", traceback: ["execution failed"] } };
  }

  private raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(new InterruptError());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new InterruptError());
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  /** Runs TypeScript from a cell magic (e.g. the `%%time` body) as a top-level cell; returns its value. */
  private async executeNested(code: string): Promise<unknown> {
    const pre = preprocess(code, { isKnownMagic: (n) => getMagic(n) !== undefined, isExpression });
    if (pre.kind === "cell") throw new UsageError("a cell magic cannot contain another %% cell magic");
    if (pre.error) throw new UsageError(pre.error);
    const r = this.fromOutcome(await this.ts.execute(pre.code), pre, code);
    if (!r.ok) throw new CellError(r.error);
    return r.value;
  }

  private magicContext(ctx: RequestContext | undefined): KernelMagicContext {
    const signal = ctx?.abort.signal ?? new AbortController().signal;
    return {
      signal,
      cwd: process.cwd(),
      display: (v, o) => this.display(v, o),
      input: (p, o) => this.input(p, o),
      print: (t) => this.stream("stdout", /[\n\r]$/.test(t) ? t : t + "\n"),
      printError: (t) => this.stream("stderr", /[\n\r]$/.test(t) ? t : t + "\n"),
      executeCell: (code) => this.executeNested(code),
      kernelInfo: () => ({ cwd: this.cwd, executionCount: this.executionCount }),
    } satisfies KernelMagicContext & MagicContext;
  }

  private help(name: string): unknown {
    const bundle = magicHelp(name);
    return rich({ name }, bundle);
  }

  private bridge(): KernelBridge {
    return {
      protocol: 1,
      line: async (name, args) => {
        const ctx = this.als.getStore();
        const spec = resolveMagic(name, false);
        return spec.run(args, this.magicContext(ctx));
      },
      help: (name) => this.help(name),
      time: (fn) => time(fn, (t) => this.stream("stdout", t)),
      display: (v, o) => this.display(v, o),
      input: (p, o) => this.input(p, o),
      comms: this.comms,
      currentSignal: () => (this.als.getStore() ?? this.running)?.abort.signal ?? new AbortController().signal,
      clearOutput: (wait) => this.clearOutput(wait),
    };
  }

  // ---------------------------------------------------------------- complete, inspect, is_complete, history

  private async complete(code: string, cursorCp: number): Promise<JsonObject> {
    this.warmUp();
    if (code.includes("%")) this.registerDomainMagics();
    const cursor = cpToUtf16(code, cursorCp);
    const prefix = magicPrefixAt(code, cursor);
    if (prefix) {
      const matches = listMagics()
        .filter((m) => m.name.startsWith(prefix.partial))
        .filter((m) => (prefix.percent === "%%" ? m.kind !== "line" : m.kind !== "cell" || code.slice(0, prefix.start).trim() === ""))
        .map((m) => (prefix.percent === "%%" || m.kind === "cell" ? "%%" : "%") + m.name);
      return { status: "ok", matches, cursor_start: utf16ToCp(code, prefix.start), cursor_end: cursorCp, metadata: {} };
    }
    try {
      const r = await this.ts.complete(blankMagics(code, { isKnownMagic: (n) => getMagic(n) !== undefined }), cursor);
      return {
        status: "ok",
        matches: r.candidates,
        cursor_start: utf16ToCp(code, r.start),
        cursor_end: utf16ToCp(code, r.end),
        metadata: {},
      };
    } catch (e) {
      this.log(`completion failed: ${(e as Error).message}`);
      return { status: "ok", matches: [], cursor_start: cursorCp, cursor_end: cursorCp, metadata: {} };
    }
  }

  private async inspect(code: string, cursorCp: number): Promise<JsonObject> {
    this.warmUp();
    if (code.includes("%")) this.registerDomainMagics();
    const cursor = cpToUtf16(code, cursorCp);
    const name = magicNameAt(code, cursor);
    if (name && getMagic(name)) return { status: "ok", found: true, data: magicHelp(name), metadata: {} };
    try {
      const text = await this.ts.inspect(blankMagics(code, { isKnownMagic: (n) => getMagic(n) !== undefined }), cursor);
      if (!text) return { status: "ok", found: false, data: {}, metadata: {} };
      return { status: "ok", found: true, data: { "text/plain": text, "text/markdown": "```typescript\n" + text + "\n```" }, metadata: {} };
    } catch (e) {
      this.log(`inspect failed: ${(e as Error).message}`);
      return { status: "ok", found: false, data: {}, metadata: {} };
    }
  }

  private isComplete(code: string): JsonObject {
    if (code.includes("%")) this.registerDomainMagics();
    if (preprocess(code).kind === "cell") return { status: "complete" };
    const r = checkCompleteness(blankMagics(code, { isKnownMagic: (n) => getMagic(n) !== undefined }));
    return r.status === "incomplete" ? { status: "incomplete", indent: r.indent ?? "" } : { status: r.status };
  }

  private historyReply(c: JsonObject): JsonObject {
    const output = !!c.output;
    const SESSION = 1;
    const entry = (h: { line: number; input: string; output: string | null }) =>
      output ? [SESSION, h.line, [h.input, h.output]] : [SESSION, h.line, h.input];
    let items = this.history;
    switch (c.hist_access_type) {
      case "tail": {
        const n = Number(c.n ?? 10);
        items = n > 0 ? items.slice(-n) : [];
        break;
      }
      case "range": {
        const start = Number(c.start ?? 0);
        const stop = c.stop == null ? Infinity : Number(c.stop);
        items = items.filter((h) => h.line >= start && h.line < stop);
        break;
      }
      case "search": {
        const pattern = globToRegExp(String(c.pattern ?? "*"));
        items = items.filter((h) => pattern.test(h.input));
        if (c.unique) {
          const seen = new Set<string>();
          items = items.filter((h) => (seen.has(h.input) ? false : (seen.add(h.input), true)));
          // ipykernel keeps the most recent occurrence of each input
        }
        const n = c.n == null ? 0 : Number(c.n);
        if (n > 0) items = items.slice(-n);
        break;
      }
      default:
        items = [];
    }
    return { status: "ok", history: items.map(entry) };
  }

  // ---------------------------------------------------------------- interrupt, errors, shutdown

  interrupt(): void {
    this.ts.interrupt();
    this.running?.abort.abort(new InterruptError());
  }

  private reportBackgroundError(e: unknown, where: string): void {
    const content = errorContent(e);
    const parent = this.currentParent();
    if (parent) this.stream("stderr", `${content.traceback.join("\n")}\n(${where})\n`);
    else this.log(`${where}: ${content.ename}: ${content.evalue}`);
  }

  private async shutdown(channel: Channel, msg: WireMessage): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const restart = !!msg.content.restart;
    await this.reply(channel, msg, "shutdown_reply", { status: "ok", restart });
    await this.publish("shutdown_reply", { status: "ok", restart }, { parent: msg });
    await this.stop();
    this.exitProcess(0);
  }

  /**
   * `process.exit()` from notebook code. The cell that called it unwinds and gets its reply, then the kernel
   * exits; a call from elsewhere (a timer while some cell awaits) exits soon without waiting for that cell.
   */
  private requestExit(code: number | string | null | undefined): never {
    const n = Number(code ?? process.exitCode ?? 0);
    this.exitRequest = Number.isInteger(n) ? n : 1;
    setTimeout(() => void this.exitNow(), this.running ? EXIT_GRACE_MS : 0);
    throw new KernelExitRequest(this.exitRequest);
  }

  private async exitNow(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    await this.stop().catch(() => undefined);
    this.exitProcess(this.exitRequest ?? 0);
  }

  async stop(): Promise<void> {
    this.interrupt();
    for (const w of this.inputWaiters.splice(0)) w.reject(new InterruptError());
    this.flushStreams();
    try {
      this.ts.close();
    } catch {
      /* closing watchers is best effort */
    }
    await this.server.close();
    setBridge(undefined);
  }
}

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".").replace(/\[!/g, "[^");
  return new RegExp(`^${re}$`, "s");
}

/** Starts a kernel for a connection file (the `vre-ts kernel` command). */
export async function runKernel(connection: ConnectionInfo): Promise<Kernel> {
  const kernel = new Kernel({ connection });
  await kernel.start();
  return kernel;
}
