import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReanaSpecError } from "./errors";
import { loadReanaSpec, parseReanaSpec } from "./spec";
import { assertValid, validateReanaSpec, type ValidationReport } from "./validate";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "reana-spec-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(dir, name);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, text);
  return f;
}

const messages = (r: ValidationReport, kind: "errors" | "warnings" = "errors") => r[kind].map((i) => i.message);

const HELLO = `# reana-demo-helloworld
version: 0.9.0
inputs:
  files:
    - code/helloworld.py
    - data/names.txt
  parameters:
    helloworld: code/helloworld.py
    inputfile: data/names.txt
    outputfile: results/greetings.txt
    sleeptime: 0
workflow:
  type: serial
  specification:
    steps:
      - name: greet
        environment: 'docker.io/library/python:3.10-bullseye'
        kubernetes_memory_limit: '256Mi'
        commands:
          - python "\${helloworld}"
              --inputfile "\${inputfile}"
              --outputfile "\${outputfile}"
              --sleeptime \${sleeptime}
outputs:
  files:
    - results/greetings.txt
`;

describe("serial reana.yaml", () => {
  it("accepts the hello-world example with no warnings", () => {
    const r = validateReanaSpec(parseReanaSpec(HELLO), { workflowName: "helloworld" });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.valid).toBe(true);
  });

  it("reports every problem with its line and column", () => {
    const text = `inputs:
  parameters:
    events: 1000
    unused: x
workflow:
  type: serial
  specification:
    steps:
      - name: skim
        commands:
          - skim --n $events --out $HOME/out.root
      - name: fit
        environment: reanahub/reana-env-root6:6.18.04
        kubernetes_memory_limit: 2Gb
        kubernetes_uid: "500"
        commands: []
`;
    const r = validateReanaSpec(parseReanaSpec(text, { file: "/x/reana.yaml" }));
    expect(r.valid).toBe(false);
    const byPath = Object.fromEntries(r.errors.map((e) => [e.path, e]));
    expect(byPath["workflow.specification.steps[0].environment"].message).toBe("workflow.specification.steps[0].environment: required");
    expect(byPath["workflow.specification.steps[0].environment"].position).toMatchObject({ line: 9 });
    expect(byPath["workflow.specification.steps[0].commands[0]"].message).toMatch(/Workflow parameter\(s\) could not be expanded.*'HOME'/);
    expect(byPath["workflow.specification.steps[0].commands[0]"].position).toMatchObject({ line: 11, column: 13 });
    expect(byPath["workflow.specification.steps[1].kubernetes_memory_limit"].message).toMatch(/Kubernetes memory quantity/);
    expect(byPath["workflow.specification.steps[1].kubernetes_memory_limit"].position).toMatchObject({ line: 14 });
    expect(byPath["workflow.specification.steps[1].kubernetes_uid"].message).toMatch(/integer/);
    expect(byPath["workflow.specification.steps[1].commands"].message).toMatch(/at least 1 item/);
    expect(messages(r, "warnings")).toContain('REANA input parameter "unused" does not seem to be used.');
    expect(() => assertValid(r)).toThrow(ReanaSpecError);
    try {
      assertValid(r);
    } catch (e) {
      expect((e as ReanaSpecError).code).toBe("REANA_SPEC_INVALID");
      expect((e as Error).message).toContain("reana.yaml:11:13");
    }
  });

  it.each([
    ["2Gi", true],
    ["1.5G", true],
    ["4096", true],
    ["512Mi", true],
    ["lots", false],
    ["2Gb", false],
  ])("memory limit %s valid=%s", (limit, ok) => {
    const text = `inputs: {}\nworkflow:\n  type: serial\n  specification:\n    steps:\n      - environment: img\n        kubernetes_memory_limit: '${limit}'\n        commands: [echo hi]\n`;
    expect(validateReanaSpec(parseReanaSpec(text)).valid).toBe(ok);
  });

  it("treats unknown properties as warnings, as reana-commons does", () => {
    const text = `inputs: {}\nworkflow:\n  type: serial\n  colour: blue\n  specification:\n    steps:\n      - environment: img\n        commnds: [x]\n        commands: [echo hi]\nextra: 1\n`;
    const r = validateReanaSpec(parseReanaSpec(text));
    expect(r.valid).toBe(true);
    expect(r.warnings.map((w) => w.path).sort()).toEqual(["extra", "workflow.colour", "workflow.specification.steps[0].commnds"]);
    expect(r.warnings.find((w) => w.path === "extra")?.position).toMatchObject({ line: 10 });
  });

  it("checks the workflow type and source", () => {
    expect(messages(validateReanaSpec(parseReanaSpec("inputs: {}\nworkflow:\n  type: nextflow\n  file: main.nf\n")))).toEqual([
      'workflow.type: must be one of "cwl", "serial", "yadage", "snakemake"',
    ]);
    expect(messages(validateReanaSpec(parseReanaSpec("inputs: {}\nworkflow:\n  type: serial\n")))).toEqual(["workflow: needs `type` and either `file` or `specification`"]);
    expect(messages(validateReanaSpec(parseReanaSpec("inputs: {}\n")))).toEqual(["workflow: required"]);
  });

  it("applies reana-client's extra checks: name, dangerous operations, missing inputs, operational options", () => {
    const text = `workflow:\n  type: serial\n  specification:\n    steps:\n      - name: clean\n        environment: img\n        commands: ["sudo rm -rf build", "cd / && ls"]\n`;
    const r = validateReanaSpec(parseReanaSpec(text), { workflowName: "ana.v2" });
    expect(messages(r)).toEqual([expect.stringContaining('Workflow name "ana.v2" contains a "."')]);
    expect(messages(r, "warnings")).toEqual([
      'Workflow "inputs" are missing in the REANA specification.',
      'Operation "sudo" found in step "clean" might be dangerous.',
      'Operation "cd /" found in step "clean" might be dangerous.',
    ]);
    const withOptions = parseReanaSpec(`inputs:\n  options:\n    TARGET: fit\n    toplevel: x\n    bogus: 1\nworkflow:\n  type: serial\n  specification:\n    steps: [{environment: i, commands: [a]}]\n`);
    expect(messages(validateReanaSpec(withOptions))).toEqual(['Operational option "toplevel" not supported for serial workflows.', 'Operational option "bogus" not supported.']);
  });

  it("loads a serial specification from workflow.file and points errors into that file", () => {
    write("workflow/serial.yaml", "steps:\n  - name: a\n    environment: img\n    commands:\n      - echo $who\n  - name: b\n    commands: [ls]\n");
    const f = write("reana.yaml", "inputs:\n  parameters:\n    who: world\nworkflow:\n  type: serial\n  file: workflow/serial.yaml\n");
    const loaded = loadReanaSpec(f);
    expect(loaded.specification.workflow.specification).toMatchObject({ steps: [{ name: "a" }, { name: "b" }] });
    const r = validateReanaSpec(loaded);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0].path).toBe("workflow.specification.steps[1].environment");
    expect(r.errors[0].position).toMatchObject({ file: path.join(dir, "workflow/serial.yaml"), line: 6 });
  });

  it("gives a clear error for bad YAML and missing files", () => {
    expect(() => parseReanaSpec("workflow:\n  type: serial\n   file: x\n")).toThrow(/reana\.yaml:\d+:\d+: not valid YAML/);
    const f = write("reana.yaml", "workflow:\n  type: serial\n  file: nowhere.yaml\n");
    try {
      loadReanaSpec(f);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ReanaSpecError);
      expect((e as ReanaSpecError).code).toBe("REANA_SPEC_FORMAT");
      expect((e as Error).message).toContain("does not exist");
      expect((e as ReanaSpecError).position).toMatchObject({ line: 3 });
    }
    expect(() => loadReanaSpec(path.join(dir, "missing.yaml"))).toThrow(/does not exist/);
  });

  it("parses YAML 1.1 like PyYAML (on/off/yes/no are booleans)", () => {
    const loaded = parseReanaSpec("inputs:\n  parameters:\n    verbose: yes\nworkflow:\n  type: serial\n  specification:\n    steps: [{environment: i, commands: ['run $verbose']}]\n");
    expect(loaded.specification.inputs?.parameters?.verbose).toBe(true);
  });
});

describe("CWL reana.yaml", () => {
  it("packs the tools that steps run into a $graph with #main", () => {
    write(
      "workflow/cwl/helloworld.cwl",
      `cwlVersion: v1.0
class: Workflow
inputs:
  helloworld: File
outputs: []
steps:
  first:
    run: helloworld.tool
    in: {helloworld: helloworld}
    out: [result]
`,
    );
    write("workflow/cwl/helloworld.tool", `cwlVersion: v1.0\nclass: CommandLineTool\nbaseCommand: "sudo python"\ninputs: []\noutputs: []\n`);
    write("workflow/cwl/inputs.yaml", "helloworld:\n  class: File\n  location: code/helloworld.py\n");
    write("code/helloworld.py", "print('hello')\n");
    const f = write(
      "reana.yaml",
      `inputs:
  files: [code/helloworld.py]
  parameters:
    input: workflow/cwl/inputs.yaml
workflow:
  type: cwl
  file: workflow/cwl/helloworld.cwl
`,
    );
    const loaded = loadReanaSpec(f);
    const spec = loaded.specification.workflow.specification as { cwlVersion: string; $graph: { id: string; class: string; steps?: unknown }[] };
    expect(spec.cwlVersion).toBe("v1.0");
    expect(spec.$graph.map((g) => g.id)).toEqual(["#main", "#helloworld.tool"]);
    expect(spec.$graph[0].steps).toMatchObject({ first: { run: "#helloworld.tool" } });
    // The parameter file becomes inputs.parameters, as reana-client does for CWL.
    expect(loaded.specification.inputs?.parameters).toEqual({ helloworld: { class: "File", location: "code/helloworld.py" } });
    expect(loaded.workflowFile?.files.map((x) => path.basename(x))).toEqual(["helloworld.cwl", "helloworld.tool"]);
    const r = validateReanaSpec(loaded);
    expect(r.valid).toBe(true);
    expect(messages(r, "warnings")).toEqual(['Operation "sudo" found in step "#helloworld.tool" might be dangerous.']);
  });

  it("reports a missing tool file", () => {
    write("main.cwl", "cwlVersion: v1.2\nclass: Workflow\nsteps:\n  - id: s\n    run: missing.cwl\n");
    const f = write("reana.yaml", "workflow:\n  type: cwl\n  file: main.cwl\n");
    expect(() => loadReanaSpec(f)).toThrow(/missing\.cwl does not exist/);
  });
});

describe("Yadage reana.yaml", () => {
  it("inlines $ref'd steps and checks parameters", () => {
    write(
      "workflow/yadage/steps.yaml",
      `fitting:
  process:
    process_type: interpolated-script-cmd
    script: |
      python fit.py --data {data} --out {result}
  environment:
    environment_type: docker-encapsulated
    image: reanahub/reana-env-root6
  publisher:
    publisher_type: interpolated-pub
    publish:
      result: '{result}'
`,
    );
    write(
      "workflow/yadage/workflow.yaml",
      `stages:
  - name: fit
    dependencies: [init]
    scheduler:
      scheduler_type: singlestep-stage
      parameters:
        - {key: data, value: {step: init, output: data}}
        - {key: result, value: '{workdir}/fit.root'}
      step: {$ref: 'steps.yaml#/fitting'}
`,
    );
    const f = write("reana.yaml", "inputs:\n  parameters:\n    data: data.root\n    spare: 1\nworkflow:\n  type: yadage\n  file: workflow/yadage/workflow.yaml\n");
    const loaded = loadReanaSpec(f);
    const stage = (loaded.specification.workflow.specification as { stages: { scheduler: { step: { process: { script: string } } } }[] }).stages[0];
    expect(stage.scheduler.step.process.script).toContain("fit.py");
    const r = validateReanaSpec(loaded);
    expect(r.valid).toBe(true);
    expect(messages(r, "warnings")).toContain('REANA input parameter "spare" does not seem to be used.');
    expect(messages(r, "warnings").some((m) => /"data"/.test(m))).toBe(false);
  });

  it("reports an unresolvable reference", () => {
    write("wf.yaml", "stages:\n  - name: a\n    scheduler: {$ref: 'other.yaml#/nothing'}\n");
    write("other.yaml", "something: 1\n");
    const f = write("reana.yaml", "workflow:\n  type: yadage\n  file: wf.yaml\n");
    expect(() => loadReanaSpec(f)).toThrow(/#\/nothing not found/);
  });
});

describe("Snakemake reana.yaml", () => {
  const SNAKEFILE = `configfile: "config.yaml"

rule all:
    input:
        "results/plot.png"

rule skim:
    input:
        data=config["input"],
        code="code/skim.py"
    output:
        "results/skimmed.root"
    params:
        events=config["events"]
    resources:
        kubernetes_memory_limit="1Gi",
        compute_backend="kubernetes"
    container:
        "docker://reanahub/reana-env-root6:6.18.04"
    shell:
        "python {input.code} --in {input.data} --n {params.events} "
        "--out {output}"

rule plot:
    input:
        "results/skimmed.root"
    output:
        "results/plot.png"
    container:
        "docker://python:3.10"
    shell:
        """
        sudo python code/plot.py {input} {output}
        """
`;

  it("reads rules, images, commands and dependencies from the Snakefile", () => {
    write("workflow/snakemake/Snakefile", SNAKEFILE);
    write("workflow/snakemake/inputs.yaml", "input: data/events.root\nevents: 5000\n");
    write("code/skim.py", "print('skim')\n");
    const f = write("reana.yaml", "inputs:\n  parameters:\n    input: workflow/snakemake/inputs.yaml\n    extra: 1\nworkflow:\n  type: snakemake\n  file: workflow/snakemake/Snakefile\n");
    const loaded = loadReanaSpec(f);
    const spec = loaded.specification.workflow.specification as { steps: Record<string, unknown>[]; job_dependencies: Record<string, string[]> };
    expect(spec.steps.map((s) => s.name)).toEqual(["skim", "plot"]);
    expect(spec.steps[0]).toMatchObject({
      environment: "reanahub/reana-env-root6:6.18.04",
      inputs: { data: 'config["input"]', code: "code/skim.py" },
      outputs: { "0": "results/skimmed.root" },
      commands: ["python {input.code} --in {input.data} --n {params.events} --out {output}"],
      compute_backend: "kubernetes",
      kubernetes_memory_limit: "1Gi",
    });
    expect(spec.job_dependencies).toEqual({ all: ["plot"], skim: [], plot: ["skim"] });
    // Parameters: the file's values plus direct ones (the `input` key names the file).
    expect(loaded.specification.inputs?.parameters).toEqual({ input: "data/events.root", events: 5000, extra: 1 });
    const r = validateReanaSpec(loaded);
    expect(r.valid).toBe(true);
    expect(messages(r, "warnings")).toEqual([
      'Operation "sudo" found in step "plot" might be dangerous.',
      'REANA input parameter "extra" does not seem to be used.',
      "code/skim.py is read by the workflow but is not in inputs.files or inputs.directories, so it is not uploaded.",
    ]);
  });
});

describe("CWL and Snakemake structure and referenced files", () => {
  it("reports dangling CWL sources, unknown run targets, missing required inputs and missing input files", () => {
    write("bad/main.cwl", `cwlVersion: v1.0
class: Workflow
inputs:
  events: int
  data: File
outputs:
  out: {type: File, outputSource: fit/result}
steps:
  fit:
    run: fit.cwl
    in: {x: skim/out, data: data}
    out: [plot]
`);
    write("bad/fit.cwl", "cwlVersion: v1.0\nclass: CommandLineTool\nbaseCommand: echo\ninputs: []\noutputs: []\n");
    write("bad/inputs.yaml", "data: {class: File, path: data/events.csv}\n");
    const f = write("bad/reana.yaml", "inputs:\n  parameters:\n    input: inputs.yaml\nworkflow:\n  type: cwl\n  file: main.cwl\n");
    const r = validateReanaSpec(loadReanaSpec(f));
    expect(r.valid).toBe(false);
    expect(messages(r, "errors")).toEqual([
      'CWL step "fit" reads "skim/out", which is neither a workflow input nor a step output.',
      'CWL output "out" comes from "fit/result", which does not exist.',
      'CWL input "events" is required but has no value in inputs.parameters.',
      `data/events.csv is read by the workflow but does not exist (relative to ${path.dirname(f)}).`,
    ]);
  });

  it("warns about Snakemake input files that no rule produces and that are not uploaded", () => {
    write("smk/Snakefile", 'rule all:\n    input: "out.txt"\n\nrule count:\n    input: "data/events.csv"\n    output: "out.txt"\n    shell: "wc -l {input} > {output}"\n');
    write("smk/data/events.csv", "a\n");
    const f = write("smk/reana.yaml", "workflow:\n  type: snakemake\n  file: Snakefile\ninputs:\n  parameters: {}\n");
    const r = validateReanaSpec(loadReanaSpec(f));
    expect(r.valid).toBe(true);
    expect(messages(r, "warnings")).toContain(
      "data/events.csv is read by the workflow but is not in inputs.files or inputs.directories, so it is not uploaded.",
    );
    const ok = write("smk/reana2.yaml", "workflow:\n  type: snakemake\n  file: Snakefile\ninputs:\n  directories: [data]\n  parameters: {}\n");
    expect(messages(validateReanaSpec(loadReanaSpec(ok)), "warnings")).not.toContain(
      "data/events.csv is read by the workflow but is not in inputs.files or inputs.directories, so it is not uploaded.",
    );
  });
});
