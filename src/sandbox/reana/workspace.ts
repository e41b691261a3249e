import { createReadStream, promises as fs } from "node:fs";
import type { ServerResponse } from "node:http";
import * as path from "node:path";
import picomatch from "picomatch";
import yazl from "yazl";
import { HttpError, humanSize } from "./http";

/** Workspace files of a workflow: safe path resolution, recursive listing, glob matching, zip download, delete. */

export interface WorkspaceEntry {
  name: string;
  size: { raw: number; human_readable: string };
  "last-modified": string;
}

/** Resolves a user-given relative path inside `root`; refuses absolute paths and anything escaping the root. */
export function resolveInside(root: string, relative: string): string {
  const cleaned = relative.replace(/\\/g, "/");
  if (cleaned === "" || cleaned.startsWith("/") || cleaned.split("/").some((part) => part === "..")) {
    throw new HttpError(400, { message: `Path ${relative} is not a valid path inside the workflow workspace.` });
  }
  const full = path.resolve(root, cleaned);
  if (full !== root && !full.startsWith(root + path.sep)) {
    throw new HttpError(400, { message: `Path ${relative} is outside the workflow workspace.` });
  }
  return full;
}

/** Checks that the real (symlink-resolved) location of the deepest existing ancestor of `full` stays in `root`. */
export async function assertRealInside(root: string, full: string): Promise<void> {
  const realRoot = await fs.realpath(root);
  let probe = full;
  for (;;) {
    const real = await fs.realpath(probe).catch(() => undefined);
    if (real !== undefined) {
      if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
        throw new HttpError(400, { message: "Path leads outside the workflow workspace through a symbolic link." });
      }
      return;
    }
    const parent = path.dirname(probe);
    if (parent === probe) return;
    probe = parent;
  }
}

/** Python's `datetime.fromtimestamp(ts).isoformat()` in UTC (microsecond precision when present). */
function isoMtime(ms: number): string {
  const iso = new Date(ms).toISOString().slice(0, 23);
  return `${iso}000`;
}

/** Lists every regular file under `root`, as POSIX paths relative to it, sorted by name. */
export async function listFiles(root: string): Promise<WorkspaceEntry[]> {
  const out: WorkspaceEntry[] = [];
  async function walk(dir: string, prefix: string): Promise<void> {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full, rel);
      else if (entry.isFile()) {
        const stat = await fs.stat(full).catch(() => undefined);
        if (!stat) continue;
        out.push({ name: rel, size: { raw: stat.size, human_readable: humanSize(stat.size) }, "last-modified": isoMtime(stat.mtimeMs) });
      }
    }
  }
  await walk(root, "");
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

export function hasGlob(pattern: string): boolean {
  return /[*?[\]{}]/.test(pattern);
}

/** Files matching `pattern`: a glob, a file, or a directory (all files below it). */
export function matchFiles(files: WorkspaceEntry[], pattern: string): WorkspaceEntry[] {
  const clean = pattern.replace(/^\.\//, "").replace(/\/+$/, "");
  if (hasGlob(clean)) {
    const isMatch = picomatch(clean, { dot: true });
    return files.filter((f) => isMatch(f.name) || isMatch(f.name.split("/").slice(0, clean.split("/").length).join("/")));
  }
  return files.filter((f) => f.name === clean || f.name.startsWith(`${clean}/`));
}

/** Sends one file with its name in Content-Disposition. */
export async function sendFile(res: ServerResponse, full: string, name: string, inline: boolean): Promise<void> {
  const stat = await fs.stat(full);
  res.writeHead(200, {
    "Content-Type": guessType(name),
    "Content-Length": String(stat.size),
    "Content-Disposition": `${inline ? "inline" : "attachment"}; filename=${encodeDispositionName(path.basename(name))}`,
  });
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(full);
    stream.on("error", reject);
    res.on("close", () => resolve());
    stream.pipe(res);
  });
}

/** Streams a zip of several workspace files (what REANA answers when a download matches more than one file). */
export async function sendZip(res: ServerResponse, root: string, files: WorkspaceEntry[], zipName: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const f of files) zip.addFile(path.join(root, f.name), f.name);
  zip.end();
  res.writeHead(200, {
    "Content-Type": "application/zip",
    "Content-Disposition": `attachment; filename=${encodeDispositionName(zipName)}`,
  });
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.on("error", reject);
    res.on("close", () => resolve());
    zip.outputStream.pipe(res);
  });
}

function encodeDispositionName(name: string): string {
  return /^[\w.@+-]+$/.test(name) ? name : `"${name.replace(/["\\\r\n]/g, "_")}"`;
}

function guessType(name: string): string {
  const ext = path.extname(name).toLowerCase();
  const types: Record<string, string> = {
    ".json": "application/json",
    ".txt": "text/plain",
    ".log": "text/plain",
    ".csv": "text/csv",
    ".yaml": "application/x-yaml",
    ".yml": "application/x-yaml",
    ".py": "text/x-python",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
  };
  return types[ext] ?? "application/octet-stream";
}

/** Applies REANA's workspace `search` filter: every given field must contain one of its values (substring). */
export function applySearch(entries: WorkspaceEntry[], search: Record<string, unknown>): WorkspaceEntry[] {
  return entries.filter((entry) =>
    Object.entries(search).every(([field, wanted]) => {
      const values = (Array.isArray(wanted) ? wanted : [wanted]).map((v) => String(v).toLowerCase());
      const actual =
        field === "name" ? entry.name : field === "size" ? `${entry.size.raw} ${entry.size.human_readable}` : field === "last-modified" ? entry["last-modified"] : undefined;
      if (actual === undefined) return true;
      return values.some((v) => actual.toLowerCase().includes(v));
    }),
  );
}

/** Total size of all files under `root` in bytes. */
export async function diskUsage(root: string): Promise<number> {
  return (await listFiles(root)).reduce((sum, f) => sum + f.size.raw, 0);
}
