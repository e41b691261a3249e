/**
 * Kernel level: the shipped example notebook runs green through the real kernel over ZeroMQ with `vre-ts run`
 * (on a fresh embedded sandbox), its outputs show what each magic promises, and no secret is saved in it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "cli", "main.js");
const NOTEBOOK = path.join(ROOT, "notebooks", "examples", "magics-tour.ipynb");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "vre-tour-"));

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
}

const text = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join("") : (v ?? ""));
const src = (c: Cell) => text(c.source);

describe.skipIf(!fs.existsSync(CLI))("notebooks/examples/magics-tour.ipynb", () => {
  it("runs green with vre-ts run and shows every step's result", () => {
    const nbDir = path.join(work, "nb");
    fs.mkdirSync(nbDir);
    fs.copyFileSync(NOTEBOOK, path.join(nbDir, "tour.ipynb"));
    const out = path.join(nbDir, "tour.out.ipynb");
    const env = { ...process.env, XDG_DATA_HOME: path.join(work, "data"), VRE_SANDBOX_CONTAINER_RUNTIME: "none", HOME: work };
    const r = spawnSync(process.execPath, [CLI, "run", path.join(nbDir, "tour.ipynb"), "-o", out, "--timeout", "240"], { env, encoding: "utf8", timeout: 600_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);

    const nb = JSON.parse(fs.readFileSync(out, "utf8")) as { cells: Cell[] };
    const code = nb.cells.filter((c) => c.cell_type === "code");
    for (const c of code) expect(c.outputs!.filter((o) => o.output_type === "error"), src(c)).toEqual([]);
    const find = (start: string) => code.find((c) => src(c).startsWith(start))!;
    const results = (c: Cell) => c.outputs!.filter((o) => o.output_type === "execute_result" || o.output_type === "display_data");

    const status = results(find("%vre status"))[0];
    expect(text(status.data!["text/html"])).toContain("<table");
    for (const s of ["rucio", "reana", "zenodo"]) expect(text(status.data!["text/plain"])).toMatch(new RegExp(`${s}\\s+sandbox`));
    expect(text(find("%rucio list-dids open:dimuon*").outputs!.at(-1)!.data!["text/plain"])).toContain("open:dimuon-sim.v1");
    const download = results(find("const files = %rucio download"));
    expect(text(download[0].data!["text/plain"])).toMatch(/✔ Downloading open:dimuon-sim.v1: done/);
    expect(fs.existsSync(path.join(nbDir, "data", "dimuon_run001.csv"))).toBe(true);
    const run = results(find("%%reana run"));
    expect(text(run.at(-1)!.data!["text/plain"])).toMatch(/status\s+finished/);
    expect(fs.existsSync(path.join(nbDir, "results", "mass_histogram.csv"))).toBe(true);
    const deposit = results(find("%%zenodo deposit"));
    expect(text(deposit.at(-1)!.data!["text/plain"])).toMatch(/DOI: 10\.5072\//);
    const doi = text(results(code.at(-1)!)[0].data!["text/plain"]);
    expect(doi).toMatch(/10\.5072\/zenodo\.\d+/);
    expect(text(results(find("%vre provenance"))[0].data!["text/plain"])).toMatch(/publish\s+zenodo/);

    // No credential of the sandbox ends up in the saved notebook.
    const saved = fs.readFileSync(out, "utf8");
    const creds = JSON.stringify(JSON.parse(fs.readFileSync(path.join(work, "data", "vre-ts", "sandbox", "credentials.json"), "utf8")));
    const secrets = [...creds.matchAll(/"(?:password|access_token|token)":"([^"]+)"/g)].map((m) => m[1]);
    expect(secrets.length).toBeGreaterThanOrEqual(3);
    for (const s of secrets) expect(saved.includes(s)).toBe(false);
  }, 660_000);
});
