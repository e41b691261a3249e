/**
 * Reading a small file the user named (a reana.yaml, a workflow or parameter file, a codemeta.json, a CA file):
 * only a regular file, and at most a few megabytes. A device (`/dev/zero`), a FIFO or a socket is refused before it
 * is opened for reading (opening a FIFO would block, reading a device never ends), and a file is never read past the
 * cap, even when it grows while being read or reports no size (`/proc`).
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { open, stat } from "node:fs/promises";
import { ClientError } from "./errors";

/** Largest file read whole: far above any real reana.yaml, workflow file or codemeta.json. */
export const SMALL_FILE_MAX_BYTES = 5 * 1024 * 1024;

export interface SmallFileOptions {
  /** "the REANA specification", "the codemeta file": used in messages. */
  what?: string;
  maxBytes?: number;
}

/** A local file refused before it was read: LOCAL_FILE_NOT_REGULAR or LOCAL_FILE_TOO_LARGE. */
export class LocalFileError extends ClientError {
  constructor(init: ConstructorParameters<typeof ClientError>[0]) {
    super({ service: "local", ...init });
  }
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return "a folder";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isFIFO()) return "a named pipe (FIFO)";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

function mib(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1).replace(/\.0$/, "")} MiB` : `${n} bytes`;
}

function notRegular(file: string, st: Stats, what: string): LocalFileError {
  return new LocalFileError({
    code: "LOCAL_FILE_NOT_REGULAR",
    message: `Refusing to read ${what} ${file}: it is ${kindOf(st)}, not a regular file.`,
    hint: "Pass the path of the file itself.",
  });
}

function tooLarge(file: string, size: number | undefined, max: number, what: string): LocalFileError {
  return new LocalFileError({
    code: "LOCAL_FILE_TOO_LARGE",
    message: `Refusing to read ${what} ${file}: it is ${size === undefined ? "larger than" : `${mib(size)}, over`} the ${mib(max)} such a file may have.`,
    hint: "Check the path: it should name a small text file.",
  });
}

function check(file: string, st: Stats, what: string, max: number): void {
  if (!st.isFile()) throw notRegular(file, st, what);
  if (st.size > max) throw tooLarge(file, st.size, max, what);
}

/** Reads a small regular file whole (UTF-8 text, or the bytes with `encoding: null`). Missing files throw ENOENT as usual. */
export function readSmallFileSync(file: string, options?: SmallFileOptions & { encoding?: "utf8" }): string;
export function readSmallFileSync(file: string, options: SmallFileOptions & { encoding: null }): Buffer;
export function readSmallFileSync(file: string, options: SmallFileOptions & { encoding?: "utf8" | null } = {}): string | Buffer {
  const what = options.what ?? "the file";
  const max = options.maxBytes ?? SMALL_FILE_MAX_BYTES;
  check(file, statSync(file), what, max);
  // O_NONBLOCK: should the path have become a FIFO since the check, opening it does not hang.
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    check(file, fstatSync(fd), what, max);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(64 * 1024, max + 1 - total));
      const n = readSync(fd, buf as unknown as Uint8Array, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > max) throw tooLarge(file, undefined, max, what);
    }
    const data = Buffer.concat(chunks as unknown as Uint8Array[]);
    return options.encoding === null ? data : data.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** `readSmallFileSync` without blocking the event loop. */
export async function readSmallFile(file: string, options: SmallFileOptions = {}): Promise<string> {
  const what = options.what ?? "the file";
  const max = options.maxBytes ?? SMALL_FILE_MAX_BYTES;
  check(file, await stat(file), what, max);
  const fh = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    check(file, await fh.stat(), what, max);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(64 * 1024, max + 1 - total));
      const { bytesRead } = await fh.read(buf as unknown as Uint8Array, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(buf.subarray(0, bytesRead));
      total += bytesRead;
      if (total > max) throw tooLarge(file, undefined, max, what);
    }
    return Buffer.concat(chunks as unknown as Uint8Array[]).toString("utf8");
  } finally {
    await fh.close();
  }
}
