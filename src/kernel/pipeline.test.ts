/**
 * The cell pipeline through the real kernel process over ZeroMQ: the type checker on its own thread, cells that
 * need no checker running at once. Type errors must still stop a cell before it runs, with tslab's messages and
 * positions, and every earlier declaration (fast-path cells included) must still type-check later cells.
 * Needs the compiled package (`npm run build`).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestKernelClient } from "./testing/client";
import type { WireMessage } from "./wire";

const MAIN = resolve(__dirname, "..", "..", "dist", "cli", "main.js");

const result = (outputs: WireMessage[]) => outputs.find((m) => m.header.msg_type === "execute_result")?.content.data;
const stdout = (outputs: WireMessage[]) =>
  outputs.filter((m) => m.header.msg_type === "stream" && m.content.name === "stdout").map((m) => m.content.text).join("");

describe("cell pipeline at start-up", () => {
  let k: TestKernelClient;
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` before the kernel tests`);
  });
  afterAll(async () => {
    await k?.close();
  });

  it("answers while the checker builds the program, stops a typed cell with a type error, runs the next", async () => {
    k = await TestKernelClient.start({ main: MAIN });
    // First cell right away: the TypeScript program is still being built on the checker's thread.
    const failing = await k.send("shell", k.message("execute_request", { code: 'console.log("ran")\nconst n: number = "x"', silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false }));
    const info = await k.request("shell", "kernel_info_request", {});
    expect(info.content.status).toBe("ok");
    // The event loop was free: kernel_info was answered before the cell, which waits for the checker, replied.
    expect(k.iopubLog.some((m) => m.header.msg_type === "error" && (m.parent_header as { msg_id?: string }).msg_id === failing)).toBe(false);
    const reply = await k.reply(failing, 120_000);
    await k.idle(failing);
    expect(reply.content).toMatchObject({ status: "error", ename: "CompileError", evalue: "2:7 - Type 'string' is not assignable to type 'number'." });
    expect(stdout(k.children(failing))).toBe(""); // stopped before it ran

    const ok = await k.execute("const t: number = 2; t * 21", {}, 120_000);
    expect(result(ok.outputs)).toEqual({ "text/plain": "42" });
  }, 240_000);

  it("answers a trivial first cell without waiting for the checker", async () => {
    const fresh = await TestKernelClient.start({ main: MAIN });
    try {
      const typed = await fresh.send("shell", fresh.message("execute_request", { code: "const u: string = 'typed'; u", silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false }));
      const trivial = await fresh.send("shell", fresh.message("execute_request", { code: "1 + 1", silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false }));
      await fresh.reply(typed, 120_000);
      await fresh.idle(trivial, 120_000);
      expect(result(fresh.children(typed))).toEqual({ "text/plain": "'typed'" });
      expect(result(fresh.children(trivial))).toEqual({ "text/plain": "2" });
    } finally {
      await fresh.close();
    }
  }, 240_000);
});

describe("cell pipeline: declarations and errors across cells", () => {
  let k: TestKernelClient;
  beforeAll(async () => {
    k = await TestKernelClient.start({ main: MAIN });
    await k.execute("0", {}, 120_000);
  }, 240_000);
  afterAll(async () => {
    await k?.close();
  });

  it("gives later cells the declarations of fast-path cells, with their types", async () => {
    expect(result((await k.execute("let q = 1; q * 2")).outputs)).toEqual({ "text/plain": "2" });
    const wrong = await k.execute("const s: string = q");
    expect(wrong.reply.content).toMatchObject({ ename: "CompileError", evalue: "1:7 - Type 'number' is not assignable to type 'string'." });
    expect(result((await k.execute("q + 1")).outputs)).toEqual({ "text/plain": "2" });
    // A const keeps its literal type, as the converter gives it.
    await k.execute("const c = 3");
    const literal = await k.execute("const d: 4 = c");
    expect(literal.reply.content.evalue).toBe("1:7 - Type '3' is not assignable to type '4'.");
    // A let takes the widened type, even from a const with a literal type.
    await k.execute("let wide = c");
    expect(result((await k.execute("wide = 5; wide")).outputs)).toEqual({ "text/plain": "5" });
    // Redeclaring in a fast-path cell replaces the earlier type.
    await k.execute('let q = "now a string"');
    expect((await k.execute("const n: number = q")).reply.content.evalue).toBe("1:7 - Type 'string' is not assignable to type 'number'.");
  }, 120_000);

  it("type-checks against earlier typed cells and keeps tslab's positions, also after a source rewrite", async () => {
    expect((await k.execute("interface P { a: number }\nfunction f(p: P): number { return p.a * 2 }")).reply.content.status).toBe("ok");
    expect(result((await k.execute("f({ a: 21 })")).outputs)).toEqual({ "text/plain": "42" });
    const bad = await k.execute('f({ a: "x" })');
    expect(bad.reply.content).toMatchObject({ ename: "CompileError", evalue: "1:5 - Type 'string' is not assignable to type 'number'." });
    // `{ q }` is rewritten to `{ q: q }` before checking; the column still points into the user's text.
    const after = await k.execute("let o = { q }; const bad: number = o.q");
    expect(after.reply.content.evalue).toBe("1:22 - Type 'string' is not assignable to type 'number'.");
  }, 120_000);

  it("completes and inspects with the checker's view of earlier cells", async () => {
    await k.execute("const total: number = 12.5");
    const c = await k.request("shell", "complete_request", { code: "total.toFix", cursor_pos: 11 });
    expect(c.content.matches).toContain("toFixed");
    const i = await k.request("shell", "inspect_request", { code: "total", cursor_pos: 2, detail_level: 0 });
    expect((i.content.data as Record<string, string>)["text/plain"]).toBe("const total: number");
  }, 120_000);
});
