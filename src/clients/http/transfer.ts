/**
 * Streamed file transfers in constant memory, with checksums computed on the fly (SIMD adler32 here, md5 in
 * a worker, overlapping with the I/O), each chunk written while it is still in the CPU cache (DirectFileWriter):
 *  - downloadToFile: HTTP GET → `<dest>.<unique>.part` → verify size/adler32/md5 → atomic rename to `dest`.
 *    A failed, interrupted or corrupt download never leaves a file under the final name. A broken
 *    connection is retried, resuming with `Range` when the server answers 206 (the checksum then covers
 *    the kept prefix, re-read from disk). Each download writes its own part file, so two downloads to one
 *    target never share one; a later download resumes a part left behind by one that no longer runs.
 *  - copyLocalFile: the same for `file://` replicas on mounted storage.
 *  - uploadFile: streamed PUT from a file, checksummed while read.
 * md5 costs a CPU core at a few hundred MB/s, so it is computed only when something will check it.
 */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ClientError, HttpError, type ClientErrorInit } from "../errors";
import { hashFileInto, normaliseAdler32, StreamingChecksum, type Checksums } from "./checksum";
import { readFileChunks } from "./file-reader";
import { DirectFileWriter, type FileSink } from "./file-writer";
import type { HttpClient, HttpRequest } from "./client";
import type { HttpResponse } from "./response";
import { sleep, backoffDelay, DEFAULT_RETRY } from "./retry";
import { checkOption, HOUR_MS, RETRIES_RANGE } from "./durations";

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
  /** Compute md5 even when no md5 is expected (to report it). Default: only when `expected.md5` is set. */
  md5?: boolean;
  /** Told the headers of the answer whose body is saved (e.g. to read Content-Type or Content-Disposition). */
  onResponse?: (headers: Record<string, string | string[] | undefined>) => void;
  /**
   * fsync the file before the rename, so that it survives a power cut too (not only a crash of this
   * process). Costs the time the disk needs to write the whole file. Default false, as curl, wget and the
   * Rucio client.
   */
  durable?: boolean;
}

/** Read size of local copies: small enough to stay in the CPU cache until it is hashed and written. */
const COPY_READ_BYTES = 128 * 1024;
/**
 * Read size of uploads. Each read is a fresh buffer handed to the socket (it cannot be reused before the
 * socket is done with it), so smaller reads keep the garbage, and the peak RSS, lower: at 1 MiB a 2 GB
 * upload peaked at 140–166 MB, at 512 KiB at 142 MB for the same speed (bench/clients/transfers.js).
 */
const UPLOAD_READ_BYTES = 512 * 1024;

/** The part file name of earlier versions (`<dest>.part`); still found and resumed. */
export function partPath(dest: string): string {
  return `${dest}.part`;
}

/** Part files this process is writing now: never claimed by another download. */
const activeParts = new Set<string>();

/** A fresh part file name for `dest`: `<dest>.<pid>-<random>.part` (the pid tells whether its writer still runs). */
export function newPartPath(dest: string): string {
  return `${dest}.${process.pid.toString(36)}-${randomBytes(4).toString("hex")}.part`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Part files of `dest` that no download is writing: the legacy `<dest>.part`, parts of this process that are not
 * active, and parts whose writing process has ended. Largest first.
 */
export async function leftoverParts(dest: string): Promise<{ path: string; size: number }[]> {
  const dir = dirname(dest);
  const pattern = new RegExp(`^${escapeRegExp(basename(dest))}\\.(?:([0-9a-z]+)-[0-9a-f]{8}\\.)?part$`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: { path: string; size: number }[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const full = join(dir, name);
    if (activeParts.has(full)) continue;
    const pid = m[1] === undefined ? undefined : parseInt(m[1], 36);
    if (pid !== undefined && pid !== process.pid && processRuns(pid)) continue;
    const size = await sizeOf(full);
    if (size !== undefined) out.push({ path: full, size });
  }
  return out.sort((a, b) => b.size - a.size);
}

/**
 * The part file a download writes to: a fresh unique name, which takes over (by an atomic rename, so two downloads
 * can never take the same one) the largest leftover part when resuming.
 */
async function claimPart(dest: string, resume: boolean): Promise<string> {
  const part = newPartPath(dest);
  activeParts.add(part);
  if (!resume) return part;
  for (const leftover of await leftoverParts(dest)) {
    try {
      await rename(leftover.path, part);
      return part;
    } catch {
      // Taken by another download meanwhile, or gone: try the next one.
    }
  }
  return part;
}

/** Removes the leftover parts of `dest` once a complete file is in place (they can only be older copies). */
async function sweepLeftovers(dest: string): Promise<void> {
  for (const leftover of await leftoverParts(dest)) await rm(leftover.path, { force: true }).catch(() => undefined);
}

/** Refuses a progress interval or retry count that is not finite or out of range (HTTP_INVALID_ARGUMENT). */
function checkTransferOptions(opts: { progressIntervalMs?: number; retries?: number }, make?: (init: Omit<ClientErrorInit, "service">) => ClientError): void {
  checkOption(opts.progressIntervalMs, "progressIntervalMs", { min: 0, max: HOUR_MS }, make);
  checkOption(opts.retries, "retries", RETRIES_RANGE, make);
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

/**
 * Renames a complete `.part` over `dest`. With `durable` (the default here), fsyncs the file first and the
 * folder after, so the rename also survives a power cut.
 */
export async function commitFile(part: string, dest: string, opts: { durable?: boolean } = {}): Promise<void> {
  if (opts.durable === false) {
    await rename(part, dest);
    return;
  }
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

/**
 * Where a download's bytes go: the checksums and the `.part` file, with progress. `accept` takes bytes that
 * may be reused once it returns, and returns a promise when the producer should wait.
 */
class Receiver {
  private constructor(
    readonly sums: StreamingChecksum,
    private readonly out: FileSink,
    private readonly fh: FileHandle,
    private readonly meter: ProgressMeter,
    private readonly part: string,
    readonly append: boolean,
  ) {}

  /** Opens `part` (keeping and re-hashing `offset` bytes when appending) and prepares the checksums. */
  static async open(part: string, offset: number, append: boolean, opts: DownloadOptions, size: number | undefined, total: number | undefined): Promise<Receiver> {
    const fh = await open(part, append ? "r+" : "w").catch((e) => {
      throw ioError(e, "Writing", part);
    });
    const sums = new StreamingChecksum({ md5: opts.md5 ?? Boolean(opts.expected?.md5), size, signal: opts.signal });
    try {
      // A kept prefix is read back (the checksums cover the whole file); new bytes are written after it.
      if (append) await hashFileInto(part, sums, { signal: opts.signal, end: offset });
    } catch (e) {
      sums.cancel();
      await fh.close().catch(() => undefined);
      throw ioError(e, "Reading", part);
    }
    const meter = new ProgressMeter(opts.onProgress, total, sums.bytes, opts.progressIntervalMs ?? 250);
    return new Receiver(sums, new DirectFileWriter(fh, append ? offset : 0), fh, meter, part, append);
  }

  readonly accept = (data: Uint8Array): Promise<void> | undefined => {
    let writing: Promise<void> | undefined;
    try {
      writing = this.out.write(data);
    } catch (e) {
      throw ioError(e, "Writing", this.part);
    }
    const hashing = this.sums.update(data);
    this.meter.tick(this.sums.bytes);
    if (!writing && !hashing) return undefined;
    return Promise.all([writing, hashing]).then(
      () => undefined,
      (e) => {
        throw e instanceof ClientError ? e : ioError(e, "Writing", this.part);
      },
    );
  };

  /** Writes the rest, closes the file and returns the checksums of the whole file. */
  async finish(): Promise<Checksums> {
    try {
      await this.out.flush();
    } catch (e) {
      throw ioError(e, "Writing", this.part);
    } finally {
      await this.fh.close().catch(() => undefined);
    }
    const result = await this.sums.digest();
    this.meter.tick(result.bytes, true);
    return result;
  }

  /** Gives up: waits for the write under way, closes the file; the `.part` stays for a resume. */
  async abandon(): Promise<void> {
    this.sums.cancel();
    await this.out.flush().catch(() => undefined);
    await this.fh.close().catch(() => undefined);
  }
}

/** Checks a 206's Content-Range against the offset we asked for. */
function resumesAt(status: number, contentRange: string | undefined, offset: number): boolean {
  if (status !== 206 || offset === 0) return false;
  const m = contentRange ? /^bytes (\d+)-/.exec(contentRange) : null;
  return m !== null && Number(m[1]) === offset;
}

const WRITE_ERRORS = /^(ENOSPC|EACCES|EPERM|EROFS|EISDIR|ENOTDIR|EDQUOT|EFBIG|EIO)$/;

/**
 * Downloads `req` (a GET, possibly to another host given as absolute URL) into `dest` atomically.
 * Returns the checksums of the complete file and which expectations were verified.
 *
 * The body is read by the client's bulk path (a fixed read buffer, see bulk-get.ts) when the answer is a
 * plain 200/206; any other answer is fetched again through the general path, which maps errors, retries
 * and follows the service's rules.
 */
export async function downloadToFile(
  http: HttpClient,
  req: Omit<HttpRequest, "method" | "body" | "json"> & { method?: "GET" },
  dest: string,
  opts: DownloadOptions = {},
): Promise<TransferResult> {
  checkTransferOptions(opts, (i) => http.createError(i));
  await mkdir(dirname(dest), { recursive: true }).catch((e) => {
    throw ioError(e, "Creating the target folder", dirname(dest));
  });
  const part = await claimPart(dest, opts.resume !== false);
  try {
    return await downloadInto(http, req, dest, part, opts);
  } finally {
    activeParts.delete(part);
  }
}

async function downloadInto(
  http: HttpClient,
  req: Omit<HttpRequest, "method" | "body" | "json"> & { method?: "GET" },
  dest: string,
  part: string,
  opts: DownloadOptions,
): Promise<TransferResult> {
  const retries = opts.retries ?? 3;
  const total = opts.expected?.bytes ?? undefined;
  let bulk = true;

  for (let attempt = 0; ; attempt++) {
    let offset = (await sizeOf(part)) ?? 0;
    if (total !== undefined && offset > total) {
      await rm(part, { force: true });
      offset = 0;
    }
    const headers: Record<string, string> = { ...(req.headers as Record<string, string> | undefined) };
    if (offset > 0) headers["range"] = `bytes=${offset}-`;
    let receiver: Receiver | undefined;
    /** Opens the receiver for an answer; a 206 for another range than asked is refused. */
    const start = async (status: number, contentRange: string | undefined, length: number | undefined) => {
      const append = resumesAt(status, contentRange, offset);
      if (status === 206 && !append) {
        await rm(part, { force: true });
        throw http.createError({
          code: "HTTP_CONNECTION",
          message: `The server answered ${req.what} with another byte range than asked; starting again from zero.`,
          retriable: true,
        });
      }
      const size = total ?? (length === undefined ? undefined : (append ? offset : 0) + length);
      receiver = await Receiver.open(part, offset, append, opts, size, total);
      return receiver;
    };
    try {
      let received = false;
      const outcome = bulk
        ? await http.bulkGet({ ...req, method: "GET", headers, signal: opts.signal }, async (head) => {
            if (head.status === 206 && !resumesAt(206, head.headers["content-range"], offset)) return undefined;
            const sink = (await start(head.status, head.headers["content-range"], head.contentLength)).accept;
            opts.onResponse?.(head.headers);
            return sink;
          })
        : undefined;
      if (outcome?.kind === "done") received = true;
      else {
        // Declined (or not available): the general path, which also turns error statuses into errors.
        if (outcome?.kind === "declined") bulk = false;
        const res = await http.send({
          ...req,
          method: "GET",
          headers,
          signal: opts.signal,
          expectStatus: offset > 0 ? [200, 206, 416] : [200],
        });
        if (res.status === 416) {
          // Our .part is already the whole file (or the server disagrees): restart from zero.
          await res.dump();
          await rm(part, { force: true });
          if (attempt >= retries) throw http.createError({ code: "HTTP_STATUS", status: 416, message: `The server refused to resume ${req.what}.` });
          continue;
        }
        const r = await start(res.status, res.header("content-range"), res.contentLength);
        opts.onResponse?.(res.headers);
        try {
          for await (const chunk of res.body) {
            const wait = r.accept(chunk as Uint8Array);
            if (wait) await wait;
            opts.signal?.throwIfAborted();
          }
        } catch (e) {
          res.body.destroy?.();
          throw e;
        }
        received = true;
      }
      if (!received || !receiver) throw http.createError({ code: "HTTP_CONNECTION", message: `The download of ${req.what} ended early.`, retriable: true });
      const resumedFrom = receiver.append ? offset : 0;
      const sums = await receiver.finish();
      receiver = undefined;
      let verified: TransferResult["verified"];
      try {
        verified = verifyChecksums(sums, opts.expected, `Download of ${req.what}`, (i) => http.createError(i));
      } catch (e) {
        await rm(part, { force: true });
        throw e;
      }
      await commitFile(part, dest, { durable: opts.durable ?? false }).catch((e) => {
        throw ioError(e, "Saving", dest);
      });
      await sweepLeftovers(dest);
      return { ...sums, path: dest, verified, resumedFrom };
    } catch (e) {
      const kept = receiver?.sums.bytes;
      await receiver?.abandon();
      const err = classifyDownloadFailure(e, http, req.what, part, kept, opts.signal);
      const transient = err.code === "HTTP_CONNECTION" || err.code === "HTTP_TIMEOUT";
      if (!transient || attempt >= retries || opts.signal?.aborted) throw err;
      const delay = backoffDelay(DEFAULT_RETRY, attempt);
      http.retrying({ ...req, method: "GET" }, err, attempt, { ...DEFAULT_RETRY, retries }, delay, Infinity);
      await sleep(delay, opts.signal).catch(() => {
        throw err;
      });
    }
  }
}

/** `kept`: bytes received before the failure, undefined when the body was never reached. */
function classifyDownloadFailure(e: unknown, http: HttpClient, what: string, part: string, kept: number | undefined, signal?: AbortSignal): ClientError {
  // A connection that broke mid-body is told as what it means here: the download resumes next time.
  const midBody = kept !== undefined && e instanceof ClientError && (e.code === "HTTP_CONNECTION" || e.code === "HTTP_TIMEOUT");
  if (e instanceof ClientError && !midBody) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && WRITE_ERRORS.test(code)) return ioError(e, "Writing", part);
  return http.createError({
    code: (e as Error)?.name === "AbortError" || signal?.aborted ? "HTTP_ABORTED" : midBody ? (e as ClientError).code : "HTTP_CONNECTION",
    message: `The download of ${what} was interrupted after ${kept ?? 0} bytes.`,
    hint: "Run the download again; it resumes where it stopped when the server allows it.",
    cause: e,
    retriable: true,
  });
}

/** Copies a local (mounted storage) file atomically with the same checks as a download. */
export async function copyLocalFile(
  src: string,
  dest: string,
  opts: Omit<DownloadOptions, "resume" | "retries"> = {},
): Promise<TransferResult> {
  checkTransferOptions(opts);
  const part = newPartPath(dest);
  activeParts.add(part);
  await mkdir(dirname(dest), { recursive: true });
  const size = await sizeOf(src);
  let receiver: Receiver | undefined;
  try {
    receiver = await Receiver.open(part, 0, false, opts, size, opts.expected?.bytes ?? size);
    // Small chunks: each is read, hashed and written while it is in the CPU cache.
    await readFileChunks(src, receiver.accept, { chunkBytes: COPY_READ_BYTES, signal: opts.signal });
    const result = await receiver.finish();
    receiver = undefined;
    const verified = verifyChecksums(result, opts.expected, `Copy of ${src}`);
    await commitFile(part, dest, { durable: opts.durable ?? false });
    return { ...result, path: dest, verified, resumedFrom: 0 };
  } catch (e) {
    await receiver?.abandon();
    await rm(part, { force: true });
    throw ioError(e, "Copying", src);
  } finally {
    activeParts.delete(part);
  }
}

export interface UploadOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  progressIntervalMs?: number;
  contentType?: string;
  /** Compute md5 while sending (default true); adler32 is always computed. */
  md5?: boolean;
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
  checkTransferOptions(opts, (i) => http.createError(i));
  const st = await stat(src).catch(() => undefined);
  if (st === undefined) throw ioError(Object.assign(new Error("no such file"), { code: "ENOENT" }), "Reading", src);
  // A device or FIFO has no size to announce and may never end (or block): only regular files are sent.
  if (!st.isFile()) {
    throw http.createError({
      code: "LOCAL_FILE_NOT_REGULAR",
      message: `Refusing to upload ${src}: it is ${st.isDirectory() ? "a folder" : "not a regular file (a device, pipe or socket)"}.`,
      hint: st.isDirectory() ? "Upload the files in it (or name the folder where the command takes folders)." : "Copy the data into a regular file first.",
    });
  }
  const size = st.size;
  const signal = opts.signal ?? req.signal;
  let sums: StreamingChecksum | undefined;
  /** Fresh checksums and progress for one attempt: a retry starts over. */
  const attempt = () => {
    sums?.cancel();
    sums = new StreamingChecksum({ md5: opts.md5 !== false, size, signal });
    return { h: sums, meter: new ProgressMeter(opts.onProgress, size, 0, opts.progressIntervalMs ?? 250) };
  };
  const body = () => {
    const { h, meter } = attempt();
    return (async function* () {
      // The socket gets the read buffers themselves; the checksums are computed from them on the way.
      for await (const chunk of createReadStream(src, { highWaterMark: UPLOAD_READ_BYTES })) {
        const wait = h.update(chunk as Uint8Array);
        if (wait) await wait;
        meter.tick(h.bytes);
        yield chunk as Uint8Array;
      }
      meter.tick(h.bytes, true);
    })();
  };
  try {
    let res: HttpResponse | "retry" | undefined;
    if ((req.method ?? "PUT") === "PUT") {
      // The bulk path (reused buffers, no stream); "retry"/undefined hand over to the general path below.
      const { h, meter } = attempt();
      res = await http.bulkPut({ ...req, method: "PUT", signal, headers: { "content-type": opts.contentType ?? "application/octet-stream", ...req.headers } }, src, size, (data) => {
        const wait = h.update(data);
        meter.tick(h.bytes);
        return wait;
      });
      if (res instanceof Object) meter.tick(h.bytes, true);
    }
    if (!(res instanceof Object)) {
      res = await http.send({
        ...req,
        method: req.method ?? "PUT",
        signal,
        headers: {
          "content-type": opts.contentType ?? "application/octet-stream",
          ...req.headers,
          "content-length": String(size),
        },
        body,
      });
    }
    const responseText = await res.text(1024 * 1024);
    const result = await sums!.digest();
    if (result.bytes !== size) {
      throw http.createError({
        code: "HTTP_IO",
        message: `${src} changed while it was uploaded (${size} bytes expected, ${result.bytes} read).`,
        hint: "Upload the file again once it is no longer being written.",
      });
    }
    sums = undefined;
    return { ...result, status: res.status, responseText, headers: res.headers };
  } finally {
    sums?.cancel();
  }
}
