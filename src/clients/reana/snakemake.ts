/**
 * Static reading of a Snakefile into the specification shape REANA 0.9.x sends for Snakemake workflows.
 *
 * reana-client 0.9.x asks Snakemake itself to build the DAG and sends
 * `{job_dependencies: {job: [deps]}, steps: [{name, environment, inputs, params, outputs, commands,
 *   compute_backend, kubernetes_memory_limit, kubernetes_uid}]}` — one step per rule that runs something
 * (`rule all`-style target rules are left out). The server only uses this to show steps and progress; the engine
 * runs the real Snakefile from the workspace. Without a Python interpreter we read the rules from the text:
 * directives with literal values are understood, computed values (function calls, expand(), lambdas) are kept as
 * their source text, and dependencies come from matching each rule's inputs against other rules' outputs.
 */

export interface SnakemakeRule {
  name: string;
  line: number;
  directives: Record<string, string>;
}

export interface SnakemakeStep {
  name: string;
  environment: string;
  inputs: Record<string, string>;
  params: Record<string, string>;
  outputs: Record<string, string>;
  commands: string[];
  compute_backend: string | null;
  kubernetes_memory_limit: string | null;
  kubernetes_uid: number | null;
}

export interface SnakemakeSpecification {
  job_dependencies: Record<string, string[]>;
  steps: SnakemakeStep[];
}

const RULE_HEADER = /^(rule|checkpoint)\s+([A-Za-z_][A-Za-z0-9_]*)?\s*:\s*(#.*)?$/;
const DIRECTIVE = /^([A-Za-z_][A-Za-z0-9_]*)\s*:(.*)$/;

function indentOf(line: string): number {
  const m = /^[ \t]*/.exec(line);
  return m ? m[0].replace(/\t/g, "    ").length : 0;
}

/** Splits the Snakefile into rules with the raw source of each directive. */
export function parseSnakefileRules(text: string): SnakemakeRule[] {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const rules: SnakemakeRule[] = [];
  let anonymous = 0;
  for (let i = 0; i < lines.length; i++) {
    const header = RULE_HEADER.exec(lines[i].trim());
    if (!header) continue;
    const ruleIndent = indentOf(lines[i]);
    const rule: SnakemakeRule = { name: header[2] ?? `${anonymous++}`, line: i + 1, directives: {} };
    let current: string | undefined;
    let directiveIndent = -1;
    let j = i + 1;
    for (; j < lines.length; j++) {
      const raw = lines[j];
      if (raw.trim() === "" || raw.trim().startsWith("#")) {
        if (current) rule.directives[current] += "\n";
        continue;
      }
      const ind = indentOf(raw);
      if (ind <= ruleIndent) break;
      const d = DIRECTIVE.exec(raw.trim());
      if (d && (directiveIndent < 0 || ind === directiveIndent) && !raw.trim().startsWith("\"")) {
        directiveIndent = ind;
        current = d[1];
        rule.directives[current] = d[2].trim();
      } else if (current) {
        rule.directives[current] += "\n" + raw.trim();
      }
    }
    for (const key of Object.keys(rule.directives)) rule.directives[key] = rule.directives[key].trim();
    rules.push(rule);
    i = j - 1;
  }
  return rules;
}

/** Python string literal (with r/f/b prefixes, implicit concatenation, triple quotes) → its value, or undefined. */
export function pythonStringValue(source: string): string | undefined {
  let rest = source.trim();
  if (rest.startsWith("(") && rest.endsWith(")")) rest = rest.slice(1, -1).trim();
  let out = "";
  let matched = false;
  while (rest.length > 0) {
    const m = /^([rRfFbBuU]{0,2})("""|'''|"|')/.exec(rest);
    if (!m) return undefined;
    const raw = /r/i.test(m[1]);
    const quote = m[2];
    let k = m[0].length;
    let value = "";
    let closed = false;
    while (k < rest.length) {
      if (rest.startsWith(quote, k)) {
        closed = true;
        k += quote.length;
        break;
      }
      const c = rest[k];
      if (c === "\\" && k + 1 < rest.length) {
        const next = rest[k + 1];
        if (raw) value += c + next;
        else if (next === "n") value += "\n";
        else if (next === "t") value += "\t";
        else if (next === "\n") value += "";
        else value += next;
        k += 2;
        continue;
      }
      if (c === "\n" && quote.length === 1) return undefined;
      value += c;
      k++;
    }
    if (!closed) return undefined;
    out += value;
    matched = true;
    rest = rest.slice(k).replace(/^[\s\\]+/, "");
  }
  return matched ? out : undefined;
}

/** Splits `a, b, name=c` at top-level commas (outside brackets and strings). */
function splitTopLevel(source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let k = 0; k < source.length; k++) {
    const c = source[k];
    if (quote) {
      if (c === "\\") k++;
      else if (source.startsWith(quote, k)) {
        k += quote.length - 1;
        quote = undefined;
      }
      continue;
    }
    if (c === "'" || c === '"') {
      quote = source.startsWith(c.repeat(3), k) ? c.repeat(3) : c;
      k += quote.length - 1;
    } else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === "," && depth === 0) {
      parts.push(source.slice(start, k));
      start = k + 1;
    } else if (c === "#" && depth === 0) {
      // comment until end of line
      const nl = source.indexOf("\n", k);
      source = source.slice(0, k) + (nl < 0 ? "" : source.slice(nl));
    }
  }
  parts.push(source.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== "");
}

/** An input/output/params directive as Snakemake's named list: positional items get their index as key. */
function namedItems(source: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source) return out;
  splitTopLevel(source).forEach((item, index) => {
    const named = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)\s*([\s\S]*)$/.exec(item);
    const key = named ? named[1] : String(index);
    const expr = named ? named[2] : item;
    out[key] = pythonStringValue(expr) ?? expr.trim();
  });
  return out;
}

function scalar(source: string | undefined): string | undefined {
  if (source === undefined) return undefined;
  return pythonStringValue(source) ?? source.trim();
}

/** `{sample}` wildcards → a matcher, to decide whether one rule's output feeds another's input. */
function patternMatcher(pattern: string): RegExp {
  const parts = pattern.split(/(\{[^{}]*\})/);
  const body = parts
    .map((p) => (/^\{[^{}]*\}$/.test(p) ? ".+" : p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`);
}

function fileMatches(input: string, output: string): boolean {
  if (input === output) return true;
  return patternMatcher(output).test(input) || patternMatcher(input).test(output);
}

export function snakemakeSpecification(text: string): SnakemakeSpecification {
  const rules = parseSnakefileRules(text);
  const outputsOf = new Map(rules.map((r) => [r.name, Object.values(namedItems(r.directives.output))]));
  const job_dependencies: Record<string, string[]> = {};
  for (const rule of rules) {
    const inputs = Object.values(namedItems(rule.directives.input));
    const deps = rules
      .filter((other) => other !== rule)
      .filter((other) => inputs.some((i) => (outputsOf.get(other.name) ?? []).some((o) => fileMatches(i, o))))
      .map((other) => other.name);
    job_dependencies[rule.name] = deps;
  }
  const runs = (r: SnakemakeRule) => ["shell", "run", "script", "notebook", "wrapper", "cwl", "template_engine"].some((d) => d in r.directives);
  const steps = rules.filter(runs).map((rule): SnakemakeStep => {
    const resources = namedItems(rule.directives.resources);
    const image = scalar(rule.directives.container ?? rule.directives.singularity) ?? "";
    const uid = resources.kubernetes_uid !== undefined ? Number(resources.kubernetes_uid) : NaN;
    const shell = scalar(rule.directives.shell);
    return {
      name: rule.name,
      environment: image.replace(/^docker:\/\//, ""),
      inputs: namedItems(rule.directives.input),
      params: namedItems(rule.directives.params),
      outputs: namedItems(rule.directives.output),
      commands: shell ? [shell] : [],
      compute_backend: resources.compute_backend ?? null,
      kubernetes_memory_limit: resources.kubernetes_memory_limit ?? null,
      kubernetes_uid: Number.isFinite(uid) ? uid : null,
    };
  });
  return { job_dependencies, steps };
}

/** Names read from the workflow configuration (`config["x"]`, `config['x']`, `config.get("x")`). */
export function snakemakeConfigKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const m of text.matchAll(/config(?:\s*\[\s*|\.get\(\s*)(["'])([^"']+)\1/g)) keys.add(m[2]);
  return keys;
}
