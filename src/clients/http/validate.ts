/** zod validation at the client boundary: a malformed server answer becomes a typed, explained error. */
import type { z } from "zod";
import type { ClientError, ErrorFactory } from "../errors";
import { HttpError } from "../errors";

export interface ParseContext {
  /** What was being read: "DID details of test:dataset1". */
  what: string;
  service?: string;
  url?: string;
  /** Builds the service's error class; defaults to HttpError. */
  createError?: ErrorFactory;
  /** NDJSON line number, when parsing one line of a stream. */
  line?: number;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}

/**
 * Validates `body` against `schema`. On failure throws HTTP_MALFORMED_RESPONSE naming what was read,
 * the first offending fields and (for streams) the line number. Values are not quoted (they may be secret).
 */
export function parse<S extends z.ZodType>(schema: S, body: unknown, ctx: ParseContext): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw malformed(ctx, `unexpected shape (${describeIssues(r.error.issues)})`, r.error);
}

/** The HTTP_MALFORMED_RESPONSE error for a context. */
export function malformed(ctx: ParseContext, problem: string, cause?: unknown): ClientError {
  const make = ctx.createError ?? ((init) => new HttpError(init));
  const where = ctx.line !== undefined ? ` at line ${ctx.line}` : "";
  return make({
    code: "HTTP_MALFORMED_RESPONSE",
    service: ctx.service,
    url: ctx.url,
    message: `The server sent a malformed answer for ${ctx.what}${where}: ${problem}.`,
    hint: "The server may run an incompatible version or a proxy altered the answer; check the server URL, and report it if it persists.",
    cause,
    details: ctx.line !== undefined ? { line: ctx.line } : undefined,
  });
}

/** JSON.parse with a typed error instead of a SyntaxError. */
export function parseJsonText(text: string, ctx: ParseContext): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const snippet = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw malformed(ctx, `not valid JSON (${(e as Error).message}; starts with ${JSON.stringify(snippet)})`, e);
  }
}
