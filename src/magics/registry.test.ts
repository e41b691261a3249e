import { beforeEach, describe, expect, it } from "vitest";
import { closestName, editDistance, getMagic, magicHelp, magicRegistry, registerMagic, resolveMagic, unknownMagicError } from "./registry";
import { UsageError, type MagicSpec } from "./types";

const spec = (name: string, kind: MagicSpec["kind"] = "line"): MagicSpec => ({
  name,
  kind,
  summary: `${name} summary`,
  usage: `%${name} ARGS`,
  examples: [`%${name} x`],
  run: () => name,
});

beforeEach(() => magicRegistry().clear());

describe("closest-name suggestion", () => {
  it("computes edit distance with transpositions", () => {
    expect(editDistance("rucio", "rucio")).toBe(0);
    expect(editDistance("ruico", "rucio")).toBe(1);
    expect(editDistance("ls", "lsmagic")).toBe(5);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("suggests the nearest plausible name", () => {
    const names = ["rucio", "reana", "zenodo", "lsmagic", "time", "env"];
    expect(closestName("rucoi", names)).toBe("rucio");
    expect(closestName("reanna", names)).toBe("reana");
    expect(closestName("lsmgic", names)).toBe("lsmagic");
    expect(closestName("zen", names)).toBe("zenodo"); // prefix
    expect(closestName("xyzzyplugh", names)).toBeUndefined();
  });

  it("names the closest magic in the UsageError", () => {
    registerMagic(spec("rucio"));
    registerMagic(spec("bash", "cell"));
    const e = unknownMagicError("rucoi", false);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.name).toBe("UsageError");
    expect(e.message).toContain("Did you mean %rucio?");
    expect(unknownMagicError("bsh", true).message).toContain("%%bash");
    // a runaway name is echoed clipped, not whole
    const long = unknownMagicError("z".repeat(5_000), false).message;
    expect(long.length).toBeLessThan(400);
    expect(long).toContain("… (4800 more characters)");
    expect(unknownMagicError("qqqqqqqq", false).message).not.toContain("Did you mean");
  });
});

describe("registry", () => {
  it("registers, replaces and validates", () => {
    registerMagic(spec("demo"));
    expect(getMagic("demo")?.summary).toBe("demo summary");
    registerMagic({ ...spec("demo"), summary: "new" });
    expect(getMagic("demo")?.summary).toBe("new");
    expect(() => registerMagic(spec("1bad"))).toThrow(/invalid magic name/);
    expect(() => registerMagic({ ...spec("x"), kind: "weird" as never })).toThrow(/kind/);
  });

  it("is shared through globalThis so every package copy sees it", () => {
    registerMagic(spec("shared"));
    const table = (globalThis as Record<symbol, Map<string, MagicSpec>>)[Symbol.for("vre-ts.magics")];
    expect(table.get("shared")).toBeDefined();
  });

  it("explains line/cell mix-ups", () => {
    registerMagic(spec("l", "line"));
    registerMagic(spec("c", "cell"));
    registerMagic(spec("b", "both"));
    expect(() => resolveMagic("l", true)).toThrow(/line magic/);
    expect(() => resolveMagic("c", false)).toThrow(/cell magic/);
    expect(resolveMagic("b", true).name).toBe("b");
    expect(resolveMagic("b", false).name).toBe("b");
  });

  it("renders help with usage and examples", () => {
    registerMagic(spec("demo"));
    const h = magicHelp("demo");
    expect(h["text/plain"]).toContain("%demo — demo summary");
    expect(h["text/plain"]).toContain("%demo ARGS");
    expect(h["text/plain"]).toContain("Examples:");
    expect(h["text/markdown"]).toContain("**`%demo`**");
    expect(h["text/plain"]).toMatch(/`\/\/` at the start or after a space begins a comment/);
  });
});
