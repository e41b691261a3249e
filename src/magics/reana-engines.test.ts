import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../session";
import { reanaMagic } from "./reana";
import type { MagicSpec } from "./types";
import { bundleOf, testContext } from "./__tests__/harness";

/**
 * %reana with CWL and Snakemake workflows against the sandbox, which runs them with the real engines (cwltool,
 * snakemake): run from files in the notebook's folder, per-step logs, restart with a changed parameter, diff of
 * the two runs, and validation of the engines' specifications.
 */

let root: string;
let session: Session;
let magic: MagicSpec;
const cwd = () => path.join(root, "nb");
const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(cwd(), rel)), { recursive: true });
  fs.writeFileSync(path.join(cwd(), rel), text);
};

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-reana-engines-"));
  process.env.VRE_SANDBOX_CONTAINER_RUNTIME = "none";
  session = new Session({ sandboxDir: path.join(root, "sandbox"), env: { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json") }, notice: () => {} });
  await session.sandbox();
  magic = reanaMagic(() => session);
  write("data/events.csv", "mass\n3.1\n9.4\n91.2\n3.0\n");
  write(
    "snake/Snakefile",
    `rule all:
    input: "results/count.txt"

rule select:
    input: "data/events.csv"
    output: "results/selected.csv"
    params: cut=config["cut"]
    shell: "awk -F, 'NR > 1 && $1 > {params.cut}' {input} > {output}"

rule count:
    input: "results/selected.csv"
    output: "results/count.txt"
    shell: "wc -l < {input} > {output}; echo counted"
`,
  );
  write(
    "cwl/main.cwl",
    `cwlVersion: v1.0
class: Workflow
inputs:
  events: File
outputs:
  lines: {type: File, outputSource: count/out}
steps:
  count:
    run: count.cwl
    in: {events: events}
    out: [out]
`,
  );
  write(
    "cwl/count.cwl",
    `cwlVersion: v1.0
class: CommandLineTool
baseCommand: [wc, -l]
stdout: lines.txt
inputs:
  events: {type: File, inputBinding: {position: 1}}
outputs:
  out: {type: stdout}
`,
  );
  write("cwl/inputs.yaml", "events: {class: File, path: data/events.csv}\n");
});

afterAll(async () => {
  await session?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const SNAKE_YAML = `inputs:
  files: [data/events.csv]
  parameters:
    cut: 5
workflow:
  type: snakemake
  file: snake/Snakefile
outputs:
  files: [results/count.txt]
`;

describe("%reana with the sandbox's real engines", () => {
  let first = "";
  it("%%reana run --follow runs a Snakemake workflow: one job per rule, config from parameters", async () => {
    const final = (await magic.run("run -n selection --follow", testContext(cwd()).ctx, SNAKE_YAML)) as { name: string; status: string; progress: { finished: number; total: number } };
    expect(final.status).toBe("finished");
    expect(final.progress).toMatchObject({ finished: 2, total: 2 });
    const logs = await magic.run(`logs -w ${final.name} --step count`, testContext(cwd()).ctx);
    expect(String(bundleOf(logs)["text/plain"])).toContain("==> step count (finished");
    expect(String(bundleOf(logs)["text/plain"])).toContain("counted");
    await magic.run(`download -w ${final.name}`, testContext(cwd()).ctx);
    expect(fs.readFileSync(path.join(cwd(), "results", "count.txt"), "utf8").trim()).toBe("2");
    first = final.name;
  }, 240000);

  it("restart with a new parameter runs name.N.1 in the same workspace; diff shows the parameter and the outputs", async () => {
    const restarted = (await magic.run(`restart -w ${first} -p cut=1 --follow`, testContext(cwd()).ctx)) as { name: string; status: string };
    expect(restarted.status).toBe("finished");
    expect(restarted.name).toBe(`${first}.1`);
    const d = await magic.run(`diff ${first} ${restarted.name}`, testContext(cwd()).ctx);
    const text = String(bundleOf(d)["text/plain"]);
    expect(text).toContain("==> specification: inputs");
    expect(text).toContain("-  cut: 5");
    expect(text).toContain('+  cut: "1"'); // -p values are strings, as reana-client sends them
    // Same workspace: the restart reran the rules whose config changed (Snakemake's params trigger).
    expect(text).toContain("==> workspace\nno differences");
  }, 240000);

  it("runs a CWL workflow from its files (packed by the client, run by cwltool); validate checks CWL structure", async () => {
    write("cwl-reana.yaml", "inputs:\n  files: [data/events.csv]\n  parameters:\n    input: cwl/inputs.yaml\nworkflow:\n  type: cwl\n  file: cwl/main.cwl\noutputs:\n  files: [outputs/lines.txt]\n");
    const ok = (await magic.run("validate -f cwl-reana.yaml", testContext(cwd()).ctx)) as { valid: boolean };
    expect(ok.valid).toBe(true);
    const final = (await magic.run("run -n cwlcount -f cwl-reana.yaml --follow", testContext(cwd()).ctx)) as { name: string; status: string; progress: { total: number } };
    expect(final.status).toBe("finished");
    expect(final.progress.total).toBe(1);
    await magic.run(`download -w ${final.name} outputs/lines.txt --dir cwl-out`, testContext(cwd()).ctx);
    expect(fs.readFileSync(path.join(cwd(), "cwl-out", "outputs", "lines.txt"), "utf8")).toMatch(/^\s*5 /);

    write("cwl/broken.cwl", "cwlVersion: v1.0\nclass: Workflow\ninputs:\n  events: File\noutputs: []\nsteps:\n  count:\n    run: count.cwl\n    in: {events: evnts}\n    out: [out]\n");
    const bad = (await magic.run("validate", testContext(cwd()).ctx, "inputs:\n  parameters:\n    input: cwl/inputs.yaml\nworkflow:\n  type: cwl\n  file: cwl/broken.cwl\n")) as { valid: boolean };
    expect(bad.valid).toBe(false);
    expect(String(bundleOf(bad)["text/plain"])).toContain('CWL step "count" reads "evnts", which is neither a workflow input nor a step output.');
  }, 240000);

  it("validate also loads the files with the engines: the CWL schema (cwltool) and the Snakefile's syntax (snakemake)", async () => {
    write("cwl/typo.cwl", "cwlVersion: v1.0\nclass: CommandLineTool\nbaseComand: [wc, -l]\ninputs:\n  events: File\noutputs: []\n");
    const cwl = (await magic.run("validate", testContext(cwd()).ctx, "inputs:\n  parameters:\n    input: cwl/inputs.yaml\nworkflow:\n  type: cwl\n  file: cwl/typo.cwl\n")) as { valid: boolean; errors: { code: string; message: string }[] };
    expect(cwl.valid).toBe(false);
    expect(cwl.errors.find((e) => e.code === "cwl.schema")?.message).toMatch(/invalid field `baseComand`/);

    write("snake/Broken", 'rule count:\n    output: "n.txt"\n    shel: "echo 1 > {output}"\n');
    const smk = (await magic.run("validate", testContext(cwd()).ctx, "inputs:\n  parameters: {}\nworkflow:\n  type: snakemake\n  file: snake/Broken\n")) as { valid: boolean; errors: { code: string; message: string }[] };
    expect(smk.valid).toBe(false);
    expect(smk.errors.find((e) => e.code === "snakemake.syntax")?.message).toContain("Unexpected keyword shel in rule definition");
    expect(fs.existsSync(path.join(cwd(), "snake", ".snakemake"))).toBe(false);
  }, 240000);
});
