/**
 * The Node nbformat check gives Jupyter's own verdict: each case is also judged by Debian's nbformat
 * (`nbformat.validate(nbformat.reads(text, as_version=4))` under /usr/bin/python3, installed by scripts/setup.sh for
 * the test suite), and the verdicts must agree. The demo itself needs no Python for this check.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateNotebook, validateNotebookFile } from "./validate";

const work = mkdtempSync(join(tmpdir(), "vre-nbformat-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const code = (id: string | undefined, outputs: unknown[] = [], extra: Record<string, unknown> = {}) => ({
  cell_type: "code",
  ...(id === undefined ? {} : { id }),
  metadata: {},
  source: "1 + 1",
  execution_count: 1,
  outputs,
  ...extra,
});
const nb = (cells: unknown[], extra: Record<string, unknown> = {}) => ({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: "vre-ts", display_name: "TypeScript (vre-ts)", language: "typescript" } },
  cells,
  ...extra,
});

const lifecycle = JSON.parse(readFileSync(resolve(__dirname, "../../notebooks/examples/lifecycle.ipynb"), "utf8")) as Record<string, unknown>;

const CASES: Record<string, unknown> = {
  "example notebook": lifecycle,
  "outputs of every kind": nb([
    code("a", [
      { output_type: "stream", name: "stdout", text: ["x\n", "y"] },
      { output_type: "execute_result", execution_count: 1, data: { "text/plain": "2", "application/json": { a: [1, true, null] } }, metadata: {} },
      { output_type: "display_data", data: { "image/png": "iVBORw0KGgo=", "application/vnd.jupyter.widget-view+json": { model_id: "m", version_major: 2, version_minor: 0 } }, metadata: { "image/png": { width: 10 } } },
      { output_type: "error", ename: "TypeError", evalue: "x is not a function", traceback: ["TypeError: x"] },
    ]),
    { cell_type: "markdown", id: "b", metadata: {}, source: "# t", attachments: { "a.png": { "image/png": "iVBORw0KGgo=" } } },
    { cell_type: "raw", id: "c", metadata: { format: "text/plain" }, source: "" },
  ]),
  "stream without a name": nb([code("a", [{ output_type: "stream", text: "x" }])]),
  "unknown output type": nb([code("a", [{ output_type: "log", text: "x" }])]),
  "markdown cell with outputs": nb([{ cell_type: "markdown", id: "a", metadata: {}, source: "", outputs: [] }]),
  "execution_count as a string": nb([code("a", [], { execution_count: "1" })]),
  "unknown cell type": nb([{ cell_type: "widget", id: "a", metadata: {}, source: "" }]),
  "bad cell id": nb([code("not valid!")]),
  "unknown top-level key": nb([], { signature: "x" }),
  "kernelspec without a name": nb([], { metadata: { kernelspec: { display_name: "x" } } }),
  "text/plain as a number": nb([code("a", [{ output_type: "display_data", data: { "text/plain": 5 }, metadata: {} }])]),
  "4.5 without cell ids": nb([code(undefined), code(undefined)]),
  "duplicate cell ids": nb([code("a"), code("a")]),
  "4.4 without cell ids": nb([code(undefined)], { nbformat_minor: 4 }),
  "4.4 with cell ids": nb([code("a")], { nbformat_minor: 4 }),
  "a newer minor with unknown keys": nb([code("a", [], { future: true })], { nbformat_minor: 9 }),
  "no cells": { nbformat: 4, nbformat_minor: 5, metadata: {} },
};

/** Jupyter's verdict for each case file: "valid" or "invalid", from Debian's nbformat. */
function jupyterVerdicts(files: string[]): string[] {
  const script = [
    "import sys, json, warnings, nbformat",
    "warnings.simplefilter('ignore')",
    "out = []",
    "for f in sys.argv[1:]:",
    "    try:",
    "        nbformat.validate(nbformat.read(f, as_version=4)); out.append('valid')",
    "    except nbformat.ValidationError:",
    "        out.append('invalid')",
    "print(json.dumps(out))",
  ].join("\n");
  return JSON.parse(execFileSync("/usr/bin/python3", ["-c", script, ...files], { env: { ...process.env, PYTHONNOUSERSITE: "1" }, encoding: "utf8" })) as string[];
}

describe("nbformat validation in Node", () => {
  it("agrees with Jupyter's own nbformat.validate on every case", async () => {
    const names = Object.keys(CASES);
    const files = names.map((name, i) => {
      const file = join(work, `case${i}.ipynb`);
      writeFileSync(file, JSON.stringify(CASES[name], null, 1));
      return file;
    });
    const jupyter = jupyterVerdicts(files);
    const ours = await Promise.all(files.map(async (f) => ((await validateNotebookFile(f)).valid ? "valid" : "invalid")));
    expect(Object.fromEntries(names.map((n, i) => [n, ours[i]]))).toEqual(Object.fromEntries(names.map((n, i) => [n, jupyter[i]])));
    // The cases cover both verdicts.
    expect(new Set(jupyter)).toEqual(new Set(["valid", "invalid"]));
  });

  it("says where the problem is, against the definition of that cell or output type", () => {
    expect(validateNotebook(CASES["stream without a name"]).errors).toEqual(["cells/0/outputs/0: must have required property 'name'"]);
    expect(validateNotebook(CASES["markdown cell with outputs"]).errors).toEqual(["cells/0: must NOT have additional properties ('outputs')"]);
    expect(validateNotebook(CASES["unknown cell type"]).errors).toEqual(['cells/0: unknown cell_type "widget" (expected "code", "markdown" or "raw")']);
    expect(validateNotebook(CASES["unknown output type"]).errors).toEqual(['cells/0/outputs/0: unknown output_type "log"']);
    expect(validateNotebook(CASES["unknown top-level key"]).errors).toEqual(["(notebook): must NOT have additional properties ('signature')"]);
    expect(validateNotebook({ nbformat: 3, cells: [] }).errors[0]).toMatch(/^nbformat: 3 is not 4/);
  });

  it("reports what Jupyter repairs on load as warnings, and picks the schema of the notebook's minor version", () => {
    const missing = validateNotebook(CASES["4.5 without cell ids"]);
    expect(missing).toMatchObject({ valid: true, schema: "4.5" });
    expect(missing.warnings).toEqual([expect.stringMatching(/^cells\/0: no cell id/), expect.stringMatching(/^cells\/1: no cell id/)]);
    expect(validateNotebook(CASES["duplicate cell ids"]).warnings).toEqual([expect.stringMatching(/^cells\/1: duplicate cell id "a"/)]);
    expect(validateNotebook(CASES["4.4 without cell ids"])).toEqual({ valid: true, schema: "4.4", errors: [], warnings: [] });
    expect(validateNotebook(CASES["a newer minor with unknown keys"])).toMatchObject({ valid: true, schema: "4.5, relaxed" });
  });

  it("an unreadable file or broken JSON is invalid with the reason", async () => {
    expect((await validateNotebookFile(join(work, "missing.ipynb"))).errors[0]).toMatch(/^cannot read: .*ENOENT/);
    writeFileSync(join(work, "broken.ipynb"), "{ not json");
    expect((await validateNotebookFile(join(work, "broken.ipynb"))).errors[0]).toMatch(/^not valid JSON/);
  });
});
