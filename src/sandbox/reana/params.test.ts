import { describe, expect, it } from "vitest";
import { ParameterExpansionError, pythonStr, substitute } from "./params";

describe("REANA parameter expansion (Python string.Template.substitute)", () => {
  it("expands $name and ${name}, and turns $$ into a literal $", () => {
    expect(substitute("python ${script} --n $n --cost $$5", { script: "fit.py", n: 3 })).toBe("python fit.py --n 3 --cost $5");
    expect(substitute("${a}b $a_b", { a: "x", a_b: "y" })).toBe("xb y");
    expect(substitute("echo $$HOME", {})).toBe("echo $HOME");
  });

  it("prints values the way Python's str() does", () => {
    expect(substitute("$t $f $i $x $none", { t: true, f: false, i: 2, x: 2.5, none: null })).toBe("True False 2 2.5 None");
    expect(pythonStr("text")).toBe("text");
  });

  it("fails on unknown names, e.g. an unescaped shell variable", () => {
    expect(() => substitute("echo $HOME/${out}", { out: "o" })).toThrowError(ParameterExpansionError);
    try {
      substitute("echo $HOME", {});
    } catch (err) {
      expect((err as ParameterExpansionError).message).toContain("Workflow parameter(s) could not be expanded");
      expect((err as ParameterExpansionError).missing).toEqual(["HOME"]);
    }
  });

  it("fails on invalid placeholders like Python (a $ not followed by a name, { or $)", () => {
    expect(() => substitute("awk '{print $1}'", {})).toThrowError(/invalid placeholder/);
    expect(() => substitute("trailing $", {})).toThrowError(/invalid placeholder/);
    expect(substitute("awk '{print $$1}'", {})).toBe("awk '{print $1}'");
  });
});
