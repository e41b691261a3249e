/**
 * Turning values into mimebundles and errors into Jupyter `error` content.
 * A value with `[Symbol.for("Jupyter.display")]()` (Deno's convention) supplies its own bundle; otherwise the
 * value is shown as Node's REPL would (`util.inspect`).
 */
import { inspect } from "node:util";
import type { MimeBundle } from "../magics/types";
import { splitLines } from "./position-map";

export const DISPLAY_SYMBOL = Symbol.for("Jupyter.display");

export interface RenderedBundle {
  data: MimeBundle;
  metadata: Record<string, unknown>;
}

function encodeBinary(bundle: MimeBundle): MimeBundle {
  const out: MimeBundle = {};
  for (const [mime, v] of Object.entries(bundle)) {
    if (v instanceof Uint8Array) out[mime] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
    else if (v instanceof ArrayBuffer) out[mime] = Buffer.from(v).toString("base64");
    else out[mime] = v;
  }
  return out;
}

export function plainText(value: unknown): string {
  return inspect(value, { depth: 4, colors: false, maxArrayLength: 100, breakLength: 100 });
}

/** Builds the mimebundle for a value. `raw` treats the value itself as a bundle. */
export function toMimeBundle(value: unknown, raw = false): RenderedBundle {
  if (raw) {
    if (value === null || typeof value !== "object") throw new TypeError("display(..., { raw: true }) needs a mimebundle object");
    return { data: encodeBinary(value as MimeBundle), metadata: {} };
  }
  if (value !== null && (typeof value === "object" || typeof value === "function")) {
    const method = (value as Record<symbol, unknown>)[DISPLAY_SYMBOL];
    if (typeof method === "function") {
      const bundle = method.call(value) as MimeBundle | undefined;
      if (bundle && typeof bundle === "object") {
        const data = encodeBinary(bundle);
        if (!("text/plain" in data)) data["text/plain"] = plainText(value);
        return { data, metadata: {} };
      }
    }
  }
  return { data: { "text/plain": plainText(value) }, metadata: {} };
}

/** `error` / `execute_reply` content for an error. */
export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

const RED = "\x1b[0;31m";
const BOLD_RED = "\x1b[1;31m";
const CYAN = "\x1b[0;36m";
const RESET = "\x1b[0m";

/** Frames that belong to the kernel, tslab or Node rather than to the user's code. */
function isInternalFrame(line: string): boolean {
  return (
    /\(node:|at node:|node:internal|\/tslab\/dist\/|\/zeromq\/|\/vitest\//.test(line) ||
    /[\\/](dist|src)[\\/](kernel|magics|widgets)[\\/]/.test(line) ||
    /^\s*at (?:async )?Promise\.(?:all|race)/.test(line) ||
    /^\s*at new Promise/.test(line)
  );
}

/** The cell's code runs as `evalmachine.<anonymous>`; call it what users know it as. */
function cleanFrame(line: string): string {
  return line.replace(/evalmachine\.<anonymous>/g, "<cell>");
}

export function errorContent(err: unknown): ErrorContent {
  if (err instanceof Error || (err && typeof err === "object" && "message" in err && "name" in err)) {
    const e = err as Error & { code?: unknown };
    const ename = e.name || e.constructor?.name || "Error";
    const evalue = String(e.message ?? "");
    if (ename === "UsageError") {
      return { ename, evalue, traceback: [`${BOLD_RED}UsageError${RESET}: ${evalue}`] };
    }
    const stackLines = typeof e.stack === "string" ? e.stack.split("\n") : [];
    const firstFrame = stackLines.findIndex((l) => /^\s+at /.test(l));
    const frames = firstFrame < 0 ? [] : stackLines.slice(firstFrame).filter((l) => !isInternalFrame(l)).map(cleanFrame);
    const code = typeof e.code === "string" ? ` ${CYAN}[${e.code}]${RESET}` : "";
    const traceback = [`${BOLD_RED}${ename}${RESET}: ${evalue}${code}`, ...frames.map((f) => `${RED}${f}${RESET}`)];
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof Error) traceback.push(`${CYAN}Caused by:${RESET} ${cause.name}: ${cause.message}`);
    return { ename, evalue, traceback };
  }
  const evalue = plainText(err);
  return { ename: "Thrown", evalue, traceback: [`${BOLD_RED}Uncaught${RESET} ${evalue}`] };
}

/** A compile error (TypeScript diagnostics), pointing at the offending line of the cell. */
export function compileErrorContent(
  diagnostics: { line: number; column: number; message: string; file?: string }[],
  source: string,
): ErrorContent {
  const lines = splitLines(source); // numbered as TypeScript numbers them
  const traceback: string[] = [];
  for (const d of diagnostics) {
    const where = d.file ? `${d.file}:${d.line}:${d.column}` : `${d.line}:${d.column}`;
    traceback.push(`${BOLD_RED}${where}${RESET} - ${d.message}`);
    const text = d.file ? undefined : lines[d.line - 1];
    if (text !== undefined) {
      traceback.push(`${CYAN}${String(d.line).padStart(4)} |${RESET} ${text}`);
      traceback.push(`${CYAN}     |${RESET} ${" ".repeat(Math.max(0, d.column - 1))}${RED}^${RESET}`);
    }
  }
  const evalue = diagnostics.map((d) => `${d.line}:${d.column} - ${d.message}`).join("\n");
  return { ename: "CompileError", evalue, traceback };
}
