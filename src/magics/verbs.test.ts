/** Every verb of every domain magic: its examples parse, its help renders, bad input gets a usage error. */
import { describe, expect, it } from "vitest";
import { parseVerb, tokenize, verbHelp, type VerbSpec } from "./args";
import { rucioVerbs } from "./rucio";
import { reanaVerbs } from "./reana";
import { zenodoVerbs } from "./zenodo";
import { vreVerbs } from "./vre";
import { UsageError } from "./types";

const tables: Array<[string, VerbSpec[]]> = [
  ["rucio", rucioVerbs],
  ["reana", reanaVerbs],
  ["zenodo", zenodoVerbs],
  ["vre", vreVerbs],
];

/** The argument words of an example line such as `const x = %rucio download a:b --dir d` (first line only). */
function exampleArgs(magic: string, example: string): { verb: string; words: string[]; cell: boolean } {
  const first = example.split("\n")[0];
  const m = new RegExp(`(%%?)${magic}\\s+(.*)$`).exec(first);
  if (!m) throw new Error(`example does not call %${magic}: ${example}`);
  const words = tokenize(m[2]);
  return { verb: words[0], words: words.slice(1), cell: m[1] === "%%" };
}

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error("expected a UsageError");
}

describe.each(tables)("%%%s verbs", (magic, verbs) => {
  it("have unique names, summaries, examples and a typed equivalent", () => {
    expect(new Set(verbs.map((v) => v.name)).size).toBe(verbs.length);
    for (const v of verbs) {
      expect(v.summary.length, v.name).toBeGreaterThan(10);
      expect(v.examples?.length, v.name).toBeGreaterThan(0);
      expect(v.typescript, v.name).toBeTruthy();
    }
  });

  for (const verb of verbs) {
    it(`${verb.name}: examples parse, help renders, bad input is a usage error`, () => {
      for (const ex of verb.examples ?? []) {
        const { verb: name, words, cell } = exampleArgs(magic, ex);
        expect(name).toBe(verb.name);
        if (cell) expect(verb.body === "optional" || verb.body === "required").toBe(true);
        const call = parseVerb(magic, verb, words);
        expect(call.verb.name).toBe(verb.name);
      }
      const help = verbHelp(magic, verb);
      expect(help).toContain(`${verb.name}`);
      expect(help).toContain("--json");
      // a typo of a real option is answered with that option
      const target = Object.keys(verb.options ?? {})[0] ?? "json";
      const typo = target.length > 3 ? `--${target.slice(0, -1)}x` : `--${target}x`;
      expect(usageError(() => parseVerb(magic, verb, [typo])).message).toMatch(/unknown option|Did you mean/);
      // missing required arguments name the usage line
      const required = (verb.positionals ?? []).some((p) => p.required !== false) || Object.values(verb.options ?? {}).some((o) => o.required);
      if (required) expect(usageError(() => parseVerb(magic, verb, [])).message).toContain(`Usage: `);
      // --json is accepted everywhere
      if (!required) expect(parseVerb(magic, verb, ["--json"]).json).toBe(true);
    });
  }
});

describe("numeric options and positionals", () => {
  const numeric = tables.flatMap(([magic, verbs]) =>
    verbs.flatMap((verb) => [
      ...Object.entries(verb.options ?? {})
        .filter(([, o]) => o.type === "integer" || o.type === "number")
        .map(([name, o]) => ({ magic, verb, label: `%${magic} ${verb.name} --${name}`, spec: o, words: (v: string) => [`--${name}=${v}`, ...positionalWords(verb, "", "")] })),
      ...(verb.positionals ?? [])
        .filter((p) => p.type === "integer" || p.type === "number")
        .map((p) => ({ magic, verb, label: `%${magic} ${verb.name} ${p.name}`, spec: p, words: (v: string) => positionalWords(verb, p.name, v) })),
    ]),
  );

  /** Words that fill every positional of `verb` with a plausible value, `value` in the one named `name`. */
  function positionalWords(verb: VerbSpec, name: string, value: string): string[] {
    const words = (verb.positionals ?? []).map((p) => (p.name === name ? value : p.type === "integer" || p.type === "number" ? String(p.min ?? 1) : "x:y"));
    return ["--", ...words];
  }
  const required = (verb: VerbSpec, except: string): string[] =>
    Object.entries(verb.options ?? {}).filter(([n, o]) => o.required && n !== except).flatMap(([n]) => [`--${n}`, "x"]);

  it("exist (the table walk below is not empty)", () => {
    expect(numeric.map((n) => n.label)).toEqual(expect.arrayContaining(["%reana monitor --every", "%rucio add-rule COPIES", "%zenodo search --size"]));
    // A poll interval becomes a Node timer, which fires at once past 2^31 - 1 ms.
    const every = numeric.find((n) => n.label === "%reana monitor --every")!.spec;
    expect(every.max! * 1000).toBeLessThan(2 ** 31);
  });

  it.each(numeric.map((n) => [n.label, n] as const))("%s declares its range, shows it in help, accepts its bounds and refuses past them", (label, n) => {
    const { magic, verb, spec } = n;
    expect(spec.min, label).toBeTypeOf("number");
    expect(spec.max, label).toBeTypeOf("number");
    const range = `between ${spec.min} and ${spec.max}${spec.unit ? ` ${spec.unit}` : ""}`;
    expect(verbHelp(magic, verb)).toContain(range);
    const name = label.split(" ").pop()!.replace(/^--/, "");
    const parse = (v: string) => parseVerb(magic, verb, [...required(verb, name), ...n.words(v)]);
    expect(parse(String(spec.min)).num(name)).toBe(spec.min);
    expect(parse(String(spec.max)).num(name)).toBe(spec.max);
    const past = [spec.type === "integer" ? String(spec.min! - 1) : String(spec.min! / 2 - 1), String(spec.max! * 10 + 1)];
    for (const v of past) expect(usageError(() => parse(v)).message, `${label} ${v}`).toMatch(new RegExp(`must be ${range}; got ${v.replace(/[.+]/g, "\\$&")}\\.\\nUsage: %${magic} ${verb.name} `));
    for (const v of ["1e99", "NaN", "Infinity", "-Infinity", "0x10", ""]) {
      const message = usageError(() => parse(v)).message;
      expect(message, `${label} ${JSON.stringify(v)}`).toContain(range);
      expect(message, `${label} ${JSON.stringify(v)}`).toContain(`\nUsage: %${magic} ${verb.name} `);
    }
  });
});

describe("interpolated values", () => {
  it("a quoted {expr} value with spaces stays one argument", () => {
    // The kernel substitutes {expr} textually before the magic sees the line, as IPython does.
    const dir = "my results/run 1";
    const line = `download open:dimuon-sim.v1 --dir "${dir}"`;
    const words = tokenize(line);
    const call = parseVerb("rucio", rucioVerbs.find((v) => v.name === "download")!, words.slice(1));
    expect(call.optStr("dir")).toBe(dir);
    expect(call.list("DID")).toEqual(["open:dimuon-sim.v1"]);
  });
  it("an interpolated number is checked like a typed one", () => {
    const addRule = rucioVerbs.find((v) => v.name === "add-rule")!;
    expect(parseVerb("rucio", addRule, tokenize(`open:x ${2} SANDBOX-DISK2 --lifetime ${3600 * 24}`)).num("lifetime")).toBe(86400);
    expect(usageError(() => parseVerb("rucio", addRule, tokenize(`open:x ${"undefined"} SANDBOX-DISK2`))).message).toMatch(/COPIES expects an integer, got undefined/);
  });
});
