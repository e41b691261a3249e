import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import analysisSchema from "./schemas/reana_analysis_schema.json";
import serialSchema from "./schemas/serial_workflow_schema.json";
import { HttpError, isPlainObject } from "./http";

/**
 * Server-side checks of a submitted REANA specification, mirroring reana-commons: the analysis schema (where
 * `additionalProperties` violations are only warnings), the serial workflow schema, workflow names and
 * operational options. Messages follow python-jsonschema's wording, which is what REANA users see.
 */

export const WORKFLOW_ENGINES = ["serial", "cwl", "yadage", "snakemake"] as const;
export type WorkflowEngine = (typeof WORKFLOW_ENGINES)[number];

const OPERATIONAL_OPTIONS: Record<WorkflowEngine, string[]> = {
  serial: ["CACHE", "FROM", "TARGET"],
  cwl: ["TARGET"],
  yadage: ["toplevel", "initdir", "initfiles", "accept_metadir"],
  snakemake: ["report"],
};

/** Drops `$id`/`id`/`$schema` keys (the upstream files reuse ids) and turns Python named groups into JS ones. */
function portable(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(portable);
  if (!isPlainObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$id" || key === "$schema" || (key === "id" && typeof value === "string")) continue;
    if (key === "pattern" && typeof value === "string") out[key] = value.replace(/\(\?P</g, "(?<");
    else if (key === "properties" && isPlainObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, portable(v)]));
    } else out[key] = portable(value);
  }
  return out;
}

let compiled: { analysis: ValidateFunction; serial: ValidateFunction } | undefined;

function validators(): { analysis: ValidateFunction; serial: ValidateFunction } {
  if (!compiled) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    compiled = {
      analysis: ajv.compile(portable(analysisSchema) as object),
      serial: ajv.compile(portable(serialSchema) as object),
    };
  }
  return compiled;
}

/** Python `repr` of a JSON value, for jsonschema-style messages. */
export function pyRepr(value: unknown): string {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (isPlainObject(value)) return `{${Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  return String(value);
}

function valueAt(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointer.split("/").slice(1)) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    node = isPlainObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

function describe(err: ErrorObject, root: unknown): string {
  const value = valueAt(root, err.instancePath);
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case "required":
      return `'${String(p.missingProperty)}' is a required property`;
    case "type":
      return `${pyRepr(value)} is not of type '${String(p.type)}'`;
    case "enum":
      return `${pyRepr(value)} is not one of ${pyRepr(p.allowedValues)}`;
    case "minItems":
      return `${pyRepr(value)} is too short`;
    case "pattern":
      return `${pyRepr(value)} does not match ${pyRepr(p.pattern)}`;
    case "minimum":
      return `${pyRepr(value)} is less than the minimum of ${String(p.limit)}`;
    case "oneOf":
    case "anyOf":
      return `${pyRepr(value)} is not valid under any of the given schemas`;
    default:
      return `${pyRepr(value)}: ${err.message ?? err.keyword}`;
  }
}

function location(prefix: string, pointer: string): string {
  const parts = pointer.split("/").slice(1);
  return [prefix, ...parts].filter(Boolean).join(".") || "(root)";
}

export interface SpecCheck {
  engine: WorkflowEngine;
  warnings: { property: string; path: string }[];
}

/** Validates a whole REANA specification (the JSON body of `POST /api/workflows`); throws 400 on errors. */
export function validateSpecification(spec: unknown): SpecCheck {
  if (!isPlainObject(spec)) {
    throw new HttpError(400, { message: "Either remote repository or a reana spec need to be provided" });
  }
  const { analysis, serial } = validators();
  const warnings: { property: string; path: string }[] = [];
  if (!analysis(spec)) {
    const errors = (analysis.errors ?? []).filter((e) => {
      if (e.keyword !== "additionalProperties") return true;
      warnings.push({ property: String((e.params as { additionalProperty: string }).additionalProperty), path: location("", e.instancePath) });
      return false;
    });
    // Ajv also reports the if/then branch failure next to the real cause; report the most specific error.
    const real = errors.filter((e) => e.keyword !== "if");
    if (real.length > 0) {
      real.sort((a, b) => b.instancePath.length - a.instancePath.length);
      const err = real[0]!;
      throw new HttpError(400, {
        message: `REANA specification is invalid: ${describe(err, spec)} (in ${location("", err.instancePath)}).`,
      });
    }
  }
  const workflow = spec.workflow as Record<string, unknown>;
  const engine = workflow.type as WorkflowEngine;
  if (!WORKFLOW_ENGINES.includes(engine)) throw new HttpError(400, { message: "Unknown workflow type." });
  if (workflow.specification === undefined || workflow.specification === null) {
    throw new HttpError(400, {
      message:
        "REANA specification is invalid: 'workflow.specification' is missing. The client must load 'workflow.file' " +
        "and send its content inline as 'workflow.specification'.",
    });
  }
  if (engine === "serial") {
    if (!serial(workflow.specification)) {
      const errs = [...(serial.errors ?? [])].sort((a, b) => b.instancePath.length - a.instancePath.length);
      const err = errs[0]!;
      throw new HttpError(400, {
        message: `REANA specification is invalid: ${describe(err, workflow.specification)} (in ${location("workflow.specification", err.instancePath)}).`,
      });
    }
  }
  const inputs = isPlainObject(spec.inputs) ? spec.inputs : {};
  validateOperationalOptions(engine, inputs.options);
  return { engine, warnings };
}

/** Checks operational options for an engine (reana-commons `validate_operational_options`). */
export function validateOperationalOptions(engine: WorkflowEngine, options: unknown): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (!isPlainObject(options)) throw new HttpError(400, { message: "Operational options must be an object." });
  for (const key of Object.keys(options)) {
    if (!OPERATIONAL_OPTIONS[engine].includes(key)) {
      throw new HttpError(400, { message: `Operational option ${key} not supported for ${engine} workflows.` });
    }
  }
  return options;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function isUuidV4(value: string): boolean {
  return UUID_V4.test(value);
}

/** Workflow names: no dots (`.` separates the run number), not a UUIDv4, no path separators or blanks. */
export function validateWorkflowName(name: string): void {
  if (name.includes(".")) {
    throw new HttpError(400, { message: `Workflow name ${name} contains illegal character ".".` });
  }
  if (isUuidV4(name)) throw new HttpError(400, { message: "Workflow name cannot be a valid UUIDv4." });
  if (/[\s/\\]/.test(name)) {
    throw new HttpError(400, { message: `Workflow name ${name} contains illegal characters (blanks or slashes).` });
  }
}
