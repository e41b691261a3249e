/**
 * Workspace transfers: uploads (streamed POST, application/octet-stream, Content-Length) and downloads
 * (a single file streamed to `.part` then renamed; several files arrive as a zip that is unpacked safely).
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { commitFile, downloadToFile, uploadFile as coreUpload, type ProgressCallback } from "../http/transfer";
import { ClientError } from "../errors";
import { ChecksumAccumulator, ChecksumStream } from "../http/checksum";
import { encodePath, type ReanaBase } from "./base";
import { ReanaError } from "./errors";
import { safeRelativePath } from "./safe-path";
import { extractZipSafely, type ExtractedFile } from "./zip";

export interface UploadResult {
  /** Path in the workspace. */
  name: string;
  size: number;
  md5: string;
  message?: string;
}

export async function uploadToWorkspace(
  base: ReanaBase,
  workflow: string,
  localPath: string,
  remoteName: string,
  options: { signal?: AbortSignal; onProgress?: ProgressCallback } = {},
): Promise<UploadResult> {
  const name = safeRelativePath(remoteName, "workspace path");
  const what = `upload ${name} to ${workflow}`;
  const result = await coreUpload(
    base.http,
    {
      method: "POST",
      path: `workflows/${encodePath(workflow)}/workspace`,
      query: base.authQuery({ file_name: name }, what) as never,
      what,
      // Writing the same bytes to the same name again is harmless, so a lost connection may be retried.
      idempotent: true,
    },
    localPath,
    { signal: options.signal, onProgress: options.onProgress, contentType: "application/octet-stream" },
  ).catch((e: unknown) => {
    if (e instanceof ClientError && e.code === "HTTP_IO" && !(e instanceof ReanaError)) {
      throw new ReanaError({ code: e.code, message: e.message, hint: e.hint, cause: e });
    }
    throw e;
  });
  let message: string | undefined;
  try {
    const body = JSON.parse(result.responseText) as { message?: unknown };
    if (typeof body.message === "string") message = body.message;
  } catch {
    // servers answer {"message": "..."}; anything else is not an error once the status was 2xx
  }
  return { name, size: result.bytes, md5: result.md5, message };
}

export interface DownloadOptions {
  /**
   * Where to write. For one file: a file path, or an existing folder (the file keeps its name); default: the
   * file's name in the current folder. For several files (glob or folder): the folder to unpack into (default cwd).
   */
  dest?: string;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  overwrite?: boolean;
}

export interface DownloadResult {
  files: ExtractedFile[];
  /** True when the server sent a zip that was unpacked. */
  unpacked: boolean;
}

const GLOB = /[*?[\]]/;

type Headers = Record<string, string | string[] | undefined>;

function headerOf(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Whether REANA zipped several files into this answer. REANA sends one matching file as itself (reana-workflow-
 * controller's `send_from_directory` with mimetype `multipart/form-data`, or the image type for previews) and several
 * as a zip with Content-Type `application/zip`; reana-client decides on exactly that header
 * (`multiple_files_zipped = Content-Type == "application/zip"`). The bytes are never sniffed: a single .docx, .xlsx,
 * .npz or .pt is itself a zip and must be saved as it is. When the archive's name (Content-Disposition) is the very
 * file asked for (`results/a.zip` sent as `a.zip`), it is that file, whatever its type.
 */
export function isMultiFileArchive(headers: Headers, requested: string): boolean {
  const type = (headerOf(headers, "content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/zip") return false;
  const named = fileNameFromDisposition(headerOf(headers, "content-disposition"));
  return named === undefined || GLOB.test(requested) || named !== path.posix.basename(requested);
}

function fileNameFromDisposition(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const star = /filename\*=(?:UTF-8'')?([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ""));
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain?.[1];
}

export async function downloadFromWorkspace(base: ReanaBase, workflow: string, remote: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const several = GLOB.test(remote) || remote.endsWith("/");
  const clean = several ? remote.replace(/\/+$/, "") : safeRelativePath(remote, "workspace path");
  if (several) safeRelativePath(clean.replace(/[*?[\]]/g, "x"), "workspace path");
  const what = `download ${clean} from ${workflow}`;
  const request = { path: `workflows/${encodePath(workflow)}/workspace/${encodePath(clean)}`, query: base.authQuery({}, what) as never, what };

  if (!several) {
    const dest = await singleDestination(options.dest, clean);
    if (options.overwrite === false && (await fs.lstat(dest).catch(() => undefined))) {
      throw new ReanaError({ code: "HTTP_IO", message: `${dest} already exists.`, hint: "Choose another destination or allow overwriting." });
    }
    // REANA keeps no checksums; the md5 is computed for the caller's record (provenance) of what arrived.
    let headers: Headers = {};
    const r = await downloadToFile(base.http, request, dest, { signal: options.signal, onProgress: options.onProgress, md5: true, onResponse: (h) => (headers = h) });
    if (isMultiFileArchive(headers, clean)) {
      // The path was a folder: REANA zipped it. Unpack next to where the file would have gone.
      const zip = `${dest}.${randomBytes(4).toString("hex")}.zip`;
      await fs.rename(dest, zip);
      try {
        const files = await extractZipSafely(zip, path.dirname(dest), { signal: options.signal, overwrite: options.overwrite });
        return { files, unpacked: true };
      } finally {
        await fs.rm(zip, { force: true });
      }
    }
    return { files: [{ name: clean, path: dest, size: r.bytes, md5: r.md5 }], unpacked: false };
  }

  const targetDir = path.resolve(options.dest ?? ".");
  await fs.mkdir(targetDir, { recursive: true });
  const tmp = path.join(targetDir, `.reana-download-${randomBytes(6).toString("hex")}`);
  const part = `${tmp}.part`;
  try {
    const res = await base.http.send({ ...request, method: "GET", signal: options.signal });
    const disposition = fileNameFromDisposition(res.header("content-disposition"));
    const sums = new ChecksumAccumulator();
    const total = res.contentLength;
    const started = Date.now();
    let lastReport = 0;
    const counter = new ChecksumStream(sums);
    counter.on("data", () => {
      const now = Date.now();
      if (options.onProgress && now - lastReport >= 250) {
        lastReport = now;
        options.onProgress({ bytes: sums.bytes, total, rate: sums.bytes / Math.max(0.001, (now - started) / 1000), done: false });
      }
    });
    try {
      await pipeline(res.body, counter, createWriteStream(part), { signal: options.signal });
      options.onProgress?.({ bytes: sums.bytes, total, rate: sums.bytes / Math.max(0.001, (Date.now() - started) / 1000), done: true });
    } catch (e) {
      throw new ReanaError({
        code: (e as Error)?.name === "AbortError" ? "HTTP_ABORTED" : "HTTP_CONNECTION",
        message: `The download of ${clean} from ${workflow} was interrupted; nothing was written.`,
        hint: "Run the download again.",
        cause: e,
        retriable: true,
      });
    }
    await fs.rename(part, tmp);
    if (isMultiFileArchive(res.headers, clean)) {
      const files = await extractZipSafely(tmp, targetDir, { signal: options.signal, overwrite: options.overwrite });
      return { files, unpacked: true };
    }
    // One match: REANA sends the file itself.
    const name = safeRelativePath(path.basename(disposition ?? clean.replace(GLOB, "_")), "downloaded file");
    const dest = path.join(targetDir, name);
    await commitFile(tmp, dest);
    const digest = sums.digest();
    return { files: [{ name, path: dest, size: digest.bytes, md5: digest.md5 }], unpacked: false };
  } finally {
    await fs.rm(part, { force: true });
    await fs.rm(tmp, { force: true });
  }
}

async function singleDestination(dest: string | undefined, remote: string): Promise<string> {
  const name = path.basename(remote);
  if (dest === undefined) return path.resolve(name);
  if (dest.endsWith("/") || dest.endsWith(path.sep)) return path.resolve(dest, name);
  const st = await fs.stat(dest).catch(() => undefined);
  return st?.isDirectory() ? path.resolve(dest, name) : path.resolve(dest);
}
