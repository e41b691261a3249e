/**
 * The magic registry. It lives on `globalThis` under a well-known symbol so that every copy of the package loaded
 * in a kernel process (the kernel's own and a notebook's local node_modules) registers into the same table.
 */
import { clipEcho } from "./args";
import { UsageError, type MagicSpec } from "./types";

const REGISTRY_KEY = Symbol.for("vre-ts.magics");
const NAME_RE = /^[A-Za-z][\w-]*$/;

export function magicRegistry(): Map<string, MagicSpec> {
  const g = globalThis as Record<symbol, unknown>;
  let reg = g[REGISTRY_KEY] as Map<string, MagicSpec> | undefined;
  if (!reg) {
    reg = new Map();
    g[REGISTRY_KEY] = reg;
  }
  return reg;
}

/** Adds (or replaces) a magic. Works inside and outside a kernel; the kernel reads the table when it runs one. */
export function registerMagic(spec: MagicSpec): void {
  if (!spec || typeof spec.run !== "function") throw new TypeError("registerMagic: spec.run must be a function");
  if (!NAME_RE.test(spec.name)) {
    throw new TypeError(`registerMagic: invalid magic name "${spec.name}" (letters, digits, _ and -, starting with a letter)`);
  }
  if (!["line", "cell", "both"].includes(spec.kind)) throw new TypeError(`registerMagic: kind must be "line", "cell" or "both"`);
  magicRegistry().set(spec.name, spec);
}

export function getMagic(name: string): MagicSpec | undefined {
  return magicRegistry().get(name);
}

export function listMagics(): MagicSpec[] {
  return [...magicRegistry().values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => [i, ...new Array<number>(n).fill(0)]);
  for (let j = 0; j <= n; j++) d[0][j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[m][n];
}

/** The candidate closest to `name`, if it is close enough to be a plausible typo (or a prefix of it). */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const score = cl.startsWith(lower) && lower.length >= 2 ? 0.5 : editDistance(lower, cl);
    if (score < bestScore || (score === bestScore && best !== undefined && c < best)) {
      best = c;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(name.length / 3));
  return bestScore <= limit ? best : undefined;
}

function sigil(spec: MagicSpec, asCell: boolean): string {
  return asCell || spec.kind === "cell" ? "%%" : "%";
}

/** The error for a name nobody registered, naming the closest magic. */
export function unknownMagicError(name: string, asCell: boolean): UsageError {
  const names = listMagics().map((m) => m.name);
  const close = closestName(name, names);
  const prefix = asCell ? "%%" : "%";
  const hint = close ? ` Did you mean ${sigil(getMagic(close)!, asCell)}${close}?` : "";
  return new UsageError(`Unknown magic ${prefix}${clipEcho(name)}.${hint} Run %lsmagic to list the available magics.`);
}

/** Looks up a magic for the way it was invoked, with a usage error explaining a line/cell mix-up. */
export function resolveMagic(name: string, asCell: boolean): MagicSpec {
  const spec = getMagic(name);
  if (!spec) throw unknownMagicError(name, asCell);
  if (asCell && spec.kind === "line") {
    throw new UsageError(`%${name} is a line magic: write "%${name} ..." on its own line, not %%${name}.`);
  }
  if (!asCell && spec.kind === "cell") {
    throw new UsageError(`%%${name} is a cell magic: put "%%${name} ..." on the first line of the cell, followed by its body.`);
  }
  return spec;
}

/** Help for `%name?`: usage, summary and examples as text/plain and text/markdown. */
/** How every magic line reads its arguments (the kernel's preprocessor implements it). */
export const ARGUMENT_SYNTAX =
  "Arguments: {expr} inserts a TypeScript value ({{ and }} are literal braces); `//` at the start or after a space " +
  "begins a comment, so `%rucio list-dids x:*  // note` passes `list-dids x:*` while https://host/path, a//b and quoted \"//\" stay.";

export function magicHelp(name: string): { "text/plain": string; "text/markdown": string } {
  const spec = getMagic(name);
  if (!spec) throw unknownMagicError(name, false);
  const head = spec.kind === "both" ? `%${name} / %%${name}` : `${sigil(spec, false)}${name}`;
  const examples = spec.examples ?? [];
  const syntax = name === "time" ? "The argument of %time is TypeScript: a `//` comment ends it." : ARGUMENT_SYNTAX;
  const plain = [
    `${head} — ${spec.summary}`,
    "",
    spec.usage.trimEnd(),
    ...(examples.length ? ["", "Examples:", ...examples.map((e) => `  ${e}`)] : []),
    "",
    syntax,
  ].join("\n");
  const md = [
    `**\`${head}\`** — ${spec.summary}`,
    "",
    "```",
    spec.usage.trimEnd(),
    "```",
    ...(examples.length ? ["", "Examples:", "", "```", ...examples, "```"] : []),
    "",
    syntax,
  ].join("\n");
  return { "text/plain": plain, "text/markdown": md };
}
