/**
 * Streamed file transfers in constant memory, with checksums computed on the fly:
 *  - downloadToFile: HTTP GET → `<dest>.part` → verify size/adler32/md5 → fsync → atomic rename to `dest`.
 *    A failed, interrupted or corrupt download never leaves a file under the final name. A broken
 *    connection is retried, resuming with `Range` when the server answers 206 (the checksum then covers
 *    the kept prefix, re-read from disk).
 *  - copyLocalFile: the same for `file://` replicas on mounted storage.
 *  - uploadFile: streamed PUT from a file, checksummed while read.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ClientError, HttpError } from "../errors";
import { checksumFor, normaliseAdler32, type Checksums, type StreamingChecksum } from "./checksum";
import type { HttpClient, HttpRequest } from "./client";
import { sleep, backoffDelay, DEFAULT_RETRY } from "./retry";

export interface TransferProgress {
  /** Bytes transferred so far (including a resumed prefix). */
  bytes: number;
  /** Expected total, when known. */
  total?: number;
  /** Average rate since the start of this transfer, bytes per second. */
  rate: number;
  done: boolean;
}
export type ProgressCallback = (p: TransferProgress) => void;

export interface ExpectedFile {
  bytes?: number | null;
  adler32?: string | null;
  md5?: string | null;
}

export interface TransferResult extends Checksums {
  path: string;
  /** Which expectations were checked. */
  verified: ("bytes" | "adler32" | "md5")[];
  /** Bytes kept from an earlier partial download. */
  resumedFrom: number;
}

export interface DownloadOptions {
  expected?: ExpectedFile;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Continue an existing `.part` with a Range request. Default true. */
  resume?: boolean;
  /** Extra attempts after a broken connection. Default 3. */
  retries?: number;
  /** Progress callback interval. Default 250 ms. */
  progressIntervalMs?: number;
}

const IO_HWM = 1024 * 1024;

export function partPath(dest: string): string {
  return `${dest}.part`;
}

/** Reports progress at most every `interval` ms, and always at the end. */
class ProgressMeter {
  private last = 0;
  private readonly start = Date.now();
  constructor(
    private readonly cb: ProgressCallback | undefined,
    private readonly total: number | undefined,
    private readonly base: number,
    private readonly interval: number,
  ) {}
  tick(bytes: number, done = false): void {
    if (!this.cb) return;
    const now = Date.now();
    if (!done && now - this.last < this.interval) return;
    this.last = now;
    const secs = Math.max((now - this.start) / 1000, 1e-3);
    try {
      this.cb({ bytes, total: this.total, rate: Math.round((bytes - this.base) / secs), done });
    } catch {
      // A failing progress display must not break the transfer.
    }
  }
}

class MeteredChecksum extends Transform {
  constructor(
    private readonly acc: StreamingChecksum,
    private readonly meter: ProgressMeter,
  ) {
    super({ highWaterMark: IO_HWM });
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    const wait = this.acc.update(chunk);
    this.meter.tick(this.acc.bytes);
    // When the checksum worker is behind, hold the chunk back: backpressure up to the socket or file.
    if (wait) wait.then(() => cb(null, chunk), cb);
    else cb(null, chunk);
  }
}

function ioError(e: unknown, what: string, path: string): ClientError {
  if (e instanceof ClientError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  return new HttpError({
    code: (e as Error)?.name === "AbortError" ? "HTTP_ABORTED" : "HTTP_IO",
    message: `${what} failed for ${path}: ${code ?? (e as Error)?.message ?? String(e)}.`,
    hint:
      code === "ENOSPC"
        ? "The disk is full; free some space and try again."
        : code === "EACCES" || code === "EPERM"
          ? "Choose a folder you can write to."
          : "Try again.",
    cause: e,
  });
}

/** Compares what was transferred with what was expected; throws HTTP_CHECKSUM_MISMATCH. */
export function verifyChecksums(
  got: Checksums,
  expected: ExpectedFile | undefined,
  what: string,
  make: (init: ConstructorParameters<typeof HttpError>[0]) => ClientError = (i) => new HttpError(i),
): TransferResult["verified"] {
  const verified: TransferResult["verified"] = [];
  if (!expected) return verified;
  const fail = (kind: string, want: string | number, have: string | number) =>
    make({
      code: "HTTP_CHECKSUM_MISMATCH",
      message: `${what}: ${kind} mismatch (expected ${want}, got ${have}); the file was discarded.`,
      hint: "The replica may be corrupt or changed during transfer; try again, or another replica/RSE.",
      details: { kind, expected: want, actual: have },
    });
  if (expected.bytes !== undefined && expected.bytes !== null) {
    if (got.bytes !== expected.bytes) throw fail("size", expected.bytes, got.bytes);
    verified.push("bytes");
  }
  if (expected.adler32) {
    const want = normaliseAdler32(expected.adler32);
    if (got.adler32 !== want) throw fail("adler32", want, got.adler32);
    verified.push("adler32");
  }
  if (expected.md5 && got.md5) {
    const want = expected.md5.toLowerCase();
    if (got.md5 !== want) throw fail("md5", want, got.md5);
    verified.push("md5");
  }
  return verified;
}

/** fsync a file, rename it over `dest`, fsync the folder (so the rename survives a crash). */
export async function commitFile(part: string, dest: string): Promise<void> {
  const fh = await open(part, "r+");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(part, dest);
  try {
    const dh = await open(dirname(dest), "r");
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Some file systems refuse fsync on directories; the rename itself is still atomic.
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

async function hashPrefix(path: string, acc: StreamingChecksum, signal?: AbortSignal): Promise<void> {
  const s = createReadStream(path, { highWaterMark: IO_HWM, signal });
  for await (const c of s) await acc.update(c as Buffer);
}

/**
 * Downloads `req` (a GET, possibly to another host given as absolute URL) into `dest` atomically.
 * Returns the checksums of the complete file and which expectations were verified.
 */
export async function downloadToFile(
  http: HttpClient,
  req: Omit<HttpRequest, "method" | "body" | "json"> & { method?: "GET" },
  dest: string,
  opts: DownloadOptions = {},
): Promise<TransferResult> {
  const part = partPath(dest);
  const retries = opts.retries ?? 3;
  const total = opts.expected?.bytes ?? undefined;
  await mkdir(dirname(dest), { recursive: true }).catch((e) => {
    throw ioError(e, "Creating the target folder", dirname(dest));
  });
  if (opts.resume === false) await rm(part, { force: true });

  for (let attempt = 0; ; attempt++) {
    let offset = (opts.resume === false && attempt === 0 ? undefined : await sizeOf(part)) ?? 0;
    if (total !== undefined && offset > total) {
      await rm(part, { force: true });
      offset = 0;
    }
    const headers: Record<string, string> = { ...(req.headers as Record<string, string> | undefined) };
    if (offset > 0) headers["range"] = `bytes=${offset}-`;
    try {
      const res = await http.send({
        ...req,
        method: "GET",
        headers,
        signal: opts.signal,
        expectStatus: offset > 0 ? [200, 206, 416] : [200],
      });
      let append = false;
      if (res.status === 206 && offset > 0) {
        const cr = res.header("content-range");
        const m = cr && /^bytes (\d+)-/.exec(cr);
        if (m && Number(m[1]) === offset) append = true;
      }
      if (res.status === 416) {
        // Our .part is already the whole file (or the server disagrees): restart from zero.
        await res.dump();
        await rm(part, { force: true });
        if (attempt >= retries) throw http.createError({ code: "HTTP_STATUS", status: 416, message: `The server refused to resume ${req.what}.` });
        continue;
      }
      const acc = checksumFor(total ?? res.contentLength);
      if (append) await hashPrefix(part, acc, opts.signal);
      else offset = 0;
      const meter = new ProgressMeter(opts.onProgress, total, acc.bytes, opts.progressIntervalMs ?? 250);
      const out = createWriteStream(part, { flags: append ? "a" : "w", highWaterMark: IO_HWM });
      try {
        await pipeline(res.body, new MeteredChecksum(acc, meter), out, { signal: opts.signal });
      } catch (e) {
        acc.cancel?.();
        if (e instanceof ClientError) throw e;
        const code = (e as NodeJS.ErrnoException)?.code;
        if (code && /^(ENOSPC|EACCES|EPERM|EROFS|EISDIR|ENOTDIR|EDQUOT)$/.test(code)) throw ioError(e, "Writing", part);
        throw http.createError({
          code: (e as Error)?.name === "AbortError" ? "HTTP_ABORTED" : "HTTP_CONNECTION",
          message: `The download of ${req.what} was interrupted after ${acc.bytes} bytes.`,
          hint: "Run the download again; it resumes where it stopped when the server allows it.",
          cause: e,
          retriable: true,
        });
      }
      const sums = await acc.digest();
      meter.tick(sums.bytes, true);
      let verified: TransferResult["verified"];
      try {
        verified = verifyChecksums(sums, opts.expected, `Download of ${req.what}`, (i) => http.createError(i));
      } catch (e) {
        await rm(part, { force: true });
        throw e;
      }
      await commitFile(part, dest).catch((e) => {
        throw ioError(e, "Saving", dest);
      });
      return { ...sums, path: dest, verified, resumedFrom: append ? offset : 0 };
    } catch (e) {
      const err = e instanceof ClientError ? e : ioError(e, "Download", dest);
      const transient = err.code === "HTTP_CONNECTION" || err.code === "HTTP_TIMEOUT";
      if (!transient || attempt >= retries || opts.signal?.aborted) throw err;
      await sleep(backoffDelay(DEFAULT_RETRY, attempt), opts.signal).catch(() => {
        throw err;
      });
    }
  }
}

/** Copies a local (mounted storage) file atomically with the same checks as a download. */
export async function copyLocalFile(src: string, dest: string, opts: Omit<DownloadOptions, "resume" | "retries"> = {}): Promise<TransferResult> {
  const part = partPath(dest);
  await mkdir(dirname(dest), { recursive: true });
  const size = await sizeOf(src);
  const acc = checksumFor(size);
  const meter = new ProgressMeter(opts.onProgress, opts.expected?.bytes ?? size, 0, opts.progressIntervalMs ?? 250);
  try {
    await pipeline(
      createReadStream(src, { highWaterMark: IO_HWM }),
      new MeteredChecksum(acc, meter),
      createWriteStream(part, { highWaterMark: IO_HWM }),
      { signal: opts.signal },
    );
    const sums = await acc.digest();
    meter.tick(sums.bytes, true);
    const verified = verifyChecksums(sums, opts.expected, `Copy of ${src}`);
    await commitFile(part, dest);
    return { ...sums, path: dest, verified, resumedFrom: 0 };
  } catch (e) {
    acc.cancel?.();
    await rm(part, { force: true });
    throw ioError(e, "Copying", src);
  }
}

export interface UploadOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  progressIntervalMs?: number;
  contentType?: string;
}

/**
 * Streams a local file as the body of `req` (PUT by default), checksumming while reading. A retry re-reads
 * the file from the start, so the returned checksums always describe exactly the bytes last sent.
 */
export async function uploadFile(
  http: HttpClient,
  req: Omit<HttpRequest, "body" | "json" | "method"> & { method?: "PUT" | "POST" },
  src: string,
  opts: UploadOptions = {},
): Promise<Checksums & { status: number; responseText: string; headers: Record<string, string | string[] | undefined> }> {
  const size = await sizeOf(src);
  if (size === undefined) throw ioError(Object.assign(new Error("no such file"), { code: "ENOENT" }), "Reading", src);
  let acc: StreamingChecksum = checksumFor(0);
  let res: Awaited<ReturnType<HttpClient["send"]>>;
  try {
    res = await http.send({
    ...req,
    method: req.method ?? "PUT",
    signal: opts.signal ?? req.signal,
    headers: {
      "content-type": opts.contentType ?? "application/octet-stream",
      ...req.headers,
      "content-length": String(size),
    },
    body: () => {
      acc.cancel?.(); // a retry starts over
      acc = checksumFor(size);
      const meter = new ProgressMeter(opts.onProgress, size, 0, opts.progressIntervalMs ?? 250);
      const file = createReadStream(src, { highWaterMark: IO_HWM });
      const t = new MeteredChecksum(acc, meter);
      file.on("error", (e) => t.destroy(e));
      t.on("end", () => meter.tick(acc.bytes, true));
      return file.pipe(t);
    },
  });
  } catch (e) {
    acc.cancel?.();
    throw e;
  }
  const responseText = await res.text(1024 * 1024);
  const sums = await acc.digest();
  if (sums.bytes !== size) {
    throw http.createError({
      code: "HTTP_IO",
      message: `${src} changed while it was uploaded (${size} bytes expected, ${sums.bytes} read).`,
      hint: "Upload the file again once it is no longer being written.",
    });
  }
  return { ...sums, status: res.status, responseText, headers: res.headers };
}
