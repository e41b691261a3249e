/**
 * Positions across source rewrites. The kernel hands TypeScript a rewritten cell (magic lines turned into calls,
 * shorthand properties expanded, an async marker); compile errors must still point at what the user typed.
 * A rewrite is built from pieces that either copy original text verbatim or stand for an original span, and the
 * resulting map takes an offset in the rewritten text back to the original one.
 *
 * Lines are counted as TypeScript counts them: CRLF, LF, CR, U+2028 and U+2029 all end a line, and columns are
 * UTF-16 units, as in TypeScript's diagnostics.
 */

/** The line terminators of ECMAScript/TypeScript, CRLF first so it counts as one. */
export const LINE_TERMINATOR = /\r\n|[\n\r\u2028\u2029]/g;

/** Offsets where each line starts, TypeScript's way (see `ts.computeLineStarts`). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (const m of text.matchAll(LINE_TERMINATOR)) starts.push(m.index! + m[0].length);
  return starts;
}

/** The lines of `text` without their terminators (TypeScript's line numbering). */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|[\n\r\u2028\u2029]/);
}

/** 1-based line and column → offset (clamped to the text). */
export function offsetOf(starts: readonly number[], textLength: number, line: number, column: number): number {
  const l = Math.min(Math.max(line, 1), starts.length) - 1;
  return Math.min(starts[l] + Math.max(column - 1, 0), textLength);
}

/** Offset → 1-based line and column. */
export function lineColumnOf(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

interface Segment {
  /** Start in the rewritten text. */
  gen: number;
  length: number;
  /** Start of the original span it comes from. */
  orig: number;
  /** Verbatim copy: offsets inside map one to one; otherwise every offset maps to `orig`. */
  verbatim: boolean;
}

/** Maps offsets of a rewritten text back to the text it was made from. */
export class PositionMap {
  constructor(
    private readonly segments: readonly Segment[],
    private readonly originalLength: number,
  ) {}

  /** A map for a text that was not rewritten. */
  static identity(length: number): PositionMap {
    return new PositionMap([{ gen: 0, length, orig: 0, verbatim: true }], length);
  }

  toOriginal(offset: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segs[mid].gen <= offset) lo = mid;
      else hi = mid - 1;
    }
    const s = segs[lo];
    if (offset >= s.gen + s.length) {
      // Past the end of this piece (end of text, or an empty piece): the end of its original span.
      const next = segs[lo + 1];
      return next ? next.orig : this.originalLength;
    }
    return s.verbatim ? s.orig + Math.max(0, offset - s.gen) : s.orig;
  }
}

/** Builds a rewritten text piece by piece, with its `PositionMap`. */
export class RewriteBuilder {
  private text = "";
  private readonly segments: Segment[] = [];

  constructor(private readonly original: string) {}

  /** Copies `original[from, to)` unchanged. */
  keep(from: number, to: number): this {
    if (to > from) this.push(this.original.slice(from, to), from, true);
    return this;
  }

  /** Emits generated text that stands for the original position `at` (errors inside it point there). */
  emit(text: string, at: number): this {
    if (text) this.push(text, at, false);
    return this;
  }

  build(): { text: string; map: PositionMap } {
    return { text: this.text, map: new PositionMap(this.segments, this.original.length) };
  }

  private push(text: string, orig: number, verbatim: boolean): void {
    const last = this.segments[this.segments.length - 1];
    if (verbatim && last?.verbatim && last.gen + last.length === this.text.length && last.orig + last.length === orig) {
      last.length += text.length; // merge adjacent copies
    } else {
      this.segments.push({ gen: this.text.length, length: text.length, orig, verbatim });
    }
    this.text += text;
  }
}

/** A rewritten source together with the way back to the source it was rewritten from. */
export interface Rewritten {
  code: string;
  map: PositionMap;
}

/** Maps a 1-based line/column in `rewritten.code` back to `original`. */
export function toOriginalLineColumn(
  rewritten: Rewritten,
  original: string,
  line: number,
  column: number,
): { line: number; column: number } {
  const offset = offsetOf(lineStarts(rewritten.code), rewritten.code.length, line, column);
  return lineColumnOf(lineStarts(original), rewritten.map.toOriginal(offset));
}

/** Maps cell diagnostics (not those of other files) from `rewritten.code` back to `original`. */
export function mapDiagnostics<D extends { line: number; column: number; file?: string }>(
  diagnostics: readonly D[],
  rewritten: Rewritten | undefined,
  original: string,
): D[] {
  if (!rewritten || rewritten.code === original) return [...diagnostics];
  const genStarts = lineStarts(rewritten.code);
  const origStarts = lineStarts(original);
  return diagnostics.map((d) => {
    if (d.file) return d;
    const offset = offsetOf(genStarts, rewritten.code.length, d.line, d.column);
    return { ...d, ...lineColumnOf(origStarts, rewritten.map.toOriginal(offset)) };
  });
}
