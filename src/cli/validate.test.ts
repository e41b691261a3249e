/**
 * `vre-ts validate`, and the notebook runner script that the demo uses, on a machine where Python cannot check a
 * notebook: the nbformat check is done in Node, so a notebook run needs nothing beyond Node.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./validate";

const ROOT = resolve(__dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "vre-validate-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const notebook = (cells: unknown[]) => JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }, null, 1);

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

describe("vre-ts validate", () => {
  it("exits 0 for valid notebooks, 1 with the reasons for an invalid one, 2 without arguments", async () => {
    const good = join(work, "good.ipynb");
    const bad = join(work, "bad.ipynb");
    writeFileSync(good, notebook([{ cell_type: "markdown", id: "a", metadata: {}, source: "# x" }]));
    writeFileSync(bad, notebook([{ cell_type: "code", id: "a", metadata: {}, source: "", execution_count: null, outputs: [{ output_type: "stream", text: "x" }] }]));
    expect(await capture([good])).toEqual({ code: 0, out: `${good}: valid nbformat 4.5\n`, err: "" });
    const r = await capture([good, bad]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`${bad}: not valid nbformat 4.5:\n  cells/0/outputs/0: must have required property 'name'\n`);
    expect((await capture([])).code).toBe(2);
  });
});

describe("scripts/test-notebooks.sh (what `npm run demo` runs) without a usable Python", () => {
  it("runs a notebook and checks its nbformat when /usr/bin/python3 cannot import anything", () => {
    if (!existsSync(join(ROOT, "dist", "cli", "main.js"))) throw new Error("run `npm run build` first: the script runs dist/cli/main.js");
    const dir = join(work, "nb");
    const name = `no-python-${process.pid}`;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(
      join(dir, `${name}.ipynb`),
      notebook([
        { cell_type: "markdown", id: "m", metadata: {}, source: "# Nothing but Node" },
        { cell_type: "code", id: "c", metadata: {}, source: "console.log(6 * 7)", execution_count: null, outputs: [] },
      ]),
    );
    try {
      // PYTHONHOME pointing nowhere: every python3, /usr/bin/python3 included, fails to start, as if nbformat (or
      // Python itself) were missing on a fresh machine.
      const r = spawnSync("bash", ["scripts/test-notebooks.sh", join(dir, `${name}.ipynb`)], {
        cwd: ROOT,
        env: { ...process.env, PYTHONHOME: join(work, "no-python-here"), VRE_SANDBOX_DIR: join(work, "sandbox") },
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain("(valid nbformat)");
      expect(r.stdout).toContain("test-notebooks: all 1 notebooks ran");
    } finally {
      rmSync(join(ROOT, "out", `${name}.ipynb`), { force: true });
      rmSync(join(ROOT, "out", "notebooks", name), { recursive: true, force: true });
      rmSync(join(ROOT, "out", "notebooks", `${name}.sandbox`), { recursive: true, force: true });
    }
  }, 150_000);
});
