/**
 * Loading `reana.yaml` the way reana-client 0.9.x does before `create`: the YAML itself, plus the workflow
 * specification inlined into `workflow.specification` (from the file that `workflow.file` names, per engine), plus
 * CWL/Snakemake parameters read from the `inputs.parameters.input` file. Line numbers are kept for messages.
 */
import * as path from "node:path";
import { ReanaSpecError } from "./errors";
import { formatPath, SourceFormatError, YamlSource, type SourcePosition } from "./source";
import { loadWorkflowFile, type LoadedWorkflowFile, type WorkflowType } from "./workflow-files";

export type { WorkflowType } from "./workflow-files";

export interface ReanaSpecification {
  version?: string;
  inputs?: {
    files?: string[];
    directories?: string[];
    parameters?: Record<string, unknown>;
    options?: Record<string, unknown>;
  };
  workflow: {
    type: WorkflowType;
    file?: string;
    specification?: Record<string, unknown>;
    resources?: Record<string, unknown>;
  };
  outputs?: { files?: string[]; directories?: string[] };
  workspace?: { root_path?: string; retention_days?: Record<string, number> };
  tests?: { files?: string[] };
  [key: string]: unknown;
}

export interface LoadedReanaSpec {
  /** Path of the reana.yaml (or a label such as `<cell>` when parsed from text). */
  file: string;
  /** Folder that relative paths (workflow file, inputs) are resolved against. */
  baseDir: string;
  /** The whole reana.yaml with `workflow.specification` inlined: the body of `POST /api/workflows`. */
  specification: ReanaSpecification;
  /** As written, before inlining (for the parameter checks on the original commands). */
  original: Record<string, unknown>;
  source: YamlSource;
  workflowFile?: LoadedWorkflowFile;
  /** Source position of a path inside the loaded specification (looks inside the workflow file when needed). */
  locate(at: readonly (string | number)[]): SourcePosition | undefined;
}

export interface LoadOptions {
  /** Folder for relative paths; defaults to the reana.yaml's folder (or the cwd for text). */
  baseDir?: string;
}

const WORKFLOW_TYPES = new Set(["serial", "cwl", "yadage", "snakemake"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function loadReanaSpec(file: string, options: LoadOptions = {}): LoadedReanaSpec {
  let source: YamlSource;
  try {
    source = YamlSource.read(file, "the REANA specification");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ReanaSpecError(`${file} does not exist.`, { hint: "Pass the path of your reana.yaml (or reana.yml)." });
    }
    throw wrapFormat(e);
  }
  return fromSource(source, options.baseDir ?? path.dirname(path.resolve(file)));
}

/** Parses reana.yaml text (e.g. a `%%reana` cell body). */
export function parseReanaSpec(text: string, options: LoadOptions & { file?: string } = {}): LoadedReanaSpec {
  let source: YamlSource;
  try {
    source = YamlSource.parse(text, options.file ?? "reana.yaml");
  } catch (e) {
    throw wrapFormat(e);
  }
  return fromSource(source, options.baseDir ?? process.cwd());
}

function wrapFormat(e: unknown): unknown {
  if (e instanceof SourceFormatError) {
    return new ReanaSpecError(e.message, { hint: "Fix the YAML syntax at the position shown.", position: e.position });
  }
  return e;
}

function fromSource(source: YamlSource, baseDir: string): LoadedReanaSpec {
  const value = source.value();
  if (!isObject(value)) {
    throw new ReanaSpecError(`${source.file}: a REANA specification must be a YAML mapping with a "workflow" section.`, {
      hint: "Start from `workflow: {type: serial, specification: {steps: [...]}}`.",
    });
  }
  const original = structuredClone(value);
  const spec = value as ReanaSpecification;
  let workflowFile: LoadedWorkflowFile | undefined;
  const workflow = spec.workflow as unknown;
  if (isObject(workflow) && typeof workflow.type === "string" && WORKFLOW_TYPES.has(workflow.type)) {
    const type = workflow.type as WorkflowType;
    const hasInline = isObject(workflow.specification);
    if (typeof workflow.file === "string" && !(type === "serial" && hasInline)) {
      // reana-client prefers an inline serial specification; other engines always load the file.
      const options = isObject(spec.inputs) && isObject(spec.inputs.options) ? spec.inputs.options : {};
      const root = type === "yadage" && typeof options.toplevel === "string" ? path.resolve(baseDir, options.toplevel) : baseDir;
      const target = path.resolve(root, workflow.file);
      try {
        workflowFile = loadWorkflowFile(type, target);
      } catch (e) {
        if (e instanceof SourceFormatError) {
          throw new ReanaSpecError(e.message, {
            hint: `Check workflow.file (${workflow.file}); it is read relative to ${root}.`,
            position: e.position ?? source.locate(["workflow", "file"]),
          });
        }
        throw e;
      }
      workflow.specification = workflowFile.specification;
    }
    loadParameterFile(spec, type, baseDir, source);
  }
  const locate = (at: readonly (string | number)[]): SourcePosition | undefined => {
    if (at[0] === "workflow" && at[1] === "specification" && workflowFile?.source) {
      return workflowFile.source.locate(at.slice(2));
    }
    return source.locate(at);
  };
  return { file: source.file, baseDir, specification: spec, original, source, workflowFile, locate };
}

/** CWL and Snakemake take their parameters from the YAML file named by `inputs.parameters.input`. */
function loadParameterFile(spec: ReanaSpecification, type: WorkflowType, baseDir: string, source: YamlSource): void {
  if (type !== "cwl" && type !== "snakemake") return;
  const params = spec.inputs?.parameters;
  if (!isObject(params) || typeof params.input !== "string") return;
  const file = path.resolve(baseDir, params.input);
  let loaded: unknown;
  try {
    loaded = YamlSource.read(file, "the parameter file").value();
  } catch (e) {
    const message = (e as NodeJS.ErrnoException).code === "ENOENT" ? `Parameter file ${params.input} does not exist.` : (e as Error).message;
    throw new ReanaSpecError(message, {
      hint: "inputs.parameters.input names the workflow's parameter file, relative to the reana.yaml folder.",
      position: source.locate(["inputs", "parameters", "input"]),
    });
  }
  if (loaded !== null && loaded !== undefined && !isObject(loaded)) {
    throw new ReanaSpecError(`Parameter file ${params.input} must contain a YAML mapping.`, {
      position: source.locate(["inputs", "parameters", "input"]),
    });
  }
  const fromFile = (loaded ?? {}) as Record<string, unknown>;
  if (type === "cwl") {
    spec.inputs!.parameters = fromFile;
  } else {
    const direct = { ...params };
    delete direct.input;
    spec.inputs!.parameters = { ...fromFile, ...direct };
  }
}

/** `file:12:3` or the dotted path when no position is known. */
export function describeLocation(loaded: LoadedReanaSpec | undefined, at: readonly (string | number)[]): string {
  const pos = loaded?.locate(at);
  const dotted = formatPath(at) || "(top level)";
  return pos ? `${path.basename(pos.file)}:${pos.line}:${pos.column} ${dotted}` : dotted;
}
