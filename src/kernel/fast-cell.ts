/**
 * Cells that need no type checker: a tiny, closed subset of TypeScript for which "no type errors" can be proved
 * without one, compiled straight to the JavaScript tslab's converter would emit.
 *
 * The subset: `let`/`const` declarations with initializers and expression statements, built from number,
 * string and boolean literals, names declared earlier in the same cell, parentheses, unary `+`/`-` and the
 * arithmetic operators, where every operation is well typed (`number op number`, or `+` with a string side).
 * Such a cell cannot reach an earlier cell's declarations, cannot throw, and TypeScript reports nothing for it, so
 * running it without waiting for the checker cannot change its result: `let q = 1; q * 2`, `1 + 1`,
 * `const label = "run " + 3`. Anything else (one unknown token, a comment holding `@`, a name that is not
 * declared before use, a duplicate declaration, a call, a property access) returns undefined and the cell takes
 * the checked path.
 *
 * The emitted code mirrors tslab's: declared names are exported (`exports.q = q`, so later cells see them)
 * and the last expression statement becomes `exports.tsLastExpr`. The cell's declarations are written as
 * TypeScript's declaration emit writes them (`declare let q: number;`, `declare const c = 1;`), for the checker
 * to take in before the next checked cell (see `CellCompiler.takeFastCell`).
 */

type Type = "number" | "string" | "boolean";

interface Token {
  kind: "num" | "str" | "ident" | "punct" | "eof";
  text: string;
  /** A line break (or a comment containing one) precedes the token. */
  newlineBefore: boolean;
}

/** What tslab's converter returns for a cell, in the shape its executor consumes. */
export interface FastConversion {
  output: string;
  declOutput: string;
  diagnostics: never[];
  hasToplevelAwait: false;
  lastExpressionVar?: string;
}

/** A name the cell declares, with its declaration as TypeScript's declaration emit writes it. */
export interface FastDeclaration {
  name: string;
  declaration: string;
}

const LAST_EXPR = "tsLastExpr";

/** Reserved words (JavaScript and strict mode) and names tslab's wrapper or runtime gives a meaning. */
const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await async arguments eval " +
    "undefined NaN Infinity exports require module globalThis of as satisfies type declare namespace abstract " +
    "readonly keyof infer is asserts unique accessor override out get set from global constructor"
  ).split(" "),
);

const PUNCT = ["(", ")", "+", "-", "*", "/", "%", "=", ";", ","];

function tokenize(src: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  let newline = true;
  while (i < src.length) {
    const c = src[i];
    if (c === "\n" || c === "\r" || c === "\u2028" || c === "\u2029") {
      newline = true;
      i++;
      continue;
    }
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      const end = src.slice(i).search(/[\n\r\u2028\u2029]/);
      const text = end < 0 ? src.slice(i) : src.slice(i, i + end);
      if (text.includes("@")) return undefined; // tslab reads `@module`, `@jsx`, `@browser`... from comments
      i += text.length;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) return undefined;
      const text = src.slice(i, end + 2);
      if (text.includes("@")) return undefined;
      if (/[\n\r\u2028\u2029]/.test(text)) newline = true;
      i = end + 2;
      continue;
    }
    const rest = src.slice(i);
    let m: RegExpMatchArray | null;
    if ((m = rest.match(/^(?:[1-9]\d{0,14}|0)(?:\.\d{1,15})?(?:[eE][+-]?\d{1,3})?|^\.\d{1,15}(?:[eE][+-]?\d{1,3})?/))) {
      if (/^[\w$.\\]/.test(rest.slice(m[0].length))) return undefined; // 1n, 1px, 0x1, 01, 1..toString
      tokens.push({ kind: "num", text: m[0], newlineBefore: newline });
    } else if ((m = rest.match(/^"[^"\\\n\r\u2028\u2029]*"|^'[^'\\\n\r\u2028\u2029]*'|^`[^`\\$\r]*`/))) {
      tokens.push({ kind: "str", text: m[0], newlineBefore: newline });
    } else if ((m = rest.match(/^[A-Za-z_$][\w$]*/))) {
      if (/^[^\x00-\x7f\\]/.test(rest.slice(m[0].length))) return undefined; // identifiers go on past ASCII
      tokens.push({ kind: "ident", text: m[0], newlineBefore: newline });
    } else {
      // Longer operators starting like ours (`**`, `++`, `--`, `+=`, `==`, `=>`...) are outside the subset.
      if (/^(?:\*\*|\+\+|--|[+\-*/%=!<>&|^]=|=>)/.test(rest)) return undefined;
      const p = PUNCT.find((x) => rest.startsWith(x));
      if (!p) return undefined;
      tokens.push({ kind: "punct", text: p, newlineBefore: newline });
      m = [p] as unknown as RegExpMatchArray;
    }
    i += m[0].length;
    newline = false;
  }
  tokens.push({ kind: "eof", text: "", newlineBefore: true });
  return tokens;
}

class Reject extends Error {}

/** Compiles `src` when it is in the check-free subset; undefined otherwise. */
export function compileFastCell(src: string): (FastConversion & { declarations: FastDeclaration[] }) | undefined {
  if (src.length > 2000) return undefined;
  const tokens = tokenize(src);
  if (!tokens || tokens.length === 1) return undefined;
  let pos = 0;
  const declared = new Map<string, { type: Type; literal?: string; declaration: string }>();
  const statements: ({ kind: "decl"; names: string[]; text: string } | { kind: "expr"; text: string })[] = [];
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const expect = (text: string) => {
    if (peek().text !== text || peek().kind === "str") throw new Reject();
    pos++;
  };

  // expr := additive; additive := multiplicative (('+'|'-') multiplicative)*; ...
  // Each returns [JavaScript text, type, literal]: the literal (as a declaration file writes it) when TypeScript
  // gives the expression a literal type, which a `const` keeps (`const c = 1` is `declare const c = 1;`).
  type Typed = [string, Type, string?];
  const numberLiteral = (text: string, sign = ""): string => {
    const value = Number(sign + text);
    if (value === 0 || !Number.isFinite(value)) throw new Reject(); // -0 and Infinity print differently
    return String(value);
  };
  const primary = (): Typed => {
    const t = next();
    if (t.kind === "num") return [t.text, "number", numberLiteral(t.text)];
    if (t.kind === "str") {
      const value = t.text.slice(1, -1);
      return [t.text.startsWith("`") ? JSON.stringify(value) : t.text, "string", JSON.stringify(value)];
    }
    if (t.kind === "ident") {
      if (t.text === "true" || t.text === "false") return [t.text, "boolean", t.text];
      const d = declared.get(t.text);
      if (!d) throw new Reject(); // not declared before this point in this cell
      return [t.text, d.type, d.literal];
    }
    if (t.kind === "punct" && t.text === "(") {
      const inner = expression();
      expect(")");
      return [`(${inner[0]})`, inner[1], inner[2]];
    }
    throw new Reject();
  };
  const unary = (): Typed => {
    const t = peek();
    if (t.kind === "punct" && (t.text === "-" || t.text === "+")) {
      pos++;
      // TypeScript types `-1` and `+1` (a numeric literal right after the sign) as literals, anything else as number.
      if (peek().kind === "num") {
        const n = next();
        return [`${t.text} ${n.text}`, "number", numberLiteral(n.text, t.text)];
      }
      const [text, type] = unary();
      if (type !== "number") throw new Reject();
      return [`${t.text} ${text}`, "number"];
    }
    return primary();
  };
  const multiplicative = (): Typed => {
    let [text, type, literal] = unary();
    while (peek().kind === "punct" && ["*", "/", "%"].includes(peek().text)) {
      const op = next().text;
      const [r, rt] = unary();
      if (type !== "number" || rt !== "number") throw new Reject();
      text = `${text} ${op} ${r}`;
      literal = undefined;
    }
    return [text, type, literal];
  };
  const expression = (): Typed => {
    let [text, type, literal] = multiplicative();
    while (peek().kind === "punct" && (peek().text === "+" || peek().text === "-")) {
      const op = next().text;
      const [r, rt] = multiplicative();
      if (op === "-" || !(type === "string" || rt === "string")) {
        if (type !== "number" || rt !== "number") throw new Reject();
      }
      type = op === "+" && (type === "string" || rt === "string") ? "string" : "number";
      text = `${text} ${op} ${r}`;
      literal = undefined;
    }
    return [text, type, literal];
  };

  try {
    for (;;) {
      const t = peek();
      if (t.kind === "eof") break;
      if (t.kind === "ident" && (t.text === "let" || t.text === "const")) {
        pos++;
        const names: string[] = [];
        const parts: string[] = [];
        for (;;) {
          const name = next();
          if (name.kind !== "ident" || RESERVED.has(name.text) || name.text.startsWith("__") || name.text.startsWith(LAST_EXPR)) throw new Reject();
          if (declared.has(name.text)) throw new Reject();
          expect("=");
          const [init, type, literal] = expression();
          const isConst = t.text === "const";
          declared.set(name.text, {
            type,
            literal: isConst ? literal : undefined,
            declaration: isConst && literal ? `declare const ${name.text} = ${literal};` : `declare ${t.text} ${name.text}: ${type};`,
          });
          names.push(name.text);
          parts.push(`${name.text} = ${init}`);
          if (peek().kind === "punct" && peek().text === ",") {
            pos++;
            continue;
          }
          break;
        }
        statements.push({ kind: "decl", names, text: `${t.text} ${parts.join(", ")};` });
      } else {
        // A string first in an expression statement could be a directive ("use strict").
        if (t.kind === "str") throw new Reject();
        statements.push({ kind: "expr", text: expression()[0] });
      }
      // The statement must end: `;`, the end, or a line break before something that cannot continue it.
      const end = peek();
      if (end.kind === "punct" && end.text === ";") {
        pos++;
        if (peek().kind === "punct" && peek().text === ";") throw new Reject(); // an empty statement
      } else if (end.kind !== "eof" && !(end.newlineBefore && end.kind !== "punct")) {
        throw new Reject();
      }
    }
  } catch (e) {
    if (e instanceof Reject) return undefined;
    throw e;
  }
  if (statements.length === 0) return undefined;

  const exported = [...declared.keys()];
  const last = statements[statements.length - 1];
  const lastExpr = last.kind === "expr";
  const voided = [...(lastExpr ? [LAST_EXPR] : []), ...exported.reverse()];
  const lines: string[] = [];
  if (voided.length) lines.push(`${voided.map((n) => `exports.${n}`).join(" = ")} = void 0;`);
  statements.forEach((s, i) => {
    if (s.kind === "decl") {
      lines.push(s.text);
      for (const n of s.names) lines.push(`exports.${n} = ${n};`);
    } else if (i === statements.length - 1) {
      lines.push(`exports.${LAST_EXPR} = ${s.text};`);
    } else {
      lines.push(`${s.text};`);
    }
  });
  return {
    output: lines.join("\n") + "\n",
    declOutput: "",
    diagnostics: [],
    hasToplevelAwait: false,
    lastExpressionVar: lastExpr ? LAST_EXPR : undefined,
    declarations: [...declared].map(([name, d]) => ({ name, declaration: d.declaration })),
  };
}
