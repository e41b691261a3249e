/**
 * nbformat 4 validation in Node, as Jupyter's `nbformat.validate(nbformat.read(path, as_version=4))` judges a file:
 * the JSON schema of the notebook's own minor version (nbformat's schema files, copied in `nbformat-schemas/`); a
 * notebook from a newer minor than we know is checked against the newest schema with `additionalProperties` relaxed;
 * from 4.5 on, a missing or duplicate cell id is a warning (nbformat repairs it on read), not an error.
 * Errors name the cell and output they are in, checked against the definition of that cell or output type, the way
 * nbformat's `better_validation_error` narrows a `oneOf` failure.
 */
import { readFile } from "node:fs/promises";
import type { ErrorObject, ValidateFunction } from "ajv";
import Ajv04 from "ajv-draft-04";
import v40 from "./nbformat-schemas/nbformat.v4.0.schema.json";
import v41 from "./nbformat-schemas/nbformat.v4.1.schema.json";
import v42 from "./nbformat-schemas/nbformat.v4.2.schema.json";
import v43 from "./nbformat-schemas/nbformat.v4.3.schema.json";
import v44 from "./nbformat-schemas/nbformat.v4.4.schema.json";
import v45 from "./nbformat-schemas/nbformat.v4.5.schema.json";

const SCHEMAS: readonly object[] = [v40, v41, v42, v43, v44, v45];
const NEWEST_MINOR = SCHEMAS.length - 1;

export interface NotebookValidation {
  valid: boolean;
  /** The schema used, e.g. "4.5" (or "4.5, relaxed" for a notebook from a newer minor). */
  schema: string;
  /** Why the notebook is invalid, one line each: `cells/3/outputs/0: must have required property 'name'`. */
  errors: string[];
  /** What Jupyter would repair or ignore on reading (missing or duplicate cell ids). */
  warnings: string[];
}

type Validators = { notebook: ValidateFunction; part(definition: string): ValidateFunction | undefined };
const compiled = new Map<string, Validators>();

function relaxed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relaxed);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "additionalProperties" ? true : relaxed(v)]));
}

function validators(minor: number, relax: boolean): Validators {
  const key = `${minor}${relax ? "r" : ""}`;
  let v = compiled.get(key);
  if (!v) {
    const ajv = new Ajv04({ allErrors: true, strict: false });
    const id = `nbformat.v4.${minor}${relax ? ".relaxed" : ""}`;
    ajv.addSchema((relax ? relaxed(SCHEMAS[minor]) : SCHEMAS[minor]) as object, id);
    const notebook = ajv.getSchema(id)!;
    v = { notebook, part: (definition) => ajv.getSchema(`${id}#/definitions/${definition}`) };
    compiled.set(key, v);
  }
  return v;
}

const pathOf = (e: ErrorObject) => e.instancePath.replace(/^\//, "") || "(notebook)";

function describe(errors: ErrorObject[] | null | undefined, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of errors ?? []) {
    // `oneOf` failures are explained by the narrowed errors of the matching definition instead.
    if (e.keyword === "oneOf") continue;
    const where = prefix + (e.instancePath || "");
    const extra = e.keyword === "additionalProperties" ? ` ('${(e.params as { additionalProperty: string }).additionalProperty}')` : e.keyword === "enum" ? `: ${JSON.stringify((e.params as { allowedValues: unknown }).allowedValues)}` : "";
    out.push(`${where.replace(/^\//, "") || "(notebook)"}: ${e.message ?? e.keyword}${extra}`);
  }
  return [...new Set(out)];
}

/** Errors of one cell, against the definition of its own cell type (and of each output's type). */
function cellErrors(v: Validators, cell: unknown, index: number): string[] {
  const where = `/cells/${index}`;
  const type = (cell as { cell_type?: unknown } | null)?.cell_type;
  const check = typeof type === "string" ? v.part(`${type}_cell`) : undefined;
  if (!check) return [`cells/${index}: unknown cell_type ${JSON.stringify(type)} (expected "code", "markdown" or "raw")`];
  if (check(cell)) return [];
  const out: string[] = [];
  const outputs = (cell as { outputs?: unknown }).outputs;
  for (const e of check.errors ?? []) {
    const m = /^\/outputs\/(\d+)/.exec(e.instancePath);
    if (!m || !Array.isArray(outputs)) {
      out.push(...describe([e], where));
      continue;
    }
    const j = Number(m[1]);
    const outputType = (outputs[j] as { output_type?: unknown } | null)?.output_type;
    const checkOutput = typeof outputType === "string" ? v.part(outputType) : undefined;
    if (!checkOutput) out.push(`cells/${index}/outputs/${j}: unknown output_type ${JSON.stringify(outputType)}`);
    else if (!checkOutput(outputs[j])) out.push(...describe(checkOutput.errors, `${where}/outputs/${j}`));
  }
  return [...new Set(out)];
}

/** Validates a parsed notebook (not modified). */
export function validateNotebook(nb: unknown): NotebookValidation {
  const doc = nb as { nbformat?: unknown; nbformat_minor?: unknown; cells?: unknown } | null;
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) return { valid: false, schema: "", errors: ["(notebook): not a JSON object"], warnings: [] };
  if (doc.nbformat !== 4) {
    return { valid: false, schema: "", errors: [`nbformat: ${JSON.stringify(doc.nbformat)} is not 4; convert the notebook with \`jupyter nbconvert --to notebook\``], warnings: [] };
  }
  const minor = Number.isInteger(doc.nbformat_minor) && (doc.nbformat_minor as number) >= 0 ? (doc.nbformat_minor as number) : NEWEST_MINOR;
  const relax = minor > NEWEST_MINOR;
  const v = validators(Math.min(minor, NEWEST_MINOR), relax);
  const schema = `4.${Math.min(minor, NEWEST_MINOR)}${relax ? ", relaxed" : ""}`;
  const warnings: string[] = [];
  let subject: unknown = nb;
  if (minor >= 5 && Array.isArray(doc.cells)) {
    // nbformat gives a missing id a fresh one and renames duplicates before checking; report it, check the same way.
    const seen = new Set<string>();
    const cells = doc.cells.map((cell: unknown, i: number) => {
      if (!cell || typeof cell !== "object") return cell;
      const id = (cell as { id?: unknown }).id;
      if (id === undefined) {
        warnings.push(`cells/${i}: no cell id (nbformat 4.5 requires one; Jupyter adds it when it reads the notebook)`);
        return { ...cell, id: `missing-${i}` };
      }
      if (typeof id === "string" && seen.has(id)) {
        warnings.push(`cells/${i}: duplicate cell id ${JSON.stringify(id)} (Jupyter renames it when it reads the notebook)`);
        return { ...cell, id: `duplicate-${i}` };
      }
      if (typeof id === "string") seen.add(id);
      return cell;
    });
    subject = { ...doc, cells };
  }
  if (v.notebook(subject)) return { valid: true, schema, errors: [], warnings };
  const errors: string[] = [];
  const badCells = new Set<number>();
  for (const e of v.notebook.errors ?? []) {
    const m = /^\/cells\/(\d+)/.exec(e.instancePath);
    if (m) badCells.add(Number(m[1]));
    else if (e.keyword !== "oneOf") errors.push(...describe([e]));
  }
  const cells = (subject as { cells: unknown[] }).cells;
  for (const i of [...badCells].sort((a, b) => a - b)) errors.push(...cellErrors(v, cells[i], i));
  if (errors.length === 0) errors.push(...(v.notebook.errors ?? []).map((e) => `${pathOf(e)}: ${e.message ?? e.keyword}`));
  return { valid: false, schema, errors: [...new Set(errors)], warnings };
}

/** Reads and validates a notebook file; an unreadable file or broken JSON is an error like any other. */
export async function validateNotebookFile(path: string): Promise<NotebookValidation> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    return { valid: false, schema: "", errors: [`cannot read: ${(err as Error).message}`], warnings: [] };
  }
  try {
    return validateNotebook(JSON.parse(text));
  } catch (err) {
    return { valid: false, schema: "", errors: [`not valid JSON: ${(err as Error).message}`], warnings: [] };
  }
}
