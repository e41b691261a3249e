/**
 * The magic preprocessor. A cell stays TypeScript: every `%name args` line is rewritten *in place* into one
 * TypeScript statement on the same line, so compile and run-time line numbers keep pointing at the user's text:
 *
 *   %name args            →  await Reflect.get(globalThis, Symbol.for("vre-ts.kernel")).line("name", `args`);
 *   const x = %name args  →  const x = await Reflect.get(...).line("name", `args`);
 *   %name?                →  Reflect.get(...).help("name");
 *   %time EXPR            →  await Reflect.get(...).time(async () => (EXPR), `EXPR`);
 *
 * `{expr}` in the arguments is interpolated like IPython does (`{{`/`}}` are literal braces); a brace group that is
 * not a TypeScript expression (e.g. JSON) stays literal. A first-line `%%name args` hands the whole body to a cell
 * magic without compiling it.
 *
 * A small lexer tracks strings, comments, template literals (with `${}` nesting) and regex literals so that `%`
 * inside them, and `%` used as modulo (`a\n%3`, magic names start with a letter), are left alone. The generated
 * code never contains `await (`, which tslab does not recognise as top-level await.
 */

export const KERNEL_REF = 'Reflect.get(globalThis, Symbol.for("vre-ts.kernel"))';

/** Magics whose argument is a TypeScript expression rather than text. */
const CODE_LINE_MAGICS = new Set(["time"]);

export interface PreprocessOptions {
  /** Whether a magic of this name is registered (unknown names after an operand are read as modulo). */
  isKnownMagic?: (name: string) => boolean;
  /** Whether `{text}` is a TypeScript expression to interpolate. Defaults to a conservative heuristic. */
  isExpression?: (text: string) => boolean;
}

/** A whole-line magic call that needs no TypeScript (no interpolation, no assignment). */
export interface PlainMagicCall {
  name: string;
  args: string;
  help: boolean;
}

export type Preprocessed =
  | {
      kind: "code";
      code: string;
      magicCount: number;
      /** Set when the cell is nothing but plain magic lines: they can run without compiling anything. */
      plainMagics?: PlainMagicCall[];
    }
  | {
      kind: "cell";
      name: string;
      /** The argument text as written. */
      args: string;
      /** A template literal producing the arguments, when they contain `{expr}` interpolation. */
      argsTemplate?: string;
      body: string;
      help: boolean;
    };

const NAME = "[A-Za-z][\\w-]*";
const LINE_MAGIC = new RegExp(`^(\\s*)%(${NAME})(\\?{0,2})(?:\\s+(.*?))?\\s*;?\\s*$`);
const ASSIGNED_MAGIC = new RegExp(
  `^(\\s*(?:(?:export\\s+)?(?:const|let|var)\\s+[^=%]+?|[A-Za-z_$][\\w$]*(?:\\.[A-Za-z_$][\\w$]*)*)\\s*=)\\s*%(${NAME})(?:\\s+(.*?))?\\s*;?\\s*$`,
);
const CELL_MAGIC = new RegExp(`^\\s*%%(${NAME})(\\?{0,2})(?:[ \\t]+(.*?))?[ \\t]*$`);

/** Splits off a first-line `%%name args` cell magic, allowing leading blank lines. */
export function parseCellMagic(src: string): { name: string; args: string; body: string; help: boolean; headerEnd: number } | undefined {
  const m = /^(?:[ \t]*\r?\n)*/.exec(src);
  const start = m ? m[0].length : 0;
  const nl = src.indexOf("\n", start);
  const first = (nl < 0 ? src.slice(start) : src.slice(start, nl)).replace(/\r$/, "");
  const cm = CELL_MAGIC.exec(first);
  if (!cm) return undefined;
  return {
    name: cm[1],
    help: cm[2].length > 0,
    args: (cm[3] ?? "").trim(),
    body: nl < 0 ? "" : src.slice(nl + 1),
    headerEnd: nl < 0 ? src.length : nl,
  };
}

interface LineInfo {
  start: number;
  text: string;
  /** The line begins in plain code (not inside a string, comment, template literal or `${}`). */
  codeStart: boolean;
  /** Last significant code character before this line ("" at the start of the cell). */
  prevSignificant: string;
}

/** Scans the source once and reports, for every line, whether it starts in plain code. */
export function scanLines(src: string): LineInfo[] {
  type Mode = "code" | "line" | "block" | "sq" | "dq" | "tpl" | "re";
  let mode: Mode = "code";
  const tplStack: number[] = []; // brace depth inside each open `${`
  let lastSig = "";
  let lastWord = "";
  const lines: LineInfo[] = [];
  let lineStart = 0;
  const pushLine = (end: number, nextStart: number, startMode: Mode, startStack: number, prev: string) => {
    lines.push({ start: lineStart, text: src.slice(lineStart, end), codeStart: startMode === "code" && startStack === 0, prevSignificant: prev });
    lineStart = nextStart;
  };
  let curStartMode: Mode = "code";
  let curStartStack = 0;
  let curPrev = "";
  let reClass = false;
  const regexAllowedAfter = new Set("(,=:[!&|?{};+-*%~^<>");
  const regexKeywords = new Set(["return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await"]);

  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    const n = src[i + 1];
    if (c === "\n") {
      if (mode === "line") mode = "code";
      if (mode === "sq" || mode === "dq" || mode === "re") mode = "code"; // unterminated: recover
      pushLine(i, i + 1, curStartMode, curStartStack, curPrev);
      curStartMode = mode;
      curStartStack = tplStack.length;
      curPrev = lastSig;
      continue;
    }
    switch (mode) {
      case "code":
        if (c === "/" && n === "/") {
          mode = "line";
          i++;
        } else if (c === "/" && n === "*") {
          mode = "block";
          i++;
        } else if (c === "'") mode = "sq";
        else if (c === '"') mode = "dq";
        else if (c === "`") mode = "tpl";
        else if (c === "/" && (lastSig === "" || regexAllowedAfter.has(lastSig) || regexKeywords.has(lastWord))) {
          mode = "re";
          reClass = false;
        } else if (c === "{") {
          if (tplStack.length) tplStack[tplStack.length - 1]++;
        } else if (c === "}") {
          if (tplStack.length) {
            if (tplStack[tplStack.length - 1] === 0) {
              tplStack.pop();
              mode = "tpl";
              lastSig = "`";
              continue;
            }
            tplStack[tplStack.length - 1]--;
          }
        }
        if (mode === "code" && !isSpace(c)) {
          if (isWordChar(c)) lastWord = isWordChar(lastSig) ? lastWord + c : c;
          else lastWord = "";
          lastSig = c;
        } else if (mode !== "code" && mode !== "line" && mode !== "block") {
          lastWord = "";
        }
        break;
      case "line":
        break;
      case "block":
        if (c === "*" && n === "/") {
          mode = "code";
          i++;
        }
        break;
      case "sq":
      case "dq":
        if (c === "\\") i++;
        else if ((mode === "sq" && c === "'") || (mode === "dq" && c === '"')) {
          mode = "code";
          lastSig = c;
        }
        break;
      case "tpl":
        if (c === "\\") i++;
        else if (c === "`") {
          mode = "code";
          lastSig = "`";
        } else if (c === "$" && n === "{") {
          tplStack.push(0);
          mode = "code";
          lastSig = "{";
          i++;
        }
        break;
      case "re":
        if (c === "\\") i++;
        else if (c === "[") reClass = true;
        else if (c === "]") reClass = false;
        else if (c === "/" && !reClass) {
          mode = "code";
          lastSig = "/";
          lastWord = "x"; // a regex is an operand: a following `/` divides
        }
        break;
    }
  }
  pushLine(src.length, src.length, curStartMode, curStartStack, curPrev);
  return lines;
}

function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\r" || c === "\v" || c === "\f" || c === "\u00a0" || c === "\ufeff";
}

function isWordChar(c: string): boolean {
  if (c.length !== 1) return false;
  const n = c.charCodeAt(0);
  return (n >= 48 && n <= 57) || (n >= 65 && n <= 90) || (n >= 97 && n <= 122) || n === 95 || n === 36 || n > 127;
}

/** Whether the previous code ended with an operand, so a `%x` line continues it as a modulo expression. */
function endsWithOperand(prev: string): boolean {
  return /[\w$)\]'"`]/.test(prev);
}

/** Conservative default for `{expr}` detection when no TypeScript parser is supplied. */
export function looksLikeExpression(text: string): boolean {
  const t = text.trim();
  if (!t || /^["'{[]/.test(t)) return false;
  let depth = 0;
  let q = "";
  let ternary = 0;
  for (let i = 0; i < t.length; i++) {
    const c = t[i];
    if (q) {
      if (c === "\\") i++;
      else if (c === q) q = "";
      continue;
    }
    if (c === '"' || c === "'" || c === "`") q = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (depth === 0 && c === "?" && t[i + 1] !== "." && t[i + 1] !== "?") ternary++;
    else if (depth === 0 && c === ":") {
      if (ternary === 0) return false;
      ternary--;
    } else if (depth === 0 && (c === "," || c === ";")) return false;
  }
  return depth === 0 && !q;
}

function escapeTemplateText(s: string): string {
  return s.replace(/[\\`$]/g, (ch) => "\\" + ch);
}

/**
 * Turns magic arguments into a template literal, interpolating `{expr}` (IPython style). Returns the literal's
 * source and whether anything was interpolated.
 */
export function argsToTemplate(args: string, isExpression: (t: string) => boolean = looksLikeExpression): { template: string; interpolated: boolean } {
  let out = "";
  let interpolated = false;
  let i = 0;
  while (i < args.length) {
    const c = args[i];
    if (c === "{" && args[i + 1] === "{") {
      out += "{";
      i += 2;
      continue;
    }
    if (c === "}" && args[i + 1] === "}") {
      out += "}";
      i += 2;
      continue;
    }
    if (c === "{") {
      const end = matchingBrace(args, i);
      if (end > i) {
        const expr = args.slice(i + 1, end);
        if (isExpression(expr)) {
          out += "${" + expr + "}";
          interpolated = true;
          i = end + 1;
          continue;
        }
        out += escapeTemplateText(args.slice(i, end + 1));
        i = end + 1;
        continue;
      }
    }
    out += escapeTemplateText(c);
    i++;
  }
  return { template: "`" + out + "`", interpolated };
}

function matchingBrace(s: string, open: number): number {
  let depth = 0;
  let q = "";
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === "\\") i++;
      else if (c === q) q = "";
      continue;
    }
    if (c === '"' || c === "'" || c === "`") q = c;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  return -1;
}

function lineCall(name: string, args: string, opts: PreprocessOptions): string {
  if (CODE_LINE_MAGICS.has(name) && args.trim()) {
    return `await ${KERNEL_REF}.time(async () => (${args}), ${JSON.stringify(args)})`;
  }
  const { template } = argsToTemplate(args, opts.isExpression);
  return `await ${KERNEL_REF}.line(${JSON.stringify(name)}, ${template})`;
}

/** Rewrites a cell. Pure and fast (no TypeScript): safe to run on every execute, complete and inspect. */
export function preprocess(src: string, opts: PreprocessOptions = {}): Preprocessed {
  const cell = parseCellMagic(src);
  if (cell) {
    const { template, interpolated } = argsToTemplate(cell.args, opts.isExpression);
    return {
      kind: "cell",
      name: cell.name,
      args: cell.args,
      argsTemplate: interpolated ? template : undefined,
      body: cell.body,
      help: cell.help,
    };
  }
  if (!src.includes("%")) return { kind: "code", code: src, magicCount: 0 };
  const lines = scanLines(src);
  let count = 0;
  let plain: PlainMagicCall[] | undefined = [];
  const out = lines.map((line) => {
    if (plain && line.text.trim() !== "" && !(line.codeStart && LINE_MAGIC.test(line.text.replace(/\r$/, "")))) plain = undefined;
    if (!line.codeStart || !line.text.includes("%")) return line.text;
    const text = line.text.replace(/\r$/, "");
    const cr = line.text.endsWith("\r") ? "\r" : "";
    const lm = LINE_MAGIC.exec(text);
    if (lm && !text.trimStart().startsWith("%%")) {
      const [, indent, name, help, args = ""] = lm;
      const known = opts.isKnownMagic?.(name) ?? true;
      if (!known && endsWithOperand(line.prevSignificant)) {
        plain = undefined;
        return line.text; // `a\n%b` is a modulo
      }
      count++;
      if (plain) {
        if (help || (!CODE_LINE_MAGICS.has(name) && !argsToTemplate(args, opts.isExpression).interpolated)) plain.push({ name, args: unescapeBraces(args), help: !!help });
        else plain = undefined;
      }
      if (help) return `${indent}${KERNEL_REF}.help(${JSON.stringify(name)});${cr}`;
      return `${indent}${lineCall(name, args, opts)};${cr}`;
    }
    const am = ASSIGNED_MAGIC.exec(text);
    if (am) {
      const [, lhs, name, args = ""] = am;
      count++;
      return `${lhs} ${lineCall(name, args, opts)};${cr}`;
    }
    return line.text;
  });
  const result: Preprocessed = { kind: "code", code: out.join("\n"), magicCount: count };
  if (plain && plain.length > 0 && plain.length === count) result.plainMagics = plain;
  return result;
}

/** `{{`/`}}` are literal braces in magic arguments (what the template literal would have produced). */
function unescapeBraces(args: string): string {
  return args.replace(/\{\{/g, "{").replace(/\}\}/g, "}");
}

/**
 * Replaces magic syntax by same-length TypeScript so completion and inspection see valid code with unchanged
 * offsets. A cell magic's body is kept only when it is TypeScript (`tsBodyMagics`), otherwise the cell is blanked.
 */
export function blankMagics(
  src: string,
  options: { isKnownMagic?: (name: string) => boolean; tsBodyMagics?: ReadonlySet<string> } = {},
): string {
  const tsBodyMagics = options.tsBodyMagics ?? new Set(["time"]);
  const cell = parseCellMagic(src);
  if (cell) {
    const header = src.slice(0, cell.headerEnd).replace(/[^\n]/g, " ");
    const rest = src.slice(cell.headerEnd);
    return header + (tsBodyMagics.has(cell.name) ? blankMagics(rest, options) : rest.replace(/[^\n]/g, " "));
  }
  if (!src.includes("%")) return src;
  return scanLines(src)
    .map((line) => {
      if (!line.codeStart) return line.text;
      const lm = LINE_MAGIC.exec(line.text.replace(/\r$/, ""));
      if (lm && !line.text.trimStart().startsWith("%%") && ((options.isKnownMagic?.(lm[2]) ?? true) || !endsWithOperand(line.prevSignificant))) {
        return " ".repeat(line.text.length);
      }
      const am = ASSIGNED_MAGIC.exec(line.text.replace(/\r$/, ""));
      if (am) {
        const keep = am[1].length;
        const width = line.text.length - keep;
        const filler = width >= 11 ? " (0 as any)" : " 0";
        return line.text.slice(0, keep) + filler.padEnd(width, " ").slice(0, Math.max(width, 0));
      }
      return line.text;
    })
    .join("\n");
}

/** If the cursor ends a `%name` / `%%name` prefix at the start of a line, the prefix and where it starts. */
export function magicPrefixAt(src: string, cursor: number): { start: number; percent: "%" | "%%"; partial: string } | undefined {
  const lineStart = src.lastIndexOf("\n", cursor - 1) + 1;
  const before = src.slice(lineStart, cursor);
  const m = /^(\s*)(%%?)([\w-]*)$/.exec(before);
  if (!m) return undefined;
  const isFirstLine = src.slice(0, lineStart).trim() === "";
  if (m[2] === "%%" && !isFirstLine) return undefined;
  return { start: lineStart + m[1].length, percent: m[2] as "%" | "%%", partial: m[3] };
}

/** The magic name under the cursor (for inspect), e.g. the cursor anywhere in `%rucio` or `%%bash`. */
export function magicNameAt(src: string, cursor: number): string | undefined {
  const lineStart = src.lastIndexOf("\n", Math.max(0, cursor - 1)) + 1;
  let lineEnd = src.indexOf("\n", cursor);
  if (lineEnd < 0) lineEnd = src.length;
  const line = src.slice(lineStart, lineEnd);
  const m = /^(\s*(?:[^=%]*=\s*)?)(%%?)([A-Za-z][\w-]*)/.exec(line);
  if (!m) return undefined;
  const nameEnd = lineStart + m[0].length;
  return cursor <= nameEnd + 1 ? m[3] : undefined;
}
