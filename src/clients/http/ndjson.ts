/**
 * NDJSON (one JSON value per line, `application/x-json-stream`) as an async iterator over a response
 * body, in constant memory: only the current partial line is buffered. Empty lines are skipped. A line
 * that is not JSON, or fails the schema, throws HTTP_MALFORMED_RESPONSE naming its line number; a line
 * longer than `maxLineBytes` (or a stream longer than `maxBytes`) throws HTTP_RESPONSE_TOO_LARGE.
 */
import { StringDecoder } from "node:string_decoder";
import type { z } from "zod";
import type { ErrorFactory } from "../errors";
import { HttpError } from "../errors";
import { malformed, parse, type ParseContext } from "./validate";

export interface NdjsonOptions<S extends z.ZodType | undefined = undefined> {
  schema?: S;
  /** Longest accepted line in bytes (UTF-8); default 16 MiB. */
  maxLineBytes?: number;
  /** Longest accepted stream in bytes; default unlimited. */
  maxBytes?: number;
  what: string;
  service?: string;
  url?: string;
  createError?: ErrorFactory;
}

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export async function* readNdjson<S extends z.ZodType | undefined = undefined>(
  body: AsyncIterable<Buffer | Uint8Array | string>,
  opts: NdjsonOptions<S>,
): AsyncGenerator<S extends z.ZodType ? z.output<S> : unknown, void, undefined> {
  type Out = S extends z.ZodType ? z.output<S> : unknown;
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxBytes = opts.maxBytes ?? Infinity;
  const make = opts.createError ?? ((init) => new HttpError(init));
  const ctx: ParseContext = { what: opts.what, service: opts.service, url: opts.url, createError: opts.createError };
  const decoder = new StringDecoder("utf8");
  let pending = ""; // text of the current, incomplete line
  let pendingBytes = 0;
  let lineNo = 0;
  let total = 0;

  const tooLarge = (what: string, limit: number) =>
    make({
      code: "HTTP_RESPONSE_TOO_LARGE",
      service: opts.service,
      url: opts.url,
      message: `The answer for ${opts.what} is too large: ${what} exceeds ${limit} bytes.`,
      hint: "Narrow the query (a more specific name pattern, a type, a limit), or raise the cap in the client options.",
      details: { line: lineNo + 1, limit },
    });

  const emit = (line: string): Out | undefined => {
    lineNo++;
    if (line.length === 0 || (line.length < 3 && line.trim() === "")) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      if (line.trim() === "") return undefined;
      throw malformed({ ...ctx, line: lineNo }, `not valid JSON (${(e as Error).message})`, e);
    }
    return (opts.schema ? parse(opts.schema, value, { ...ctx, line: lineNo }) : value) as Out;
  };

  for await (const raw of body) {
    const chunk = typeof raw === "string" ? Buffer.from(raw) : raw;
    total += chunk.length;
    if (total > maxBytes) throw tooLarge("the stream", maxBytes);
    const text = decoder.write(chunk as Buffer);
    let start = 0;
    let nl = text.indexOf("\n", start);
    if (nl === -1) {
      pending += text;
      pendingBytes += chunk.length;
      if (pendingBytes > maxLine) throw tooLarge(`line ${lineNo + 1}`, maxLine);
      continue;
    }
    // First line completes the pending part.
    {
      const piece = text.slice(0, nl);
      const line = pending.length ? pending + piece : piece;
      pending = "";
      pendingBytes = 0;
      if (line.length > maxLine && Buffer.byteLength(line) > maxLine) throw tooLarge(`line ${lineNo + 1}`, maxLine);
      const v = emit(line.endsWith("\r") ? line.slice(0, -1) : line);
      if (v !== undefined) yield v;
      start = nl + 1;
    }
    while ((nl = text.indexOf("\n", start)) !== -1) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line.length > maxLine && Buffer.byteLength(line) > maxLine) throw tooLarge(`line ${lineNo + 1}`, maxLine);
      const v = emit(line.endsWith("\r") ? line.slice(0, -1) : line);
      if (v !== undefined) yield v;
    }
    if (start < text.length) {
      pending = text.slice(start);
      pendingBytes = Buffer.byteLength(pending);
      if (pendingBytes > maxLine) throw tooLarge(`line ${lineNo + 1}`, maxLine);
    }
  }
  const rest = pending + decoder.end();
  if (rest.trim().length) {
    const v = emit(rest);
    if (v !== undefined) yield v;
  }
}
