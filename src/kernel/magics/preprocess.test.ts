import { describe, expect, it } from "vitest";
import { argsToTemplate, blankMagics, KERNEL_REF, looksLikeExpression, magicNameAt, magicPrefixAt, parseCellMagic, preprocess, scanLines } from "./preprocess";

const known = new Set(["lsmagic", "rucio", "time", "env", "bash", "cd"]);
const opts = { isKnownMagic: (n: string) => known.has(n) };
const code = (src: string) => {
  const r = preprocess(src, opts);
  if (r.kind !== "code") throw new Error("expected code");
  return r;
};

describe("line magics", () => {
  it("rewrites a magic line in place into one statement, keeping line numbers", () => {
    const src = "const a = 1\n%lsmagic\nconst b = a + 1";
    const r = code(src);
    const lines = r.code.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe("const a = 1");
    expect(lines[1]).toBe(`await ${KERNEL_REF}.line("lsmagic", \`\`);`);
    expect(lines[2]).toBe("const b = a + 1");
    expect(r.magicCount).toBe(1);
  });

  it("keeps indentation inside blocks", () => {
    const r = code("if (x) {\n    %rucio whoami\n}");
    expect(r.code.split("\n")[1]).toBe(`    await ${KERNEL_REF}.line("rucio", \`whoami\`);`);
  });

  it("supports const/let/var and plain assignment forms", () => {
    expect(code("const dids = %rucio list-dids user.jdoe:*").code).toBe(
      `const dids = await ${KERNEL_REF}.line("rucio", \`list-dids user.jdoe:*\`);`,
    );
    expect(code("let x: string[] = %rucio ls").code).toBe(`let x: string[] = await ${KERNEL_REF}.line("rucio", \`ls\`);`);
    expect(code("obj.field = %env HOME").code).toBe(`obj.field = await ${KERNEL_REF}.line("env", \`HOME\`);`);
    expect(code("export const y = %env HOME").code).toContain("export const y = await ");
  });

  it("never produces `await (` (tslab does not see it as top-level await)", () => {
    for (const src of ["%lsmagic", "x = %rucio ls", "%time fib(20)", "const t = %time (1 + 2)", "%rucio ls {(a)}"]) {
      expect(code(src).code).not.toMatch(/await\s*\(/);
    }
  });

  it("turns %time EXPR into a timed arrow function over the TypeScript expression", () => {
    const r = code("%time [1, 2].map((x) => x * 2)");
    expect(r.code).toBe(`await ${KERNEL_REF}.time(async () => ([1, 2].map((x) => x * 2)), "[1, 2].map((x) => x * 2)");`);
  });

  it("rewrites %name? into a help call", () => {
    expect(code("%rucio?").code).toBe(`${KERNEL_REF}.help("rucio");`);
    expect(code("%unknownthing??").code).toBe(`${KERNEL_REF}.help("unknownthing");`);
  });

  it("leaves template literals spanning lines alone", () => {
    const src = "const s = `line one\n%lsmagic\n${a %\n b}\n%rucio ls`;\n%lsmagic";
    const lines = code(src).code.split("\n");
    expect(lines.slice(0, 5)).toEqual(src.split("\n").slice(0, 5));
    expect(lines[5]).toContain('.line("lsmagic"');
  });

  it("leaves nested template literals inside ${} alone", () => {
    const src = "const s = `a ${`b\n%lsmagic\n`} c\n%lsmagic`;";
    expect(code(src).code).toBe(src);
  });

  it("leaves block and line comments alone", () => {
    const src = "/* a comment\n%lsmagic\n*/\n// %lsmagic\nconst x = 1 // %rucio\n%lsmagic";
    const lines = code(src).code.split("\n");
    expect(lines.slice(0, 5)).toEqual(src.split("\n").slice(0, 5));
    expect(lines[5]).toContain('.line("lsmagic"');
  });

  it("leaves strings containing % alone", () => {
    const src = "const a = \"100%\";\nconst b = '%lsmagic';\nconst c = `%rucio`;";
    expect(code(src).code).toBe(src);
  });

  it("treats % after an operand as modulo", () => {
    expect(code("const a = 10\n  % 3").code).toBe("const a = 10\n  % 3");
    expect(code("let r = a\n%3").code).toBe("let r = a\n%3");
    // an unknown name continuing an expression is a modulo by a variable, not a magic
    expect(code("let r = a\n%b").code).toBe("let r = a\n%b");
    expect(code("x = (a + b)\n%size").code).toBe("x = (a + b)\n%size");
  });

  it("reads an unknown name at a statement start as a magic (the kernel reports it as a UsageError)", () => {
    expect(code("%lsmgic").code).toContain('.line("lsmgic"');
    expect(code("foo();\n%lsmgic").code).toContain('.line("lsmgic"');
  });

  it("does not mistake a regex literal for a template or comment", () => {
    const src = "const re = /`[%]/g;\n%lsmagic";
    expect(code(src).code.split("\n")[1]).toContain('.line("lsmagic"');
  });

  it("leaves cells without % untouched (fast path)", () => {
    const src = "const x = 1;\nx * 2";
    expect(preprocess(src, opts)).toEqual({ kind: "code", code: src, magicCount: 0 });
  });
});

describe("{expr} interpolation", () => {
  it("interpolates TypeScript expressions into a template literal", () => {
    expect(code("%rucio list-dids {scope}:{name + '*'}").code).toContain("`list-dids ${scope}:${name + '*'}`");
  });

  it("keeps {{ and }} as literal braces", () => {
    expect(argsToTemplate("a {{b}} c").template).toBe("`a {b} c`");
  });

  it("leaves JSON-like groups literal", () => {
    const r = argsToTemplate(`--filter {"type": "DATASET"} {x}`);
    expect(r.template).toBe('`--filter {"type": "DATASET"} ${x}`');
    expect(r.interpolated).toBe(true);
  });

  it("escapes backticks, backslashes and dollar signs", () => {
    expect(argsToTemplate("a`b\\c$d ${e}").template).toBe("`a\\`b\\\\c\\$d \\$${e}`");
  });

  it("handles nested braces inside the expression", () => {
    expect(argsToTemplate("{f({ a: 1 })}").template).toBe("`${f({ a: 1 })}`");
  });

  it("uses the supplied expression checker", () => {
    expect(argsToTemplate("{a b}", () => false).interpolated).toBe(false);
    expect(argsToTemplate("{a}", () => true).interpolated).toBe(true);
  });

  it("has a conservative default expression heuristic", () => {
    expect(looksLikeExpression("a.b[0]")).toBe(true);
    expect(looksLikeExpression("x ? 1 : 2")).toBe(true);
    expect(looksLikeExpression('"a": 1')).toBe(false);
    expect(looksLikeExpression("a: 1, b: 2")).toBe(false);
    expect(looksLikeExpression("")).toBe(false);
  });
});

describe("cell magics", () => {
  it("hands the whole body to a first-line %%magic without TypeScript", () => {
    const r = preprocess("%%bash -x\necho `date` 50%\n%lsmagic\n", opts);
    expect(r).toEqual({ kind: "cell", name: "bash", args: "-x", argsTemplate: undefined, body: "echo `date` 50%\n%lsmagic\n", help: false });
  });

  it("allows leading blank lines and reports help", () => {
    const r = preprocess("\n  \n%%bash?", opts);
    expect(r.kind).toBe("cell");
    expect(r.kind === "cell" && r.help).toBe(true);
  });

  it("builds an args template when the arguments interpolate, mapped back to the header", () => {
    const r = preprocess("%%bash {n}\necho", opts);
    expect(r.kind === "cell" && r.argsTemplate).toBe("`${n}`");
    const src = "\n%%bash  -x {cfg.nope} // c\necho";
    const t = preprocess(src, opts);
    if (t.kind !== "cell") throw new Error("expected a cell magic");
    expect(t.argsTemplate).toBe("`-x ${cfg.nope}`");
    expect(t.argsMap!.toOriginal(t.argsTemplate!.indexOf("nope"))).toBe(src.indexOf("nope"));
  });

  it("only counts %% on the first line", () => {
    const r = code("const x = 1\n%%bash\n");
    expect(r.code).toBe("const x = 1\n%%bash\n");
  });

  it("parseCellMagic returns the header end", () => {
    expect(parseCellMagic("%%time\nx")?.headerEnd).toBe(6);
    expect(parseCellMagic("x\n%%time")).toBeUndefined();
  });
});

describe("blanking and completion helpers", () => {
  it("blanks magic lines keeping every offset", () => {
    const src = "const a = 1\n%rucio ls\nconst d = %rucio list-dids x\na.toFix";
    const b = blankMagics(src);
    expect(b.length).toBe(src.length);
    expect(b.split("\n")[1].trim()).toBe("");
    expect(b.split("\n")[2]).toMatch(/^const d = \(0 as any\)\s*$/);
    expect(b.endsWith("a.toFix")).toBe(true);
  });

  it("keeps a %%time body for completion but blanks other cell bodies", () => {
    expect(blankMagics("%%time\nMath.PI")).toBe("      \nMath.PI");
    expect(blankMagics("%%bash\nls -l")).toBe("      \n     ");
  });

  it("finds a % prefix to complete magic names", () => {
    expect(magicPrefixAt("%ls", 3)).toEqual({ start: 0, percent: "%", partial: "ls" });
    expect(magicPrefixAt("x\n  %ru", 7)).toEqual({ start: 4, percent: "%", partial: "ru" });
    expect(magicPrefixAt("%%ba", 4)).toEqual({ start: 0, percent: "%%", partial: "ba" });
    expect(magicPrefixAt("x\n%%ba", 6)).toBeUndefined();
    expect(magicPrefixAt("a % b", 5)).toBeUndefined();
  });

  it("finds the magic name under the cursor", () => {
    expect(magicNameAt("%rucio ls", 3)).toBe("rucio");
    expect(magicNameAt("const x = %env HOME", 12)).toBe("env");
    expect(magicNameAt("%rucio list-dids abc", 18)).toBeUndefined();
  });

  it("scanLines marks lines inside strings and comments", () => {
    const lines = scanLines("a\n/*\nb\n*/\n`\nc\n`");
    expect(lines.map((l) => l.codeStart)).toEqual([true, true, false, false, true, false, false]);
  });
});

describe("plain magic cells", () => {
  it("marks cells made only of plain magic lines so they run without TypeScript", () => {
    const r = code("%env HOME\n\n%rucio list-dids {{scope}}:*\n%lsmagic?");
    expect(r.plainMagics).toEqual([
      { name: "env", args: "HOME", help: false },
      { name: "rucio", args: "list-dids {scope}:*", help: false },
      { name: "lsmagic", args: "", help: true },
    ]);
  });

  it("needs TypeScript when there is interpolation, an assignment, %time or any code", () => {
    expect(code("%rucio ls {scope}").plainMagics).toBeUndefined();
    expect(code("const x = %rucio ls").plainMagics).toBeUndefined();
    expect(code("%time 1 + 1").plainMagics).toBeUndefined();
    expect(code("%lsmagic\nconsole.log(1)").plainMagics).toBeUndefined();
    expect(code("x\n%b").plainMagics).toBeUndefined();
  });

  it("reads %name after a magic line as a magic (a magic line is a whole statement, never an operand)", () => {
    expect(code("%lsmagic\n%b").plainMagics).toEqual([
      { name: "lsmagic", args: "", help: false },
      { name: "b", args: "", help: false },
    ]);
  });
});

describe("comments on magic lines", () => {
  const args = (src: string) => {
    const r = code(src);
    return r.plainMagics?.[0]?.args;
  };

  it("drops a trailing // comment that follows whitespace (the README's own examples)", () => {
    expect(args("%rucio browse open:dimuon*   // a live dataset browser: search, make available")).toBe("browse open:dimuon*");
    expect(args("%rucio ls x  //")).toBe("ls x");
    expect(args("%lsmagic // all magics")).toBe("");
    expect(args("%lsmagic; // all magics")).toBe("");
    expect(code("const paths = %rucio make-available open:dimuon-sim.v1 --wait     // string[] of local paths").code).toBe(
      `const paths = await ${KERNEL_REF}.line("rucio", \`make-available open:dimuon-sim.v1 --wait\`);`,
    );
  });

  it("keeps // inside URLs, words, quotes and {} groups", () => {
    expect(args("%env URL=https://zenodo.org/api")).toBe("URL=https://zenodo.org/api");
    expect(args("%rucio ls a//b")).toBe("ls a//b");
    expect(args('%rucio ls "x // y" z')).toBe('ls "x // y" z');
    expect(args("%rucio ls 'x // y'")).toBe("ls 'x // y'");
    expect(args('%rucio ls "a \\" // b"')).toBe('ls "a \\" // b"');
    expect(args("%rucio ls {{x //y}}")).toBe("ls {x //y}");
    expect(args("%rucio ls a\\ //b")).toBe("ls a\\ //b"); // an escaped blank belongs to the word
  });

  it("applies TypeScript's comment rule to %time's expression", () => {
    expect(code("%time fib(20) // slow").code).toBe(`await ${KERNEL_REF}.time(async () => (fib(20)), "fib(20)");`);
    expect(code('%time f("//") //c').code).toBe(`await ${KERNEL_REF}.time(async () => (f("//")), "f(\\"//\\")");`);
  });

  it("drops it from a %% cell magic's header too", () => {
    const r = preprocess("%%bash -x   // trace\necho hi", opts);
    expect(r.kind === "cell" && r.args).toBe("-x");
  });

  it("does not let a quote or /* in magic arguments swallow the next lines", () => {
    expect(code("%env GLOB=/*\n%lsmagic").magicCount).toBe(2);
    expect(code("%env Q=`\n%lsmagic").magicCount).toBe(2);
  });
});

describe("positions of rewritten magic lines", () => {
  it("maps interpolated expressions and %time's expression back to the user's columns", () => {
    const src = "const x = 1\n  %env A={x.nope} // c";
    const r = code(src);
    expect(r.map!.toOriginal(r.code.indexOf("nope"))).toBe(src.indexOf("nope"));
    expect(r.map!.toOriginal(r.code.indexOf("await"))).toBe(src.indexOf("%env"));
    const t = "%time foo.bar(1)";
    const rt = code(t);
    expect(rt.map!.toOriginal(rt.code.indexOf("bar"))).toBe(t.indexOf("bar"));
    const a = "let v: number = %env HOME";
    const ra = code(a);
    expect(ra.map!.toOriginal(ra.code.indexOf("await"))).toBe(a.indexOf("%"));
  });
});

describe("line terminators on magic lines", () => {
  it("splits lines where TypeScript does", () => {
    expect(scanLines("a\rb\u2028c\u2029d\r\ne").map((l) => [l.text, l.eol])).toEqual([
      ["a", "\r"],
      ["b", "\u2028"],
      ["c", "\u2029"],
      ["d", "\r\n"],
      ["e", ""],
    ]);
    expect(scanLines("// note\u2028x").map((l) => l.codeStart)).toEqual([true, true]);
  });

  it("rejects a magic line next to a CR, U+2028 or U+2029 instead of running the rest as TypeScript", () => {
    for (const [src, what] of [
      ["%env A=1\u2028globalThis.pwned = 1", "U+2028"],
      ["%env A=1\u2029globalThis.pwned = 1", "U+2029"],
      ["%env A=1\rglobalThis.pwned = 1", "carriage return"],
      ["globalThis.pwned = 1\u2028%env A=1", "U+2028"],
      ["const v = %env A\u2028globalThis.pwned = 1", "U+2028"],
    ] as const) {
      const r = code(src);
      expect(r.error, JSON.stringify(src)).toContain(what);
      expect(r.plainMagics).toBeUndefined();
    }
    const cell = preprocess("%%bash echo hi\u2028rm -rf x\nls", opts);
    expect(cell.kind === "code" && cell.error).toContain("U+2028");
  });

  it("accepts a hidden terminator with nothing behind it", () => {
    expect(code("%env A=1\r").error).toBeUndefined();
    expect(code("%env A=1\u2028  \n%lsmagic").error).toBeUndefined();
    expect(code("%env A=1\u2028\u2028x").error).toContain("U+2028");
    expect(preprocess("%%bash -x\u2028\necho", opts).kind).toBe("cell");
  });

  it("accepts CRLF line ends", () => {
    const r = code("%env A\r\n%lsmagic\r\n");
    expect(r.error).toBeUndefined();
    expect(r.plainMagics?.map((m) => m.name)).toEqual(["env", "lsmagic"]);
    expect(code("const a = 1\r\n%lsmagic\r\na").code).toBe(`const a = 1\r\nawait ${KERNEL_REF}.line("lsmagic", \`\`);\r\na`);
  });
});
