import { RucioError } from "./errors";
import { parsePyLiteral, PyLiteralError, type PyValue } from "./pyliteral";

/**
 * DID search filters as Rucio's FilterEngine reads them: a list of dicts, OR'ed; keys inside one dict AND'ed;
 * a key is `attribute` or `attribute.op` with op in gt, gte, lt, lte, ne; `*` is a wildcard in string values;
 * `created_before`/`created_after` compare the creation date.
 */
export type FilterOp = "eq" | "ne" | "gt" | "gte" | "lt" | "lte";
export interface Condition {
  key: string;
  op: FilterOp;
  value: PyValue;
}
export type FilterSet = Condition[][];

const OPS = new Set(["gt", "gte", "lt", "lte", "ne", "eq"]);

export function filterSyntaxError(message: string): RucioError {
  return new RucioError(400, "DIDFilterSyntaxError", message);
}

/** Parses the `filters` query value (a Python literal) into OR'ed groups of AND'ed conditions. */
export function parseFilters(text: string): FilterSet {
  let literal: PyValue;
  try {
    literal = parsePyLiteral(text);
  } catch (err) {
    // `ast.literal_eval` raises ValueError/SyntaxError, which the view does not map: a bare 500 upstream.
    throw new RucioError(500, "ValueError", err instanceof PyLiteralError ? err.message : String(err));
  }
  const groups = Array.isArray(literal) ? literal : [literal];
  return groups.map((group) => {
    if (group === null || typeof group !== "object" || Array.isArray(group)) {
      throw filterSyntaxError(`Filter ${JSON.stringify(group)} is not a dictionary`);
    }
    return Object.entries(group).map(([rawKey, value]) => toCondition(rawKey, value));
  });
}

/** Legacy form: `?name=data*&length.gt=0` as one AND'ed group. */
export function filtersFromQuery(params: URLSearchParams, skip: Set<string>): Condition[] {
  const out: Condition[] = [];
  for (const [key, raw] of params) {
    if (skip.has(key)) continue;
    const asNumber = raw.trim() !== "" && !Number.isNaN(Number(raw)) ? Number(raw) : undefined;
    out.push(toCondition(key, asNumber ?? raw));
  }
  return out;
}

function toCondition(rawKey: string, value: PyValue): Condition {
  const dot = rawKey.lastIndexOf(".");
  if (dot > 0 && OPS.has(rawKey.slice(dot + 1))) {
    return { key: rawKey.slice(0, dot), op: rawKey.slice(dot + 1) as FilterOp, value };
  }
  return { key: rawKey, op: "eq", value };
}

/** Looks up an attribute of a DID for filtering; undefined when the DID has no such attribute. */
export type Lookup = (key: string) => unknown;

export function matchesFilters(filters: FilterSet, lookup: Lookup): boolean {
  if (filters.length === 0) return true;
  return filters.some((group) => group.every((cond) => matches(cond, lookup)));
}

function matches(cond: Condition, lookup: Lookup): boolean {
  if (cond.key === "created_before" || cond.key === "created_after") {
    const created = Number(lookup("created_at"));
    const limit = toTime(cond.value);
    if (limit === undefined) throw filterSyntaxError(`${cond.key} must be a date`);
    return cond.key === "created_before" ? created < limit : created > limit;
  }
  const actual = lookup(cond.key);
  if (actual === undefined || actual === null) return cond.op === "ne" && cond.value !== null;
  const expected = cond.value;
  switch (cond.op) {
    case "eq":
      return equals(actual, expected);
    case "ne":
      return !equals(actual, expected);
    default: {
      const cmp = compare(actual, expected);
      if (cmp === undefined) return false;
      if (cond.op === "gt") return cmp > 0;
      if (cond.op === "gte") return cmp >= 0;
      if (cond.op === "lt") return cmp < 0;
      return cmp <= 0;
    }
  }
}

function equals(actual: unknown, expected: PyValue): boolean {
  if (typeof expected === "string" && expected.includes("*")) {
    return wildcard(expected).test(String(actual));
  }
  if (typeof actual === "boolean" || typeof expected === "boolean") return String(actual).toLowerCase() === String(expected).toLowerCase();
  const a = Number(actual);
  const b = Number(expected);
  if (typeof actual !== "string" || typeof expected !== "string") {
    if (!Number.isNaN(a) && !Number.isNaN(b) && actual !== "" && expected !== "") return a === b;
  }
  return String(actual) === String(expected);
}

function compare(actual: unknown, expected: PyValue): number | undefined {
  const a = Number(actual);
  const b = Number(expected);
  if (!Number.isNaN(a) && !Number.isNaN(b) && actual !== "" && expected !== "") return a - b;
  const ta = toTime(actual as PyValue);
  const tb = toTime(expected);
  if (ta !== undefined && tb !== undefined) return ta - tb;
  if (typeof actual === "string" && typeof expected === "string") return actual < expected ? -1 : actual > expected ? 1 : 0;
  return undefined;
}

function toTime(value: PyValue | undefined): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return undefined;
  const t = Date.parse(value.replace(/ UTC$/, " GMT"));
  return Number.isNaN(t) ? undefined : t;
}

const wildcardCache = new Map<string, RegExp>();

export function wildcard(pattern: string): RegExp {
  const cached = wildcardCache.get(pattern);
  if (cached) return cached;
  if (wildcardCache.size > 1000) wildcardCache.clear();
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  const re = new RegExp(`^${escaped}$`, "s");
  wildcardCache.set(pattern, re);
  return re;
}
