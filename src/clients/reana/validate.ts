/**
 * Offline validation of a loaded reana.yaml, mirroring what reana-client 0.9.x checks before `create`:
 *  1. the REANA analysis JSON Schema (reana-commons `validate_reana_yaml`): `additionalProperties` violations are
 *     warnings (the server ignores unknown keys), every other violation is an error;
 *  2. for serial workflows, the serial workflow schema (reana-commons `serial_load`) and the parameter expansion
 *     of every command (`$x`, `${x}`, `$$`; an unknown name is "Workflow parameter(s) could not be expanded");
 *  3. the workflow name (no `.`);
 *  4. reana-client's parameter checks: declared-but-unused and used-but-undeclared parameters, and "dangerous"
 *     operations (`sudo `, `cd /`) — warnings;
 *  5. operational options (`inputs.options`) supported by the workflow engine.
 * Unlike the Python tools (which stop at the first problem), every problem is reported, with its source position.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import analysisSchema from "./schemas/reana_analysis_schema.json";
import serialSchema from "./schemas/serial_workflow_schema.json";
import draft06 from "ajv/dist/refs/json-schema-draft-06.json";
import { expandCommand, findPlaceholders, ParameterExpansionError } from "./parameters";
import { snakemakeConfigKeys } from "./snakemake";
import { checkCwlWorkflow, checkSnakemakeWorkflow } from "./validate-engines";
import { formatPath, pointerToPath, type SourcePosition } from "./source";
import type { LoadedReanaSpec, ReanaSpecification } from "./spec";
import { ReanaSpecError } from "./errors";

export interface ValidationIssue {
  severity: "error" | "warning";
  /** Stable machine code, e.g. `schema.required`, `parameter.unknown`, `operation.dangerous`. */
  code: string;
  /** Dotted path inside the specification (`workflow.specification.steps[0].commands`). */
  path: string;
  message: string;
  position?: SourcePosition;
}

export interface ValidationReport {
  valid: boolean;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

export interface ValidateOptions {
  /** Checked like reana-client's `-w`: no `.`, not a UUIDv4. */
  workflowName?: string;
}

/** Commands that reana-client flags as possibly dangerous (reana-commons COMMAND_DANGEROUS_OPERATIONS). */
export const DANGEROUS_OPERATIONS = ["sudo ", "cd /"];

/** Operational options and the engines that accept them (reana-commons `available_options`). */
const OPERATIONAL_OPTIONS: Record<string, Partial<Record<string, string>>> = {
  CACHE: { serial: "CACHE" },
  FROM: { serial: "FROM" },
  TARGET: { serial: "TARGET", cwl: "--target" },
  toplevel: { yadage: "toplevel" },
  initdir: { yadage: "initdir" },
  initfiles: { yadage: "initfiles" },
  accept_metadir: { yadage: "accept_metadir" },
  report: { snakemake: "report" },
};

type Json = Record<string, unknown>;

/**
 * The serial schema as upstream writes it does not compile in JavaScript: Python named groups `(?P<x>` in the
 * memory pattern, and `name` reusing the `$id` of `environment`. Both are fixed on a copy, at load time.
 */
function jsCompatibleSerialSchema(schema: unknown): unknown {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node !== "object" || node === null) return node;
    const out: Json = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === "$id" || k === "id") continue;
      if (k === "default") continue; // upstream defaults are strings of the wrong type ("false", "None")
      if (k === "pattern" && typeof v === "string") out[k] = v.replace(/\(\?P</g, "(?<");
      else out[k] = walk(v);
    }
    return out;
  };
  return walk(schema);
}

let compiled: { analysis: ValidateFunction; serial: ValidateFunction } | undefined;

function validators(): { analysis: ValidateFunction; serial: ValidateFunction } {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    addFormats(ajv);
    ajv.addMetaSchema(draft06);
    compiled = {
      analysis: ajv.compile(analysisSchema as Json),
      serial: ajv.compile(jsCompatibleSerialSchema(serialSchema) as Json),
    };
  }
  return compiled;
}

const MEMORY_PATTERN_HINT = "a Kubernetes memory quantity such as 256Mi, 2Gi, 1.5G or 4096 (bytes)";

function describeAjvError(e: ErrorObject, at: (string | number)[]): { code: string; message: string; path: (string | number)[] } {
  const where = formatPath(at) || "(top level)";
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required": {
      const missing = String(p.missingProperty);
      return { code: "schema.required", path: [...at, missing], message: `${formatPath([...at, missing])}: required` };
    }
    case "additionalProperties": {
      const extra = String(p.additionalProperty);
      return {
        code: "schema.unknown-property",
        path: [...at, extra],
        message: `${formatPath([...at, extra])}: unknown property "${extra}" (REANA ignores it; check its spelling)`,
      };
    }
    case "enum":
      return { code: "schema.enum", path: at, message: `${where}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
    case "type":
      return { code: "schema.type", path: at, message: `${where}: must be ${p.type === "object" ? "a mapping" : p.type === "array" ? "a list" : `of type ${String(p.type)}`}` };
    case "minItems":
      return { code: "schema.min-items", path: at, message: `${where}: must have at least ${String(p.limit)} item${p.limit === 1 ? "" : "s"}` };
    case "pattern":
      if (at[at.length - 1] === "kubernetes_memory_limit") {
        return { code: "schema.pattern", path: at, message: `${where}: must be ${MEMORY_PATTERN_HINT}` };
      }
      return { code: "schema.pattern", path: at, message: `${where}: must match ${String(p.pattern)}` };
    default:
      return { code: `schema.${e.keyword}`, path: at, message: `${where}: ${e.message ?? "is invalid"}` };
  }
}

function schemaIssues(validate: ValidateFunction, data: unknown, prefix: (string | number)[]): { code: string; path: (string | number)[]; message: string; warning: boolean }[] {
  if (validate(data)) return [];
  const out: { code: string; path: (string | number)[]; message: string; warning: boolean }[] = [];
  const errors = validate.errors ?? [];
  const anyOfFailures = errors.filter((e) => e.keyword === "anyOf");
  for (const e of errors) {
    // `if` reports "must match then", always alongside the nested errors that explain it.
    if (e.keyword === "if") continue;
    // The branches of a failed anyOf are summarised by one message below.
    if (anyOfFailures.some((a) => e !== a && e.schemaPath.startsWith(a.schemaPath.replace(/\/anyOf$/, "/anyOf/")))) continue;
    const at = [...prefix, ...pointerToPath(e.instancePath)];
    if (e.keyword === "anyOf" && at[at.length - 1] === "workflow") {
      out.push({ code: "schema.workflow-source", path: at, message: "workflow: needs `type` and either `file` or `specification`", warning: false });
      continue;
    }
    const d = describeAjvError(e, at);
    out.push({ ...d, warning: e.keyword === "additionalProperties" });
  }
  return out;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function validateReanaSpec(loaded: LoadedReanaSpec | ReanaSpecification, options: ValidateOptions = {}): ValidationReport {
  const isLoaded = "specification" in loaded && "source" in loaded && "locate" in loaded;
  const spec = (isLoaded ? (loaded as LoadedReanaSpec).specification : loaded) as ReanaSpecification;
  const locate = isLoaded ? (at: (string | number)[]) => (loaded as LoadedReanaSpec).locate(at) : () => undefined;
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  const add = (severity: "error" | "warning", code: string, at: (string | number)[], message: string) => {
    const key = `${severity}|${formatPath(at)}|${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    issues.push({ severity, code, path: formatPath(at), message, position: locate(at) });
  };

  const v = validators();
  for (const i of schemaIssues(v.analysis, spec, [])) add(i.warning ? "warning" : "error", i.code, i.path, i.message);

  const workflow = isObject(spec.workflow) ? spec.workflow : undefined;
  const type = workflow?.type;
  const specification = workflow && isObject(workflow.specification) ? workflow.specification : undefined;
  const inputs = isObject(spec.inputs) ? spec.inputs : {};
  const parameters = isObject(inputs.parameters) ? inputs.parameters : {};

  if (options.workflowName !== undefined) {
    if (options.workflowName.includes(".")) {
      add("error", "workflow.name", [], `Workflow name "${options.workflowName}" contains a "."; REANA adds ".<run number>" itself, so choose a name without dots`);
    } else if (/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(options.workflowName)) {
      add("error", "workflow.name", [], `Workflow name "${options.workflowName}" looks like a workflow id (UUID); choose a readable name`);
    } else if (options.workflowName.trim() === "") {
      add("error", "workflow.name", [], "Workflow name is empty");
    }
  }

  if (!("inputs" in spec)) add("warning", "parameter.no-inputs", [], 'Workflow "inputs" are missing in the REANA specification.');

  if (type === "serial" && specification) {
    for (const i of schemaIssues(v.serial, specification, ["workflow", "specification"])) {
      add(i.warning ? "warning" : "error", i.code, i.path, i.message);
    }
    checkSerialParameters(specification, parameters, add);
  } else if (type === "yadage" && specification) {
    checkYadageParameters(specification, parameters, add);
  } else if (type === "cwl" && specification) {
    checkCwlOperations(specification, add);
    checkCwlWorkflow(specification, inputs, isLoaded ? (loaded as LoadedReanaSpec).baseDir : undefined, add);
  } else if (type === "snakemake" && specification) {
    checkSnakemakeParameters(specification, parameters, isLoaded ? (loaded as LoadedReanaSpec).workflowFile?.text : undefined, add);
    checkSnakemakeWorkflow(specification, inputs, isLoaded ? (loaded as LoadedReanaSpec).baseDir : undefined, add);
  }

  if (typeof type === "string" && inputs.options !== undefined) {
    if (!isObject(inputs.options)) add("error", "options.type", ["inputs", "options"], "inputs.options: operational options must be a mapping");
    else for (const problem of operationalOptionProblems(type, inputs.options)) add("error", problem.code, ["inputs", "options", problem.option], problem.message);
  }

  const errors = issues.filter((i) => i.severity === "error");
  return { valid: errors.length === 0, errors, warnings: issues.filter((i) => i.severity === "warning") };
}

/** Operational options the engine of `type` does not accept (reana-commons `validate_operational_options`). */
export function operationalOptionProblems(type: string, options: Record<string, unknown>): { option: string; code: string; message: string }[] {
  const out: { option: string; code: string; message: string }[] = [];
  for (const option of Object.keys(options)) {
    const engines = OPERATIONAL_OPTIONS[option];
    if (!engines) out.push({ option, code: "options.unknown", message: `Operational option "${option}" not supported.` });
    else if (!engines[type]) out.push({ option, code: "options.engine", message: `Operational option "${option}" not supported for ${type} workflows.` });
  }
  return out;
}

/**
 * reana-client's checks against the server's `/api/info`: each step's compute backend must be offered by the
 * cluster, and `workspace.root_path` must be one of its workspaces.
 */
export function serverCompatibilityProblems(spec: ReanaSpecification, info: Record<string, { value?: unknown }>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const list = (k: string) => (Array.isArray(info[k]?.value) ? (info[k].value as unknown[]).map(String) : undefined);
  const backends = list("compute_backends");
  const steps = (spec.workflow?.specification as { steps?: unknown } | undefined)?.steps;
  if (backends && Array.isArray(steps)) {
    steps.forEach((step, i) => {
      const b = isObject(step) ? step.compute_backend : undefined;
      if (typeof b === "string" && !backends.map((x) => x.toLowerCase()).includes(b.toLowerCase())) {
        issues.push({
          severity: "error",
          code: "server.compute-backend",
          path: formatPath(["workflow", "specification", "steps", i, "compute_backend"]),
          message: `Compute backend "${b}" of step "${String((step as Json).name ?? i)}" is not available on this cluster (available: ${backends.join(", ")}).`,
        });
      }
    });
  }
  const workspaces = list("workspaces_available");
  const root = spec.workspace?.root_path;
  if (workspaces && typeof root === "string" && !workspaces.some((w) => root === w || root.startsWith(`${w.replace(/\/+$/, "")}/`))) {
    issues.push({ severity: "error", code: "server.workspace", path: "workspace.root_path", message: `Workspace "${root}" is not available on this cluster (available: ${workspaces.join(", ")}).` });
  }
  return issues;
}

type Add = (severity: "error" | "warning", code: string, at: (string | number)[], message: string) => void;

function dangerous(commands: unknown[], step: string, at: (string | number)[], add: Add): void {
  for (const command of commands) {
    for (const op of DANGEROUS_OPERATIONS) {
      if (String(command).includes(op)) add("warning", "operation.dangerous", at, `Operation "${op.trim()}" found in step "${step}" might be dangerous.`);
    }
  }
}

function unusedParameters(declared: Json, used: Set<string>, add: Add, type = "REANA"): void {
  for (const name of Object.keys(declared)) {
    if (!used.has(name)) add("warning", "parameter.unused", ["inputs", "parameters", name], `${type} input parameter "${name}" does not seem to be used.`);
  }
}

function checkSerialParameters(specification: Json, parameters: Json, add: Add): void {
  const steps = Array.isArray(specification.steps) ? specification.steps : [];
  const usedBy = new Map<string, Set<string>>();
  steps.forEach((step, s) => {
    if (!isObject(step) || !Array.isArray(step.commands)) return;
    const stepName = typeof step.name === "string" ? step.name : String(s);
    dangerous(step.commands, stepName, ["workflow", "specification", "steps", s, "commands"], add);
    step.commands.forEach((command, c) => {
      if (typeof command !== "string") return;
      const at = ["workflow", "specification", "steps", s, "commands", c];
      for (const ref of findPlaceholders(command)) {
        if (!usedBy.has(ref.name)) usedBy.set(ref.name, new Set());
        usedBy.get(ref.name)!.add(stepName);
      }
      try {
        expandCommand(command, parameters);
      } catch (e) {
        if (e instanceof ParameterExpansionError) add("error", e.missing.length ? "parameter.unknown" : "parameter.invalid-placeholder", at, `${formatPath(at)}: ${e.message}`);
        else throw e;
      }
    });
  });
  unusedParameters(parameters, new Set(usedBy.keys()), add);
  // Undeclared names are already errors (expansion fails); nothing more to warn about.
}

function checkYadageParameters(specification: Json, parameters: Json, add: Add): void {
  // As reana-client: a stage's parameters are the `key`s of its scheduler parameters; a step uses `{name}` in its
  // process/environment/publisher definitions. REANA parameters should match some stage parameter key.
  const keys = new Map<string, Set<string>>();
  const used = new Map<string, Set<string>>();
  const note = (map: Map<string, Set<string>>, name: string, stage: string) => {
    if (!map.has(name)) map.set(name, new Set());
    map.get(name)!.add(stage);
  };
  const visitStages = (stages: unknown, at: (string | number)[]) => {
    if (!Array.isArray(stages)) return;
    stages.forEach((stage, i) => {
      if (!isObject(stage) || !isObject(stage.scheduler)) return;
      const scheduler = stage.scheduler;
      const name = typeof stage.name === "string" ? stage.name : String(i);
      if (isObject(scheduler.workflow)) visitStages(scheduler.workflow.stages, [...at, i, "scheduler", "workflow", "stages"]);
      if (!isObject(scheduler.step)) return;
      if (Array.isArray(scheduler.parameters)) {
        for (const p of scheduler.parameters) if (isObject(p) && typeof p.key === "string") note(keys, p.key, name);
      }
      const commands: unknown[] = [];
      for (const [partName, part] of Object.entries(scheduler.step)) {
        if (!isObject(part)) continue;
        for (const [k, v] of Object.entries(part)) {
          if (k === "script" || k === "cmd") commands.push(v);
          if (partName === "publisher" && k === "publish" && isObject(v)) for (const pk of Object.keys(v)) note(used, pk, name);
          if (partName === "publisher" && k === "outputkey" && typeof v === "string") note(used, v, name);
          for (const m of JSON.stringify(v).matchAll(/\{+([^{}"]*?)\}+/g)) note(used, m[1], name);
        }
      }
      dangerous(commands, name, [...at, i], add);
    });
  };
  visitStages(specification.stages, ["workflow", "specification", "stages"]);
  unusedParameters(parameters, new Set(keys.keys()), add);
  for (const [param, stages] of used) {
    const declaredIn = keys.get(param) ?? new Set<string>();
    const missing = [...stages].filter((s) => !declaredIn.has(s));
    if (missing.length) {
      add("warning", "parameter.undeclared", ["workflow", "specification", "stages"], `Yadage parameter "${param}" found on step${missing.length > 1 ? "s" : ""} "${missing.join(", ")}" is not defined in input parameters.`);
    }
  }
  for (const [param, stages] of keys) {
    const usedIn = used.get(param) ?? new Set<string>();
    const unused = [...stages].filter((s) => !usedIn.has(s));
    if (unused.length) {
      add("warning", "parameter.unused", ["workflow", "specification", "stages"], `Yadage input parameter "${param}" found on step${unused.length > 1 ? "s" : ""} "${unused.join(", ")}" does not seem to be used.`);
    }
  }
}

function checkCwlOperations(specification: Json, add: Add): void {
  const graph = Array.isArray(specification.$graph) ? specification.$graph : [specification];
  for (const node of graph) {
    if (!isObject(node)) continue;
    for (const key of ["baseCommand", "arguments"]) {
      if (key in node) {
        const value = node[key];
        dangerous(Array.isArray(value) ? value : [value], typeof node.id === "string" ? node.id : "main", ["workflow", "specification"], add);
      }
    }
  }
}

function checkSnakemakeParameters(specification: Json, parameters: Json, text: string | undefined, add: Add): void {
  const steps = Array.isArray(specification.steps) ? specification.steps : [];
  steps.forEach((step, i) => {
    if (isObject(step) && Array.isArray(step.commands)) dangerous(step.commands, String(step.name ?? i), ["workflow", "specification", "steps", i], add);
  });
  if (text !== undefined) {
    const used = snakemakeConfigKeys(text);
    const declared = { ...parameters };
    delete declared.input;
    unusedParameters(declared, used, add);
    for (const key of used) {
      if (!(key in parameters)) add("warning", "parameter.undeclared", ["inputs", "parameters"], `Snakemake parameter "${key}" is read from config but is not defined in input parameters.`);
    }
  }
}

/** Throws `REANA_SPEC_INVALID` listing every error, when the report has errors. */
export function assertValid(report: ValidationReport, file = "reana.yaml"): void {
  if (report.valid) return;
  throw new ReanaSpecError(`${file} is not valid:\n${formatIssues(report.errors)}`, {
    code: "REANA_SPEC_INVALID",
    hint: "Fix the listed problems (positions are file:line:column) and run again; `validate` shows warnings too.",
    position: report.errors[0]?.position,
    details: { errors: report.errors.map(({ code, path, message }) => ({ code, path, message })) },
  });
}

export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .map((i) => {
      const where = i.position ? `${i.position.file.split("/").pop()}:${i.position.line}:${i.position.column}: ` : "";
      return `  ${i.severity === "error" ? "✖" : "⚠"} ${where}${i.message}`;
    })
    .join("\n");
}
