/**
 * Turns iopub messages into nbformat 4 outputs, as a Jupyter frontend would: consecutive stream chunks merge,
 * `update_display_data` rewrites every earlier output with the same display_id (in any cell), and
 * `clear_output(wait=true)` clears just before the next output arrives.
 */
import type { MimeBundle, NotebookCell, Output } from "./notebook";
import type { WireMessage } from "./messages";

type DisplayOutput = Extract<Output, { data: MimeBundle }>;

export class OutputCollector {
  private readonly displays = new Map<string, Set<DisplayOutput>>();
  private readonly clearPending = new WeakSet<NotebookCell>();

  /** Applies one iopub message to `cell`; returns false when the message does not produce output. */
  handle(cell: NotebookCell, msg: WireMessage): boolean {
    const content = msg.content as Record<string, any>;
    switch (msg.header.msg_type) {
      case "stream":
        this.append(cell, { output_type: "stream", name: content.name === "stderr" ? "stderr" : "stdout", text: String(content.text ?? "") });
        return true;
      case "display_data":
        this.append(cell, { output_type: "display_data", data: content.data ?? {}, metadata: content.metadata ?? {} }, content.transient?.display_id);
        return true;
      case "execute_result":
        this.append(
          cell,
          { output_type: "execute_result", data: content.data ?? {}, metadata: content.metadata ?? {}, execution_count: content.execution_count ?? null },
          content.transient?.display_id,
        );
        return true;
      case "error":
        this.append(cell, {
          output_type: "error",
          ename: String(content.ename ?? "Error"),
          evalue: String(content.evalue ?? ""),
          traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
        });
        return true;
      case "update_display_data":
        this.update(content.transient?.display_id, content.data ?? {}, content.metadata ?? {});
        return true;
      case "clear_output":
        if (content.wait) this.clearPending.add(cell);
        else this.clear(cell);
        return true;
      default:
        return false;
    }
  }

  private clear(cell: NotebookCell): void {
    this.clearPending.delete(cell);
    cell.outputs = [];
  }

  private append(cell: NotebookCell, output: Output, displayId?: unknown): void {
    if (this.clearPending.has(cell)) this.clear(cell);
    const outputs = (cell.outputs ??= []);
    const last = outputs[outputs.length - 1];
    if (output.output_type === "stream" && last?.output_type === "stream" && last.name === output.name) {
      last.text = collapseCarriageReturns(String(last.text) + String(output.text));
      return;
    }
    if (output.output_type === "stream") output.text = collapseCarriageReturns(String(output.text));
    outputs.push(output);
    if (typeof displayId === "string" && displayId && "data" in output) {
      let set = this.displays.get(displayId);
      if (!set) this.displays.set(displayId, (set = new Set()));
      set.add(output);
    }
  }

  private update(displayId: unknown, data: MimeBundle, metadata: Record<string, unknown>): void {
    if (typeof displayId !== "string") return;
    for (const output of this.displays.get(displayId) ?? []) {
      output.data = data;
      output.metadata = metadata;
    }
  }
}

/**
 * Resolves carriage returns the way a terminal (and JupyterLab) does: text after a "\r" overwrites the start of
 * its line. A trailing "\r" is kept so that the next chunk overwrites the line (progress bars).
 */
export function collapseCarriageReturns(text: string): string {
  if (!text.includes("\r")) return text;
  const normalized = text.replace(/\r+\n/g, "\n");
  return normalized
    .split("\n")
    .map((line) => {
      const trailing = line.endsWith("\r");
      const parts = (trailing ? line.slice(0, -1) : line).split("\r");
      let result = "";
      for (const part of parts) result = part + result.slice(part.length);
      return trailing ? result + "\r" : result;
    })
    .join("\n");
}
