/**
 * Building blocks for rich magic results. A value with `[Symbol.for("Jupyter.display")]()` renders as its own
 * mimebundle wherever it is shown (cell result, `display()`), while staying a normal value in TypeScript.
 */
import { inspect } from "node:util";
import type { MimeBundle } from "./types";

export const DISPLAY = Symbol.for("Jupyter.display");

export interface Displayable {
  [DISPLAY](): MimeBundle;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString();
  return inspect(v, { depth: 1, breakLength: Infinity, compact: true });
}

/** Display width of a string in a monospace terminal (wide East Asian characters count double). */
function width(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

export interface TableOptions<R> {
  /** Columns in order: keys of the rows, or `{ key, label }`. Defaults to the union of the rows' keys. */
  columns?: (keyof R & string | { key: keyof R & string; label?: string; align?: "left" | "right" })[];
  title?: string;
}

export type Table<R> = R[] & Displayable;

/**
 * A list of records that shows as an HTML table (escaped) with an aligned text/plain rendering.
 * The result is still the array of rows, so TypeScript code can keep working with it.
 */
export function table<R extends object>(rows: readonly R[], options: TableOptions<R> = {}): Table<R> {
  const data = [...rows] as Table<R>;
  const cols = (options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))]).map((c) =>
    typeof c === "string" ? { key: c, label: c, align: undefined } : { key: c.key, label: c.label ?? c.key, align: c.align },
  );
  Object.defineProperty(data, DISPLAY, {
    enumerable: false,
    value: (): MimeBundle => {
      const cells = rows.map((r) => cols.map((c) => cellText((r as Record<string, unknown>)[c.key])));
      const numeric = cols.map(
        (c) =>
          c.align === "right" ||
          (c.align === undefined && rows.length > 0 && rows.every((r) => typeof (r as Record<string, unknown>)[c.key] === "number")),
      );
      const widths = cols.map((c, i) => Math.max(width(c.label), ...cells.map((row) => width(row[i]))));
      const pad = (s: string, i: number) => {
        const fill = " ".repeat(Math.max(0, widths[i] - width(s)));
        return numeric[i] ? fill + s : s + fill;
      };
      const plain = [
        ...(options.title ? [options.title] : []),
        cols.map((c, i) => pad(c.label, i)).join("  ").trimEnd(),
        widths.map((w) => "-".repeat(w)).join("  "),
        ...cells.map((row) => row.map((v, i) => pad(v.replace(/\n/g, " "), i)).join("  ").trimEnd()),
        ...(rows.length === 0 ? ["(no rows)"] : []),
      ].join("\n");
      const th = cols.map((c, i) => `<th style="text-align:${numeric[i] ? "right" : "left"}">${escapeHtml(c.label)}</th>`).join("");
      const trs = cells
        .map((row) => `<tr>${row.map((v, i) => `<td style="text-align:${numeric[i] ? "right" : "left"}">${escapeHtml(v)}</td>`).join("")}</tr>`)
        .join("");
      const caption = options.title ? `<caption style="text-align:left;font-weight:bold">${escapeHtml(options.title)}</caption>` : "";
      const html = `<table class="vre-table">${caption}<thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table>` +
        (rows.length === 0 ? "<p><em>(no rows)</em></p>" : "");
      return { "text/html": html, "text/plain": plain };
    },
  });
  return data;
}

/**
 * Attaches a mimebundle to a value. Objects keep their identity; primitives are wrapped (the wrapper's
 * `value` holds the original).
 */
export function rich<T>(value: T, bundle: MimeBundle | (() => MimeBundle)): T extends object ? T & Displayable : { value: T } & Displayable {
  const make = typeof bundle === "function" ? bundle : () => bundle;
  const target: object = value !== null && typeof value === "object" ? (value as object) : { value };
  Object.defineProperty(target, DISPLAY, { enumerable: false, configurable: true, value: make });
  return target as never;
}
