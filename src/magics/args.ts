/**
 * The argument layer shared by the domain magics (%rucio, %reana, %zenodo, %vre).
 *
 * A magic is a table of verbs; each verb declares its positionals and options. This module turns the argument
 * string of a magic line into a checked call (shell-like tokenizing, then node:util parseArgs in strict mode),
 * and renders help from the same table, so the help text can never drift from what the parser accepts.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./types";

// ---------------------------------------------------------------------------------------------------------------
// Tokenizing

/**
 * Splits an argument string the way a POSIX shell splits words, without any of the shell's expansions:
 * whitespace separates words; '...' is literal; "..." is literal except for \" \\ \$ and \` escapes; a backslash
 * outside quotes escapes the next character. `*`, `>`, `;`, `|`, `$VAR` are plain characters, because DID
 * patterns (`user.jdoe:data*`) and Rucio filters (`length>10;type=x`) use them. (shell-quote's `parse` turns those
 * into glob and operator objects, which is why it is not used here.)
 */
export function tokenize(input: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  const n = input.length;
  while (i < n) {
    const c = input[i];
    if (c === "'") {
      const end = input.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`Unterminated single quote in: ${clipEcho(input)}`);
      word += input.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = input[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\\" && i + 1 < n && '"\\$`'.includes(input[i + 1])) {
          word += input[i + 1];
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      if (!closed) throw new UsageError(`Unterminated double quote in: ${clipEcho(input)}`);
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 < n) {
        // A backslash-newline is a line continuation, as in a shell.
        if (input[i + 1] !== "\n") {
          word += input[i + 1];
          inWord = true;
        }
        i += 2;
      } else {
        word += "\\";
        inWord = true;
        i++;
      }
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Longest piece of user input an error message repeats; the rest is counted, not echoed. */
export const ECHO_LIMIT = 200;

/** User input as an error message shows it: at most ECHO_LIMIT characters, then how many more there were. */
export function clipEcho(text: string, limit = ECHO_LIMIT): string {
  if (text.length <= limit) return text;
  const more = text.length - limit;
  return `${text.slice(0, limit)}… (${more} more character${more === 1 ? "" : "s"})`;
}

/** One word of user input, quoted as `quoteWord` does and clipped for an error message. */
export function echoWord(word: string): string {
  return word.length <= ECHO_LIMIT ? quoteWord(word) : clipEcho(quoteWord(word));
}

/** Quotes one word so that `tokenize` gives it back unchanged (for usage lines and suggestions). */
export function quoteWord(word: string): string {
  if (word !== "" && /^[A-Za-z0-9_./:=,@%+*-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------------------------
// Verb tables

export type ValueType = "string" | "integer" | "number" | "boolean";

export interface OptionSpec {
  type: ValueType;
  /** One-letter alias, e.g. "n" for `-n`. */
  short?: string;
  /** The option may repeat; the value is then an array (e.g. `-p a=1 -p b=2`). */
  multiple?: boolean;
  /** Name of the value in usage lines, e.g. "EXPR". */
  placeholder?: string;
  description: string;
  /** Allowed values (checked after parsing). */
  choices?: readonly string[];
  /** Shown in usage as required (`--rse RSE` instead of `[--rse RSE]`). */
  required?: boolean;
  /**
   * Bounds of a numeric value (inclusive), checked by the parser and shown in help. Every numeric option declares
   * both: a value a timer, a page or a server cannot honour (1e99 seconds) is a usage error, not a surprise.
   */
  min?: number;
  max?: number;
  /** Unit of a numeric value, for help and range errors ("seconds"). */
  unit?: string;
}

export interface PositionalSpec {
  /** Name shown in usage, e.g. "DID". */
  name: string;
  description?: string;
  type?: ValueType;
  /** Defaults to true. */
  required?: boolean;
  /** Takes every remaining word (only the last positional). */
  variadic?: boolean;
  /** Bounds of a numeric value (inclusive), as for options. */
  min?: number;
  max?: number;
  unit?: string;
}

export interface VerbSpec {
  name: string;
  /** Other names the verb answers to (e.g. "search" for list-dids). */
  aliases?: string[];
  summary: string;
  positionals?: PositionalSpec[];
  options?: Record<string, OptionSpec>;
  examples?: string[];
  /** The equivalent TypeScript call on the typed client, shown in help. */
  typescript?: string;
  /**
   * Cell body: "none" (a line verb only), "optional" (`%%magic verb` or `%magic verb`), "required" (`%%` only).
   * Defaults to "none".
   */
  body?: "none" | "optional" | "required";
  /** Description of the cell body, for help. */
  bodyHelp?: string;
}

export type OptionValue = string | number | boolean | string[] | number[] | undefined;

/** A checked invocation of one verb. */
export class VerbCall {
  constructor(
    readonly magic: string,
    readonly verb: VerbSpec,
    /** Positionals by name; a variadic positional is an array. */
    readonly positionals: Record<string, string | number | string[] | undefined>,
    readonly options: Record<string, OptionValue>,
    /** `--json`: return the raw value instead of the rendered one. */
    readonly json: boolean,
  ) {}

  /** A required positional or option as a string. */
  str(name: string): string {
    const v = this.optStr(name);
    if (v === undefined) throw new UsageError(`${this.prefix()}: missing ${name}.\nUsage: ${usageLine(this.magic, this.verb)}`);
    return v;
  }
  optStr(name: string): string | undefined {
    const v = name in this.positionals ? this.positionals[name] : this.options[name];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
    return String(v);
  }
  num(name: string): number | undefined {
    const v = name in this.positionals ? this.positionals[name] : this.options[name];
    return typeof v === "number" ? v : undefined;
  }
  flag(name: string): boolean {
    return this.options[name] === true;
  }
  list(name: string): string[] {
    const v = name in this.positionals ? this.positionals[name] : this.options[name];
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).map(String);
  }
  /** `k=v` pairs (from `-p k=v -p k2=v2`) as an object; a word without `=` is a UsageError. */
  pairs(name: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const item of this.list(name)) {
      const eq = item.indexOf("=");
      if (eq <= 0) throw new UsageError(`${this.prefix()}: --${name} expects KEY=VALUE, got ${echoWord(item)}.\nUsage: ${usageLine(this.magic, this.verb)}`);
      out[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return out;
  }
  prefix(): string {
    return `%${this.magic} ${this.verb.name}`;
  }
  usage(): string {
    return usageLine(this.magic, this.verb);
  }
}

/** Options every verb accepts. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  json: { type: "boolean", description: "return the raw value (JSON-compatible) instead of a rendered table" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The closest candidate to `word`, if it is close enough to be a plausible typo (or a prefix of it). */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 2 ? 0.5 : editDistance(word, c);
    if (d < bestScore) {
      best = c;
      bestScore = d;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return bestScore <= limit ? best : undefined;
}

function optionWord(name: string, o: OptionSpec): string {
  const flag = o.short ? `-${o.short}` : `--${name}`;
  if (o.type === "boolean") return flag;
  return `${flag} ${o.placeholder ?? name.toUpperCase().replace(/-/g, "_")}`;
}

/** `%rucio add-rule DID COPIES RSE_EXPR [--lifetime S] [--comment C] [--json]` */
export function usageLine(magic: string, verb: VerbSpec): string {
  const parts: string[] = [];
  const body = verb.body ?? "none";
  parts.push(body === "required" ? `%%${magic}` : body === "optional" ? `%[%]${magic}` : `%${magic}`);
  parts.push(verb.name);
  for (const p of verb.positionals ?? []) {
    let w = p.name + (p.variadic ? "..." : "");
    if (p.required === false) w = `[${w}]`;
    parts.push(w);
  }
  for (const [name, o] of Object.entries(verb.options ?? {})) {
    const w = optionWord(name, o) + (o.multiple ? " ..." : "");
    parts.push(o.required ? w : `[${w}]`);
  }
  parts.push("[--json]");
  return parts.join(" ");
}

/** Parses the words after the verb name against the verb's table. Throws UsageError with the usage line. */
export function parseVerb(magic: string, verb: VerbSpec, words: string[]): VerbCall {
  const declared: Record<string, OptionSpec> = { ...(verb.options ?? {}), ...COMMON_OPTIONS };
  const parseOptions: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(declared)) {
    parseOptions[name] = { type: o.type === "boolean" ? "boolean" : "string", ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  const prefix = `%${magic} ${verb.name}`;
  const usage = usageLine(magic, verb);
  // A NUL byte (e.g. from an interpolated {expr}) is never meant: no name, path or value may hold one, and the
  // file system and HTTP layers would only reject it with a bare TypeError.
  const nul = words.find((w) => w.includes("\0"));
  if (nul !== undefined) {
    throw new UsageError(`${prefix}: the argument ${JSON.stringify(nul)} contains a NUL byte (\\0); remove it.\nUsage: ${usage}`);
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: words, options: parseOptions, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError(explainParseError(err, prefix, usage, declared));
  }
  const values: Record<string, OptionValue> = {};
  for (const [name, o] of Object.entries(declared)) {
    const raw = parsed.values[name];
    if (raw === undefined) continue;
    if (o.type === "boolean") {
      values[name] = raw as boolean;
      continue;
    }
    const items = (Array.isArray(raw) ? raw : [raw]) as string[];
    const converted = items.map((item) => convert(item, o.type, `--${name}`, prefix, usage, o.choices, o));
    values[name] = o.multiple ? (converted as string[] | number[]) : converted[converted.length - 1];
  }
  for (const [name, o] of Object.entries(declared)) {
    if (o.required && values[name] === undefined && !values.help) {
      throw new UsageError(`${prefix}: missing required option ${optionWord(name, o)}.\nUsage: ${usage}`);
    }
  }

  const positionals: Record<string, string | number | string[] | undefined> = {};
  const specs = verb.positionals ?? [];
  const rest = [...parsed.positionals];
  for (const p of specs) {
    if (p.variadic) {
      positionals[p.name] = rest.splice(0);
      if (p.required !== false && (positionals[p.name] as string[]).length === 0 && !values.help) {
        throw new UsageError(`${prefix}: missing ${p.name} (one or more).\nUsage: ${usage}`);
      }
      continue;
    }
    const w = rest.shift();
    if (w === undefined) {
      if (p.required !== false && !values.help) throw new UsageError(`${prefix}: missing ${p.name}.\nUsage: ${usage}`);
      continue;
    }
    positionals[p.name] = p.type && p.type !== "string" && p.type !== "boolean" ? (convert(w, p.type, p.name, prefix, usage, undefined, p) as number) : w;
  }
  if (rest.length > 0 && !values.help) {
    const what = rest.length === 1 ? `unexpected argument ${echoWord(rest[0])}` : `unexpected arguments ${clipEcho(rest.map(quoteWord).join(" "))}`;
    throw new UsageError(`${prefix}: ${what}.\nUsage: ${usage}`);
  }
  const json = values.json === true;
  return new VerbCall(magic, verb, positionals, values, json);
}

/** A decimal number as people write one: `5`, `-2`, `0.5`, `.5`, `1e3`; not `Infinity`, `NaN`, `0x10` or `0b1`. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** "between 0.2 and 3600 seconds", "at least 1": the allowed range of a numeric value, for help and errors. */
export function rangeText(bounds: { min?: number; max?: number; unit?: string }): string | undefined {
  const { min, max, unit } = bounds;
  const range =
    min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `at least ${min}` : max !== undefined ? `at most ${max}` : undefined;
  return range && unit ? `${range} ${unit}` : range;
}

function convert(
  raw: string,
  type: ValueType,
  what: string,
  prefix: string,
  usage: string,
  choices?: readonly string[],
  bounds: { min?: number; max?: number; unit?: string } = {},
): string | number {
  if (type === "integer" || type === "number") {
    const num = Number(raw);
    // Integers are whole numbers written as such: "1e99" or "0x10" are not what a count or a lifetime means, and
    // past 2^53 a number is no longer exact. Numbers are decimal and finite: NaN, Infinity and hex are refused here
    // rather than becoming a timer that fires at once or a query the server rejects.
    const badInteger = type === "integer" && (!/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(num));
    if (!DECIMAL.test(raw.trim()) || !Number.isFinite(num) || badInteger) {
      const why = type === "integer" && Number.isFinite(num) && Number.isInteger(num) ? " (write it out in digits, at most 2^53)" : "";
      const range = rangeText(bounds);
      throw new UsageError(
        `${prefix}: ${what} expects ${type === "integer" ? "an integer" : "a number"}, got ${echoWord(raw)}${why}${range ? `; it must be ${range}` : ""}.\nUsage: ${usage}`,
      );
    }
    const { min, max } = bounds;
    if ((min !== undefined && num < min) || (max !== undefined && num > max)) {
      throw new UsageError(`${prefix}: ${what} must be ${rangeText(bounds)}; got ${echoWord(raw)}.\nUsage: ${usage}`);
    }
    return num;
  }
  if (choices && !choices.includes(raw)) {
    const near = closest(raw, choices);
    throw new UsageError(
      `${prefix}: ${what} must be one of ${choices.join(", ")}; got ${echoWord(raw)}.${near ? ` Did you mean ${near}?` : ""}\nUsage: ${usage}`,
    );
  }
  return raw;
}

function explainParseError(err: unknown, prefix: string, usage: string, declared: Record<string, OptionSpec>): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const rawFlag = /'(-{1,2}[^' <]+)/.exec(message)?.[1];
  const flag = rawFlag === undefined ? undefined : clipEcho(rawFlag);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) {
    const longNames = Object.keys(declared);
    let suggestion: string | undefined;
    if (flag.startsWith("--")) {
      const bare = rawFlag!.slice(2).split("=")[0];
      const near = closest(bare, longNames);
      if (near) suggestion = `--${near}`;
    } else {
      const letter = rawFlag!.slice(1);
      const byLong = closest(letter, longNames);
      const shorts = Object.entries(declared).filter(([, o]) => o.short);
      const near = shorts.find(([, o]) => o.short!.toLowerCase() === letter.toLowerCase());
      if (near) suggestion = `-${near[1].short}`;
      else if (byLong && letter.length > 1) suggestion = `--${byLong}`;
    }
    const valid = Object.entries(declared).map(([name, o]) => `--${name}${o.short ? `/-${o.short}` : ""}`).join(", ");
    return `${prefix}: unknown option ${flag}.${suggestion ? ` Did you mean ${suggestion}?` : ` Valid options: ${valid}.`}\nUsage: ${usage}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag) {
    if (/does not take an argument/.test(message)) return `${prefix}: ${flag} is a switch and takes no value.\nUsage: ${usage}`;
    if (/ambiguous/.test(message)) {
      return `${prefix}: ${flag} needs a value; to pass a value starting with "-", write ${flag}=-VALUE.\nUsage: ${usage}`;
    }
    return `${prefix}: ${flag} needs a value.\nUsage: ${usage}`;
  }
  return `${prefix}: ${clipEcho(message)}\nUsage: ${usage}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Help

/** A help text value: plain text, rendered in a monospace block. */
export class HelpText {
  constructor(readonly text: string) {}
  [Symbol.for("Jupyter.display")](): Record<string, unknown> {
    return { "text/plain": this.text };
  }
  toString(): string {
    return this.text;
  }
}

function wrapIndent(text: string, indent: string, width = 100): string {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const w of para.split(/\s+/).filter(Boolean)) {
      if (line && indent.length + line.length + 1 + w.length > width) {
        out.push(indent + line);
        line = w;
      } else line = line ? `${line} ${w}` : w;
    }
    out.push(indent + line);
  }
  return out.join("\n");
}

/** "seconds between polls (default 5; between 0.2 and 3600 seconds)": a note joins the description's own parentheses. */
function withNote(description: string, note: string | undefined): string {
  if (!note) return description;
  return description.endsWith(")") ? `${description.slice(0, -1)}; ${note})` : `${description} (${note})`;
}

/** Detailed help of one verb: usage, description, arguments, options, examples, typed equivalent. */
export function verbHelp(magic: string, verb: VerbSpec): string {
  const lines = [`Usage: ${usageLine(magic, verb)}`, "", wrapIndent(verb.summary, "  ")];
  if (verb.aliases?.length) lines.push(`  Also: ${verb.aliases.map((a) => `%${magic} ${a}`).join(", ")}`);
  if (verb.bodyHelp) lines.push("", "Cell body:", wrapIndent(verb.bodyHelp, "  "));
  const pos = (verb.positionals ?? []).filter((p) => p.description);
  if (pos.length) {
    lines.push("", "Arguments:");
    const width = Math.max(...pos.map((p) => p.name.length)) + 2;
    for (const p of pos) {
      const range = p.type === "integer" || p.type === "number" ? rangeText(p) : undefined;
      lines.push(`  ${p.name.padEnd(width)}${withNote(p.description ?? "", range)}`);
    }
  }
  const opts = Object.entries({ ...(verb.options ?? {}), ...COMMON_OPTIONS });
  lines.push("", "Options:");
  const labels = opts.map(([name, o]) => {
    const flags = `${o.short ? `-${o.short}, ` : ""}--${name}`;
    return o.type === "boolean" ? flags : `${flags} ${o.placeholder ?? name.toUpperCase().replace(/-/g, "_")}`;
  });
  const width = Math.max(...labels.map((l) => l.length)) + 2;
  opts.forEach(([, o], i) => {
    const range = o.type === "integer" || o.type === "number" ? rangeText(o) : undefined;
    const extra = [o.choices ? `one of ${o.choices.join(", ")}` : "", range ?? "", o.multiple ? "repeatable" : ""].filter(Boolean).join("; ");
    lines.push(`  ${labels[i].padEnd(width)}${withNote(o.description, extra)}`);
  });
  if (verb.examples?.length) {
    lines.push("", "Examples:");
    for (const e of verb.examples) lines.push(...e.split("\n").map((l) => `  ${l}`));
  }
  if (verb.typescript) {
    lines.push("", "In TypeScript:");
    lines.push(...verb.typescript.split("\n").map((l) => `  ${l}`));
  }
  return lines.join("\n");
}

/** Overview help of a magic: one line per verb. */
export function magicHelp(magic: string, summary: string, verbs: VerbSpec[], footer?: string): string {
  const width = Math.max(...verbs.map((v) => v.name.length)) + 2;
  const lines = [`%${magic}: ${summary}`, "", `Usage: %${magic} VERB [ARGS...] [--json]     (%${magic} help VERB for details)`, "", "Verbs:"];
  for (const v of verbs) lines.push(`  ${v.name.padEnd(width)}${v.summary.split("\n")[0]}`);
  if (footer) lines.push("", footer);
  return lines.join("\n");
}
