/**
 * The real kernel process over real ZeroMQ: spawns `dist/cli/main.js kernel` in a folder without node_modules and
 * talks to it as a frontend would. Needs the compiled package (`npm run build`).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestKernelClient } from "./testing/client";

const MAIN = resolve(__dirname, "..", "..", "dist", "cli", "main.js");
const BRIDGE = 'Reflect.get(globalThis, Symbol.for("vre-ts.kernel"))';

let k: TestKernelClient;

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` before the kernel tests`);
  k = await TestKernelClient.start({ main: MAIN });
  const info = await k.request("shell", "kernel_info_request", {});
  expect(info.content.status).toBe("ok");
}, 120_000);

afterAll(async () => {
  await k?.close();
});

const text = (outputs: { header: { msg_type: string }; content: Record<string, unknown> }[], name = "stdout") =>
  outputs.filter((m) => m.header.msg_type === "stream" && m.content.name === name).map((m) => m.content.text as string).join("");

describe("vre-ts kernel over ZeroMQ", () => {
  it("answers kernel_info with status and the true language_info", async () => {
    const r = await k.request("shell", "kernel_info_request", {});
    expect(r.content).toMatchObject({ status: "ok", protocol_version: "5.3", implementation: "vre-ts" });
    expect(r.content.language_info).toMatchObject({ name: "typescript", version: "5.0.4", file_extension: ".ts" });
  });

  it("turns the last expression into execute_result and keeps declarations between cells", async () => {
    const a = await k.execute("const answer: number = 6 * 7");
    expect(a.reply.content.status).toBe("ok");
    const b = await k.execute("answer");
    expect(b.reply.content.status).toBe("ok");
    const result = b.outputs.find((m) => m.header.msg_type === "execute_result")!;
    expect(result.content.data).toEqual({ "text/plain": "42" });
    expect(result.content.execution_count).toBe(b.reply.content.execution_count);
  }, 120_000);

  it("reports thrown and compile errors with ename/evalue/traceback", async () => {
    const thrown = await k.execute('throw new RangeError("out of range")');
    expect(thrown.reply.content).toMatchObject({ status: "error", ename: "RangeError", evalue: "out of range" });
    const err = thrown.outputs.find((m) => m.header.msg_type === "error")!;
    expect((err.content.traceback as string[])[0]).toContain("RangeError");
    const compile = await k.execute('const n: number = "x"');
    expect(compile.reply.content.ename).toBe("CompileError");
    expect(compile.reply.content.evalue).toMatch(/^1:7 - Type 'string' is not assignable/);
  });

  it("resolves console and Node types without node_modules in the notebook folder", async () => {
    expect(existsSync(join(k.cwd, "node_modules"))).toBe(false);
    const r = await k.execute('import { openAsBlob } from "node:fs";\nconsole.log(typeof openAsBlob, [1, 2, 3].findLast((x) => x < 3))');
    expect(r.reply.content.status).toBe("ok");
    expect(text(r.outputs)).toBe("function 2\n");
  });

  it("runs magics: UsageError with the closest name, values as rich results, assignment form", async () => {
    const bad = await k.execute("%lsmagc");
    expect(bad.reply.content).toMatchObject({ status: "error", ename: "UsageError" });
    expect(bad.reply.content.evalue).toContain("Did you mean %lsmagic?");
    expect((bad.reply.content.traceback as string[]).length).toBe(1);
    const ls = await k.execute("const m = 1\n%lsmagic");
    const data = ls.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data as Record<string, string>;
    expect(data["text/html"]).toContain("<table");
    expect(data["text/plain"]).toContain("%%bash");
    const assigned = await k.execute("%env VRE_TEST_VALUE=hello\nconst v = %env VRE_TEST_VALUE\nv.toUpperCase()");
    expect(assigned.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data).toEqual({ "text/plain": "'HELLO'" });
    const cell = await k.execute("%%bash\necho from bash; echo to-stderr >&2");
    expect(text(cell.outputs)).toBe("from bash\n");
    expect(text(cell.outputs, "stderr")).toBe("to-stderr\n");
    const interp = await k.execute("const who = 'world'\n%env GREETING=hello-{who.length}\nprocess.env.GREETING");
    expect(interp.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data).toEqual({ "text/plain": "'hello-5'" });
  }, 120_000);

  it("completes TypeScript and magic names, inspects both, checks completeness and keeps history", async () => {
    const ts = await k.request("shell", "complete_request", { code: "%env HOME\nMath.PI.toFix", cursor_pos: 23 });
    expect(ts.content.matches).toContain("toFixed");
    expect(ts.content).toMatchObject({ cursor_start: 18, cursor_end: 23 });
    const magic = await k.request("shell", "complete_request", { code: "%lsm", cursor_pos: 4 });
    expect(magic.content).toMatchObject({ matches: ["%lsmagic"], cursor_start: 0, cursor_end: 4 });
    const cell = await k.request("shell", "complete_request", { code: "%%ba", cursor_pos: 4 });
    expect(cell.content.matches).toEqual(["%%bash"]);
    const unicode = await k.request("shell", "complete_request", { code: '"🙂"; Math.PI.toFix', cursor_pos: 18 });
    expect(unicode.content).toMatchObject({ cursor_start: 13, cursor_end: 18 }); // code points, not UTF-16 units
    const help = await k.request("shell", "inspect_request", { code: "%env HOME", cursor_pos: 2, detail_level: 0 });
    expect(help.content.found).toBe(true);
    expect((help.content.data as Record<string, string>)["text/plain"]).toContain("%env NAME=VALUE");
    const info = await k.request("shell", "inspect_request", { code: "Math.max", cursor_pos: 7, detail_level: 0 });
    expect((info.content.data as Record<string, string>)["text/plain"]).toContain("max(");
    const states = [];
    for (const code of ["function f() {", "1 +* 2", "%lsmagic", "%%bash\nif then"]) {
      states.push((await k.request("shell", "is_complete_request", { code })).content.status);
    }
    expect(states).toEqual(["incomplete", "invalid", "complete", "complete"]);
    await k.execute("6 * 7");
    const tail = await k.request("shell", "history_request", { hist_access_type: "tail", n: 1, output: true, raw: true });
    expect(tail.content.history).toEqual([[1, expect.any(Number), ["6 * 7", "42"]]]);
  });

  it("delivers a 5000-line burst completely, followed by idle", async () => {
    const r = await k.execute('for (let i = 0; i < 5000; i++) console.log("line " + i)');
    const out = text(r.outputs).split("\n").filter(Boolean);
    expect(out).toHaveLength(5000);
    expect(out[4999]).toBe("line 4999");
  }, 120_000);

  it("attributes output of a timer started in an earlier cell to that cell", async () => {
    const a = await k.execute('setTimeout(() => console.log("late from A"), 300); "A"');
    const b = await k.execute("await new Promise((r) => setTimeout(r, 600)); 'B'");
    const late = await k.waitIopub((m) => m.header.msg_type === "stream" && String(m.content.text).includes("late from A"));
    expect((late.parent_header as { msg_id: string }).msg_id).toBe(a.id);
    expect(text(b.outputs)).not.toContain("late from A");
  });

  it("evaluates user_expressions after a successful cell, each with its own result or error", async () => {
    const ok = await k.execute("const half: number = 21", {
      user_expressions: { double: "half * 2", label: '"n=" + half', missing: "notDefinedAnywhere + 1", thrown: '(() => { throw new RangeError("too far"); })()' },
    });
    const ue = ok.reply.content.user_expressions as Record<string, Record<string, unknown>>;
    expect(ue.double).toEqual({ status: "ok", data: { "text/plain": "42" }, metadata: {} });
    expect(ue.label).toMatchObject({ status: "ok", data: { "text/plain": "'n=21'" } });
    expect(ue.missing).toMatchObject({ status: "error", ename: "CompileError" });
    expect(ue.thrown).toMatchObject({ status: "error", ename: "RangeError", evalue: "too far" });
    // They run after the cell and do not count as cells.
    expect((await k.execute("half")).reply.content.execution_count).toBe((ok.reply.content.execution_count as number) + 1);
    const failed = await k.execute('throw new Error("cell failed")', { user_expressions: { double: "half * 2" } });
    expect(failed.reply.content).toMatchObject({ status: "error", user_expressions: {} });
  });

  it("aborts only the requests queued at error time", async () => {
    const ids = [];
    for (const code of ['throw new Error("first")', "1", "2"]) {
      ids.push(await k.send("shell", k.message("execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true })));
    }
    const replies = await Promise.all(ids.map((id) => k.reply(id)));
    expect(replies.map((r) => r.content.status)).toEqual(["error", "aborted", "aborted"]);
    await k.idle(ids[2]);
    const after = await k.execute("3");
    expect(after.reply.content.status).toBe("ok");
  });

  it("opens comms both ways with binary buffers; unknown targets are closed", async () => {
    await k.execute(
      `${BRIDGE}.comms.registerTarget("echo", (comm: any, open: any) => { comm.send({ opened: open.data }); comm.onMessage((m: any) => comm.send({ echo: m.data }, { buffers: m.buffers.map((b: any) => Buffer.from([...b].reverse())) })); })`,
    );
    const openId = await k.send("shell", k.message("comm_open", { comm_id: "c-1", target_name: "echo", data: { hello: 1 } }, [Buffer.from([1, 2, 3])]));
    const opened = await k.waitIopub((m) => m.header.msg_type === "comm_msg" && (m.content.data as { opened?: unknown }).opened !== undefined);
    expect(opened.content.data).toEqual({ opened: { hello: 1 } });
    expect((opened.parent_header as { msg_id: string }).msg_id).toBe(openId);
    await k.send("shell", k.message("comm_msg", { comm_id: "c-1", data: { x: 42 } }, [Buffer.from([1, 2, 3]), Buffer.from([9])]));
    const echo = await k.waitIopub((m) => m.header.msg_type === "comm_msg" && (m.content.data as { echo?: unknown }).echo !== undefined);
    expect(echo.content.data).toEqual({ echo: { x: 42 } });
    expect(echo.buffers.map((b) => [...b])).toEqual([[3, 2, 1], [9]]);
    const info = await k.request("shell", "comm_info_request", { target_name: "echo" });
    expect(info.content.comms).toEqual({ "c-1": { target_name: "echo" } });
    await k.send("shell", k.message("comm_open", { comm_id: "c-2", target_name: "nobody", data: {} }));
    const closed = await k.waitIopub((m) => m.header.msg_type === "comm_close" && m.content.comm_id === "c-2");
    expect(closed).toBeDefined();
  });

  it("delivers comm messages while a cell awaits them", async () => {
    await k.execute(`${BRIDGE}.comms.registerTarget("wait", (comm: any) => { (globalThis as any).waitComm = comm; })`);
    await k.send("shell", k.message("comm_open", { comm_id: "w-1", target_name: "wait", data: {} }));
    await new Promise((r) => setTimeout(r, 200));
    const id = await k.send(
      "shell",
      k.message("execute_request", { code: "const got = await new Promise((r) => (globalThis as any).waitComm.onMessage((m: any) => r(m.data.value)));\ngot", silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }),
    );
    await new Promise((r) => setTimeout(r, 300));
    await k.send("shell", k.message("comm_msg", { comm_id: "w-1", data: { value: "from frontend" } }));
    const reply = await k.reply(id);
    expect(reply.content.status).toBe("ok");
    await k.idle(id);
    expect(k.children(id).find((m) => m.header.msg_type === "execute_result")!.content.data).toEqual({ "text/plain": "'from frontend'" });
  });

  it("asks for input on stdin and returns the reply", async () => {
    const id = await k.send("shell", k.message("execute_request", { code: 'const pw = await input("Password: ", { password: true }); pw.length', silent: false, store_history: true, user_expressions: {}, allow_stdin: true, stop_on_error: true }));
    const deadline = Date.now() + 30_000;
    while (k.stdinRequests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const req = k.stdinRequests.shift()!;
    expect(req.content).toEqual({ prompt: "Password: ", password: true });
    await k.send("stdin", k.message("input_reply", { value: "s3cret" }));
    const reply = await k.reply(id);
    expect(reply.content.status).toBe("ok");
    await k.idle(id);
    expect(k.children(id).find((m) => m.header.msg_type === "execute_result")!.content.data).toEqual({ "text/plain": "6" });
  });

  it("interrupts an awaiting cell through control interrupt_request and stays alive", async () => {
    const id = await k.send("shell", k.message("execute_request", { code: "await new Promise(() => {})", silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }));
    await new Promise((r) => setTimeout(r, 300));
    const ir = await k.request("control", "interrupt_request", {});
    expect(ir.content.status).toBe("ok");
    const reply = await k.reply(id);
    expect(reply.content).toMatchObject({ status: "error", ename: "InterruptError" });
    await k.idle(id);
    const next = await k.execute("1 + 1");
    expect(next.reply.content.status).toBe("ok");
  });

  it("survives an unhandled rejection", async () => {
    await k.execute('Promise.reject(new Error("ignored")); 0');
    await new Promise((r) => setTimeout(r, 100));
    const r = await k.execute("'alive'");
    expect(r.reply.content.status).toBe("ok");
  });

  it("updates displays by display_id", async () => {
    const r = await k.execute('display({ "text/plain": "v1" }, { raw: true, display_id: "d1" });\ndisplay({ "text/plain": "v2" }, { raw: true, display_id: "d1", update: true })');
    const kinds = r.outputs.map((m) => [m.header.msg_type, (m.content.transient as { display_id?: string } | undefined)?.display_id]);
    expect(kinds).toEqual([
      ["display_data", "d1"],
      ["update_display_data", "d1"],
    ]);
  });

  it("interrupts a synchronous loop with SIGINT (signal interrupt mode)", async () => {
    const id = await k.send("shell", k.message("execute_request", { code: "while (true) {}", silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }));
    await new Promise((r) => setTimeout(r, 500));
    k.proc.kill("SIGINT");
    const reply = await k.reply(id);
    expect(reply.content).toMatchObject({ status: "error", ename: "InterruptError" });
    await k.idle(id);
    expect((await k.execute("'still here'")).reply.content.status).toBe("ok");
  });

  it("opens anywidget models with buffers, syncs updates both ways and answers request_states", async () => {
    const open = await k.execute(
      'import { widget } from "vre-ts/dist/widgets/widget";\n' +
        'const w = widget({ esm: "export default { render({ model, el }) { el.textContent = model.get(\'count\'); } }", css: ".c{}", state: { count: 1, blob: new Uint8Array([1, 2, 3]) } });\nw',
    );
    expect(open.reply.content.status).toBe("ok");
    const commOpen = open.outputs.find((m) => m.header.msg_type === "comm_open")!;
    expect(commOpen.content.target_name).toBe("jupyter.widget");
    expect(commOpen.metadata).toEqual({ version: "2.1.0" });
    const data = commOpen.content.data as { state: Record<string, unknown>; buffer_paths: unknown };
    expect(data.state).toMatchObject({ _model_module: "anywidget", _model_name: "AnyModel", _view_name: "AnyView", _css: ".c{}", count: 1 });
    expect(data.state._model_module_version).toMatch(/^~\d+\.\d+\.\*$/);
    expect(data.buffer_paths).toEqual([["blob"]]);
    expect(commOpen.buffers.map((b) => [...b])).toEqual([[1, 2, 3]]);
    const modelId = commOpen.content.comm_id as string;
    const view = open.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data as Record<string, unknown>;
    expect(view["application/vnd.jupyter.widget-view+json"]).toEqual({ version_major: 2, version_minor: 1, model_id: modelId });

    await k.send("shell", k.message("comm_msg", { comm_id: modelId, data: { method: "update", state: { count: 5 }, buffer_paths: [["blob"]] } }, [Buffer.from([7])]));
    await new Promise((r) => setTimeout(r, 200));
    const got = await k.execute('[w.get("count"), [...w.get("blob")]]');
    expect(got.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data).toEqual({ "text/plain": "[ 5, [ 7 ] ]" });

    const set = await k.execute('w.set("count", 9)');
    const update = set.outputs.find((m) => m.header.msg_type === "comm_msg")!;
    expect(update.content.data).toEqual({ method: "update", state: { count: 9 }, buffer_paths: [] });

    await k.send("shell", k.message("comm_open", { comm_id: "ctl", target_name: "jupyter.widget.control", data: {} }));
    await k.send("shell", k.message("comm_msg", { comm_id: "ctl", data: { method: "request_states" } }));
    const states = await k.waitIopub((m) => m.header.msg_type === "comm_msg" && m.content.comm_id === "ctl");
    const sd = states.content.data as { method: string; states: Record<string, { state: Record<string, unknown> }>; buffer_paths: unknown[] };
    expect(sd.method).toBe("update_states");
    expect(sd.states[modelId].state.count).toBe(9);
    expect(sd.buffer_paths).toContainEqual([modelId, "state", "blob"]);
    expect(states.buffers.map((b) => [...b])).toContainEqual([7]);
  });

  it("robustness: shorthand of earlier variables, await (expr), null results, magic comments and columns, hidden line breaks", async () => {
    const result = (r: { outputs: { header: { msg_type: string }; content: Record<string, unknown> }[] }) =>
      r.outputs.find((m) => m.header.msg_type === "execute_result")?.content.data as Record<string, string> | undefined;
    await k.execute("let min_pt = 2.0;");
    const shorthand = await k.execute("({ min_pt })");
    expect(shorthand.reply.content.status).toBe("ok");
    expect(result(shorthand)).toEqual({ "text/plain": "{ min_pt: 2 }" });
    const awaited = await k.execute("const v = await (Promise.resolve(1)); v");
    expect(result(awaited)).toEqual({ "text/plain": "1" });
    expect(result(await k.execute("null"))).toEqual({ "text/plain": "null" });
    const undef = await k.execute("undefined");
    expect(undef.reply.content.status).toBe("ok");
    expect(result(undef)).toBeUndefined();

    const commented = await k.execute("%env VRE_URL=https://zenodo.org/api   // the API root\nprocess.env.VRE_URL");
    expect(result(commented)).toEqual({ "text/plain": "'https://zenodo.org/api'" });

    const compile = await k.execute("const base = 1\n  %env VRE_Y={base.nope}");
    expect(compile.reply.content.ename).toBe("CompileError");
    expect(compile.reply.content.evalue).toMatch(/^2:20 - Property 'nope' does not exist/); // the column of `nope` as typed
    const header = await k.execute("%%bash -x {min_pt.nope}\necho never");
    expect(header.reply.content.evalue).toMatch(/^1:19 - Property 'nope' does not exist/);

    for (const sep of ["\u2028", "\u2029", "\r"]) {
      const hidden = await k.execute(`%env VRE_Z=1${sep}(globalThis as any).ranHidden = true`);
      expect(hidden.reply.content).toMatchObject({ status: "error", ename: "UsageError" });
      expect(hidden.reply.content.evalue).toMatch(/nothing was run/);
    }
    expect(result(await k.execute("typeof (globalThis as any).ranHidden"))).toEqual({ "text/plain": "'undefined'" });

    const states = [];
    for (const code of ["const s = `abc", ")(", "/* note"]) states.push((await k.request("shell", "is_complete_request", { code })).content.status);
    expect(states).toEqual(["incomplete", "invalid", "incomplete"]);
  }, 120_000);

  it("shuts down fast", async () => {
    const t0 = Date.now();
    const r = await k.request("control", "shutdown_request", { restart: false });
    expect(r.content.status).toBe("ok");
    await new Promise((res) => (k.proc.exitCode !== null ? res(null) : k.proc.once("exit", res)));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(k.proc.exitCode).toBe(0);
  });
});

describe("process.exit() from a cell", () => {
  it("ends the cell normally, keeps its output, and exits with the code after closing the sockets", async () => {
    const own = await TestKernelClient.start({ main: MAIN });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => own.proc.once("exit", (code, signal) => r([code, signal])));
    const r = await own.execute('console.log("last words"); process.exit(3); console.log("never")', {}, 120_000);
    expect(r.reply.content.status).toBe("ok");
    expect(text(r.outputs)).toBe("last words\n");
    expect(await exited).toEqual([3, null]); // not SIGABRT from ZeroMQ sockets torn down under it
    expect(own.stderr).not.toMatch(/terminate called|Napi::Error/);
    await own.close().catch(() => undefined);
  }, 120_000);

  it("from a timer between cells, exits the same way, reporting no error", async () => {
    const own = await TestKernelClient.start({ main: MAIN });
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => own.proc.once("exit", (code, signal) => r([code, signal])));
    const r = await own.execute("setTimeout(() => process.exit(4), 200); 'scheduled'", {}, 120_000);
    expect(r.reply.content.status).toBe("ok");
    expect(await exited).toEqual([4, null]);
    expect(own.iopubLog.some((m) => m.header.msg_type === "stream" && String(m.content.text).includes("KernelExitRequest"))).toBe(false);
    await own.close().catch(() => undefined);
  }, 120_000);
});
