import { describe, expect, it } from "vitest";
import { lineColumnOf, lineStarts, mapDiagnostics, PositionMap, RewriteBuilder, splitLines } from "./position-map";

describe("position map", () => {
  it("counts lines as TypeScript does: CRLF, LF, CR, U+2028 and U+2029", () => {
    const text = "a\r\nb\nc\rd\u2028e\u2029f";
    expect(lineStarts(text)).toEqual([0, 3, 5, 7, 9, 11]);
    expect(splitLines(text)).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(lineColumnOf(lineStarts(text), 10)).toEqual({ line: 5, column: 2 });
  });

  it("maps verbatim copies one to one and generated text to the span it stands for", () => {
    const original = "ab%magic {x.y} cd";
    const { text, map } = new RewriteBuilder(original)
      .keep(0, 2)
      .emit("CALL(`", 2)
      .emit("${", 10)
      .keep(10, 13)
      .emit("}", 13)
      .emit("`)", 2)
      .keep(14, 17)
      .build();
    expect(text).toBe("abCALL(`${x.y}`) cd");
    expect(map.toOriginal(1)).toBe(1);
    expect(map.toOriginal(4)).toBe(2); // inside CALL(`
    expect(map.toOriginal(text.indexOf("x.y") + 2)).toBe(12); // the `y`
    expect(map.toOriginal(text.indexOf(" cd") + 1)).toBe(15);
    expect(map.toOriginal(text.length)).toBe(original.length);
    expect(PositionMap.identity(5).toOriginal(3)).toBe(3);
  });

  it("takes cell diagnostics back to the original lines and columns, other files untouched", () => {
    const original = "let a = 1\n%m {a.b}\nx";
    const b = new RewriteBuilder(original).keep(0, 10).emit("await f(`${", 10).keep(14, 17).emit("}`);", 17).keep(18, original.length);
    const { text, map } = b.build();
    expect(text).toBe("let a = 1\nawait f(`${a.b}`);\nx");
    const diags = mapDiagnostics(
      [
        { line: 2, column: 14, message: "no b" },
        { line: 3, column: 1, message: "x" },
        { line: 2, column: 14, message: "elsewhere", file: "lib.ts" },
      ],
      { code: text, map },
      original,
    );
    expect(diags).toEqual([
      { line: 2, column: 7, message: "no b" }, // the `b` of `%m {a.b}`
      { line: 3, column: 1, message: "x" },
      { line: 2, column: 14, message: "elsewhere", file: "lib.ts" },
    ]);
  });
});
