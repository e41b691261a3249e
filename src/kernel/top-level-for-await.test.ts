import { describe, expect, it } from "vitest";
import { ASYNC_MARKER, hasTopLevelForAwait, markTopLevelForAwait } from "./top-level-for-await";

describe("top-level for await", () => {
  it("marks cells whose loop is at top level, also inside top-level blocks", () => {
    expect(hasTopLevelForAwait("for await (const x of xs) console.log(x)")).toBe(true);
    expect(hasTopLevelForAwait("if (ok) {\n  for await (const x of xs) {}\n}")).toBe(true);
    expect(markTopLevelForAwait("for await (const x of xs) f(x)\nx")).toBe(ASYNC_MARKER + "for await (const x of xs) f(x)\nx");
  });

  it("leaves loops inside functions, strings and comments alone", () => {
    expect(hasTopLevelForAwait("async function f() { for await (const x of xs) {} }")).toBe(false);
    expect(hasTopLevelForAwait("const f = async () => { for await (const x of xs) {} }")).toBe(false);
    expect(hasTopLevelForAwait("class A { async m() { for await (const x of xs) {} } }")).toBe(false);
    expect(hasTopLevelForAwait('const s = "for await (x of y)" // for await (const x of xs)')).toBe(false);
    expect(markTopLevelForAwait("1 + 1")).toBe("1 + 1");
  });
});
