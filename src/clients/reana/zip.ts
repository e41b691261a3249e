/**
 * Safe unpacking of the zip archives REANA sends when a workspace download matches several files.
 *
 * The archive is checked whole before anything is written: an entry with an absolute path, a `..` segment, a
 * backslash trick, or a symbolic link refuses the archive. Entries are then streamed (constant memory) into
 * `<name>.<random>.part` and renamed, so an interrupted extraction never leaves a truncated file under a final name.
 * A symlink already present in the target folder cannot redirect a write outside it either: each parent folder is
 * resolved with realpath and must stay inside the target.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, promises as fs } from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import * as yauzl from "yauzl";
import { ChecksumAccumulator, ChecksumStream } from "../http/checksum";
import { ReanaError } from "./errors";
import { safeRelativePath } from "./safe-path";

export interface ExtractOptions {
  signal?: AbortSignal;
  /** Replace files that already exist (default true, like re-downloading). */
  overwrite?: boolean;
  /** Upper bound on the total uncompressed size (default 100 GiB), against zip bombs. */
  maxTotalBytes?: number;
}

export interface ExtractedFile {
  /** Path inside the archive (normalised, `/`-separated). */
  name: string;
  /** Absolute path written. */
  path: string;
  size: number;
  /** md5 of the bytes written, computed while writing. */
  md5?: string;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

function unsafe(entryName: string, why: string): ReanaError {
  return new ReanaError({
    code: "REANA_UNSAFE_PATH",
    message: `Refusing the downloaded archive: entry "${entryName}" ${why}. Nothing was extracted.`,
    hint: "The archive would write outside the target folder; download the files one by one instead.",
  });
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // strictFileNames off: we apply our own (stricter, explained) checks below.
    yauzl.open(file, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

function readEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on("entry", (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on("end", () => resolve(entries));
    zip.on("error", reject);
    zip.readEntry();
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream))));
}

async function realInside(root: string, dir: string): Promise<boolean> {
  const realRoot = await fs.realpath(root);
  const realDir = await fs.realpath(dir);
  return realDir === realRoot || realDir.startsWith(realRoot + path.sep);
}

/** Checks every entry of the archive; returns the entries to write with their normalised names. */
function plan(entries: yauzl.Entry[], maxTotalBytes: number): { entry: yauzl.Entry; name: string; dir: boolean }[] {
  let total = 0;
  const out: { entry: yauzl.Entry; name: string; dir: boolean }[] = [];
  for (const entry of entries) {
    const raw = entry.fileName;
    const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
    if (mode === S_IFLNK) throw unsafe(raw, "is a symbolic link");
    if (raw.includes("\\")) throw unsafe(raw, "contains a backslash");
    let name: string;
    try {
      name = safeRelativePath(raw.replace(/\/+$/, "") || raw, "archive entry");
    } catch {
      throw unsafe(raw, raw.startsWith("/") || /^[a-zA-Z]:/.test(raw) ? "has an absolute path" : "escapes the target folder");
    }
    if (entry.isEncrypted()) throw unsafe(raw, "is encrypted");
    total += entry.uncompressedSize;
    if (total > maxTotalBytes) {
      throw new ReanaError({
        code: "REANA_UNSAFE_PATH",
        message: `Refusing the downloaded archive: it would unpack to more than ${maxTotalBytes} bytes.`,
        hint: "Download the files one by one, or raise maxTotalBytes.",
      });
    }
    out.push({ entry, name, dir: raw.endsWith("/") });
  }
  return out;
}

/** Extracts `zipFile` into `targetDir` (created if needed). */
export async function extractZipSafely(zipFile: string, targetDir: string, options: ExtractOptions = {}): Promise<ExtractedFile[]> {
  const root = path.resolve(targetDir);
  await fs.mkdir(root, { recursive: true });
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(zipFile);
  } catch (e) {
    throw new ReanaError({
      code: "HTTP_MALFORMED_RESPONSE",
      message: `The downloaded archive is not a valid zip file: ${(e as Error).message}.`,
      hint: "The download may have been cut short; run it again.",
      cause: e,
    });
  }
  const written: ExtractedFile[] = [];
  try {
    const entries = await readEntries(zip).catch((e: Error) => {
      // yauzl checks names itself while reading the central directory.
      const m = /^(absolute path|invalid relative path|invalid characters in fileName): (.*)$/.exec(e.message);
      if (m) throw unsafe(m[2], m[1] === "absolute path" ? "has an absolute path" : m[1] === "invalid relative path" ? "escapes the target folder" : "contains a backslash");
      throw new ReanaError({ code: "HTTP_MALFORMED_RESPONSE", message: `The downloaded archive is damaged: ${e.message}.`, hint: "Run the download again.", cause: e });
    });
    const planned = plan(entries, options.maxTotalBytes ?? 100 * 1024 ** 3);
    for (const { entry, name, dir } of planned) {
      options.signal?.throwIfAborted();
      const target = path.join(root, ...name.split("/"));
      const parent = dir ? target : path.dirname(target);
      await fs.mkdir(parent, { recursive: true });
      if (!(await realInside(root, parent))) throw unsafe(entry.fileName, "would be written through a symbolic link outside the target folder");
      if (dir) continue;
      const existing = await fs.lstat(target).catch(() => undefined);
      if (existing?.isSymbolicLink()) throw unsafe(entry.fileName, "would overwrite a symbolic link");
      if (existing && options.overwrite === false) continue;
      // Unique per extraction: two downloads into one folder never share a part file.
      const part = `${target}.${randomBytes(4).toString("hex")}.part`;
      const sums = new ChecksumAccumulator();
      try {
        const stream = await openEntry(zip, entry);
        await pipeline(stream, new ChecksumStream(sums), createWriteStream(part, { flags: "w" }), { signal: options.signal });
        await fs.rename(part, target);
      } catch (e) {
        await fs.rm(part, { force: true });
        throw e;
      }
      const digest = sums.digest();
      written.push({ name, path: target, size: digest.bytes, md5: digest.md5 });
    }
  } finally {
    zip.close();
  }
  return written;
}
