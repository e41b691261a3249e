/**
 * Papermill-style parameters for TypeScript notebooks: `-p key=value` values are typed (number, boolean, null,
 * JSON array/object/string, else a plain string) and injected as a new cell tagged `injected-parameters` right
 * after the cell tagged `parameters` (at the top when there is none). A declaration in the parameters cell
 * (`let n: number = 3`) lends its keyword and type annotation to the injected one.
 *
 * Parameters whose name says it is a secret (token, password, secret, credential, apikey) never enter the
 * notebook: the injected cell reads them from the kernel's environment.
 */
import { type Notebook, type NotebookCell, joinSource, newCellId } from "./notebook";

export const PARAMETERS_TAG = "parameters";
export const INJECTED_TAG = "injected-parameters";
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const SECRET_NAME = /token|password|passwd|secret|credential|api_?key/i;

export class ParameterError extends Error {
  override readonly name = "ParameterError";
  readonly code = "PARAMETER_INVALID";
}

/** Types a command-line value as papermill's `-p` does, with JSON for arrays, objects and quoted strings. */
export function typeValue(raw: string): unknown {
  const text = raw.trim();
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  if (text === "true" || text === "True") return true;
  if (text === "false" || text === "False") return false;
  if (text === "null" || text === "None") return null;
  if (/^[[{"]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      /* not JSON: keep the string */
    }
  }
  return raw;
}

export function parseParameter(arg: string): [string, unknown] {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new ParameterError(`Parameter "${arg}" is not of the form key=value.`);
  const name = arg.slice(0, eq).trim();
  if (!IDENTIFIER.test(name)) throw new ParameterError(`Parameter name "${name}" is not a valid TypeScript identifier.`);
  return [name, typeValue(arg.slice(eq + 1))];
}

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function secretEnvName(name: string): string {
  return `VRE_TS_PARAM_${name.toUpperCase()}`;
}

interface Declaration {
  keyword: "const" | "let";
  type?: string;
}

/** Top-level `const|let|var name[: Type] =` declarations of a parameters cell. */
export function declaredParameters(source: string): Map<string, Declaration> {
  const found = new Map<string, Declaration>();
  const re = /^[ \t]*(?:export[ \t]+)?(const|let|var)[ \t]+([A-Za-z_$][\w$]*)[ \t]*(?::[ \t]*([^=\n]+?))?[ \t]*=/gm;
  for (const m of source.matchAll(re)) {
    found.set(m[2], { keyword: m[1] === "const" ? "const" : "let", ...(m[3] ? { type: m[3].trim() } : {}) });
  }
  return found;
}

export interface Injection {
  /** The injected cell's index, or -1 when there were no parameters. */
  index: number;
  /** Environment variables carrying secret parameters to the kernel. */
  env: Record<string, string>;
  /** Messages for the user (unknown parameters, missing parameters cell). */
  warnings: string[];
}

/** A Python literal for a JSON value (for Python kernels, as papermill writes them). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : `float(${JSON.stringify(String(value))})`;
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(", ")}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${pythonLiteral(v)}`).join(", ")}}`;
}

function pythonCell(params: Map<string, unknown>, env: Record<string, string>): string {
  const lines = ["# Parameters"];
  for (const [name, value] of params) {
    if (isSecretName(name)) {
      env[secretEnvName(name)] = typeof value === "string" ? value : JSON.stringify(value);
      lines.push(`${name} = __import__("os").environ.get(${JSON.stringify(secretEnvName(name))}, "")`);
    } else lines.push(`${name} = ${pythonLiteral(value)}`);
  }
  return lines.join("\n");
}

/**
 * Injects `params` into `nb` for a kernel of `language` (TypeScript/JavaScript, or Python as papermill does).
 */
export function injectParameters(nb: Notebook, params: Map<string, unknown>, language = "typescript"): Injection {
  const env: Record<string, string> = {};
  const warnings: string[] = [];
  // Re-running an executed notebook replaces the previous injection.
  nb.cells = nb.cells.filter((c) => !hasTag(c, INJECTED_TAG));
  if (params.size === 0) return { index: -1, env, warnings };

  const paramsIndex = nb.cells.findIndex((c) => c.cell_type === "code" && hasTag(c, PARAMETERS_TAG));
  if (paramsIndex < 0) warnings.push(`No cell is tagged "${PARAMETERS_TAG}"; parameters are injected at the top of the notebook.`);
  const declared = paramsIndex >= 0 ? declaredParameters(joinSource(nb.cells[paramsIndex].source)) : new Map<string, Declaration>();

  const lang = language.toLowerCase();
  if (lang && !["typescript", "javascript", "python"].includes(lang)) {
    throw new ParameterError(`Parameters cannot be injected into a ${language} notebook (TypeScript, JavaScript and Python are supported).`);
  }
  const lines = ["// Parameters"];
  for (const [name, value] of lang === "python" ? [] : params) {
    const decl = declared.get(name);
    if (paramsIndex >= 0 && !decl && lang !== "python") warnings.push(`Parameter "${name}" is not declared in the parameters cell.`);
    const keyword = decl?.keyword ?? "const";
    const annotation = decl?.type ? `: ${decl.type}` : "";
    if (isSecretName(name)) {
      env[secretEnvName(name)] = typeof value === "string" ? value : JSON.stringify(value);
      lines.push(`${keyword} ${name}${annotation || ": string"} = process.env[${JSON.stringify(secretEnvName(name))}] ?? "";`);
    } else {
      lines.push(`${keyword} ${name}${annotation} = ${JSON.stringify(value)};`);
    }
  }
  const cell: NotebookCell = {
    cell_type: "code",
    execution_count: null,
    metadata: { tags: [INJECTED_TAG] },
    outputs: [],
    source: lang === "python" ? pythonCell(params, env) : lines.join("\n"),
  };
  if (nb.nbformat_minor >= 5) cell.id = newCellId();
  const index = paramsIndex + 1;
  nb.cells.splice(index, 0, cell);
  return { index, env, warnings };
}

export function hasTag(cell: NotebookCell, tag: string): boolean {
  return Array.isArray(cell.metadata?.tags) && cell.metadata.tags.includes(tag);
}
