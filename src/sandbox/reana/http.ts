import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createWriteStream, promises as fs } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import { fsyncDir } from "../store";

/**
 * Small wire helpers shared by the REANA and Zenodo emulations: JSON answers, body reading, streamed uploads that
 * become visible only once complete (temporary file in a staging folder, fsync, rename, fsync of the folder).
 */

/** An error that becomes an HTTP answer with the given status and JSON body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === "object" && body && "message" in body ? String((body as { message: unknown }).message) : `HTTP ${status}`);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": String(data.length), ...headers });
  res.end(data);
}

export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { "Content-Length": "0" });
  res.end();
}

/** Reads a whole (small) request body; refuses bodies above `limit` bytes with 413. */
export async function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, { message: `Request body larger than ${limit} bytes.` });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks as unknown as Uint8Array[]);
}

/** Parses a JSON body; an empty body gives `undefined`. `invalid` builds the error answer for malformed JSON. */
export async function readJson(req: IncomingMessage, invalid: () => HttpError): Promise<unknown> {
  const raw = await readBody(req);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw invalid();
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Constant-time token comparison. */
export function tokenMatches(given: string | undefined | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a as unknown as Uint8Array, b as unknown as Uint8Array);
}

export interface StoredUpload {
  size: number;
  md5: string;
}

export interface StagedUpload extends StoredUpload {
  /** The fsync'ed bytes in the staging folder, not visible anywhere yet. */
  tmp: string;
}

/**
 * Streams `source` into a fresh file of `stagingDir` (same filesystem as the targets), counting bytes and computing
 * the md5 on the way, and fsyncs it. `expectedBytes` (a Content-Length) must match what arrived.
 */
export async function stageUpload(
  source: Readable,
  stagingDir: string,
  options: { maxBytes?: number; expectedBytes?: number } = {},
): Promise<StagedUpload> {
  await fs.mkdir(stagingDir, { recursive: true });
  const tmp = path.join(stagingDir, `${randomUUID()}.part`);
  const md5 = createHash("md5");
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (options.maxBytes !== undefined && size > options.maxBytes) {
        done(new HttpError(413, { message: `File larger than ${options.maxBytes} bytes.` }));
        return;
      }
      md5.update(chunk as unknown as Uint8Array);
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, counter, createWriteStream(tmp, { mode: 0o600 }));
    const expected = options.expectedBytes;
    if (source.readableAborted || (expected !== undefined && Number.isFinite(expected) && size !== expected)) {
      throw new HttpError(400, { message: `Upload incomplete: received ${size} of ${String(expected)} bytes.` });
    }
    const handle = await fs.open(tmp, "r+");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return { tmp, size, md5: md5.digest("hex") };
}

/** Makes a staged upload visible at `target` (rename, then fsync of the folder). */
export async function commitUpload(staged: StagedUpload, target: string): Promise<void> {
  try {
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(staged.tmp, target);
  } catch (err) {
    await fs.rm(staged.tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

/**
 * Streams a request body into `target`: until the final rename nothing is visible at `target`; a dropped
 * connection or a kill leaves at most an orphan in the staging folder (swept at start).
 */
export async function streamToFile(
  req: IncomingMessage,
  target: string,
  stagingDir: string,
  options: { maxBytes?: number } = {},
): Promise<StoredUpload> {
  const length = req.headers["content-length"];
  const staged = await stageUpload(req, stagingDir, {
    maxBytes: options.maxBytes,
    expectedBytes: length !== undefined ? Number(length) : undefined,
  });
  await commitUpload(staged, target);
  return { size: staged.size, md5: staged.md5 };
}

/** True when `err` only says that the client went away (nothing to answer, nothing to report as a server fault). */
export function isClientAbort(err: unknown, req: IncomingMessage): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || (req.destroyed && !req.complete);
}

/** Removes leftovers of interrupted uploads; returns how many there were. */
export async function sweepStaging(stagingDir: string): Promise<number> {
  const leftovers = await fs.readdir(stagingDir).catch(() => [] as string[]);
  await fs.rm(stagingDir, { recursive: true, force: true });
  await fs.mkdir(stagingDir, { recursive: true });
  return leftovers.length;
}

/** Python `humanize.naturalsize(n, binary=True)`-style sizes as shown by REANA ("12 Bytes", "3.4 KiB"). */
export function humanSize(bytes: number): string {
  if (bytes === 1) return "1 Byte";
  if (bytes < 1024) return `${bytes} Bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Parses a boolean query flag the way Flask/webargs does ("true", "True", "1", "yes"). */
export function queryFlag(value: string | null): boolean {
  if (value === null) return false;
  return ["true", "1", "yes", "y", "on", ""].includes(value.toLowerCase());
}

/** A URL path segment decoded, or kept as it is when it is not valid percent-encoding. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Answers a request whose handler threw: a client that went away gets nothing, an `HttpError` becomes its answer
 * (`shape` lets a service add fields to error bodies), anything else a logged 500 with `internalBody`.
 */
export function answerError(
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  opts: { service: string; path: string; log: (message: string) => void; internalBody: unknown; shape?: (e: HttpError) => unknown },
): void {
  if (!req.readableEnded) req.resume();
  if (isClientAbort(err, req)) {
    opts.log(`${opts.service}: ${req.method ?? "?"} ${opts.path} interrupted by the client`);
    res.destroy();
    return;
  }
  if (res.headersSent) {
    res.destroy(err as Error);
    return;
  }
  if (err instanceof HttpError) {
    sendJson(res, err.status, opts.shape ? opts.shape(err) : err.body, err.headers);
    return;
  }
  opts.log(`${opts.service}: internal error on ${req.method ?? "?"} ${opts.path}: ${(err as Error).stack ?? String(err)}`);
  sendJson(res, 500, opts.internalBody);
}
