import { describe, expect, it } from "vitest";
import { expandCommand, expandSerialSpecification, findPlaceholders, ParameterExpansionError, pythonStr } from "./parameters";

describe("REANA parameter expansion (Python string.Template rules)", () => {
  const params = { input: "data/events.root", n: 1000, flag: true, ratio: 0.5, empty: "" };

  it("replaces $name and ${name}", () => {
    expect(expandCommand("analyse --in $input --n ${n}", params)).toBe("analyse --in data/events.root --n 1000");
    expect(expandCommand("${input}x", params)).toBe("data/events.rootx");
  });

  it("takes the longest identifier after $", () => {
    expect(() => expandCommand("echo $inputs", params)).toThrow(/'inputs'/);
    expect(expandCommand("echo $input.bak", params)).toBe("echo data/events.root.bak");
  });

  it("turns $$ into a literal $", () => {
    expect(expandCommand("echo $$HOME and $$$n", params)).toBe("echo $HOME and $1000");
  });

  it("writes values as Python's str() would", () => {
    expect(expandCommand("--flag=$flag --ratio=$ratio --empty='$empty'", params)).toBe("--flag=True --ratio=0.5 --empty=''");
    expect(pythonStr(null)).toBe("None");
    expect(pythonStr(false)).toBe("False");
    expect(pythonStr(["a", 1, true, null])).toBe("['a', 1, True, None]");
    expect(pythonStr({ k: "it's" })).toBe(`{'k': "it's"}`);
  });

  it("fails on an unknown name like REANA does, naming every missing parameter", () => {
    try {
      expandCommand("cd $HOME && run ${missing} $input", params);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ParameterExpansionError);
      const err = e as ParameterExpansionError;
      expect(err.message).toMatch(/^Workflow parameter\(s\) could not be expanded/);
      expect(err.missing).toEqual(["HOME", "missing"]);
      expect(err.message).toContain("$$HOME");
    }
  });

  it("lookups are case-sensitive", () => {
    expect(() => expandCommand("$Input", params)).toThrow(/'Input'/);
  });

  it("rejects invalid placeholders with their position", () => {
    for (const bad of ["price: 5 $", "echo $1", "echo ${not closed", "a\nb $ c"]) {
      expect(() => expandCommand(bad, params)).toThrow(ParameterExpansionError);
    }
    try {
      expandCommand("ok\nnext $ here", params);
    } catch (e) {
      expect((e as ParameterExpansionError).invalidAt).toEqual({ line: 2, column: 6 });
    }
  });

  it("lists placeholders, skipping escapes", () => {
    expect(findPlaceholders("$a ${b} $$c $_d9").map((p) => [p.name, p.braced])).toEqual([
      ["a", false],
      ["b", true],
      ["_d9", false],
    ]);
  });

  it("expands a serial specification without touching the original", () => {
    const spec = { steps: [{ name: "s", environment: "img", commands: ["run $n", "echo $$USER"] }] };
    const out = expandSerialSpecification(spec, params);
    expect(out.steps[0].commands).toEqual(["run 1000", "echo $USER"]);
    expect(spec.steps[0].commands[0]).toBe("run $n");
  });
});
