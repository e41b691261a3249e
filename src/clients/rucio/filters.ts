/**
 * DID search filters. Users write `key op value` terms joined by `,` (AND) and `;` (OR), the syntax of
 * the Rucio JupyterLab extension and `rucio list-dids --filter`:
 *
 *     name=data*,project=vre ; run_number>=100,datatype!=RAW
 *
 * The server expects `filters=` to be a Python literal (it runs `ast.literal_eval`): a list of dicts,
 * dicts OR'ed, keys inside one dict AND'ed, operators as key suffixes (`.gt .gte .lt .lte .ne`), `*` as
 * wildcard. JSON `true/false/null` makes the server fail, so only strings and numbers are produced.
 */
import { RucioError } from "./errors";

export type FilterValue = string | number;
/** One AND group: `{ "name": "data*", "run_number.gte": 100 }`. */
export type FilterGroup = Record<string, FilterValue>;

const OPS: [string, string][] = [
  [">=", ".gte"],
  ["<=", ".lte"],
  ["!=", ".ne"],
  ["==", ""],
  ["=", ""],
  [">", ".gt"],
  ["<", ".lt"],
];
const SUFFIXES = new Set([".gt", ".gte", ".lt", ".lte", ".ne"]);

function invalid(message: string): RucioError {
  return new RucioError({
    code: "RUCIO_INVALID_FILTER",
    message,
    hint: "Write filters as `key op value` with op one of = != < <= > >=, joined by `,` (AND) or `;` (OR), e.g. `run_number>100,datatype=AOD`.",
  });
}

function parseValue(raw: string): FilterValue {
  const v = raw.trim();
  const quoted = /^(['"])(.*)\1$/.exec(v);
  if (quoted) return quoted[2];
  if (/^[+-]?\d+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+)(e[+-]?\d+)?$/i.test(v)) return Number(v);
  return v;
}

/** Parses `key op value` terms (`,` = AND, `;` = OR) into filter groups. */
export function parseFilterExpression(expr: string): FilterGroup[] {
  const groups: FilterGroup[] = [];
  for (const orPart of expr.split(";")) {
    if (orPart.trim() === "") continue;
    const group: FilterGroup = {};
    for (const term of orPart.split(",")) {
      const t = term.trim();
      if (t === "") continue;
      const m = /^([A-Za-z_][\w.]*)\s*(>=|<=|!=|==|=|>|<)\s*(.*)$/s.exec(t);
      if (!m) {
        if (/^[^=<>!]*$/.test(t)) throw invalid(`The filter term "${t}" has no operator.`);
        throw invalid(`"${t.split(/[=<>!]/)[0].trim()}" is not a valid metadata key.`);
      }
      const found = { key: m[1], suffix: OPS.find(([op]) => op === m[2])![1], value: m[3] };
      if (found.value.trim() === "") throw invalid(`The filter term "${t}" has no value.`);
      const key = found.key + found.suffix;
      if (key in group) throw invalid(`The key "${key}" appears twice in one AND group; use ';' for alternatives.`);
      group[key] = parseValue(found.value);
    }
    if (Object.keys(group).length) groups.push(group);
  }
  return groups;
}

/** Python `repr()` of a str, as `str(list_of_dicts)` prints it. */
export function pyStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

function pyNumber(n: number): string {
  if (!Number.isFinite(n)) throw invalid(`The filter value ${n} is not a finite number.`);
  return String(n);
}

/** Encodes filter groups as the Python literal the server evaluates: `[{'name': 'data*'}]`. */
export function encodeFilters(groups: FilterGroup[]): string {
  const dicts = groups.map((g) => {
    const items = Object.entries(g).map(([k, v]) => {
      const base = k.replace(/\.(gt|gte|lt|lte|ne)$/, "");
      if (!/^[A-Za-z_]\w*$/.test(base) || (k !== base && !SUFFIXES.has(k.slice(base.length)))) {
        throw invalid(`"${k}" is not a valid filter key.`);
      }
      if (typeof v === "number") return `${pyStr(k)}: ${pyNumber(v)}`;
      if (typeof v === "string") return `${pyStr(k)}: ${pyStr(v)}`;
      throw invalid(`The filter value for "${k}" must be a string or a number.`);
    });
    return `{${items.join(", ")}}`;
  });
  return `[${dicts.join(", ")}]`;
}
