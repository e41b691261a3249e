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
 * magic without compiling it. Columns change on a rewritten line; the `PositionMap` of the result takes compile
 * errors back to the user's columns.
 *
 * Comments: `//` starts a comment on a magic line when it begins the arguments or follows whitespace, outside
 * quotes and `{}` groups (`%rucio ls x:*  // note`); `https://...`, `a//b`, `"//"` and `'//'` stay arguments. For
 * `%time`, whose argument is TypeScript, TypeScript's own comment rule applies.
 *
 * Lines end where TypeScript ends them (CRLF, LF, CR, U+2028, U+2029). A magic line next to a CR, U+2028 or U+2029
 * is rejected (`error`): editors show those characters on the magic's line, TypeScript would read the text after
 * them as code.
 *
 * A small lexer tracks strings, comments, template literals (with `${}` nesting) and regex literals so that `%`
 * inside them, and `%` used as modulo (`a\n%3`, magic names start with a letter), are left alone. The generated
 * code never contains `await (`, which tslab does not recognise as top-level await.
 */
import { PositionMap, RewriteBuilder } from "../position-map";

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
      /** Takes offsets in `code` back to the cell; set when magic lines were rewritten. */
      map?: PositionMap;
      /** A magic line that must not run (the kernel raises it as a UsageError before running anything). */
      error?: string;
    }
  | {
      kind: "cell";
      name: string;
      /** The argument text as written (without a trailing `//` comment). */
      args: string;
      /** A template literal producing the arguments, when they contain `{expr}` interpolation. */
      argsTemplate?: string;
      /** Takes offsets in `argsTemplate` back to the cell. */
      argsMap?: PositionMap;
      body: string;
      help: boolean;
    };

const NAME = "[A-Za-z][\\w-]*";
/** `%name` or `%name?`/`%name??` at the start of a line; the rest of the line is checked by `magicArgs`. */
const LINE_MAGIC_HEAD = new RegExp(`^(\\s*)%(${NAME})(\\?{0,2})`);
const ASSIGNED_MAGIC_HEAD = new RegExp(
  `^(\\s*(?:(?:export\\s+)?(?:const|let|var)\\s+[^=%]+?|[A-Za-z_$][\\w$]*(?:\\.[A-Za-z_$][\\w$]*)*)\\s*=)\\s*%(${NAME})`,
);
const CELL_MAGIC = new RegExp(`^\\s*%%(${NAME})(\\?{0,2})(?:[ \\t]+(.*?))?[ \\t]*$`, "d");
const CELL_MAGIC_START = new RegExp(`^\\s*%%${NAME}`);

const LINE_END = /\r\n?|[\n\u2028\u2029]/g;

/** Line terminators that editors do not show as a line break (or not everywhere) but TypeScript does. */
const HIDDEN_TERMINATOR = /[\r\u2028\u2029]/;

function describeTerminator(c: string): string {
  if (c === "\r") return "a carriage return (CR) without a line feed";
  if (c === "\u2028") return "a U+2028 LINE SEPARATOR";
  return "a U+2029 PARAGRAPH SEPARATOR";
}

function hiddenTerminatorError(name: string, c: string): string {
  return (
    `the %${name} line is split by ${describeTerminator(c)}, which TypeScript reads as a line break although ` +
    `editors show one line; nothing was run. Replace it with a real line break or remove it.`
  );
}

function isBlank(c: string | undefined): boolean {
  return c !== undefined && /\s/.test(c);
}

/**
 * Where a `//` comment starts in magic arguments that are text, or -1: a `//` at the start or after whitespace,
 * outside quotes (the tokenizer's shell-like quoting) and outside `{}` groups.
 */
export function textCommentStart(args: string): number {
  let blankBefore = true; // at the start, or after an unescaped blank
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (c === "/" && args[i + 1] === "/" && blankBefore) return i;
    blankBefore = isBlank(c);
    if (c === "\\") {
      i++; // an escaped character (`\ `) belongs to the word
    } else if (c === "'") {
      const end = args.indexOf("'", i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      while (j < args.length && args[j] !== '"') j += args[j] === "\\" ? 2 : 1;
      if (j >= args.length) return -1;
      i = j;
    } else if (c === "{") {
      const end = matchingBrace(args, i);
      if (end > i) i = end;
    }
  }
  return -1;
}

/** Where a `//` comment starts in a TypeScript expression on one line, or -1. */
export function codeCommentStart(code: string): number {
  const [line] = scanLines(code);
  return line ? line.commentStart : -1;
}

/**
 * Splits what follows `%name` on a magic line into the arguments and their offset in `rest`, or undefined when
 * the line is not a magic call after all (`%name(1)`). Drops a trailing comment and a trailing `;`.
 */
function magicArgs(rest: string, code: boolean): { args: string; offset: number } | undefined {
  let body = rest;
  if (body.startsWith(";")) {
    body = body.slice(1);
    if (body && !isBlank(body[0])) return undefined;
    const c = codeCommentStart(body);
    if ((c < 0 ? body : body.slice(0, c)).trim() !== "") return undefined;
    return { args: "", offset: rest.length };
  }
  if (body && !isBlank(body[0])) return undefined;
  const lead = body.length - body.trimStart().length;
  let args = body.slice(lead);
  const comment = code ? codeCommentStart(args) : textCommentStart(args);
  if (comment >= 0) args = args.slice(0, comment);
  args = args.trimEnd();
  if (args.endsWith(";")) args = args.slice(0, -1).trimEnd();
  return { args, offset: lead };
}

interface MagicLine {
  /** Where the rewritten statement starts (after the indent or the `lhs =`). */
  statementStart: number;
  /** `%` of the magic. */
  percent: number;
  lhs?: string;
  name: string;
  help: boolean;
  args: string;
  argsStart: number;
}

/** Reads a line as a magic line (`%name args` or `lhs = %name args`), offsets relative to the line. */
function parseMagicLine(text: string): MagicLine | undefined {
  if (text.trimStart().startsWith("%%")) return undefined;
  const lm = LINE_MAGIC_HEAD.exec(text);
  if (lm) {
    const [head, indent, name, help] = lm;
    const r = magicArgs(text.slice(head.length), !help && CODE_LINE_MAGICS.has(name));
    if (!r) return undefined;
    return { statementStart: indent.length, percent: indent.length, name, help: help.length > 0, args: r.args, argsStart: head.length + r.offset };
  }
  const am = ASSIGNED_MAGIC_HEAD.exec(text);
  if (am) {
    const [head, lhs, name] = am;
    const r = magicArgs(text.slice(head.length), CODE_LINE_MAGICS.has(name));
    if (!r) return undefined;
    return { statementStart: lhs.length, percent: head.length - name.length - 1, lhs, name, help: false, args: r.args, argsStart: head.length + r.offset };
  }
  return undefined;
}

/** Splits off a first-line `%%name args` cell magic, allowing leading blank lines. */
export function parseCellMagic(
  src: string,
): { name: string; args: string; argsStart: number; body: string; help: boolean; headerEnd: number } | undefined {
  const m = /^(?:[ \t]*\r?\n)*/.exec(src);
  const start = m ? m[0].length : 0;
  const nl = src.indexOf("\n", start);
  const first = (nl < 0 ? src.slice(start) : src.slice(start, nl)).replace(/\s+$/, "");
  const cm = CELL_MAGIC.exec(first);
  if (!cm) return undefined;
  let args = cm[3] ?? "";
  const comment = textCommentStart(args);
  if (comment >= 0) args = args.slice(0, comment);
  const argsStart = start + (cm.indices?.[3]?.[0] ?? first.length) + (args.length - args.trimStart().length);
  return {
    name: cm[1],
    help: cm[2].length > 0,
    args: args.trim(),
    argsStart,
    body: nl < 0 ? "" : src.slice(nl + 1),
    headerEnd: nl < 0 ? src.length : nl,
  };
}

/** A first line that starts like `%%name` but holds a CR, U+2028 or U+2029: the error to raise, else undefined. */
function badCellMagicHeader(src: string): string | undefined {
  const start = /^(?:[ \t]*\r?\n)*/.exec(src)![0].length;
  const nl = src.indexOf("\n", start);
  const first = (nl < 0 ? src.slice(start) : src.slice(start, nl)).replace(/\s+$/, "");
  const m = CELL_MAGIC_START.exec(first);
  const bad = m && HIDDEN_TERMINATOR.exec(first);
  return bad ? hiddenTerminatorError("%" + m[0].trim().slice(2), bad[0]) : undefined;
}

interface LineInfo {
  start: number;
  text: string;
  /** The terminator after the line: "\n", "\r\n", "\r", "\u2028", "\u2029", or "" for the last line. */
  eol: string;
  /** The line begins in plain code (not inside a string, comment, template literal or `${}`). */
  codeStart: boolean;
  /** Last significant code character before this line ("" at the start of the cell). */
  prevSignificant: string;
  /** Offset in `text` of a `//` comment that starts in plain code on this line, or -1. */
  commentStart: number;
  /** The line was taken as a magic line (see `scanLines`' `isMagicLine`). */
  magic: boolean;
}

/**
 * Scans the source once and reports, for every line, whether it starts in plain code. Lines end where TypeScript
 * ends them. A line that starts in code and that `isMagicLine` accepts is skipped as a whole (magic arguments are
 * not TypeScript: a quote or `/*` in them must not open a string or comment on later lines).
 */
export function scanLines(src: string, isMagicLine?: (text: string, prevSignificant: string) => boolean): LineInfo[] {
  type Mode = "code" | "line" | "block" | "sq" | "dq" | "tpl" | "re";
  let mode: Mode = "code";
  const tplStack: number[] = []; // brace depth inside each open `${`
  let lastSig = "";
  let lastWord = "";
  const lines: LineInfo[] = [];
  let lineStart = 0;
  let curStartMode: Mode = "code";
  let curStartStack = 0;
  let curPrev = "";
  let commentStart = -1;
  let reClass = false;
  const regexAllowedAfter = new Set("(,=:[!&|?{};+-*%~^<>");
  const regexKeywords = new Set(["return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await"]);
  const lineEnd = (from: number) => {
    LINE_END.lastIndex = from;
    const found = LINE_END.exec(src);
    return found ? { at: found.index, eol: found[0] } : { at: src.length, eol: "" };
  };
  const pushLine = (end: number, eol: string, magic: boolean) => {
    lines.push({
      start: lineStart,
      text: src.slice(lineStart, end),
      eol,
      codeStart: curStartMode === "code" && curStartStack === 0,
      prevSignificant: curPrev,
      commentStart: commentStart >= 0 ? commentStart - lineStart : -1,
      magic,
    });
    lineStart = end + eol.length;
    commentStart = -1;
  };
  const atLineStart = (i: number): number => {
    // Magic lines at code line starts are skipped whole; returns the index to continue from.
    while (isMagicLine && mode === "code" && tplStack.length === 0 && i < src.length) {
      const percent = src.indexOf("%", i);
      const newline = src.indexOf("\n", i);
      if (percent < 0 || (newline >= 0 && percent > newline)) break; // no `%` on this line
      const { at, eol } = lineEnd(i);
      if (!isMagicLine(src.slice(i, at), lastSig)) break;
      pushLine(at, eol, true);
      lastSig = ";";
      lastWord = "";
      curPrev = lastSig;
      i = at + eol.length;
    }
    return i;
  };

  let i = atLineStart(0);
  for (; i < src.length; i++) {
    const c = src[i];
    const n = src[i + 1];
    if (c === "\n" || c === "\r" || c === "\u2028" || c === "\u2029") {
      if (mode === "line") mode = "code";
      if (mode === "sq" || mode === "dq" || mode === "re") mode = "code"; // unterminated: recover
      const eol = c === "\r" && n === "\n" ? "\r\n" : c;
      pushLine(i, eol, false);
      curStartMode = mode;
      curStartStack = tplStack.length;
      curPrev = lastSig;
      i = atLineStart(i + eol.length);
      i--; // the loop's i++ lands on the next line's first character
      continue;
    }
    switch (mode) {
      case "code":
        if (c === "/" && n === "/") {
          mode = "line";
          if (commentStart < 0) commentStart = i;
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
  if (lineStart < src.length || lines.length === 0 || lines[lines.length - 1].eol !== "") pushLine(src.length, "", false);
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

/** A piece of a magic's argument template: literal text (escaped) or an interpolated expression, with its offset. */
type TemplatePart = { text: string; at: number; expr?: undefined } | { expr: string; at: number; text?: undefined };

function templateParts(args: string, isExpression: (t: string) => boolean): { parts: TemplatePart[]; interpolated: boolean } {
  const parts: TemplatePart[] = [];
  let interpolated = false;
  const text = (t: string, at: number) => {
    const last = parts[parts.length - 1];
    if (last && last.text !== undefined) last.text += t;
    else parts.push({ text: t, at });
  };
  let i = 0;
  while (i < args.length) {
    const c = args[i];
    if ((c === "{" && args[i + 1] === "{") || (c === "}" && args[i + 1] === "}")) {
      text(c, i);
      i += 2;
      continue;
    }
    if (c === "{") {
      const end = matchingBrace(args, i);
      if (end > i) {
        const expr = args.slice(i + 1, end);
        if (isExpression(expr)) parts.push({ expr, at: i + 1 });
        else text(escapeTemplateText(args.slice(i, end + 1)), i);
        interpolated ||= isExpression(expr);
        i = end + 1;
        continue;
      }
    }
    text(escapeTemplateText(c), i);
    i++;
  }
  return { parts, interpolated };
}

/**
 * Turns magic arguments into a template literal, interpolating `{expr}` (IPython style). Returns the literal's
 * source and whether anything was interpolated.
 */
export function argsToTemplate(args: string, isExpression: (t: string) => boolean = looksLikeExpression): { template: string; interpolated: boolean } {
  const { parts, interpolated } = templateParts(args, isExpression);
  return { template: "`" + parts.map((p) => (p.expr !== undefined ? "${" + p.expr + "}" : p.text)).join("") + "`", interpolated };
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

/**
 * Emits the call for a magic whose `%` is at `percent` and whose arguments start at `argsStart` (cell offsets).
 * Interpolated expressions and `%time`'s expression are copied verbatim, so errors in them keep their columns;
 * everything generated points at the `%`.
 */
function emitLineCall(b: RewriteBuilder, name: string, args: string, percent: number, argsStart: number, opts: PreprocessOptions): void {
  if (CODE_LINE_MAGICS.has(name) && args.trim()) {
    b.emit(`await ${KERNEL_REF}.time(async () => (`, percent);
    b.keep(argsStart, argsStart + args.length);
    b.emit(`), ${JSON.stringify(args)})`, percent);
    return;
  }
  b.emit(`await ${KERNEL_REF}.line(${JSON.stringify(name)}, \``, percent);
  emitTemplateBody(b, args, argsStart, opts);
  b.emit("`)", percent);
}

/** The inside of the arguments' template literal; interpolated expressions are copied verbatim. */
function emitTemplateBody(b: RewriteBuilder, args: string, argsStart: number, opts: PreprocessOptions): void {
  for (const p of templateParts(args, opts.isExpression ?? looksLikeExpression).parts) {
    if (p.expr === undefined) b.emit(p.text, argsStart + p.at);
    else b.emit("${", argsStart + p.at).keep(argsStart + p.at, argsStart + p.at + p.expr.length).emit("}", argsStart + p.at + p.expr.length);
  }
}

/** Rewrites a cell. Pure and fast (no TypeScript): safe to run on every execute, complete and inspect. */
export function preprocess(src: string, opts: PreprocessOptions = {}): Preprocessed {
  const cell = parseCellMagic(src);
  if (cell) {
    const { interpolated } = argsToTemplate(cell.args, opts.isExpression);
    let argsTemplate: { text: string; map: PositionMap } | undefined;
    if (interpolated) {
      const b = new RewriteBuilder(src).emit("`", cell.argsStart);
      emitTemplateBody(b, cell.args, cell.argsStart, opts);
      argsTemplate = b.emit("`", cell.argsStart + cell.args.length).build();
    }
    return {
      kind: "cell",
      name: cell.name,
      args: cell.args,
      argsTemplate: argsTemplate?.text,
      argsMap: argsTemplate?.map,
      body: cell.body,
      help: cell.help,
    };
  }
  if (!src.includes("%")) return { kind: "code", code: src, magicCount: 0 };
  const badHeader = badCellMagicHeader(src);
  if (badHeader) return { kind: "code", code: "", magicCount: 0, error: badHeader };

  const lines = scanLines(src, (text, prev) => {
    if (!text.includes("%")) return false;
    const m = parseMagicLine(text);
    if (!m) return false;
    // `a\n%b` with an unknown `b` is a modulo, not a magic
    if (!m.lhs && !(opts.isKnownMagic?.(m.name) ?? true) && endsWithOperand(prev)) return false;
    return true;
  });
  const b = new RewriteBuilder(src);
  let count = 0;
  let error: string | undefined;
  let plain: PlainMagicCall[] | undefined = [];
  let kept = 0; // unchanged text from here up to the next magic line is copied in one piece
  for (let j = 0; j < lines.length; j++) {
    const line = lines[j];
    const end = line.start + line.text.length;
    const m = line.magic ? parseMagicLine(line.text) : undefined;
    if (!m) {
      if (plain && line.text.trim() !== "") plain = undefined;
      continue;
    }
    b.keep(kept, line.start);
    count++;
    const hidden = textBehindHiddenTerminator(lines, j);
    if (hidden) error ??= hiddenTerminatorError(m.name, hidden);
    if (plain) {
      if (m.lhs === undefined && (m.help || (!CODE_LINE_MAGICS.has(m.name) && !argsToTemplate(m.args, opts.isExpression).interpolated))) {
        plain.push({ name: m.name, args: unescapeBraces(m.args), help: m.help });
      } else plain = undefined;
    }
    b.keep(line.start, line.start + m.statementStart);
    if (m.lhs !== undefined) b.emit(" ", line.start + m.percent);
    if (m.help) b.emit(`${KERNEL_REF}.help(${JSON.stringify(m.name)})`, line.start + m.percent);
    else emitLineCall(b, m.name, m.args, line.start + m.percent, line.start + m.argsStart, opts);
    b.emit(";", end);
    kept = end;
  }
  b.keep(kept, src.length);
  const { text, map } = b.build();
  const result: Preprocessed = { kind: "code", code: text, magicCount: count };
  if (count > 0) result.map = map;
  if (error) {
    result.error = error;
    return result;
  }
  if (plain && plain.length > 0 && plain.length === count) result.plainMagics = plain;
  return result;
}

/**
 * The hidden terminator (CR, U+2028, U+2029) that joins line `j` to other text on what an editor shows as the same
 * line, or undefined. Blank text behind one (e.g. a CR at the very end) is harmless.
 */
function textBehindHiddenTerminator(lines: readonly LineInfo[], j: number): string | undefined {
  const isHidden = (eol: string) => eol !== "" && eol !== "\n" && eol !== "\r\n";
  for (let k = j; k > 0 && isHidden(lines[k - 1].eol); k--) if (lines[k - 1].text.trim()) return lines[k - 1].eol;
  for (let k = j; k < lines.length - 1 && isHidden(lines[k].eol); k++) if (lines[k + 1].text.trim()) return lines[k].eol;
  return undefined;
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
  return scanLines(src, (text, prev) => {
    const m = text.includes("%") ? parseMagicLine(text) : undefined;
    return !!m && (m.lhs !== undefined || (options.isKnownMagic?.(m.name) ?? true) || !endsWithOperand(prev));
  })
    .map((line) => {
      const m = line.magic ? parseMagicLine(line.text) : undefined;
      if (!m) return line.text + line.eol;
      if (m.lhs === undefined) return " ".repeat(line.text.length) + line.eol;
      const keep = m.lhs.length;
      const width = line.text.length - keep;
      const filler = width >= 11 ? " (0 as any)" : " 0";
      return line.text.slice(0, keep) + filler.padEnd(width, " ").slice(0, Math.max(width, 0)) + line.eol;
    })
    .join("");
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
