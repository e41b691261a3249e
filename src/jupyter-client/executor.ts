/**
 * Executes a notebook's code cells in order on a started kernel and records what a frontend would: outputs,
 * execution counts, timings (`metadata.execution`, as nbclient records them) and widget state. Output that arrives
 * later from an earlier cell (a timer, a promise) still lands in that cell.
 */
import type { KernelManager } from "./manager";
import { sleep } from "./manager";
import type { KernelMessage, WireMessage } from "./messages";
import { parentId } from "./messages";
import { type Notebook, type NotebookCell, joinSource } from "./notebook";
import { OutputCollector } from "./outputs";
import { WIDGET_STATE_MIME, WidgetStateCollector } from "./widget-state";

export type FailureKind = "error" | "timeout" | "kernel_died" | "cancelled";

export interface CellFailure {
  kind: FailureKind;
  /** Index of the cell in the notebook's cell list. */
  index: number;
  cell: NotebookCell;
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface ExecuteOptions {
  /** Keep going after a cell error (the error stays in the cell's outputs). */
  allowErrors?: boolean;
  /** Per-cell timeout; on expiry the kernel is interrupted and the cell counts as failed. */
  cellTimeoutMs?: number;
  /** How long an interrupted cell may take to finish before the kernel is given up on. */
  interruptGraceMs?: number;
  /** Aborts the run: the running cell is interrupted and no further cell is started. */
  signal?: AbortSignal;
  onCellStart?(index: number, cell: NotebookCell): void;
  onCellEnd?(index: number, cell: NotebookCell, failure?: CellFailure): void;
  /** Every iopub message that belongs to a cell of this run (e.g. to echo output live). */
  onOutput?(index: number, msg: WireMessage): void;
  /** Called when the kernel asks for input although stdin is disabled (it gets an empty answer). */
  onInputRequest?(index: number, prompt: string): void;
}

export interface ExecuteResult {
  /** Every failed cell (with allowErrors there may be several). */
  failures: CellFailure[];
  /** True when every code cell ran (possibly with errors allowed). */
  completed: boolean;
}

interface Running {
  index: number;
  cell: NotebookCell;
  idle: Promise<void>;
  markIdle(): void;
  timing: Record<string, string>;
}

export async function executeNotebook(nb: Notebook, kernel: KernelManager, options: ExecuteOptions = {}): Promise<ExecuteResult> {
  const client = kernel.client;
  const outputs = new OutputCollector();
  const widgets = new WidgetStateCollector();
  const byMsgId = new Map<string, Running>();
  const failures: CellFailure[] = [];
  let current: Running | undefined;

  const offIopub = client.onIopub((msg) => {
    widgets.handle(msg);
    const id = parentId(msg);
    const run = id ? byMsgId.get(id) : undefined;
    if (!run) return;
    const type = msg.header.msg_type;
    if (type === "status") {
      const state = (msg.content as { execution_state?: string }).execution_state;
      if (state === "busy") run.timing["iopub.status.busy"] ??= msg.header.date;
      if (state === "idle") {
        run.timing["iopub.status.idle"] = msg.header.date;
        run.markIdle();
      }
      return;
    }
    if (type === "execute_input") {
      run.timing["iopub.execute_input"] = msg.header.date;
      const count = (msg.content as { execution_count?: number }).execution_count;
      if (typeof count === "number") run.cell.execution_count = count;
      return;
    }
    if (outputs.handle(run.cell, msg)) options.onOutput?.(run.index, msg);
  });

  const offStdin = client.onStdin((msg) => {
    if (msg.header.msg_type !== "input_request") return;
    const run = byMsgId.get(parentId(msg) ?? "") ?? current;
    options.onInputRequest?.(run?.index ?? -1, String((msg.content as { prompt?: string }).prompt ?? ""));
    void client.send("stdin", client.message("input_reply", { value: "" }, msg)).catch(() => undefined);
  });

  const died = kernel.whenExited();
  try {
    for (const [index, cell] of nb.cells.entries()) {
      if (cell.cell_type !== "code") continue;
      cell.outputs = [];
      cell.execution_count = null;
      if (options.signal?.aborted) {
        failures.push(failure("cancelled", index, cell, "RunCancelled", "The run was cancelled before this cell."));
        return { failures, completed: false };
      }
      const code = joinSource(cell.source);
      if (!code.trim()) continue; // as nbclient: empty cells are not sent

      options.onCellStart?.(index, cell);
      let markIdle!: () => void;
      const idle = new Promise<void>((resolve) => (markIdle = resolve));
      const timing: Record<string, string> = {};
      const { msgId, reply } = client.request<KernelMessage.IExecuteReply>("shell", "execute_request", {
        code,
        silent: false,
        store_history: true,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: !options.allowErrors,
      });
      current = { index, cell, idle, markIdle, timing };
      byMsgId.set(msgId, current);

      const outcome = await waitForCell(kernel, reply, idle, died, options);
      if (outcome.kind === "done") {
        timing["shell.execute_reply"] = outcome.reply.header.date;
        const content = outcome.reply.content as ReplyContent;
        if (typeof content.execution_count === "number") cell.execution_count = content.execution_count;
        await Promise.race([idle, died, sleep(2_000)]); // the reply can overtake the last outputs
        if (Object.keys(timing).length) cell.metadata.execution = { ...(cell.metadata.execution as object | undefined), ...timing };
        if (content.status === "error" || content.status === "aborted") {
          const f =
            content.status === "error"
              ? fromError(index, cell, content)
              : failure("error", index, cell, "ExecutionAborted", "The kernel aborted this cell (an earlier request failed).");
          failures.push(f);
          options.onCellEnd?.(index, cell, f);
          if (!options.allowErrors) return { failures, completed: false };
          continue;
        }
        options.onCellEnd?.(index, cell);
        continue;
      }
      // timeout, cancellation or a dead kernel: the cell did not finish normally.
      const f =
        outcome.kind === "kernel_died"
          ? failure("kernel_died", index, cell, "DeadKernelError", `The kernel ${kernel.describeExit()} while running this cell.`)
          : outcome.kind === "timeout"
            ? failure("timeout", index, cell, "CellTimeoutError", `The cell did not finish within ${fmtSeconds(options.cellTimeoutMs ?? 0)}; the kernel was interrupted.`)
            : failure("cancelled", index, cell, "RunCancelled", "The run was cancelled while this cell was running; the kernel was interrupted.");
      (cell.outputs ??= []).push({ output_type: "error", ename: f.ename, evalue: f.evalue, traceback: [`${f.ename}: ${f.evalue}`] });
      failures.push(f);
      options.onCellEnd?.(index, cell, f);
      const recovered = outcome.kind === "timeout" && outcome.recovered;
      if (!recovered || !options.allowErrors) return { failures, completed: false };
    }
    return { failures, completed: true };
  } finally {
    offIopub();
    offStdin();
    const state = widgets.document();
    const meta = nb.metadata as Record<string, any>;
    if (state) meta.widgets = { ...(meta.widgets ?? {}), [WIDGET_STATE_MIME]: state };
    else if (meta.widgets) {
      delete meta.widgets[WIDGET_STATE_MIME];
      if (Object.keys(meta.widgets).length === 0) delete meta.widgets;
    }
  }
}

/** execute_reply content, any status. */
interface ReplyContent {
  status: "ok" | "error" | "aborted";
  execution_count?: number | null;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

type Outcome =
  | { kind: "done"; reply: WireMessage<KernelMessage.IExecuteReply> }
  | { kind: "timeout"; recovered: boolean }
  | { kind: "cancelled" }
  | { kind: "kernel_died" };

async function waitForCell(
  kernel: KernelManager,
  reply: Promise<WireMessage<KernelMessage.IExecuteReply>>,
  idle: Promise<void>,
  died: Promise<void>,
  options: ExecuteOptions,
): Promise<Outcome> {
  const done = Promise.all([reply, idle]).then(([r]) => ({ kind: "done" as const, reply: r }));
  const dead = died.then(() => ({ kind: "kernel_died" as const }));
  const timers: NodeJS.Timeout[] = [];
  const timedOut = new Promise<"timeout">((resolve) => {
    if (options.cellTimeoutMs !== undefined && options.cellTimeoutMs > 0) timers.push(setTimeout(() => resolve("timeout"), options.cellTimeoutMs));
  });
  let onAbort: (() => void) | undefined;
  const cancelled = new Promise<"cancelled">((resolve) => {
    onAbort = () => resolve("cancelled");
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const first = await Promise.race([done, dead, timedOut, cancelled]);
    if (typeof first === "object") return first;
    // Interrupt, then give the kernel a grace period to finish the cell with its own (error) reply.
    await kernel.interrupt();
    const grace = options.interruptGraceMs ?? 10_000;
    const after = await Promise.race([done, dead, sleep(grace).then(() => "stuck" as const)]);
    if (first === "cancelled") return { kind: "cancelled" };
    if (typeof after === "object" && after.kind === "kernel_died") return after;
    return { kind: "timeout", recovered: after !== "stuck" };
  } finally {
    timers.forEach(clearTimeout);
    if (onAbort) options.signal?.removeEventListener("abort", onAbort);
  }
}

function fromError(index: number, cell: NotebookCell, content: ReplyContent): CellFailure {
  // The error output carries the richest information; the reply's fields are the fallback.
  const errorOutput = [...(cell.outputs ?? [])].reverse().find((o) => o.output_type === "error");
  if (errorOutput && errorOutput.output_type === "error") {
    return { kind: "error", index, cell, ename: errorOutput.ename, evalue: errorOutput.evalue, traceback: errorOutput.traceback };
  }
  return failure("error", index, cell, content.ename ?? "Error", content.evalue ?? "", content.traceback ?? []);
}

function failure(kind: FailureKind, index: number, cell: NotebookCell, ename: string, evalue: string, traceback: string[] = []): CellFailure {
  return { kind, index, cell, ename, evalue, traceback };
}

function fmtSeconds(ms: number): string {
  return `${+(ms / 1000).toFixed(3)} s`;
}

/** Records the kernel in the notebook metadata, as Jupyter does after running it. */
export function recordKernelMetadata(nb: Notebook, kernel: KernelManager): void {
  const meta = nb.metadata as Record<string, any>;
  meta.kernelspec = { name: kernel.spec.name, display_name: kernel.spec.display_name, language: kernel.spec.language || kernel.kernelInfo?.language_info?.name || "" };
  const info = kernel.kernelInfo?.language_info;
  if (info) meta.language_info = { ...info };
}
