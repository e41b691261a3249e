import { describe, expect, it } from "vitest";
import { checkCompleteness } from "./tslab-adapter";

const status = (src: string) => checkCompleteness(src).status;

describe("is_complete", () => {
  it("is incomplete inside an unterminated template literal or block comment, even after blank lines", () => {
    expect(status("const s = `abc")).toBe("incomplete");
    expect(status("const s = `abc\n\n")).toBe("incomplete");
    expect(status("const s = `a ${x} b")).toBe("incomplete");
    expect(status("/* a note")).toBe("incomplete");
  });

  it("is invalid when an error comes before the end, even if the end asks for more", () => {
    expect(status(")(")).toBe("invalid");
    expect(status(") {")).toBe("invalid");
    expect(status("f(a b")).toBe("invalid");
    expect(status("}")).toBe("invalid");
    expect(status("const = 5")).toBe("invalid");
    expect(status("const s = 'abc")).toBe("invalid"); // a quoted string cannot span lines
  });

  it("keeps the usual answers", () => {
    expect(checkCompleteness("function f() {")).toEqual({ status: "incomplete", indent: "  " });
    expect(status("const xs = [1,")).toBe("incomplete");
    expect(status("if (x) {\n  foo(")).toBe("incomplete");
    expect(status("1 + 1")).toBe("complete");
    expect(status("const s = `a\nb`")).toBe("complete");
    expect(status("function f() {\n\n")).toBe("invalid"); // a blank line ends the input in a console
  });
});
