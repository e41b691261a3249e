import { afterAll, describe, expect, it } from "vitest";
import { ASYNC_MARKER, findCellFixes, rewriteCell } from "./cell-rewrite";
import { TsSession } from "./tslab-adapter";

const earlier = (names: string[]) => (n: string) => names.includes(n);

describe("cell rewrite (source level)", () => {
  it("expands shorthand properties of earlier cells' names only, keeping the rest of the text", () => {
    const r = rewriteCell("const o = { min_pt, local, n: 1 };", earlier(["min_pt"]));
    expect(r.code).toBe("const o = { min_pt: min_pt, local, n: 1 };");
    expect(rewriteCell("({ a = 1 } = obj)", earlier(["a"])).code).toBe("({ a: a = 1 } = obj)");
    expect(rewriteCell("const { min_pt } = cfg", earlier(["min_pt"])).code).toBe("const { min_pt } = cfg"); // a binding, not a shorthand
    expect(rewriteCell("f({\n  min_pt, // cut\n  /* c */ n\n})", earlier(["min_pt", "n"])).code).toBe("f({\n  min_pt: min_pt, // cut\n  /* c */ n: n\n})");
    expect(findCellFixes("if (ok) { min_pt }", earlier(["min_pt"])).shorthandEnds).toEqual([]); // a block
  });

  it("marks cells async whose top-level await tslab misses: `await (expr)` and `for await`", () => {
    expect(rewriteCell("const v = await (p); v", earlier([])).code).toBe(ASYNC_MARKER + "const v = await (p); v");
    expect(rewriteCell("if (ok) {\n  for await (const x of xs) {}\n}", earlier([])).code).toMatch(/^await undefined; if/);
    // after leading comments, so tslab's `/** @module x */`-style cell metadata stays first
    expect(rewriteCell("// note\nfor await (const x of xs) f(x)", earlier([])).code).toBe("// note\n" + ASYNC_MARKER + "for await (const x of xs) f(x)");
  });

  it("leaves awaits inside functions, strings and comments alone", () => {
    for (const src of [
      "async function f() { for await (const x of xs) {} }",
      "const f = async () => await (p)",
      "class A { async m() { await (p) } }",
      'const s = "await (x)" // for await (const x of xs)',
      "1 + 1",
    ]) {
      expect(findCellFixes(src, earlier([])).markAsync, src).toBe(false);
      expect(rewriteCell(src, earlier([])).code).toBe(src);
    }
  });

  it("maps positions after the edits back to the cell", () => {
    const src = "const o = { min_pt }; const n: string = 5";
    const r = rewriteCell(src, earlier(["min_pt"]));
    const at = r.code.indexOf("n: string");
    expect(r.map.toOriginal(at)).toBe(src.indexOf("n: string"));
  });
});

describe("cells through tslab", () => {
  const ts = new TsSession(process.cwd());
  afterAll(() => ts.close());

  it("reads a shorthand property of an earlier cell's variable", async () => {
    expect((await ts.execute("let min_pt = 2.0;")).ok).toBe(true);
    const r = await ts.execute("({ min_pt })");
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ ok: true, hasValue: true, value: { min_pt: 2 } });
    const assigned = await ts.execute("({ min_pt } = { min_pt: 3 }); min_pt");
    expect(assigned).toMatchObject({ ok: true, value: 3 });
  }, 60_000);

  it("runs `await (expr)` at top level, typed", async () => {
    const r = await ts.execute("const v = await (Promise.resolve(1)); v");
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ ok: true, value: 1 });
    expect((await ts.execute("const w: string = v")).diagnostics[0]?.message).toMatch(/'number' is not assignable to type 'string'/);
    expect(await ts.execute("await (async () => 7)()")).toMatchObject({ ok: true, value: 7 });
  }, 60_000);

  it("gives null as a value and undefined as none", async () => {
    expect(await ts.execute("null")).toMatchObject({ ok: true, hasValue: true, value: null });
    expect(await ts.execute("undefined")).toMatchObject({ ok: true, hasValue: false });
    expect(await ts.execute("const nothing = null; nothing")).toMatchObject({ ok: true, hasValue: true, value: null });
  }, 60_000);

  it("reports compile errors at the user's columns after a rewrite", async () => {
    const r = await ts.execute("const z = { min_pt }; const n: string = 5");
    expect(r.diagnostics).toMatchObject([{ line: 1, column: 29 }]);
    const f = await ts.execute("for await (const x of [1]) x; const m: string = 1");
    expect(f.diagnostics).toMatchObject([{ line: 1, column: 37 }]);
  }, 60_000);
});
