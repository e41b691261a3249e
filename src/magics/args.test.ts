import { describe, expect, it } from "vitest";
import { closest, parseVerb, quoteWord, tokenize, usageLine, verbHelp, type VerbSpec } from "./args";
import { UsageError } from "./types";

const listDids: VerbSpec = {
  name: "list-dids",
  summary: "Search DIDs.",
  positionals: [{ name: "PATTERN", description: "SCOPE:NAME pattern" }],
  options: {
    type: { type: "string", placeholder: "T", description: "DID type", choices: ["all", "collection", "dataset", "container", "file"] },
    filter: { type: "string", description: "metadata filter" },
    long: { type: "boolean", description: "long" },
    limit: { type: "integer", description: "max results" },
  },
};
const addRule: VerbSpec = {
  name: "add-rule",
  summary: "Create a rule.",
  positionals: [{ name: "DID" }, { name: "COPIES", type: "integer" }, { name: "RSE_EXPR" }],
  options: { lifetime: { type: "integer", placeholder: "S", description: "seconds" } },
};
const start: VerbSpec = {
  name: "start",
  summary: "Start.",
  options: {
    workflow: { type: "string", short: "w", required: true, description: "workflow" },
    parameter: { type: "string", short: "p", multiple: true, description: "k=v" },
  },
};
const download: VerbSpec = {
  name: "download",
  summary: "Download.",
  positionals: [{ name: "DID", variadic: true }],
  options: { dir: { type: "string", description: "target" } },
};

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error("expected a UsageError");
}

describe("tokenize", () => {
  it("splits on whitespace and keeps shell quoting", () => {
    expect(tokenize("  a  b\tc ")).toEqual(["a", "b", "c"]);
    expect(tokenize(`--filter "length>10,type=x;run=3"`)).toEqual(["--filter", "length>10,type=x;run=3"]);
    expect(tokenize(`'it''s'`)).toEqual(["its"]);
    expect(tokenize(`'a "b" c'`)).toEqual([`a "b" c`]);
    expect(tokenize(`"a \\"b\\" \\\\ c"`)).toEqual([`a "b" \\ c`]);
    expect(tokenize(`a\\ b`)).toEqual(["a b"]);
    expect(tokenize(`""`)).toEqual([""]);
    expect(tokenize(`x="1 2"`)).toEqual(["x=1 2"]);
  });
  it("keeps glob, redirection and variable characters literal", () => {
    expect(tokenize("user.jdoe:data* length>3 $HOME a|b c;d")).toEqual(["user.jdoe:data*", "length>3", "$HOME", "a|b", "c;d"]);
  });
  it("reports unterminated quotes", () => {
    expect(usageError(() => tokenize(`"abc`))).toMatch(/Unterminated double quote/);
    expect(usageError(() => tokenize(`'abc`))).toMatch(/Unterminated single quote/);
  });
  it("round-trips quoteWord for arbitrary words (interpolated values)", () => {
    for (const w of ["plain", "with space", `it's`, `"dq"`, "", "a\\b", "$x*;|>", "naïve ünïcode", "tab\tnew\nline"]) {
      expect(tokenize(quoteWord(w))).toEqual([w]);
    }
  });
});

describe("parseVerb", () => {
  it("parses positionals, options, booleans and --json", () => {
    const c = parseVerb("rucio", listDids, tokenize(`user.jdoe:data* --type dataset --filter "run>3" --long --json --limit 5`));
    expect(c.str("PATTERN")).toBe("user.jdoe:data*");
    expect(c.optStr("type")).toBe("dataset");
    expect(c.optStr("filter")).toBe("run>3");
    expect(c.flag("long")).toBe(true);
    expect(c.num("limit")).toBe(5);
    expect(c.json).toBe(true);
  });
  it("accepts --opt=value and option order freedom", () => {
    const c = parseVerb("rucio", listDids, ["--type=file", "s:n"]);
    expect(c.optStr("type")).toBe("file");
    expect(c.str("PATTERN")).toBe("s:n");
  });
  it("converts typed positionals", () => {
    const c = parseVerb("rucio", addRule, tokenize("s:d 2 'SITE_A|SITE_B' --lifetime 3600"));
    expect(c.num("COPIES")).toBe(2);
    expect(c.str("RSE_EXPR")).toBe("SITE_A|SITE_B");
    expect(c.num("lifetime")).toBe(3600);
    expect(usageError(() => parseVerb("rucio", addRule, tokenize("s:d two X")))).toMatch(/COPIES expects an integer, got two/);
    expect(usageError(() => parseVerb("rucio", addRule, tokenize("s:d 1 X --lifetime 1.5")))).toMatch(/--lifetime expects an integer/);
  });
  it("takes decimal numbers only, within the declared bounds", () => {
    const poll: VerbSpec = { name: "monitor", summary: "Monitor.", options: { every: { type: "number", placeholder: "SECONDS", min: 0.2, max: 3600, unit: "seconds", description: "poll" } } };
    const every = (v: string) => parseVerb("reana", poll, [`--every=${v}`]).num("every");
    expect([every("5"), every("0.5"), every(".5"), every("1e3"), every("+2"), every("0.2"), every("3600")]).toEqual([5, 0.5, 0.5, 1000, 2, 0.2, 3600]);
    expect(usageError(() => every("1e99"))).toBe("%reana monitor: --every must be between 0.2 and 3600 seconds; got 1e99.\nUsage: %reana monitor [--every SECONDS] [--json]");
    expect(usageError(() => every("-1"))).toMatch(/--every must be between 0\.2 and 3600 seconds; got -1\./);
    for (const v of ["NaN", "Infinity", "0x10", "0b1", "1_000", " ", "5s"]) {
      expect(usageError(() => every(v))).toMatch(/^%reana monitor: --every expects a number, got .*; it must be between 0\.2 and 3600 seconds\.\nUsage: /);
    }
    // Without bounds, a number is still decimal and finite.
    const free: VerbSpec = { name: "x", summary: "X.", options: { n: { type: "number", description: "n" } } };
    expect(usageError(() => parseVerb("m", free, ["--n", "Infinity"]))).toBe("%m x: --n expects a number, got Infinity.\nUsage: %m x [--n N] [--json]");
  });
  it("collects repeated options and KEY=VALUE pairs", () => {
    const c = parseVerb("reana", start, tokenize(`-w wf.3 -p a=1 -p "b=x y" --parameter c==`));
    expect(c.str("workflow")).toBe("wf.3");
    expect(c.pairs("parameter")).toEqual({ a: "1", b: "x y", c: "=" });
    const bad = parseVerb("reana", start, tokenize("-w wf -p nope"));
    expect(usageError(() => bad.pairs("parameter"))).toMatch(/--parameter expects KEY=VALUE, got nope/);
  });
  it("collects variadic positionals", () => {
    expect(parseVerb("rucio", download, tokenize("a:b c:d --dir out")).list("DID")).toEqual(["a:b", "c:d"]);
    expect(usageError(() => parseVerb("rucio", download, []))).toMatch(/missing DID \(one or more\)/);
  });
  it("suggests the closest option for a typo", () => {
    const msg = usageError(() => parseVerb("rucio", listDids, tokenize("s:n --typ dataset")));
    expect(msg).toContain("unknown option --typ. Did you mean --type?");
    expect(msg).toContain("Usage: %rucio list-dids PATTERN");
    expect(usageError(() => parseVerb("rucio", listDids, tokenize("s:n --lnog")))).toContain("Did you mean --long?");
    expect(usageError(() => parseVerb("rucio", listDids, tokenize("s:n --jsno")))).toContain("Did you mean --json?");
    expect(usageError(() => parseVerb("reana", start, tokenize("-W wf")))).toContain("Did you mean -w?");
    expect(usageError(() => parseVerb("rucio", listDids, tokenize("s:n --zzzzzzzz")))).toMatch(/Valid options: --type, --filter/);
  });
  it("shows the usage line for a missing argument or value", () => {
    expect(usageError(() => parseVerb("rucio", addRule, tokenize("s:d 1")))).toBe(
      "%rucio add-rule: missing RSE_EXPR.\nUsage: %rucio add-rule DID COPIES RSE_EXPR [--lifetime S] [--json]",
    );
    expect(usageError(() => parseVerb("rucio", listDids, tokenize("s:n --type")))).toMatch(/--type needs a value/);
    expect(usageError(() => parseVerb("reana", start, []))).toMatch(/missing required option -w WORKFLOW/);
    expect(usageError(() => parseVerb("rucio", listDids, tokenize("s:n --long=yes")))).toMatch(/--long is a switch/);
    expect(usageError(() => parseVerb("rucio", listDids, tokenize("s:n extra")))).toMatch(/unexpected argument extra/);
  });
  it("checks choices with a suggestion", () => {
    expect(usageError(() => parseVerb("rucio", listDids, tokenize("s:n --type datset")))).toMatch(/must be one of .*Did you mean dataset\?/);
  });
  it("lets a value start with a dash through --opt=value and positionals after --", () => {
    expect(parseVerb("rucio", listDids, ["s:n", "--filter=-x"]).optStr("filter")).toBe("-x");
    expect(parseVerb("rucio", download, ["--", "-odd:name"]).list("DID")).toEqual(["-odd:name"]);
  });
  it("does not require arguments when help is asked", () => {
    expect(parseVerb("rucio", addRule, ["--help"]).flag("help")).toBe(true);
  });
});

describe("help", () => {
  it("renders usage, options and examples", () => {
    const text = verbHelp("rucio", { ...listDids, examples: ["%rucio list-dids user.jdoe:*"], typescript: "await rucio.searchDids(...)" });
    expect(text).toContain("Usage: %rucio list-dids PATTERN [--type T] [--filter FILTER] [--long] [--limit LIMIT] [--json]");
    expect(text).toContain("--type T");
    expect(text).toContain("one of all, collection, dataset, container, file");
    expect(text).toContain("Examples:\n  %rucio list-dids user.jdoe:*");
    expect(text).toContain("In TypeScript:");
    expect(usageLine("reana", { ...start, body: "optional" })).toBe("%[%]reana start -w WORKFLOW [-p PARAMETER ...] [--json]");
  });
  it("states the range of numeric options and positionals", () => {
    const text = verbHelp("rucio", {
      name: "add-rule",
      summary: "Create a rule.",
      positionals: [{ name: "COPIES", type: "integer", min: 1, max: 100, description: "number of copies" }],
      options: { lifetime: { type: "integer", placeholder: "S", min: 1, max: 86400, unit: "seconds", description: "rule lifetime" } },
    });
    expect(text).toMatch(/\n {2}COPIES +number of copies \(between 1 and 100\)\n/);
    expect(text).toMatch(/\n {2}--lifetime S +rule lifetime \(between 1 and 86400 seconds\)\n/);
    const monitor = verbHelp("reana", {
      name: "monitor",
      summary: "Monitor.",
      options: { every: { type: "number", placeholder: "SECONDS", min: 0.2, max: 3600, unit: "seconds", description: "seconds between polls (default 5)" } },
    });
    expect(monitor).toMatch(/\n {2}--every SECONDS +seconds between polls \(default 5; between 0\.2 and 3600 seconds\)\n/);
  });
  it("closest() ignores far-away words", () => {
    expect(closest("lst", ["list", "ls", "stat"])).toMatch(/^(list|ls)$/);
    expect(closest("downlaod", ["download", "upload"])).toBe("download");
    expect(closest("upload", ["download"])).toBeUndefined();
    expect(closest("xyzzy", ["list", "stat"])).toBeUndefined();
  });
});

describe("NUL bytes", () => {
  it("an argument holding a NUL byte is a UsageError naming it, before anything runs", () => {
    for (const words of [["user.jdoe:a\0b"], ["test:x", "--filter", "a\0"], ["--type=dataset\0"]]) {
      expect(() => parseVerb("rucio", listDids, words)).toThrow(UsageError);
      expect(() => parseVerb("rucio", listDids, words)).toThrow(/^%rucio list-dids: the argument ".*\\u0000.*" contains a NUL byte \(\\0\); remove it\./);
    }
  });
});
