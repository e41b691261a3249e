/**
 * is_complete for TypeScript, from the parser's diagnostics:
 *
 * - no diagnostics: complete;
 * - an unterminated template literal or block comment: incomplete (both may span lines, like Python's
 *   triple-quoted strings), even after blank lines;
 * - every diagnostic at the very end and asking for more ("'}' expected.", "Expression expected."): incomplete,
 *   unless the code ends with a blank line (a console's "run it anyway"), then invalid;
 * - anything else, e.g. an error before the end as in `)(`: invalid.
 */
export type CompletenessStatus = "complete" | "incomplete" | "invalid";

export interface ParseDiagnostic {
  start?: number;
  length?: number;
  code?: number;
  messageText: unknown;
}

/** TypeScript diagnostic codes for constructs that legitimately continue on the next line. */
const UNTERMINATED_MULTILINE = new Set([
  1160, // Unterminated template literal.
  1010, // '*/' expected.
]);

export function classifyCompleteness(
  src: string,
  diagnostics: readonly ParseDiagnostic[],
  indent: () => string,
): { status: CompletenessStatus; indent?: string } {
  if (diagnostics.length === 0) return { status: "complete" };
  const end = src.trimEnd().length;
  const atEnd = (d: ParseDiagnostic) => (d.start ?? 0) >= end;
  if (diagnostics.every((d) => atEnd(d) && d.code !== undefined && UNTERMINATED_MULTILINE.has(d.code))) {
    return { status: "incomplete", indent: "" };
  }
  const asksForMore = diagnostics.every(
    (d) => atEnd(d) && ((typeof d.messageText === "string" && / expected\.$/.test(d.messageText)) || (d.code !== undefined && UNTERMINATED_MULTILINE.has(d.code))),
  );
  const forced = /(^|\n)[ \t\r]*\n\s*$/.test(src); // ends with a blank line
  if (asksForMore && !forced) return { status: "incomplete", indent: indent() };
  return { status: "invalid" };
}
