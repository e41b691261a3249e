import { RucioError } from "./errors";

/**
 * Rucio RSE expressions: a term is an RSE name, `*` (all RSEs) or `key=value` / `key<value` / `key>value` on RSE
 * attributes; terms combine with `|` (union), `&` (intersection) and `\` (difference), left to right, with
 * parentheses for grouping.
 */
export interface RseView {
  rse: string;
  attributes: Record<string, string | number | boolean>;
}

const TERM = /^[A-Za-z0-9_.\-]+((=|<|>)[A-Za-z0-9_.\-:]*)?$/;

export function syntaxError(): RucioError {
  return new RucioError(400, "InvalidRSEExpression", "Expression does not comply to RSE Expression syntax");
}

export function evaluateRseExpression(expression: string, rses: RseView[]): string[] {
  const tokens = tokenize(expression);
  let pos = 0;

  const primary = (): Set<string> => {
    const tok = tokens[pos];
    if (tok === undefined) throw syntaxError();
    if (tok === "(") {
      pos++;
      const inner = union();
      if (tokens[pos] !== ")") throw syntaxError();
      pos++;
      return inner;
    }
    if (tok === ")" || tok === "|" || tok === "&" || tok === "\\") throw syntaxError();
    pos++;
    return term(tok, rses);
  };

  // Rucio evaluates the operators left to right with equal precedence.
  const union = (): Set<string> => {
    let acc = primary();
    while (pos < tokens.length && tokens[pos] !== ")") {
      const op = tokens[pos++];
      const rhs = primary();
      if (op === "|") acc = new Set([...acc, ...rhs]);
      else if (op === "&") acc = new Set([...acc].filter((x) => rhs.has(x)));
      else if (op === "\\") acc = new Set([...acc].filter((x) => !rhs.has(x)));
      else throw syntaxError();
    }
    return acc;
  };

  const result = union();
  if (pos !== tokens.length) throw syntaxError();
  return [...result].sort();
}

function tokenize(expression: string): string[] {
  const out: string[] = [];
  let buf = "";
  for (const ch of expression.trim()) {
    if ("()|&\\".includes(ch)) {
      if (buf.trim()) out.push(buf.trim());
      buf = "";
      out.push(ch);
    } else buf += ch;
  }
  if (buf.trim()) out.push(buf.trim());
  if (out.length === 0) throw syntaxError();
  return out;
}

function term(tok: string, rses: RseView[]): Set<string> {
  if (tok === "*") return new Set(rses.map((r) => r.rse));
  if (!TERM.test(tok)) throw syntaxError();
  const m = /^([^=<>]+)(=|<|>)(.*)$/.exec(tok);
  if (!m) {
    // A bare name: an RSE, or an attribute set to true (Rucio sets `<RSE>: true` on every RSE).
    return new Set(rses.filter((r) => r.rse === tok || r.attributes[tok] === true || r.attributes[tok] === "True").map((r) => r.rse));
  }
  const [, key, op, value] = m as unknown as [string, string, string, string];
  return new Set(
    rses
      .filter((r) => {
        const attr = r.attributes[key!];
        if (attr === undefined) return false;
        if (op === "=") return String(attr).toLowerCase() === value!.toLowerCase() || (typeof attr === "boolean" && String(attr) === value!.toLowerCase());
        const a = Number(attr);
        const b = Number(value);
        if (Number.isNaN(a) || Number.isNaN(b)) return false;
        return op === "<" ? a < b : a > b;
      })
      .map((r) => r.rse),
  );
}
