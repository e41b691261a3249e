import { describe, expect, it } from "vitest";
import type { WireMessage } from "./messages";
import type { NotebookCell } from "./notebook";
import { OutputCollector, collapseCarriageReturns } from "./outputs";
import { WIDGET_STATE_MIME, WidgetStateCollector } from "./widget-state";

let seq = 0;
function msg(msg_type: string, content: Record<string, unknown>, buffers: Buffer[] = []): WireMessage {
  return {
    header: { msg_id: `m${++seq}`, msg_type, session: "s", username: "u", date: "2026-01-01T00:00:00Z", version: "5.3" } as WireMessage["header"],
    parent_header: {},
    metadata: {},
    content,
    buffers,
  };
}

const cell = (): NotebookCell => ({ cell_type: "code", source: "", metadata: {}, outputs: [], execution_count: null });

describe("OutputCollector", () => {
  it("merges consecutive chunks of the same stream only", () => {
    const c = cell();
    const out = new OutputCollector();
    out.handle(c, msg("stream", { name: "stdout", text: "a\n" }));
    out.handle(c, msg("stream", { name: "stdout", text: "b\n" }));
    out.handle(c, msg("stream", { name: "stderr", text: "warn\n" }));
    out.handle(c, msg("stream", { name: "stdout", text: "c" }));
    expect(c.outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "a\nb\n" },
      { output_type: "stream", name: "stderr", text: "warn\n" },
      { output_type: "stream", name: "stdout", text: "c" },
    ]);
  });

  it("updates every output with the display_id, in any cell, and ignores unknown ids", () => {
    const a = cell();
    const b = cell();
    const out = new OutputCollector();
    out.handle(a, msg("display_data", { data: { "text/plain": "0%" }, metadata: {}, transient: { display_id: "progress" } }));
    out.handle(a, msg("display_data", { data: { "text/plain": "other" }, metadata: {} }));
    out.handle(b, msg("display_data", { data: { "text/plain": "0% again" }, metadata: {}, transient: { display_id: "progress" } }));
    out.handle(b, msg("update_display_data", { data: { "text/plain": "100%", "text/html": "<b>100%</b>" }, metadata: { done: true }, transient: { display_id: "progress" } }));
    out.handle(b, msg("update_display_data", { data: { "text/plain": "nobody" }, metadata: {}, transient: { display_id: "unknown" } }));
    expect(a.outputs).toEqual([
      { output_type: "display_data", data: { "text/plain": "100%", "text/html": "<b>100%</b>" }, metadata: { done: true } },
      { output_type: "display_data", data: { "text/plain": "other" }, metadata: {} },
    ]);
    expect(b.outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "100%", "text/html": "<b>100%</b>" }, metadata: { done: true } }]);
  });

  it("records execute_result with its count and error outputs", () => {
    const c = cell();
    const out = new OutputCollector();
    out.handle(c, msg("execute_result", { data: { "text/plain": "42" }, metadata: {}, execution_count: 3 }));
    out.handle(c, msg("error", { ename: "TypeError", evalue: "x is not a function", traceback: ["TypeError: x is not a function", "    at <cell>:1"] }));
    expect(c.outputs).toEqual([
      { output_type: "execute_result", data: { "text/plain": "42" }, metadata: {}, execution_count: 3 },
      { output_type: "error", ename: "TypeError", evalue: "x is not a function", traceback: ["TypeError: x is not a function", "    at <cell>:1"] },
    ]);
    expect(out.handle(c, msg("status", { execution_state: "idle" }))).toBe(false);
  });

  it("clears at once, or just before the next output with wait=true", () => {
    const c = cell();
    const out = new OutputCollector();
    out.handle(c, msg("stream", { name: "stdout", text: "step 1\n" }));
    out.handle(c, msg("clear_output", { wait: true }));
    expect(c.outputs).toHaveLength(1);
    out.handle(c, msg("stream", { name: "stdout", text: "step 2\n" }));
    expect(c.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "step 2\n" }]);
    out.handle(c, msg("clear_output", { wait: false }));
    expect(c.outputs).toEqual([]);
  });

  it("resolves carriage returns like a terminal", () => {
    expect(collapseCarriageReturns("10%\r50%\r100%\ndone\n")).toBe("100%\ndone\n");
    expect(collapseCarriageReturns("abc\rde")).toBe("dec");
    expect(collapseCarriageReturns("line\r\nnext")).toBe("line\nnext");
    const c = cell();
    const out = new OutputCollector();
    out.handle(c, msg("stream", { name: "stdout", text: "downloading 10%\r" }));
    out.handle(c, msg("stream", { name: "stdout", text: "downloading 99%\r" }));
    out.handle(c, msg("stream", { name: "stdout", text: "downloaded     \n" }));
    expect(c.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "downloaded     \n" }]);
  });
});

describe("WidgetStateCollector", () => {
  it("records models from comm_open and update traffic, with buffers, and forgets closed ones", () => {
    const w = new WidgetStateCollector();
    expect(w.document()).toBeUndefined();
    w.handle(
      msg("comm_open", {
        comm_id: "m1",
        target_name: "jupyter.widget",
        data: { state: { _model_name: "AnyModel", _model_module: "anywidget", _model_module_version: "~0.9.*", count: 0 }, buffer_paths: [["blob"]] },
      }, [Buffer.from([1, 2, 3])]),
    );
    w.handle(msg("comm_open", { comm_id: "other", target_name: "my.target", data: {} }));
    w.handle(msg("comm_msg", { comm_id: "m1", data: { method: "update", state: { count: 4 }, buffer_paths: [] } }));
    w.handle(msg("comm_msg", { comm_id: "m1", data: { method: "custom", content: { count: 99 } } }));
    w.handle(msg("comm_open", { comm_id: "gone", target_name: "jupyter.widget", data: { state: { _model_name: "X" } } }));
    w.handle(msg("comm_close", { comm_id: "gone", data: {} }));
    expect(w.document()).toEqual({
      version_major: 2,
      version_minor: 0,
      state: {
        m1: {
          model_name: "AnyModel",
          model_module: "anywidget",
          model_module_version: "~0.9.*",
          state: { _model_name: "AnyModel", _model_module: "anywidget", _model_module_version: "~0.9.*", count: 4 },
          buffers: [{ data: "AQID", encoding: "base64", path: ["blob"] }],
        },
      },
    });
    expect(WIDGET_STATE_MIME).toBe("application/vnd.jupyter.widget-state+json");
  });
});
