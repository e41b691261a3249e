/**
 * CWL and Snakemake checks that reana-client gets from loading the workflow with the engine's own tools
 * (`cwltool --pack`, Snakemake's DAG): the document's structure (CWL version and class, every step's `run`, every
 * `source`/`outputSource` pointing at a workflow input or a step output, required inputs given), and the files the
 * run will read: CWL `File`/`Directory` parameters and Snakemake input files that no rule produces must exist
 * locally and be uploaded (listed in `inputs.files` / `inputs.directories`), or the run fails on the server.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";

type Json = Record<string, unknown>;
export type AddIssue = (severity: "error" | "warning", code: string, at: (string | number)[], message: string) => void;

const CWL_CLASSES = new Set(["Workflow", "CommandLineTool", "ExpressionTool", "Operation"]);

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `#main/generate/out`, `generate/out`, `file.cwl#x` → `generate/out` relative to the process. */
function localId(id: string, processId: string): string {
  let s = id.includes("#") ? id.slice(id.indexOf("#") + 1) : id;
  const prefix = processId.replace(/^#/, "");
  if (prefix && s.startsWith(`${prefix}/`)) s = s.slice(prefix.length + 1);
  return s;
}

/** CWL lists given as arrays of `{id}` or as maps keyed by id. */
function entries(value: unknown): { id: string; value: Json }[] {
  if (Array.isArray(value)) return value.filter(isObject).map((v) => ({ id: String(v.id ?? ""), value: v }));
  if (isObject(value)) return Object.entries(value).map(([id, v]) => ({ id, value: isObject(v) ? v : { type: v } }));
  return [];
}

function isOptionalType(type: unknown): boolean {
  if (typeof type === "string") return type.endsWith("?") || type === "null" || type === "Any";
  if (Array.isArray(type)) return type.includes("null");
  return false;
}

/** Workspace paths the run will have: `inputs.files` and everything under `inputs.directories`. */
function uploaded(inputs: Json): (p: string) => boolean {
  const files = (Array.isArray(inputs.files) ? inputs.files : []).map((f) => path.posix.normalize(String(f)));
  const dirs = (Array.isArray(inputs.directories) ? inputs.directories : []).map((d) => path.posix.normalize(String(d)).replace(/\/$/, ""));
  return (p) => {
    const n = path.posix.normalize(p);
    return files.includes(n) || dirs.some((d) => d === "." || n === d || n.startsWith(`${d}/`));
  };
}

function fileParameters(value: unknown, at: (string | number)[], out: { path: string; at: (string | number)[] }[]): void {
  if (Array.isArray(value)) value.forEach((v, i) => fileParameters(v, [...at, i], out));
  if (!isObject(value)) return;
  if (value.class === "File" || value.class === "Directory") {
    const ref = typeof value.path === "string" ? value.path : typeof value.location === "string" ? value.location : undefined;
    if (ref !== undefined && !/^[a-z][a-z0-9+.-]*:/i.test(ref) && !path.isAbsolute(ref)) out.push({ path: ref, at });
    return;
  }
  for (const [k, v] of Object.entries(value)) fileParameters(v, [...at, k], out);
}

export function checkCwlWorkflow(specification: Json, inputs: Json, baseDir: string | undefined, add: AddIssue): void {
  const at = ["workflow", "specification"];
  const graph = Array.isArray(specification.$graph) ? specification.$graph.filter(isObject) : [specification];
  if (typeof specification.cwlVersion !== "string") {
    add("error", "cwl.version", at, "The CWL document has no cwlVersion (e.g. cwlVersion: v1.0).");
  }
  const ids = new Map(graph.map((p) => [String(p.id ?? "").replace(/^#/, "").split("#").pop()!, p]));
  const main = graph.find((p) => typeof p.id === "string" && /(^|#)main$/.test(p.id)) ?? graph[0];
  if (!main || !CWL_CLASSES.has(String(main.class))) {
    add("error", "cwl.class", at, `The main CWL process must have class Workflow or CommandLineTool (found ${String(main?.class ?? "none")}).`);
    return;
  }
  const mainId = String(main.id ?? "");
  const mainInputs = entries(main.inputs).map((e) => ({ ...e, id: localId(e.id, mainId) }));
  if (main.class === "Workflow") {
    const steps = entries(main.steps).map((e) => ({ ...e, id: localId(e.id, mainId) }));
    if (steps.length === 0) add("error", "cwl.steps", at, "The CWL workflow has no steps.");
    const stepOutputs = new Map<string, Set<string>>();
    for (const s of steps) {
      const outs = (Array.isArray(s.value.out) ? s.value.out : []).map((o) => (isObject(o) ? String(o.id ?? "") : String(o)));
      stepOutputs.set(s.id, new Set(outs.map((o) => localId(o, mainId).split("/").pop()!)));
    }
    const known = (source: string) => {
      const id = localId(source, mainId);
      if (mainInputs.some((i) => i.id === id)) return true;
      const [step, out] = id.split("/");
      return out !== undefined && stepOutputs.get(step!)?.has(out) === true;
    };
    for (const s of steps) {
      const where = [...at, "steps", s.id];
      const run = s.value.run;
      if (run === undefined) add("error", "cwl.run", where, `CWL step "${s.id}" has no "run".`);
      else if (typeof run === "string" && run.startsWith("#") && !ids.has(run.slice(1))) {
        add("error", "cwl.run", where, `CWL step "${s.id}" runs ${run}, which is not in the packed workflow.`);
      }
      for (const input of entries(s.value.in)) {
        const raw = isObject(input.value) ? (input.value.source ?? (typeof input.value.type === "string" ? input.value.type : undefined)) : undefined;
        for (const src of Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) {
          if (typeof src === "string" && !known(src)) {
            add("error", "cwl.source", where, `CWL step "${s.id}" reads "${localId(src, mainId)}", which is neither a workflow input nor a step output.`);
          }
        }
      }
    }
    for (const output of entries(main.outputs)) {
      const src = output.value.outputSource;
      for (const one of Array.isArray(src) ? src : src === undefined ? [] : [src]) {
        if (typeof one === "string" && !known(one)) {
          add("error", "cwl.source", [...at, "outputs"], `CWL output "${localId(output.id, mainId)}" comes from "${localId(one, mainId)}", which does not exist.`);
        }
      }
    }
  }
  const parameters = isObject(inputs.parameters) ? inputs.parameters : {};
  for (const input of mainInputs) {
    if (input.id in parameters || "default" in input.value || isOptionalType(input.value.type)) continue;
    add("error", "parameter.missing", ["inputs", "parameters"], `CWL input "${input.id}" is required but has no value in inputs.parameters.`);
  }
  checkReferencedFiles(fileParametersOf(parameters), inputs, baseDir, add);
}

function fileParametersOf(parameters: Json): { path: string; at: (string | number)[] }[] {
  const out: { path: string; at: (string | number)[] }[] = [];
  fileParameters(parameters, ["inputs", "parameters"], out);
  return out;
}

function checkReferencedFiles(files: { path: string; at: (string | number)[] }[], inputs: Json, baseDir: string | undefined, add: AddIssue): void {
  const isUploaded = uploaded(inputs);
  for (const f of files) {
    if (baseDir !== undefined && !existsSync(path.resolve(baseDir, f.path))) {
      add("error", "input.missing-file", f.at, `${f.path} is read by the workflow but does not exist (relative to ${baseDir}).`);
    } else if (!isUploaded(f.path)) {
      add("warning", "input.not-uploaded", f.at, `${f.path} is read by the workflow but is not in inputs.files or inputs.directories, so it is not uploaded.`);
    }
  }
}

export function checkSnakemakeWorkflow(specification: Json, inputs: Json, baseDir: string | undefined, add: AddIssue): void {
  const at = ["workflow", "specification"];
  const steps = Array.isArray(specification.steps) ? specification.steps.filter(isObject) : [];
  if (steps.length === 0) add("error", "snakemake.rules", at, "The Snakefile has no rule that runs a command (shell, run, script, …).");
  const names = steps.map((s) => String(s.name ?? ""));
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) add("error", "snakemake.rules", at, `Rule "${n}" is defined twice in the Snakefile.`);
    seen.add(n);
  }
  // Literal input files no rule produces must come with the upload.
  const outputs = steps.flatMap((s) => Object.values(isObject(s.outputs) ? s.outputs : {}).map(String));
  const produced = (file: string) => outputs.some((o) => o === file || new RegExp(`^${o.split(/\{[^{}]*\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".+")}$`).test(file));
  const files: { path: string; at: (string | number)[] }[] = [];
  steps.forEach((s, i) => {
    for (const [key, value] of Object.entries(isObject(s.inputs) ? s.inputs : {})) {
      const v = String(value);
      // Computed inputs (expand(), functions, config lookups) and wildcard patterns are left to Snakemake.
      if (/[{}()[\]]/.test(v) || /\s/.test(v) || v === "" || produced(v)) continue;
      files.push({ path: v, at: [...at, "steps", i, "inputs", key] });
    }
  });
  checkReferencedFiles(files, inputs, baseDir, add);
}
