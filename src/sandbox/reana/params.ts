/**
 * REANA expands `$name` / `${name}` in serial-workflow commands with Python's `string.Template.substitute`:
 * identifiers are `[_a-zA-Z][_a-zA-Z0-9]*` (ASCII), `$$` is a literal `$`, an unknown name raises KeyError and a
 * `$` followed by anything else raises "Invalid placeholder". This module reproduces those rules.
 */

export class ParameterExpansionError extends Error {
  constructor(
    message: string,
    readonly missing: string[],
  ) {
    super(message);
    this.name = "ParameterExpansionError";
  }
}

const PLACEHOLDER = /\$(?:(\$)|([_a-zA-Z][_a-zA-Z0-9]*)|\{([_a-zA-Z][_a-zA-Z0-9]*)\}|())/g;

/** `str(value)` as Python would print a YAML/JSON scalar. */
export function pythonStr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") {
    if (Number.isInteger(value) && !Object.is(value, -0)) return String(value);
    return String(value);
  }
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** Expands one template; throws ParameterExpansionError like `Template.substitute`. */
export function substitute(template: string, parameters: Record<string, unknown>): string {
  const missing: string[] = [];
  let invalidAt = -1;
  const out = template.replace(PLACEHOLDER, (match, escaped, named, braced, invalid, offset: number) => {
    if (escaped !== undefined) return "$";
    const name = (named ?? braced) as string | undefined;
    if (name !== undefined) {
      if (!Object.prototype.hasOwnProperty.call(parameters, name)) {
        missing.push(name);
        return match;
      }
      return pythonStr(parameters[name]);
    }
    if (invalid !== undefined && invalidAt < 0) invalidAt = offset;
    return match;
  });
  if (missing.length > 0) {
    throw new ParameterExpansionError(
      `Workflow parameter(s) could not be expanded. Please take a look to ${missing.map((m) => `'${m}'`).join(", ")} ` +
        `(escape a literal shell dollar as $$).`,
      missing,
    );
  }
  if (invalidAt >= 0) {
    const line = template.slice(0, invalidAt).split("\n").length;
    const col = invalidAt - template.lastIndexOf("\n", invalidAt - 1);
    throw new ParameterExpansionError(
      `Workflow parameter(s) could not be expanded: invalid placeholder in string: line ${line}, col ${col}.`,
      [],
    );
  }
  return out;
}
