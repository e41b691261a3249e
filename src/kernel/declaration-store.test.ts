/**
 * Earlier cells' declarations, given to each cell by the names it reaches. The store's choice must never change
 * what the checker says: the same cells checked against tslab's own full `prevDecl` give the same diagnostics
 * (messages and positions) and the same JavaScript.
 */
import { dirname } from "node:path";
import type * as TS from "typescript";
import { describe, expect, it } from "vitest";
import { CellCompiler, type TslabConversion } from "./cell-compiler";
import { DeclarationStore } from "./declaration-store";
import { checkCell } from "./testing/compile";
import { typescript } from "./tslab-adapter";

const ts = () => typescript() as unknown as typeof TS;

describe("DeclarationStore", () => {
  it("gives a source the statements it names, closed over the names those mention", () => {
    const store = new DeclarationStore(ts());
    store.add(
      [
        "interface A { x: number }",
        "interface B extends A { y: string }",
        "declare function make(): B;",
        "declare const unrelated: number;",
        "declare const other: string, pair: number;",
      ].join("\n"),
    );
    const { ids, names } = store.select(["make"]);
    expect(store.text(ids)).toBe("interface A { x: number }\ninterface B extends A { y: string }\ndeclare function make(): B;");
    expect(names.has("A") && names.has("B")).toBe(true);
    expect(store.text(store.select(["pair"]).ids)).toBe("declare const other: string, pair: number;");
    expect(store.select(["nothing", "here"]).ids).toEqual([]);
  });

  it("keeps every overload and merged declaration of a name, and unnamed statements for every source", () => {
    const store = new DeclarationStore(ts());
    store.add(
      [
        "declare function over(a: string): string;",
        "declare function over(a: number): number;",
        "declare namespace over { const tag: string; }",
        // tslab refuses a global augmentation in a cell (its export list names `__global`); both sides must agree.
  "declare global { interface Extra { z: number } }",
        'import { readFileSync } from "fs";',
      ].join("\n"),
    );
    expect(store.select(["over"]).ids).toHaveLength(4); // three of `over` and the global block
    expect(store.text(store.select([]).ids)).toBe("declare global { interface Extra { z: number } }");
    expect(store.imports("readFileSync")).toBe(true);
    expect(store.imports("over")).toBe(false);
  });

  it("replaces the statements a cell was given with the converter's answer, leaving the others", () => {
    const store = new DeclarationStore(ts());
    store.add("declare let x: number;\ndeclare let y: string;");
    const given = store.select(["x"]).ids;
    store.replace(given, "declare let x: string;");
    expect(store.text(store.all())).toBe("declare let y: string;\ndeclare let x: string;");
    expect(store.size).toBe(2);
    store.replace(store.select(["x"]).ids, "");
    expect(store.text(store.all())).toBe("declare let y: string;");
    expect(store.select(["x"]).ids).toEqual([]);
  });
});

/** A notebook's cells in order: declarations, uses, redeclarations, type errors. */
const CELLS = [
  "interface P { a: number; b: string }",
  "function f(p: P): number { return p.a * 2 }",
  'const v: P = { a: 1, b: "x" }',
  "f(v) + 1",
  'f({ a: "x", b: "y" })',
  "type Id = string; let ids: Id[] = []",
  "class Shape { constructor(public sides: number) {} area(): number { return 0 } }",
  "class Square extends Shape { constructor(public side: number) { super(4) } area() { return this.side ** 2 } }",
  "new Square(3).area()",
  "enum Color { Red, Green }",
  "let c: Color = Color.Green; c",
  "namespace NS { export const k = 5 }",
  "NS.k + 1",
  "function over(a: string): string; function over(a: number): number; function over(a: any) { return a }",
  'over(1) + over("x").length',
  "over(true)",
  'import { readFileSync } from "fs"',
  "typeof readFileSync",
  "let P = 5",
  'const q: P = { a: P, b: "z" }',
  "interface P { a: number; b: string; c?: boolean }",
  'const w: P = { a: 1, b: "", c: true }; w',
  "let ids: number = 3",
  "ids.toFixed(1)",
  "ids.push('x')",
  "const s2 = new Square(2); s2.side",
  "function g<T extends P>(x: T): T { return x }",
  "g(w).c",
  "const { a: da, b: db } = v; da + db.length",
  "let missing: Undeclared = 1",
  "const fnv = (x: P) => x.a; fnv(w)",
  "const sq: Square = new Shape(4)",
  "type Pair = [Id, Color]; const pair: Pair = ['k', Color.Red]; pair",
  "const bad: Pair = [1, 2]",
  "let total = ids + NS.k + c; total",
  // tslab refuses a global augmentation in a cell (its export list names `__global`); both sides must agree.
  "declare global { interface Extra { z: number } }",
  "let ex: Extra = { z: 1 }; ex.z + total",
  "let ex2: Extra = { z: 'one' }",
];

describe("cells checked against the declarations they reach", () => {
  it("give the same diagnostics and JavaScript as tslab's converter with every earlier declaration", () => {
    const compiler = new CellCompiler(process.cwd());
    const tslabDir = dirname(require.resolve("tslab/package.json"));
    const { createConverter } = require(require.resolve("tslab/dist/converter", { paths: [tslabDir] })) as {
      createConverter(o: { isJS: boolean; isBrowser: boolean }): { convert(prev: string, src: string): TslabConversion; close(): void };
    };
    compiler.warmUp();
    const reference = createConverter({ isJS: false, isBrowser: false });
    let prevDecl = "";
    let failures = 0;
    try {
      for (const cell of CELLS) {
        const ours = compiler.convert(cell, []);
        if (ours.kind !== "cell") throw new Error(`not a cell: ${cell}`);
        const theirs = reference.convert(prevDecl, cell);
        const shape = (c: TslabConversion) => ({
          diagnostics: c.diagnostics.map((d) => `${d.start.line}:${d.start.character}-${d.end.line}:${d.end.character} ${d.messageText}`),
          output: c.output,
          lastExpressionVar: c.lastExpressionVar,
          hasToplevelAwait: c.hasToplevelAwait,
        });
        expect(shape(ours.converted), cell).toEqual(shape(theirs));
        if (theirs.diagnostics.length === 0) {
          prevDecl = theirs.declOutput ?? "";
          compiler.commit();
        } else {
          failures++;
        }
      }
    } finally {
      reference.close();
      compiler.close();
    }
    expect(failures).toBe(10); // the corpus's deliberate type errors were all reported
  }, 120_000);

  it("convert a fast-path cell for real when it redeclares an earlier import's name", () => {
    const compiler = new CellCompiler(process.cwd());
    const messages = (src: string) => checkCell(compiler, src);
    try {
      expect(messages('import { readFileSync } from "fs"')).toEqual([]);
      expect(compiler.takeFastCell("let readFileSync = 1", [{ name: "readFileSync", declaration: "declare let readFileSync: number;" }])).toEqual([]);
      expect(messages("const n: number = readFileSync; n")).toEqual([]);
      expect(messages('readFileSync("x")')[0]).toMatch(/This expression is not callable/);
    } finally {
      compiler.close();
    }
  }, 120_000);

  it("give a cell only what it reaches, however many cells came before", () => {
    const compiler = new CellCompiler(process.cwd());
    try {
      for (let i = 0; i < 150; i++) {
        const cell = `interface P${i} { a: number }\nfunction f${i}(p: P${i}): number { return p.a }\nconst v${i}: P${i} = { a: ${i} }`;
        const r = compiler.convert(cell, []);
        expect(r.kind === "cell" && r.converted.diagnostics).toEqual([]);
        compiler.commit();
      }
      expect(compiler.declarationsFor("all").given).toHaveLength(450);
      const given = compiler.declarationsFor("f7(v7) + 1");
      expect(given.text).toMatch(/interface P7 \{/);
      expect(given.text).toMatch(/declare function f7\(p: P7\): number;/);
      expect(given.text).toMatch(/declare const v7: P7;/);
      expect(given.given).toHaveLength(3);
      // Completion: a member from the declarations the cell reaches, a bare name from all of them.
      expect(compiler.complete("v7.", 3).candidates).toEqual(["a"]);
      expect(compiler.complete("const t = f7(v7); t.toFi", 24).candidates).toContain("toFixed");
      expect(compiler.complete("f14", 3).candidates).toEqual(expect.arrayContaining(["f14", "f140", "f149"]));
      const r = compiler.convert('f7({ a: "no" })', []);
      expect(r.kind === "cell" && r.converted.diagnostics.map((d) => d.messageText)).toEqual(["Type 'string' is not assignable to type 'number'."]);
    } finally {
      compiler.close();
    }
  }, 120_000);
});
