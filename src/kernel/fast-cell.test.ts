/**
 * The check-free subset: which cells qualify, and that for each of them tslab's real converter finds no type
 * error and its JavaScript leaves the same exports and result as ours.
 */
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { CellCompiler } from "./cell-compiler";
import { compileFastCell } from "./fast-cell";

const ACCEPTED = [
  "1 + 1",
  "let q = 1; q * 2",
  "const a = 2, b = a * 3\nb - a",
  'const label = "run " + 3; label',
  "let s = `abc` + true",
  "const x = -1.5e3 % 7 / (2 + 3)\nlet y = x\n+ 1\ny",
  "// a comment\nlet z = 4 /* inline */ * 2;",
  "0.25 + .5",
  "const n = 1;",
  "let c = 'it' + \"s\"\nc + 1",
];

const REJECTED = [
  "q * 2", // a name from an earlier cell: its type is the checker's business
  "let q = q + 1",
  "let a = 1; let a = 2",
  "let a = 1\n(a)", // a call across the line break
  "let s = 'a' - 1",
  "let b = true + 1",
  "-'a'",
  '"use strict"\n1',
  "1 + 1;;",
  "let x",
  "x = 1",
  "Math.max(1, 2)",
  "let a = 1; a += 1",
  "1 === 1",
  "2 ** 3",
  "let __x = 1",
  "let exports = 1",
  "let tsLastExpr = 1",
  "const enum E {}",
  "/** @module m */ 1",
  "010",
  "1n",
  "12345678901234567890",
  "`a${1}`",
  "'a\\n'",
  "let a = 1 let b = 2",
  "",
  "// only a comment",
  "let é = 1",
];

describe("compileFastCell", () => {
  it.each(ACCEPTED)("takes %j", (src) => {
    expect(compileFastCell(src)).toBeDefined();
  });

  it.each(REJECTED)("leaves %j to the checker", (src) => {
    expect(compileFastCell(src)).toBeUndefined();
  });

  it("exports declared names and the last expression as tslab does", () => {
    expect(compileFastCell("let q = 1; q * 2")).toEqual({
      output: "exports.tsLastExpr = exports.q = void 0;\nlet q = 1;\nexports.q = q;\nexports.tsLastExpr = q * 2;\n",
      declOutput: "",
      diagnostics: [],
      hasToplevelAwait: false,
      lastExpressionVar: "tsLastExpr",
      declarations: [{ name: "q", declaration: "declare let q: number;" }],
    });
    expect(compileFastCell("const n = 1;")?.lastExpressionVar).toBeUndefined();
    expect(compileFastCell("const a = -1.5e3, s = 'x', t = true; const b = (a); let l = a; const e = a * 2")?.declarations).toEqual([
      { name: "a", declaration: "declare const a = -1500;" },
      { name: "s", declaration: 'declare const s = "x";' },
      { name: "t", declaration: "declare const t = true;" },
      { name: "b", declaration: "declare const b = -1500;" },
      { name: "l", declaration: "declare let l: number;" },
      { name: "e", declaration: "declare const e: number;" },
    ]);
  });
});

describe("compileFastCell against tslab's converter", () => {
  const compiler = new CellCompiler(process.cwd());
  afterAll(() => compiler.close());

  const run = (js: string) => {
    const exports: Record<string, unknown> = {};
    runInNewContext(`(function (exports) {\n${js}\n})`)(exports);
    return exports;
  };

  it.each(ACCEPTED)("%j: no type error, same exports and result", (src) => {
    const fast = compileFastCell(src)!;
    const checked = compiler.convert(src, []);
    expect(checked.kind).toBe("cell");
    if (checked.kind !== "cell") return;
    expect(checked.converted.diagnostics).toEqual([]);
    expect(fast.lastExpressionVar).toBe(checked.converted.lastExpressionVar);
    expect(run(fast.output)).toEqual(run(checked.converted.output!));
    // The declarations are those of TypeScript's declaration emit (one statement per name).
    const emitted = checked.converted.declOutput!.trim().split("\n").filter(Boolean);
    const ours = fast.declarations.map((d) => d.declaration);
    if (emitted.some((line) => line.includes(","))) expect(ours).toEqual(["declare const a = 2;", "declare const b: number;"]);
    else expect(ours).toEqual(emitted);
  }, 120_000);
});
