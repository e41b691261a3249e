import type { IncomingMessage, ServerResponse } from "node:http";
import { RucioError, badRequest } from "./errors";
import { pyJson } from "./pyjson";
import { u8 } from "./checksum";

/** Header value limit Rucio applies to `ExceptionMessage` (newlines become spaces, then 125 chars + "..."). */
const HEADER_MESSAGE_LIMIT = 125;

const COMMON_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Origin": "None",
  "Access-Control-Allow-Headers": "None",
  "Access-Control-Allow-Methods": "*",
  "Access-Control-Allow-Credentials": "true",
};
/** GET views add these on top (Rucio's `check_accept_header_wrapper`/`response_headers`). */
const NO_CACHE = { "Cache-Control": "post-check=0, pre-check=0", Pragma: "no-cache" };

export function headerSafeMessage(message: string): string {
  const flat = message.replace(/[\r\n]/g, " ");
  // Header values must be latin-1 without control characters.
  const safe = flat.replace(/[^\x20-\x7e\xa0-\xff]/g, "?");
  return safe.length > HEADER_MESSAGE_LIMIT ? `${safe.slice(0, HEADER_MESSAGE_LIMIT)}...` : safe;
}

export function sendError(res: ServerResponse, err: RucioError): void {
  if (res.headersSent) {
    // Rucio computes the first item before the headers; a failure later just cuts the stream short.
    res.destroy(err);
    return;
  }
  const body = pyJson({ ExceptionClass: err.exceptionClass, ExceptionMessage: err.message });
  res.writeHead(err.status, {
    ...COMMON_HEADERS,
    ...NO_CACHE,
    "Content-Type": "application/octet-stream",
    ExceptionClass: err.exceptionClass,
    ExceptionMessage: headerSafeMessage(err.message),
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** A bare 500 as werkzeug sends it for a non-Rucio exception (e.g. `meta?plugin=JSON` on SQLite). */
export function sendBare(res: ServerResponse, status: number, html: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(html), ...extra });
  res.end(html);
}

export function sendNotFoundPage(res: ServerResponse): void {
  sendBare(
    res,
    404,
    '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n',
  );
}

export function sendMethodNotAllowed(res: ServerResponse, allowed: string[]): void {
  sendBare(
    res,
    405,
    "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n",
    { Allow: [...allowed, "OPTIONS"].join(", ") },
  );
}

/** 201 "Created" with `text/html`, as every Rucio write view answers. */
export function sendCreated(res: ServerResponse, body = "Created"): void {
  res.writeHead(201, { ...COMMON_HEADERS, "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** 200 with an empty `text/html` body (updates and deletes). */
export function sendOk(res: ServerResponse): void {
  res.writeHead(200, { ...COMMON_HEADERS, "Content-Type": "text/html; charset=utf-8", "Content-Length": 0 });
  res.end();
}

/** A single JSON object in Python's layout (`json.dumps`). */
export function sendJson(res: ServerResponse, value: unknown, status = 200): void {
  const body = pyJson(value);
  res.writeHead(status, { ...COMMON_HEADERS, ...NO_CACHE, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/** Flask `jsonify` layout: compact, trailing newline (used by a few views such as `/scopes/`). */
export function sendCompactJson(res: ServerResponse, value: unknown, status = 200): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { ...COMMON_HEADERS, ...NO_CACHE, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * NDJSON (`application/x-json-stream`). Like Rucio, the first item is computed before the headers go out, so an
 * error up to that point is a proper error response; an empty result is 200 with an empty body.
 */
export async function sendStream(res: ServerResponse, items: Iterable<unknown> | AsyncIterable<unknown>, opts: { noCache?: boolean } = {}): Promise<void> {
  const headers: Record<string, string> = { ...COMMON_HEADERS, ...(opts.noCache === false ? {} : NO_CACHE), "Content-Type": "application/x-json-stream" };
  let started = false;
  // Lines are sent in chunks of ~64 KB: one socket write per line would dominate the cost of long listings.
  let pending: string[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<boolean> => {
    if (pending.length === 0) return true;
    const ok = res.write(pending.join(""));
    pending = [];
    pendingBytes = 0;
    if (!ok) {
      // Wait for the client to catch up; stop if it went away.
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          resolve();
        };
        res.once("drain", done);
        res.once("close", done);
      });
    }
    return !res.destroyed;
  };
  for await (const item of items as AsyncIterable<unknown>) {
    if (!started) {
      res.writeHead(200, headers);
      started = true;
    }
    const line = `${pyJson(item)}\n`;
    pending.push(line);
    pendingBytes += line.length;
    if (pendingBytes >= 64 * 1024 && !(await flush())) return;
  }
  if (!started) {
    res.writeHead(200, { ...headers, "Content-Length": "0" });
  } else if (!(await flush())) return;
  res.end();
}

/** Reads a request body up to `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw badRequest("ValueError", "request body too large");
    chunks.push(u8(chunk as Buffer));
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body the way Rucio's `json_parameters` does: undecodable → 400 ValueError. */
export async function readJson(req: IncomingMessage, { optional = false } = {}): Promise<unknown> {
  const raw = (await readBody(req)).toString("utf8");
  if (raw.trim() === "") {
    if (optional) return {};
    throw badRequest("ValueError", "cannot decode json parameter dictionary");
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw badRequest("ValueError", "cannot decode json parameter dictionary");
  }
}

/** A JSON body that must be an object (`json_parameters`). */
export async function readJsonObject(req: IncomingMessage, opts: { optional?: boolean } = {}): Promise<Record<string, unknown>> {
  const value = await readJson(req, opts);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest("ValueError", "body must be a json dictionary");
  }
  return value as Record<string, unknown>;
}

/** `param_get(parameters, key)` → 400 KeyError when a required parameter is missing. */
export function requireParam<T = unknown>(body: Record<string, unknown>, key: string): T {
  if (!(key in body)) throw badRequest("KeyError", `'${key}' not defined`);
  return body[key] as T;
}

/**
 * Rucio wraps GET views in an Accept check: an Accept header listing none of the view's types → 406.
 */
export function checkAccept(req: IncomingMessage, offered: string[]): string {
  const accept = req.headers.accept;
  if (!accept) return offered[0]!;
  const wanted = accept.split(",").map((part) => {
    const [type, ...params] = part.trim().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return { type: (type ?? "").trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
  });
  wanted.sort((a, b) => b.q - a.q);
  for (const { type, q } of wanted) {
    if (q <= 0) continue;
    if (type === "*/*") return offered[0]!;
    for (const candidate of offered) {
      if (type === candidate) return candidate;
      if (type.endsWith("/*") && candidate.startsWith(type.slice(0, -1))) return candidate;
    }
  }
  throw new RucioError(406, "UnsupportedRequestedContentType", `The requested content type ${accept} is not supported. Use ${offered.join(", ")}.`);
}

/** Query-string booleans accept true/false/True/False/1/0 (and bare presence for `long`). */
export function queryBool(url: URL, key: string, fallback = false): boolean {
  if (!url.searchParams.has(key)) return fallback;
  const value = url.searchParams.get(key) ?? "";
  if (value === "") return true;
  return ["true", "1", "yes"].includes(value.toLowerCase());
}

export function bodyBool(value: unknown, fallback = false): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") return ["true", "1", "yes"].includes(value.toLowerCase());
  return fallback;
}

export { COMMON_HEADERS, NO_CACHE };
