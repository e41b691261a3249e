/**
 * REANA's parameter rules.
 *
 * The serial engine expands every command with Python's `string.Template(command).substitute(parameters)`:
 * `$name` and `${name}` are replaced, `$$` is a literal `$`, a name that is not a parameter is an error
 * ("Workflow parameter(s) could not be expanded"), and a `$` followed by anything else is an invalid placeholder.
 * Identifiers follow Python's default `idpattern` (ASCII letters, digits and `_`, not starting with a digit,
 * case-insensitive).
 */

export type ParameterValue = unknown;

export interface PlaceholderRef {
  name: string;
  /** `true` for `${name}`, `false` for `$name`. */
  braced: boolean;
  /** Offset of the `$` in the command. */
  index: number;
}

export class ParameterExpansionError extends Error {
  constructor(
    message: string,
    /** Names that had no value (empty for an invalid placeholder). */
    readonly missing: string[],
    readonly invalidAt?: { line: number; column: number },
  ) {
    super(message);
    this.name = "ParameterExpansionError";
  }
}

// Same alternatives, in the same order, as string.Template's pattern.
const PLACEHOLDER = /\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\}|())/gi;

/** Python's `repr()` of a value loaded from YAML (used inside lists and mappings). */
function pythonRepr(value: unknown): string {
  if (typeof value === "string") {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\t/g, "\\t");
    return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  if (value && typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(", ")}}`;
  }
  return pythonStr(value);
}

/** Python's `str()` of a YAML value, which is what `Template.substitute` writes into the command. */
export function pythonStr(value: ParameterValue): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "nan";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return String(value);
  }
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return pythonRepr(value);
}

/** Every `$name` / `${name}` placeholder of a command (escapes `$$` are skipped). */
export function findPlaceholders(command: string): PlaceholderRef[] {
  const refs: PlaceholderRef[] = [];
  for (const m of command.matchAll(PLACEHOLDER)) {
    if (m[2] !== undefined) refs.push({ name: m[2], braced: false, index: m.index ?? 0 });
    else if (m[3] !== undefined) refs.push({ name: m[3], braced: true, index: m.index ?? 0 });
  }
  return refs;
}

function lineAndColumn(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const lines = before.split("\n");
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/**
 * `string.Template(command).substitute(parameters)`.
 * @throws ParameterExpansionError for an unknown name or an invalid placeholder.
 */
export function expandCommand(command: string, parameters: Record<string, ParameterValue>): string {
  const missing: string[] = [];
  let invalid: { line: number; column: number } | undefined;
  const out = command.replace(PLACEHOLDER, (whole, escaped, named, braced, _invalid, offset: number) => {
    if (escaped !== undefined) return "$";
    const name = (named ?? braced) as string | undefined;
    if (name !== undefined) {
      if (Object.prototype.hasOwnProperty.call(parameters, name)) return pythonStr(parameters[name]);
      missing.push(name);
      return whole;
    }
    invalid ??= lineAndColumn(command, offset);
    return whole;
  });
  if (missing.length > 0) {
    const unique = [...new Set(missing)];
    throw new ParameterExpansionError(
      `Workflow parameter(s) could not be expanded. Please take a look to ${unique.map((n) => `'${n}'`).join(", ")}` +
        ` — declare ${unique.length > 1 ? "them" : "it"} in inputs.parameters, or write $$ for a literal $` +
        ` (e.g. $$${unique[0]} for a shell variable)`,
      unique,
    );
  }
  if (invalid) {
    throw new ParameterExpansionError(
      `Invalid placeholder in string: line ${invalid.line}, col ${invalid.column} — a $ must start $name or \${name};` +
        " write $$ for a literal $",
      [],
      invalid,
    );
  }
  return out;
}

export interface SerialStepLike {
  name?: string;
  commands?: unknown;
}

/** Expands the commands of every step of a serial specification, returning a copy. */
export function expandSerialSpecification<T extends { steps?: SerialStepLike[] }>(
  specification: T,
  parameters: Record<string, ParameterValue>,
): T {
  const copy = structuredClone(specification);
  for (const step of copy.steps ?? []) {
    if (!Array.isArray(step.commands)) continue;
    step.commands = step.commands.map((c) => (typeof c === "string" ? expandCommand(c, parameters) : c));
  }
  return copy;
}
