/**
 * nbformat 4 reading and writing. Output is written the way nbformat itself writes it (1-space indent, sorted
 * keys, multi-line strings split into lists of lines), so executed notebooks diff cleanly against Jupyter's own.
 * Writes are atomic: a temporary file in the same folder, then a rename.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export type MultilineString = string | string[];

export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  source: MultilineString;
  metadata: Record<string, unknown> & { tags?: string[] };
  outputs?: Output[];
  execution_count?: number | null;
  attachments?: Record<string, unknown>;
}

export type MimeBundle = Record<string, unknown>;

export type Output =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: MultilineString }
  | { output_type: "display_data"; data: MimeBundle; metadata: Record<string, unknown> }
  | { output_type: "execute_result"; data: MimeBundle; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

export class NotebookFormatError extends Error {
  override readonly name = "NotebookFormatError";
  readonly code = "NOTEBOOK_INVALID";
}

export function joinSource(source: MultilineString | undefined): string {
  return Array.isArray(source) ? source.join("") : (source ?? "");
}

/** Python's str.splitlines(keepends=True) for "\n"-separated text, as nbformat stores multi-line strings. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function parseNotebook(text: string, origin = "notebook"): Notebook {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new NotebookFormatError(`${origin} is not valid JSON: ${(err as Error).message}`);
  }
  const nb = raw as Partial<Notebook>;
  if (!nb || typeof nb !== "object" || !Array.isArray(nb.cells)) throw new NotebookFormatError(`${origin} has no "cells" list; is it a Jupyter notebook?`);
  if (nb.nbformat !== 4) {
    throw new NotebookFormatError(`${origin} is nbformat ${String(nb.nbformat)}; only nbformat 4 is supported (convert it with \`jupyter nbconvert --to notebook\`).`);
  }
  for (const [i, cell] of nb.cells.entries()) {
    if (!cell || typeof cell !== "object" || !["code", "markdown", "raw"].includes(cell.cell_type)) {
      throw new NotebookFormatError(`${origin}: cell ${i} has an unknown cell_type ${JSON.stringify((cell as NotebookCell)?.cell_type)}.`);
    }
    cell.metadata ??= {};
    cell.source = joinSource(cell.source);
  }
  return { nbformat: 4, nbformat_minor: nb.nbformat_minor ?? 5, metadata: nb.metadata ?? {}, cells: nb.cells };
}

export async function readNotebook(path: string): Promise<Notebook> {
  return parseNotebook(await readFile(path, "utf8"), path);
}

const NON_TEXT_SPLIT_MIMES = new Set(["application/javascript", "image/svg+xml"]);

function splitBundle(bundle: MimeBundle): MimeBundle {
  const out: MimeBundle = {};
  for (const [mime, value] of Object.entries(bundle)) {
    out[mime] = typeof value === "string" && (mime.startsWith("text/") || NON_TEXT_SPLIT_MIMES.has(mime)) ? splitLines(value) : value;
  }
  return out;
}

/** A copy of the notebook in nbformat's on-disk shape (lists of lines). */
export function toDiskShape(nb: Notebook): Notebook {
  return {
    ...nb,
    cells: nb.cells.map((cell) => {
      const copy: NotebookCell = { ...cell, source: splitLines(joinSource(cell.source)) };
      if (cell.outputs) {
        copy.outputs = cell.outputs.map((o) => {
          if (o.output_type === "stream") return { ...o, text: splitLines(joinSource(o.text)) };
          if (o.output_type === "display_data" || o.output_type === "execute_result") return { ...o, data: splitBundle(o.data) };
          return o;
        });
      }
      return copy;
    }),
  };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(sortKeys(toDiskShape(nb)), null, 1) + "\n";
}

/** Writes `text` to `path` atomically: no reader ever sees a half-written notebook. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString("hex")}.part`);
  try {
    await writeFile(tmp, text, "utf8");
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function newCellId(): string {
  return randomBytes(4).toString("hex");
}
