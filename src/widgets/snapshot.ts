/**
 * The kernel's static HTML of a widget (the output's text/html beside the widget view): what a notebook run
 * without a frontend, or an export, shows. Every value is escaped; sizes and times use the magics' formats.
 */
import { escapeHtml } from "../magics/render";
import { formatBytes, formatDate } from "../magics/vre-format";

export { escapeHtml };

export type Cell = string | number | null | undefined;

function text(v: Cell): string {
  return v === null || v === undefined ? "" : String(v);
}

/** A small table; numbers are right-aligned. `sizeColumns` are byte counts shown in kB/MB/…. */
export function staticTable(headers: string[], rows: Cell[][], opts: { sizeColumns?: number[]; max?: number } = {}): string {
  if (rows.length === 0) return "";
  const max = opts.max ?? 50;
  const sizes = new Set(opts.sizeColumns ?? headers.map((h, i) => (h === "size" ? i : -1)).filter((i) => i >= 0));
  const cell = (v: Cell, i: number, tag: "td" | "th") => {
    const shown = sizes.has(i) && typeof v === "number" ? formatBytes(v) : text(v);
    return `<${tag} style="text-align:${typeof v === "number" ? "right" : "left"}">${escapeHtml(shown)}</${tag}>`;
  };
  const head = `<tr>${headers.map((h) => `<th style="text-align:left">${escapeHtml(h)}</th>`).join("")}</tr>`;
  const body = rows.slice(0, max).map((r) => `<tr>${r.map((v, i) => cell(v, i, "td")).join("")}</tr>`).join("");
  const more = rows.length > max ? `<div>… ${rows.length - max} more</div>` : "";
  return `<table><thead>${head}</thead><tbody>${body}</tbody></table>${more}`;
}

/** "field: value" lines for the non-empty fields. */
export function staticFields(fields: [string, Cell][]): string {
  const shown = fields.filter(([, v]) => v !== "" && v !== null && v !== undefined);
  return shown.map(([k, v]) => `<div><strong>${escapeHtml(k)}</strong>: ${escapeHtml(text(v))}</div>`).join("");
}

export function staticTime(iso: string): string {
  return iso ? formatDate(iso) : "";
}
