/**
 * The type checker's worker can die (out of memory, a crash inside the compiler). Its replacement must know every
 * earlier cell's declarations, and the cell in flight must fail with an error that says what happened.
 * Needs the compiled package (`npm run build`): the worker runs dist/kernel/type-check-worker.js.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import type { CompiledCell } from "./cell-compiler";
import type { TypeChecker as Checker } from "./type-check-worker";

const DIST = resolve(__dirname, "..", "..", "dist", "kernel", "type-check-worker.js");

describe("a type checker that dies", () => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` before the kernel tests`);
  const { TypeChecker } = require(DIST) as { TypeChecker: typeof Checker };
  const logs: string[] = [];
  const checker = new TypeChecker(process.cwd(), (text) => logs.push(text));
  const kill = () => (checker as unknown as { worker: Worker }).worker.terminate();
  const messages = (r: CompiledCell) => (r.kind === "cell" ? r.converted.diagnostics : r.kind === "module" ? r.diagnostics : []).map((d) => d.messageText);
  afterAll(() => checker.close());

  it("is replaced by one that replays the earlier cells, and the cell being checked says it must run again", async () => {
    expect(messages(await checker.convert("interface P { a: number }", []))).toEqual([]);
    checker.commit();
    checker.takeFastCell("let q = 1", [{ name: "q", declaration: "declare let q: number;" }]);
    expect(messages(await checker.convert("/** @module geo */\nexport const r = 2", []))).toEqual([]);
    expect(messages(await checker.convert("const v: P = { a: q }", []))).toEqual([]);
    checker.commit();
    expect(messages(await checker.convert('const rejected: string = 1', []))).toHaveLength(1); // not committed, not replayed
    expect(checker.journalLength).toBe(6);

    // Several cells queued, so the last is surely still waiting when the worker goes.
    const queued = [1, 2, 3, 4].map((i) => checker.convert(`const w${i}: P = { a: ${i} }`, []));
    for (const p of queued) p.catch(() => undefined);
    await kill();
    await expect(queued[3]).rejects.toThrow(/The type checker stopped .* Run the cell again\./);

    const after = await checker.convert('import { r } from "./geo"\nconst w: P = { a: q + v.a + r }\nw.a', []);
    expect(messages(after)).toEqual([]);
    expect(messages(await checker.convert("const bad: string = v.a", []))).toEqual(["Type 'number' is not assignable to type 'string'."]);
    expect(logs.some((l) => /type-check worker stopped .*; replaying 6 earlier calls on a new worker/.test(l))).toBe(true);
  }, 120_000);
});
