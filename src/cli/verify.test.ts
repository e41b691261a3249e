/**
 * The research record end to end through the built CLI and the real kernel, against the embedded sandbox: a notebook
 * that downloads a DID, runs a REANA workflow on it and fetches its output; `%vre crate` and `vre-ts crate` write a
 * conforming RO-Crate; `vre-ts run --verify` passes on a clean re-run and reports a changed input file, a changed
 * reana.yaml and a changed parameter precisely (exit 4). (Needs `npm run build`.)
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRunCrate } from "../session/crate-profile";

const ROOT = resolve(__dirname, "../..");
const CLI = join(ROOT, "dist", "cli", "main.js");
const dir = mkdtempSync(join(tmpdir(), "vre-ts-verify-"));
const nbDir = join(dir, "nb");
const notebook = join(nbDir, "count.ipynb");
const env = { ...process.env, JUPYTER_PATH: join(dir, "jupyter"), JUPYTER_DATA_DIR: join(dir, "jupyter"), VRE_SANDBOX_DIR: join(dir, "sandbox") };

const REANA_YAML = `version: 0.9.0
inputs:
  files: [code/count.sh, data/dimuon_run001.csv]
  parameters:
    bins: 10
workflow:
  type: serial
  specification:
    steps:
      - name: count
        environment: docker.io/library/bash:5.2
        commands:
          - mkdir -p results
          - bash code/count.sh data/dimuon_run001.csv \${bins} > results/count.txt
outputs:
  files: [results/count.txt]
`;
const COUNT_SH = 'echo "lines $(wc -l < "$1") bins $2"\n';

const cell = (source: string, tags?: string[]) => ({ cell_type: "code", source, metadata: tags ? { tags } : {}, outputs: [], execution_count: null });

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before these tests`);
  mkdirSync(join(nbDir, "wf", "code"), { recursive: true });
  writeFileSync(join(nbDir, "wf", "reana.yaml"), REANA_YAML);
  writeFileSync(join(nbDir, "wf", "code", "count.sh"), COUNT_SH);
  writeFileSync(
    notebook,
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        { cell_type: "markdown", source: "# Counting dimuons\n\nA small analysis with a full record.", metadata: {} },
        cell("let bins = 10;", ["parameters"]),
        cell("%rucio download open:dimuon_run001.csv --dir wf/data --no-scope-dir"),
        cell("%cd wf\n%reana run -n counting -f reana.yaml -p bins={bins} --follow"),
        cell("%reana download -w counting\n%cd .."),
        cell("const crate = %vre crate\ncrate.problems"),
      ],
    }),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(process.execPath, [CLI, ...args], { env, timeout: 240_000 }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

const out = (name: string) => join(dir, `${name}.ipynb`);
interface Report {
  identical: boolean;
  differences: Array<{ what: string; item: string; recorded?: string; now?: string }>;
}

describe("the research record through vre-ts run", () => {
  it("records the run, writes a conforming crate, and a clean re-run verifies", async () => {
    const first = await cli("run", notebook, "-o", out("baseline"));
    expect(first.code, first.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(out("baseline"), "utf8"));
    const record = saved.metadata["vre-ts"].record;
    const run = record.entries.find((e: { via?: string }) => e.via === "%reana run");
    expect(run.details.inputs.map((i: { path: string }) => i.path).sort()).toEqual(["code/count.sh", "data/dimuon_run001.csv", "reana.yaml"]);
    expect(record.entries.find((e: { via?: string }) => e.via === "%reana follow").details.status).toBe("finished");

    // %vre crate wrote the crate next to the notebook and it conforms; `vre-ts crate` does the same from the file.
    const crateFile = join(nbDir, "ro-crate-metadata.json");
    expect(checkRunCrate(JSON.parse(readFileSync(crateFile, "utf8")))).toEqual([]);
    const fromCli = await cli("crate", notebook, "-o", join(dir, "crate"));
    expect(fromCli.code, fromCli.stderr).toBe(0);
    expect(fromCli.stderr).toMatch(/conforms to RO-Crate 1\.1/);
    const crate = JSON.parse(readFileSync(join(dir, "crate", "ro-crate-metadata.json"), "utf8"));
    expect(checkRunCrate(crate)).toEqual([]);
    mkdirSync(join(dir, "baseline-crate"));
    cpSync(crateFile, join(dir, "baseline-crate", "ro-crate-metadata.json"));

    const again = await cli("run", notebook, "-o", out("again"), "--verify", "--against", out("baseline"));
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(again.stdout).toMatch(/identical to the recorded run/);
    // ... and against the crate, as JSON
    const viaCrate = await cli("run", notebook, "-o", out("again2"), "--verify", "--against", join(dir, "baseline-crate"), "--json");
    expect(viaCrate.code, viaCrate.stderr + viaCrate.stdout).toBe(0);
    expect((JSON.parse(viaCrate.stdout) as Report).identical).toBe(true);
  }, 600_000);

  it("reports a changed input file, a changed reana.yaml and a changed parameter precisely, exit 4", async () => {
    const verify = async (name: string, ...extra: string[]) => {
      const r = await cli("run", notebook, "-o", out(name), "--verify", "--against", out("baseline"), "--json", ...extra);
      expect(r.code, r.stderr).toBe(4);
      return (JSON.parse(r.stdout) as Report).differences;
    };
    const items = (d: Report["differences"]) => d.map((x) => `${x.what} | ${x.item}`);

    writeFileSync(join(nbDir, "wf", "code", "count.sh"), `# counts lines\n${COUNT_SH}`);
    const input = await verify("changed-input");
    writeFileSync(join(nbDir, "wf", "code", "count.sh"), COUNT_SH);
    expect(items(input)).toEqual(["workflow input | counting: code/count.sh"]);
    expect(input[0].recorded).toMatch(/^[0-9a-f]{64}$/);
    expect(input[0].now).toMatch(/^[0-9a-f]{64}$/);
    expect(input[0].now).not.toBe(input[0].recorded);

    writeFileSync(join(nbDir, "wf", "reana.yaml"), REANA_YAML.replace("> results/count.txt", "| tee results/count.txt"));
    const spec = await verify("changed-spec");
    writeFileSync(join(nbDir, "wf", "reana.yaml"), REANA_YAML);
    expect(items(spec)).toEqual(["workflow specification | counting: reana.yaml (sha256 of the specification)", "workflow input | counting: reana.yaml"]);

    const param = await verify("changed-parameter", "-p", "bins=20");
    expect(param).toEqual([
      { what: "parameter", item: "bins", now: "20" },
      { what: "workflow parameter", item: "counting: bins", recorded: "10", now: "20" },
      expect.objectContaining({ what: "workflow output", item: "counting: results/count.txt" }),
    ]);

    // The table form names the same differences.
    const table = await cli("run", notebook, "-o", out("table"), "--verify", "--against", out("baseline"), "-p", "bins=20");
    expect(table.code).toBe(4);
    expect(table.stdout).toMatch(/3 differences from the recorded run/);
    expect(table.stdout).toMatch(/workflow parameter\s+counting: bins\s+10\s+20/);
  }, 600_000);

  it("refuses to verify without a record, and --against without --verify", async () => {
    const bare = join(dir, "bare.ipynb");
    writeFileSync(bare, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [cell("1 + 1")] }));
    const r = await cli("run", bare, "--verify");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no recorded run to verify against/);
    const wrong = await cli("run", bare, "--against", notebook);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--against goes with --verify/);
  }, 120_000);
});
