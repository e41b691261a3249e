/**
 * Presentation helpers shared by the domain magics: attaching a rich mimebundle to a returned value, key/value
 * and table bundles, and human formats for sizes, durations and dates.
 *
 * A magic returns the data itself (an array of DIDs, a workflow status object, ...), so `const x = %rucio ...`
 * gives code the typed value; the rendering rides along as a non-enumerable `Symbol.for("Jupyter.display")`
 * method, invisible to `JSON.stringify`, `Object.keys` and spreading.
 */
import type { MimeBundle } from "./types";
import { redact } from "../clients/http/redact";
import { DISPLAY, escapeHtml, rich, table } from "./render";

export { DISPLAY, escapeHtml };

/** Attaches a mimebundle producer to an object value and returns the same value (the kernel's `rich`). */
export function withDisplay<T extends object>(value: T, bundle: () => MimeBundle): T {
  return rich(value, bundle) as unknown as T;
}

/** The `--json` form of a value: a plain JSON-compatible copy that renders as JSON. */
export function asJson(value: unknown): unknown {
  const plain = value === undefined ? null : JSON.parse(JSON.stringify(value));
  if (plain === null || typeof plain !== "object") return plain;
  return withDisplay(plain as object, () => ({
    "application/json": plain,
    "text/plain": JSON.stringify(plain, null, 2),
  }));
}

/** Any cell value as display text (secrets scrubbed as a last line of defence). */
export function cellText(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (v instanceof Date) return formatDate(v);
  if (Array.isArray(v)) return v.map(cellText).join(", ");
  if (typeof v === "object") return redact(JSON.stringify(v));
  return redact(String(v)).replace(/\s*\n\s*/g, " ");
}

export interface Column<Row> {
  /** Column heading. */
  label: string;
  /** Cell text for a row. */
  get: (row: Row) => unknown;
  /** Right-align (numbers, sizes). */
  align?: "right";
  /** Keep on one line in HTML (times, ids). */
  nowrap?: boolean;
  /**
   * Long tokens (hashes, checksums): monospace, and in HTML each space-separated token longer than this many
   * characters is shortened with "…", the whole cell kept in its tooltip.
   */
  shorten?: number;
}

export interface TableOptions {
  title?: string;
  /** Shown under the table (counts, hints). */
  footer?: string;
  /** At most this many rows are rendered (the value keeps all of them). */
  maxRows?: number;
}

const MAX_CELL = 80;

/**
 * An HTML table plus an aligned text/plain table for a list of rows, through the kernel's `table()` helper:
 * columns are computed per row, long cells are clipped in text/plain, and a note says how many rows were left out.
 */
export function tableBundle<Row>(rows: readonly Row[], columns: Column<Row>[], opts: TableOptions = {}): MimeBundle {
  const maxRows = opts.maxRows ?? 500;
  const shown = rows.slice(0, maxRows);
  const keys = columns.map((_, i) => `c${i}`);
  const cells = shown.map((r) => Object.fromEntries(columns.map((c, i) => [keys[i], cellText(c.get(r))])));
  const clipped = cells.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v.length > MAX_CELL ? `${v.slice(0, MAX_CELL - 1)}…` : v])));
  const cols = columns.map((c, i) => ({ key: keys[i], label: c.label, align: c.align ?? ("left" as const) }));
  const html = htmlTable(cells, columns, keys, opts.title);
  const plain = (table(clipped, { columns: cols, title: opts.title }) as unknown as Record<symbol, () => MimeBundle>)[DISPLAY]();
  const more = rows.length - shown.length;
  // One note per footer line: in HTML each is its own line (a "\n" inside one div would run the lines together).
  const notes = [more > 0 ? `… ${more} more row${more === 1 ? "" : "s"} not shown (the returned value holds all ${rows.length})` : "", ...(opts.footer ?? "").split("\n")].filter(Boolean);
  return {
    "text/html": `<div class="vre-result">${html}${notes.map((n) => `<div style="opacity:0.7;font-size:0.85em">${escapeHtml(n)}</div>`).join("")}</div>`,
    "text/plain": [String(plain["text/plain"]), ...notes].join("\n"),
  };
}

/** The token-by-token short form of a long-token cell (hash prefixes, for example). */
function shortened(v: string, max: number): string {
  return v
    .split(" ")
    .map((t) => {
      const colon = t.indexOf(":");
      const [prefix, rest] = colon > 0 && colon < 12 ? [t.slice(0, colon + 1), t.slice(colon + 1)] : ["", t];
      return rest.length > max ? `${prefix}${rest.slice(0, max)}…` : t;
    })
    .join(" ");
}

/**
 * The HTML table: JupyterLab styles it (zebra rows, hover) as any output table; headings align with their
 * columns; the table scrolls sideways inside the output area rather than overflowing it.
 */
function htmlTable(cells: Record<string, string>[], columns: Column<never>[], keys: string[], title?: string): string {
  const style = (c: Column<never>, head: boolean) =>
    [`text-align:${c.align === "right" ? "right" : "left"}`, c.nowrap || (head && c.align === "right") ? "white-space:nowrap" : "", c.shorten ? "white-space:nowrap" : ""]
      .filter(Boolean)
      .join(";");
  const th = columns.map((c) => `<th style="${style(c, true)}">${escapeHtml(c.label)}</th>`).join("");
  const trs = cells
    .map(
      (row) =>
        `<tr>${columns
          .map((c, i) => {
            const v = row[keys[i]!] ?? "";
            if (c.shorten && v) {
              const short = shortened(v, c.shorten);
              return `<td style="${style(c, false)}"${short !== v ? ` title="${escapeHtml(v)}"` : ""}><code>${escapeHtml(short)}</code></td>`;
            }
            return `<td style="${style(c, false)}">${escapeHtml(v)}</td>`;
          })
          .join("")}</tr>`,
    )
    .join("");
  // The title stays in view above the table when the table scrolls sideways.
  const caption = title ? `<div class="vre-table-title" style="font-weight:bold">${escapeHtml(title)}</div>` : "";
  return (
    `${caption}<div class="vre-table-scroll" style="max-width:100%;overflow-x:auto">` +
    `<table class="vre-table" style="margin-left:0;margin-right:0"><thead><tr>${th}</tr></thead><tbody>${trs}</tbody></table></div>` +
    (cells.length === 0 ? "<p><em>(no rows)</em></p>" : "")
  );
}

/** A two-column "field / value" table for one object. */
export function recordBundle(fields: Array<[string, unknown]>, opts: TableOptions = {}): MimeBundle {
  const rows = fields.filter(([, v]) => v !== undefined && v !== null && v !== "");
  return tableBundle(rows, [
    { label: "field", get: (r) => r[0] },
    { label: "value", get: (r) => r[1] },
  ], opts);
}

/** A one-line message (success notes, confirmations) as text and HTML. */
export function messageBundle(text: string, htmlText?: string): MimeBundle {
  return { "text/plain": text, "text/html": `<div class="vre-result">${htmlText ?? escapeHtml(text)}</div>` };
}

const UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];

/**
 * Decimal (SI) units, as Rucio and Zenodo show sizes: 1 kB = 1000 B. Three significant digits at most: whole
 * bytes below 1 kB (a rate of 198.41 B/s is "198 B/s", 2.5 B/s "2.5 B/s"), one decimal below 100 of a unit.
 */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "";
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  // Rounding may carry into the next unit (999.96 kB → "1000 kB"): show it as 1.0 MB instead.
  if (Math.round(Math.abs(v)) >= 1000 && u < UNITS.length - 1) return `${(v / 1000).toFixed(1)} ${UNITS[u + 1]}`;
  if (u === 0) return `${Number.isInteger(v) || Math.abs(v) >= 10 ? Math.round(v) : Number(v.toFixed(1))} B`;
  return `${v.toFixed(Math.abs(v) >= 99.95 ? 0 : 1)} ${UNITS[u]}`;
}

/** A transfer rate: bytes per second in SI units, e.g. "198 B/s", "12.3 MB/s". */
export function formatRate(bytesPerSecond: number | null | undefined): string {
  const b = formatBytes(bytesPerSecond);
  return b ? `${b}/s` : "";
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** `2026-11-25 02:44 UTC` for a Date or a date string; anything unparseable is shown as given. */
export function formatDate(d: Date | string | null | undefined): string {
  if (d === null || d === undefined || d === "") return "";
  const date = d instanceof Date ? d : new Date(d);
  if (Number.isNaN(date.getTime())) return String(d);
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
