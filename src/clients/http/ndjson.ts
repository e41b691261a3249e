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

/**
 * NDJSON values in batches: one array per chunk received (all the lines that chunk completed). Layers that
 * pass a listing along iterate over batches, so the per-item cost of async iteration is paid once, at the
 * public edge; memory stays bounded by the chunk size.
 */
export async function* readNdjsonBatches<S extends z.ZodType | undefined = undefined>(
  body: AsyncIterable<Buffer | Uint8Array | string>,
  opts: NdjsonOptions<S>,
): AsyncGenerator<(S extends z.ZodType ? z.output<S> : unknown)[], void, undefined> {
  type Out = S extends z.ZodType ? z.output<S> : unknown;
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxBytes = opts.maxBytes ?? Infinity;
  const make = opts.createError ?? ((init) => new HttpError(init));
  const ctx: ParseContext = { what: opts.what, service: opts.service, url: opts.url, createError: opts.createError };
  const schema = opts.schema;
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

  const emit = (line: string, out: Out[]): void => {
    lineNo++;
    if (line.length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      if (line.trim() === "") return;
      throw malformed({ ...ctx, line: lineNo }, `not valid JSON (${(e as Error).message})`, e);
    }
    if (schema) {
      const r = schema.safeParse(value);
      out.push((r.success ? r.data : parse(schema, value, { ...ctx, line: lineNo })) as Out);
    } else out.push(value as Out);
  };

  for await (const raw of body) {
    const chunk = typeof raw === "string" ? Buffer.from(raw) : raw;
    total += chunk.length;
    if (total > maxBytes) throw tooLarge("the stream", maxBytes);
    const text = decoder.write(chunk as Buffer);
    let nl = text.indexOf("\n");
    if (nl === -1) {
      pending += text;
      pendingBytes += chunk.length;
      if (pendingBytes > maxLine) throw tooLarge(`line ${lineNo + 1}`, maxLine);
      continue;
    }
    const out: Out[] = [];
    let start = 0;
    let failure: unknown;
    try {
      do {
        let line = start === 0 && pending.length ? pending + text.slice(0, nl) : text.slice(start, nl);
        if (start === 0) {
          pending = "";
          pendingBytes = 0;
        }
        start = nl + 1;
        if (line.length > maxLine && Buffer.byteLength(line) > maxLine) throw tooLarge(`line ${lineNo + 1}`, maxLine);
        if (line.endsWith("\r")) line = line.slice(0, -1);
        emit(line, out);
      } while ((nl = text.indexOf("\n", start)) !== -1);
    } catch (e) {
      failure = e;
    }
    // Items before a bad line are delivered first: nothing valid is dropped.
    if (failure !== undefined) {
      if (out.length) yield out;
      throw failure;
    }
    if (start < text.length) {
      pending = text.slice(start);
      pendingBytes = Buffer.byteLength(pending);
      if (pendingBytes > maxLine) throw tooLarge(`line ${lineNo + 1}`, maxLine);
    }
    if (out.length) yield out;
  }
  const rest = pending + decoder.end();
  if (rest.trim().length) {
    const out: Out[] = [];
    emit(rest, out);
    if (out.length) yield out;
  }
}

/** NDJSON values one by one (see readNdjsonBatches). */
export async function* readNdjson<S extends z.ZodType | undefined = undefined>(
  body: AsyncIterable<Buffer | Uint8Array | string>,
  opts: NdjsonOptions<S>,
): AsyncGenerator<S extends z.ZodType ? z.output<S> : unknown, void, undefined> {
  for await (const batch of readNdjsonBatches(body, opts)) yield* batch;
}
