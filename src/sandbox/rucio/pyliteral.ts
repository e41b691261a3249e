/**
 * A parser for the subset of Python literals that `ast.literal_eval` accepts and Rucio's DID search receives in
 * its `filters` parameter: lists, tuples, dicts, strings (single, double or triple quoted, with escapes and the
 * r/b/u prefixes), ints, floats, True/False/None and unary minus. Anything else (including JSON's
 * `true/false/null`) is a syntax error, as on the real server.
 */
export type PyValue = null | boolean | number | string | PyValue[] | { [key: string]: PyValue };

export class PyLiteralError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} at position ${position}`);
    this.name = "PyLiteralError";
  }
}

export function parsePyLiteral(text: string): PyValue {
  const parser = new Parser(text);
  const value = parser.value();
  parser.skipSpace();
  if (!parser.done()) throw new PyLiteralError("unexpected trailing input", parser.pos);
  return value;
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0", a: "\x07", b: "\b", f: "\f", v: "\v" };

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.pos >= this.s.length;
  }

  skipSpace(): void {
    while (!this.done() && /\s/.test(this.s[this.pos]!)) this.pos++;
  }

  private expect(ch: string): void {
    this.skipSpace();
    if (this.s[this.pos] !== ch) throw new PyLiteralError(`expected '${ch}'`, this.pos);
    this.pos++;
  }

  value(): PyValue {
    this.skipSpace();
    const ch = this.s[this.pos];
    if (ch === undefined) throw new PyLiteralError("unexpected end of input", this.pos);
    if (ch === "[") return this.sequence("[", "]");
    if (ch === "(") return this.sequence("(", ")");
    if (ch === "{") return this.dict();
    if (ch === "'" || ch === '"') return this.string();
    if (/[rRbBuU]/.test(ch) && (this.s[this.pos + 1] === "'" || this.s[this.pos + 1] === '"')) {
      const raw = ch === "r" || ch === "R";
      this.pos++;
      return this.string(raw);
    }
    if (ch === "-" || ch === "+" || /[0-9.]/.test(ch)) return this.number();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.pos))?.[0];
    if (word === "True") return this.advance(4, true);
    if (word === "False") return this.advance(5, false);
    if (word === "None") return this.advance(4, null);
    throw new PyLiteralError(word ? `malformed node or string: name '${word}'` : `unexpected character '${ch}'`, this.pos);
  }

  private advance<T>(n: number, v: T): T {
    this.pos += n;
    return v;
  }

  private sequence(open: string, close: string): PyValue[] {
    this.expect(open);
    const items: PyValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.s[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.skipSpace();
      if (this.s[this.pos] === ",") {
        this.pos++;
        continue;
      }
      this.expect(close);
      return items;
    }
  }

  private dict(): { [key: string]: PyValue } {
    this.expect("{");
    const out: { [key: string]: PyValue } = {};
    for (;;) {
      this.skipSpace();
      if (this.s[this.pos] === "}") {
        this.pos++;
        return out;
      }
      const key = this.value();
      if (key !== null && typeof key === "object") throw new PyLiteralError("unhashable dict key", this.pos);
      this.expect(":");
      out[String(key)] = this.value();
      this.skipSpace();
      if (this.s[this.pos] === ",") {
        this.pos++;
        continue;
      }
      this.expect("}");
      return out;
    }
  }

  private string(raw = false): string {
    const quote = this.s[this.pos]!;
    const triple = this.s.startsWith(quote.repeat(3), this.pos);
    const delim = triple ? quote.repeat(3) : quote;
    this.pos += delim.length;
    let out = "";
    for (;;) {
      if (this.done()) throw new PyLiteralError("unterminated string", this.pos);
      if (this.s.startsWith(delim, this.pos)) {
        this.pos += delim.length;
        break;
      }
      const c = this.s[this.pos]!;
      if (!triple && c === "\n") throw new PyLiteralError("unterminated string", this.pos);
      if (c === "\\" && !raw) {
        const next = this.s[this.pos + 1];
        if (next === undefined) throw new PyLiteralError("unterminated string", this.pos);
        if (next === "x" || next === "u" || next === "U") {
          const len = next === "x" ? 2 : next === "u" ? 4 : 8;
          const hex = this.s.slice(this.pos + 2, this.pos + 2 + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new PyLiteralError("bad escape", this.pos);
          out += String.fromCodePoint(parseInt(hex, 16));
          this.pos += 2 + len;
          continue;
        }
        if (next === "\n") {
          this.pos += 2;
          continue;
        }
        out += ESCAPES[next] ?? `\\${next}`;
        this.pos += 2;
        continue;
      }
      out += c;
      this.pos++;
    }
    // Adjacent literals concatenate, as in Python.
    const save = this.pos;
    this.skipSpace();
    const nxt = this.s[this.pos];
    if (nxt === "'" || nxt === '"') return out + this.string();
    this.pos = save;
    return out;
  }

  private number(): number {
    const m = /^[-+]?\s*(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d*(?:[eE][-+]?\d+)?)/.exec(this.s.slice(this.pos));
    const text = m?.[0] ?? "";
    const body = text.replace(/[\s_]/g, "");
    const sign = body.startsWith("-") ? -1 : 1;
    const digits = body.replace(/^[-+]/, "");
    if (digits === "" || digits === ".") throw new PyLiteralError("malformed number", this.pos);
    let value: number;
    if (/^0[xX]/.test(digits)) value = parseInt(digits.slice(2), 16);
    else if (/^0[oO]/.test(digits)) value = parseInt(digits.slice(2), 8);
    else if (/^0[bB]/.test(digits)) value = parseInt(digits.slice(2), 2);
    else value = Number(digits);
    if (Number.isNaN(value)) throw new PyLiteralError("malformed number", this.pos);
    this.pos += text.length;
    return sign * value;
  }
}
