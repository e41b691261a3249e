/**
 * `vre-ts run` end to end: the built CLI executes small notebooks on the real kernel over ZeroMQ.
 * (Needs `npm run build`; scripts/test-all.sh builds before running vitest.)
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Notebook } from "../jupyter-client/notebook";
import { Redactor, defaultOutput, formatFailure, parseRunArgs } from "./run";

const ROOT = resolve(__dirname, "../..");
const CLI = join(ROOT, "dist", "cli", "main.js");
let dir: string;
let privateJupyter: string;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before these tests`);
  dir = await mkdtemp(join(tmpdir(), "vre-ts-run-test-"));
  privateJupyter = await mkdtemp(join(tmpdir(), "vre-ts-run-jupyter-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(privateJupyter, { recursive: true, force: true });
});

function notebook(cells: { source: string; tags?: string[]; type?: "code" | "markdown" }[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((c, i) => ({
      cell_type: c.type ?? "code",
      id: `cell-${i}`,
      source: c.source,
      metadata: c.tags ? { tags: c.tags } : {},
      ...(c.type === "markdown" ? {} : { outputs: [], execution_count: null }),
    })),
  };
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  nb?: Notebook & { cells: any[] };
}

async function run(name: string, nb: Notebook, ...args: string[]): Promise<RunResult> {
  const src = join(dir, `${name}.ipynb`);
  const out = join(dir, `${name}.out.ipynb`);
  await writeFile(src, JSON.stringify(nb));
  await rm(out, { force: true });
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [CLI, "run", src, "-o", out, ...args],
      // A private Jupyter path: the runner falls back to this checkout's kernel.
      { env: { ...process.env, JUPYTER_PATH: privateJupyter, JUPYTER_DATA_DIR: privateJupyter }, timeout: 120_000 },
      async (error, stdout, stderr) => {
        const code = error ? ((error as { code?: number }).code ?? 1) : 0;
        const saved = existsSync(out) ? JSON.parse(await readFile(out, "utf8")) : undefined;
        resolvePromise({ code: typeof code === "number" ? code : 1, stdout, stderr, nb: saved });
      },
    );
  });
}

const text = (v: unknown) => (Array.isArray(v) ? v.join("") : String(v ?? ""));
const streams = (cell: any) => cell.outputs.filter((o: any) => o.output_type === "stream").map((o: any) => text(o.text)).join("");

describe("vre-ts run (real kernel)", () => {
  it("injects typed parameters after the parameters cell and keeps secrets out of the notebook", async () => {
    const r = await run(
      "params",
      notebook([
        { source: "# Analysis", type: "markdown" },
        { source: 'let alpha: number = 1;\nconst label = "default";\nlet api_token = "";\nconst runs: number[] = [];', tags: ["parameters"] },
        { source: "console.log(alpha * 2, label.toUpperCase(), runs.length, api_token.length)" },
        { source: 'console.log("token is", api_token)' },
      ]),
      "-p", "alpha=21", "-p", "label=dimuon", "-p", "runs=[1,2,3]", "-p", "api_token=tok-0123456789",
    );
    // (the last cell below also prints the token by mistake: the saved output masks it)
    expect(r.code, r.stderr).toBe(0);
    const cells = r.nb!.cells;
    expect(cells.map((c) => c.metadata.tags ?? [])).toEqual([[], ["parameters"], ["injected-parameters"], [], []]);
    expect(streams(cells[4])).toBe("token is ***\n");
    expect(text(cells[2].source)).toBe(
      '// Parameters\nlet alpha: number = 21;\nconst label = "dimuon";\nconst runs: number[] = [1,2,3];\n' +
        'let api_token: string = process.env["VRE_TS_PARAM_API_TOKEN"] ?? "";',
    );
    expect(streams(cells[3])).toBe("42 DIMUON 3 14\n");
    expect(JSON.stringify(r.nb)).not.toContain("tok-0123456789");
    expect(r.stdout + r.stderr).not.toContain("tok-0123456789");
    expect(cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count)).toEqual([1, 2, 3, 4]);
  }, 120_000);

  it("stops at a failing cell, shows it and exits 1; --allow-errors runs on and exits 0", async () => {
    const nb = notebook([
      { source: "const ok = 1;" },
      { source: 'const n = 3;\nthrow new RangeError("energy out of range: " + n);' },
      { source: 'console.log("after")' },
    ]);
    const r = await run("fails", nb);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Cell 1 (code cell 2 of 3, In [2]) failed:");
    expect(r.stderr).toContain('  2 | throw new RangeError("energy out of range: " + n);');
    expect(r.stderr).toMatch(/RangeError: energy out of range: 3/);
    expect(r.stderr).not.toMatch(/\u001b\[/); // no ANSI codes when stderr is not a terminal
    expect(r.stderr).toContain("Saved the partially executed notebook");
    const [, failed, after] = r.nb!.cells;
    expect(failed.outputs.at(-1)).toMatchObject({ output_type: "error", ename: "RangeError", evalue: "energy out of range: 3" });
    expect(after.execution_count).toBeNull();
    expect(after.outputs).toEqual([]);

    const allowed = await run("fails-allowed", nb, "--allow-errors");
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(streams(allowed.nb!.cells[2])).toBe("after\n");
  }, 120_000);

  it("merges display_id updates into the earlier output, across cells", async () => {
    const r = await run(
      "display",
      notebook([
        { source: 'display("step 1 of 3", { display_id: "progress" });' },
        { source: 'display("step 2 of 3", { display_id: "progress", update: true });\ndisplay("done", { display_id: "progress", update: true });\n"result"' },
      ]),
    );
    expect(r.code, r.stderr).toBe(0);
    const [first, second] = r.nb!.cells;
    expect(first.outputs).toHaveLength(1);
    expect(text(first.outputs[0].data["text/plain"])).toContain("done");
    expect(second.outputs.map((o: any) => o.output_type)).toEqual(["execute_result"]);
    expect(second.outputs[0].execution_count).toBe(2);
  }, 120_000);

  it("interrupts a cell that exceeds --timeout and fails the run", async () => {
    const started = Date.now();
    const r = await run(
      "timeout",
      notebook([{ source: "1" }, { source: 'console.log("waiting");\nawait new Promise((r) => setTimeout(r, 60_000));' }, { source: "2" }]),
      "--timeout", "3",
    );
    expect(r.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(r.stderr).toContain("Cell 1 (code cell 2 of 3, In [2]) timed out:");
    expect(r.stderr).toContain("CellTimeoutError: The cell did not finish within 3 s");
    const cell = r.nb!.cells[1];
    expect(streams(cell)).toBe("waiting\n");
    expect(cell.outputs.at(-1)).toMatchObject({ output_type: "error", ename: "CellTimeoutError" });
    expect(r.nb!.cells[2].execution_count).toBeNull();
  }, 120_000);

  it("saves widget state in metadata.widgets and answers input() without hanging", async () => {
    const r = await run(
      "widget",
      notebook([
        { source: 'import { widget } from "vre-ts";\nconst w = widget({ esm: "export default { render() {} }", state: { count: 0 } });\nw' },
        { source: 'w.set("count", 5);' },
        { source: 'await input("name? ")' },
      ]),
      "--allow-errors",
    );
    expect(r.code, r.stderr).toBe(0);
    const view = r.nb!.cells[0].outputs[0].data["application/vnd.jupyter.widget-view+json"];
    const state = r.nb!.metadata.widgets!["application/vnd.jupyter.widget-state+json" as never] as any;
    expect(state.version_major).toBe(2);
    expect(state.state[view.model_id]).toMatchObject({ model_name: "AnyModel", model_module: "anywidget", state: { count: 5 } });
    expect(r.nb!.cells[2].outputs.at(-1).output_type).toBe("error");
  }, 120_000);

  it("reports a kernel that dies in a cell and keeps the cell's output", async () => {
    const r = await run(
      "dies",
      notebook([{ source: 'console.log("last words");\nsetTimeout(() => process.exit(3), 100);\nawait new Promise((r) => setTimeout(r, 30_000));' }, { source: "1" }]),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Cell 0 (code cell 1 of 2, In [1]) killed the kernel:");
    expect(r.stderr).toMatch(/DeadKernelError: The kernel (exited with code 3|was killed by SIG\w+) while running this cell/);
    expect(streams(r.nb!.cells[0])).toBe("last words\n");
    expect(r.nb!.cells[1].execution_count).toBeNull();
  }, 120_000);

  it("rejects bad arguments with exit 2 and leaves no output file", async () => {
    const r = await run("bad-args", notebook([{ source: "1" }]), "-p", "not a pair");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Parameter "not a pair" is not of the form key=value.');
    expect(r.nb).toBeUndefined();
    expect((await readdir(dir)).filter((f) => f.endsWith(".part"))).toEqual([]);
  }, 60_000);
});

describe("run arguments and reports", () => {
  it("defaults the output next to the input, as nbconvert does", () => {
    expect(defaultOutput("/data/analysis.ipynb")).toBe("/data/analysis.nbconvert.ipynb");
    const args = parseRunArgs([join(ROOT, "package.json"), "--timeout", "2.5", "-p", "x=1", "-p", "y=a"]);
    expect(args).toMatchObject({ timeoutMs: 2500, output: join(ROOT, "package.nbconvert.json"), cwd: ROOT });
    expect(args !== "help" && [...args.params]).toEqual([["x", 1], ["y", "a"]]);
    expect(() => parseRunArgs([join(ROOT, "package.json"), "--timeout=0"])).toThrow(/positive number/);
    expect(() => parseRunArgs(["/no/such.ipynb"])).toThrow(/not found/);
    expect(parseRunArgs(["--help"])).toBe("help");
  });

  it("reads a YAML parameters file; -p wins", async () => {
    const file = join(dir, "params.yaml");
    await writeFile(file, "alpha: 0.5\nruns: [1, 2]\nlabel: dimuon\n");
    const args = parseRunArgs([join(ROOT, "package.json"), "-f", file, "-p", "alpha=2"]);
    expect(args !== "help" && Object.fromEntries(args.params)).toEqual({ alpha: 2, runs: [1, 2], label: "dimuon" });
    await writeFile(file, "- not a mapping\n");
    expect(() => parseRunArgs([join(ROOT, "package.json"), "-f", file])).toThrow(/must hold a mapping/);
  });

  it("redacts secrets everywhere it prints", () => {
    const r = new Redactor();
    r.add("s3cr3t-token");
    r.add("abc"); // too short to redact safely
    expect(r.apply("Authorization: s3cr3t-token; again s3cr3t-token abc")).toBe("Authorization: ***; again *** abc");
  });

  it("formats a failing cell with a numbered excerpt", () => {
    const nb = notebook([{ source: "a" }, { source: Array.from({ length: 15 }, (_, i) => `line${i + 1}`).join("\n") }]);
    nb.cells[1].execution_count = 7;
    const report = formatFailure({ kind: "error", index: 1, cell: nb.cells[1], ename: "E", evalue: "v", traceback: ["\u001b[31mE\u001b[0m: v"] }, nb, false);
    expect(report.split("\n")[0]).toBe("Cell 1 (code cell 2 of 2, In [7]) failed:");
    expect(report).toContain("  12 | line12");
    expect(report).toContain("… (3 more lines)");
    expect(report.endsWith("E: v")).toBe(true);
  });
});

describe("vre-ts run keeps the research record", () => {
  it("saves the kernel's provenance in the notebook metadata with session, versions, code digest and parameters; a re-run continues it", async () => {
    const nb = notebook([
      { source: "let min_pt = 2;\nlet api_token = 'x';", tags: ["parameters"] },
      { source: 'import { session } from "vre-ts";\nsession().provenance.record({ action: "read", kind: "did", service: "rucio", id: `open:pt${min_pt}`, checksums: { adler32: "0a0b0c0d" } });' },
    ]);
    const first = await run("record", nb, "-p", "min_pt=3", "-p", "api_token=SECRET-VALUE-123");
    expect(first.code, first.stderr).toBe(0);
    const record = first.nb!.metadata["vre-ts"].record;
    expect(first.nb!.metadata["vre-ts"].provenanceFile).toBe("record.provenance.jsonl");
    expect(record.entries).toHaveLength(1);
    expect(record.entries[0]).toMatchObject({ id: "open:pt3", checksums: { adler32: "0a0b0c0d" } });
    expect(record.sessions).toHaveLength(1);
    const s = record.sessions[0];
    expect(record.entries[0].session).toBe(s.session);
    // Secret-named parameters never reach the record.
    expect(s).toMatchObject({ notebook: "record.ipynb", codeCells: 2, parameters: { min_pt: 3 } });
    expect(s.parameters).not.toHaveProperty("api_token");
    expect(s.environment).toMatchObject({ node: expect.stringMatching(/^v\d+/), vreTs: expect.any(String), tslab: expect.any(String), typescript: expect.any(String) });
    expect(JSON.stringify(first.nb)).not.toContain("SECRET-VALUE-123");
    expect(existsSync(join(dir, "record.provenance.jsonl"))).toBe(true);

    // A second run of the same notebook is a second session of the same record.
    const second = await run("record", nb, "-p", "min_pt=4");
    expect(second.code, second.stderr).toBe(0);
    const again = second.nb!.metadata["vre-ts"].record;
    expect(again.entries.map((e: { id: string }) => e.id)).toEqual(["open:pt3", "open:pt4"]);
    expect(again.sessions).toHaveLength(2);
    expect(again.sessions[1].parameters).toEqual({ min_pt: 4 });
    expect(again.sessions[1].notebookSha256).toBe(s.notebookSha256);

    // The record travels in the notebook: without its file, the next run takes the history from the metadata.
    await rm(join(dir, "record.provenance.jsonl"));
    await writeFile(join(dir, "record-copy.ipynb"), JSON.stringify(second.nb));
    const third = await new Promise<{ code: number; nb: any }>((done) =>
      execFile(process.execPath, [CLI, "run", join(dir, "record-copy.ipynb"), "-o", join(dir, "record-copy.out.ipynb")], { env: { ...process.env, JUPYTER_PATH: privateJupyter, JUPYTER_DATA_DIR: privateJupyter }, timeout: 120_000 }, async (error) =>
        done({ code: error ? 1 : 0, nb: JSON.parse(await readFile(join(dir, "record-copy.out.ipynb"), "utf8")) }),
      ),
    );
    expect(third.code).toBe(0);
    expect(third.nb.metadata["vre-ts"].record.entries.map((e: { id: string }) => e.id)).toEqual(["open:pt3", "open:pt4", "open:pt2"]);
  }, 240_000);

  it("keeps the sessions only the notebook's metadata holds when it saves the record file's; --verify still compares with the last run", async () => {
    const nb = notebook([
      { source: "let min_pt = 2;", tags: ["parameters"] },
      { source: 'import { session } from "vre-ts";\nsession().provenance.record({ action: "read", kind: "did", service: "rucio", id: `open:pt${min_pt}`, checksums: { adler32: "0a0b0c0d" } });' },
    ]);
    const first = await run("merge", nb, "-p", "min_pt=3");
    expect(first.code, first.stderr).toBe(0);
    const a = first.nb!.metadata["vre-ts"].record;
    expect(a.sessions).toHaveLength(1);

    // JupyterLab, later, in a kernel that had no record file: the record widget saved its session into the notebook
    // only (after the sessions it found there, its entries numbered after theirs).
    const labSession = { ...a.sessions[0], session: "lab-session-without-record-file", started: new Date().toISOString(), parameters: undefined };
    const labEntry = { seq: 2, time: new Date().toISOString(), session: labSession.session, action: "read", kind: "did", service: "rucio", id: "open:from-lab" };
    const edited = { ...first.nb!, metadata: { ...first.nb!.metadata, "vre-ts": { ...first.nb!.metadata["vre-ts"], record: { ...a, sessions: [...a.sessions, labSession], entries: [...a.entries, labEntry] } } } };

    const second = await run("merge", edited, "-p", "min_pt=4");
    expect(second.code, second.stderr).toBe(0);
    const merged = second.nb!.metadata["vre-ts"].record;
    expect(merged.sessions.map((s: { session: string }) => s.session)).toEqual([a.sessions[0].session, labSession.session, expect.any(String)]);
    expect(merged.sessions[2].parameters).toEqual({ min_pt: 4 });
    expect(merged.entries.map((e: { id: string }) => e.id)).toEqual(["open:pt3", "open:from-lab", "open:pt4"]);
    expect(merged.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    // The record file keeps what the kernels wrote to it.
    expect(readFileSync(join(dir, "merge.provenance.jsonl"), "utf8")).not.toContain(labSession.session);

    // --verify reads the same merged record: the last run (min_pt=4) is what a re-run is compared with.
    await writeFile(join(dir, "merge.ipynb"), JSON.stringify(second.nb));
    const verified = await new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
      execFile(process.execPath, [CLI, "run", join(dir, "merge.ipynb"), "-o", join(dir, "merge.verify.ipynb"), "-p", "min_pt=4", "--verify"], { env: { ...process.env, JUPYTER_PATH: privateJupyter, JUPYTER_DATA_DIR: privateJupyter }, timeout: 120_000 }, (error, stdout, stderr) =>
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(verified.code, verified.stderr + verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/identical to the recorded run/);
    const after = JSON.parse(await readFile(join(dir, "merge.verify.ipynb"), "utf8")).metadata["vre-ts"].record;
    expect(after.sessions.map((s: { session: string }) => s.session).slice(0, 3)).toEqual(merged.sessions.map((s: { session: string }) => s.session));
    expect(after.entries.map((e: { id: string }) => e.id)).toEqual(["open:pt3", "open:from-lab", "open:pt4", "open:pt4"]);
  }, 360_000);
});
