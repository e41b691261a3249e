import { describe, expect, it } from "vitest";
import type { Notebook } from "./notebook";
import { INJECTED_TAG, ParameterError, declaredParameters, injectParameters, parseParameter, pythonLiteral, typeValue } from "./parameters";

function notebook(...sources: [string, string[]?][]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: sources.map(([source, tags], i) => ({ cell_type: "code", id: `c${i}`, source, metadata: tags ? { tags } : {}, outputs: [], execution_count: null })),
  };
}

describe("typeValue", () => {
  it("types numbers, booleans, null, JSON and strings like papermill's -p", () => {
    expect(typeValue("3")).toBe(3);
    expect(typeValue("-2.5e3")).toBe(-2500);
    expect(typeValue("true")).toBe(true);
    expect(typeValue("False")).toBe(false);
    expect(typeValue("null")).toBeNull();
    expect(typeValue("[1, \"a\"]")).toEqual([1, "a"]);
    expect(typeValue('{"rse": "CERN"}')).toEqual({ rse: "CERN" });
    expect(typeValue('"42"')).toBe("42");
    expect(typeValue("ATLAS:data.root")).toBe("ATLAS:data.root");
    expect(typeValue("[not json")).toBe("[not json");
    expect(typeValue("")).toBe("");
  });

  it("parses key=value and keeps '=' inside the value", () => {
    expect(parseParameter("query=a=b")).toEqual(["query", "a=b"]);
    expect(() => parseParameter("novalue")).toThrow(ParameterError);
    expect(() => parseParameter("2bad=1")).toThrow(/identifier/);
  });
});

describe("injectParameters", () => {
  it("adds a tagged cell right after the parameters cell, mirroring its declarations", () => {
    const nb = notebook(["const intro = 1;"], ["let alpha: number = 0.1;\nconst scope = \"user\";", ["parameters"]], ["alpha * 2"]);
    const result = injectParameters(nb, new Map<string, unknown>([["alpha", 0.5], ["scope", "atlas"], ["runs", [1, 2]]]));
    expect(result.index).toBe(2);
    const cell = nb.cells[2];
    expect(cell.metadata.tags).toEqual([INJECTED_TAG]);
    expect(cell.id).toMatch(/^[0-9a-f]{8}$/);
    expect(cell.source).toBe('// Parameters\nlet alpha: number = 0.5;\nconst scope = "atlas";\nconst runs = [1,2];');
    expect(result.warnings).toEqual(['Parameter "runs" is not declared in the parameters cell.']);
    expect(nb.cells[3].source).toBe("alpha * 2");
  });

  it("replaces an earlier injection and goes to the top without a parameters cell", () => {
    const nb = notebook(["old", [INJECTED_TAG]], ["x + 1"]);
    const result = injectParameters(nb, new Map([["x", 1]]));
    expect(nb.cells.map((c) => c.source)).toEqual(["// Parameters\nconst x = 1;", "x + 1"]);
    expect(result.warnings[0]).toMatch(/No cell is tagged "parameters"/);
  });

  it("only removes a stale injection when there are no parameters", () => {
    const nb = notebook(["old", [INJECTED_TAG]], ["x + 1"]);
    expect(injectParameters(nb, new Map()).index).toBe(-1);
    expect(nb.cells).toHaveLength(1);
  });

  it("keeps secrets out of the notebook: they travel in the kernel's environment", () => {
    const nb = notebook(["let rucio_token = \"\";", ["parameters"]]);
    const result = injectParameters(nb, new Map<string, unknown>([["rucio_token", "s3cr3t-value"], ["password", 1234]]));
    const source = String(nb.cells[1].source);
    expect(source).not.toContain("s3cr3t");
    expect(source).not.toContain("1234");
    expect(source).toContain('let rucio_token: string = process.env["VRE_TS_PARAM_RUCIO_TOKEN"] ?? "";');
    expect(result.env).toEqual({ VRE_TS_PARAM_RUCIO_TOKEN: "s3cr3t-value", VRE_TS_PARAM_PASSWORD: "1234" });
  });

  it("writes Python literals for Python kernels and refuses unknown languages", () => {
    const nb = notebook(["alpha = 1", ["parameters"]]);
    injectParameters(nb, new Map<string, unknown>([["alpha", 2], ["flags", [true, null, "x"]]]), "python");
    expect(nb.cells[1].source).toBe('# Parameters\nalpha = 2\nflags = [True, None, "x"]');
    expect(pythonLiteral({ a: false })).toBe('{"a": False}');
    expect(() => injectParameters(notebook(["x"]), new Map([["x", 1]]), "R")).toThrow(/cannot be injected into a R notebook/);
  });

  it("reads declarations, including export and var", () => {
    const decl = declaredParameters("export const a = 1\nvar b: string[] = []\n  let c=2 // comment\nfoo(d = 3)");
    expect([...decl.entries()]).toEqual([
      ["a", { keyword: "const" }],
      ["b", { keyword: "let", type: "string[]" }],
      ["c", { keyword: "let" }],
    ]);
  });
});
