/**
 * Which local files a workflow needs in its workspace, as reana-client 0.9.x uploads them: the reana.yaml, the
 * workflow file(s), every `inputs.files` entry and every file under `inputs.directories` (symbolic links skipped),
 * each under its path relative to the reana.yaml folder. Paths leaving that folder are refused.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { ReanaError } from "./errors";
import { safeRelativePath } from "./safe-path";
import type { LoadedReanaSpec } from "./spec";

export interface UploadItem {
  /** Absolute local path. */
  local: string;
  /** Path in the workspace (`/`-separated, relative). */
  remote: string;
  size: number;
}

function relativeInside(baseDir: string, file: string, what: string): string {
  const rel = path.relative(baseDir, file);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new ReanaError({
      code: "REANA_UNSAFE_PATH",
      message: `Refusing to upload ${what} "${file}": it is outside the workflow folder ${baseDir}.`,
      hint: "Copy the file into the folder of reana.yaml and refer to it by a relative path.",
    });
  }
  return safeRelativePath(rel.split(path.sep).join("/"), what);
}

async function walk(dir: string, out: string[], signal?: AbortSignal): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    signal?.throwIfAborted();
    const full = path.join(dir, e.name);
    if (e.isSymbolicLink()) continue; // as reana-client: links are not followed
    if (e.isDirectory()) await walk(full, out, signal);
    else if (e.isFile()) out.push(full);
  }
}

export async function collectInputs(loaded: LoadedReanaSpec, options: { signal?: AbortSignal; includeSpec?: boolean } = {}): Promise<UploadItem[]> {
  const base = loaded.baseDir;
  const wanted: { file: string; what: string }[] = [];
  if (options.includeSpec !== false && path.isAbsolute(loaded.file)) wanted.push({ file: loaded.file, what: "the REANA specification" });
  for (const f of loaded.workflowFile?.files ?? []) wanted.push({ file: f, what: "workflow file" });
  const inputs = loaded.specification.inputs ?? {};
  for (const f of inputs.files ?? []) {
    safeRelativePath(String(f), "input file");
    wanted.push({ file: path.resolve(base, String(f)), what: "input file" });
  }
  for (const d of inputs.directories ?? []) {
    safeRelativePath(String(d), "input directory");
    const dir = path.resolve(base, String(d));
    relativeInside(base, dir, "input directory");
    const stat = await fs.stat(dir).catch(() => undefined);
    if (!stat?.isDirectory()) {
      throw new ReanaError({
        code: "REANA_SPEC_INVALID",
        message: `Input directory "${d}" (inputs.directories) does not exist in ${base}.`,
        hint: "Create it or remove it from inputs.directories.",
      });
    }
    const files: string[] = [];
    await walk(dir, files, options.signal);
    for (const f of files) wanted.push({ file: f, what: "input file" });
  }
  const seen = new Set<string>();
  const items: UploadItem[] = [];
  for (const { file, what } of wanted) {
    const remote = relativeInside(base, file, what);
    if (seen.has(remote)) continue;
    seen.add(remote);
    const stat = await fs.stat(file).catch(() => undefined);
    if (!stat?.isFile()) {
      throw new ReanaError({
        code: "REANA_SPEC_INVALID",
        message: stat ? `Input "${remote}" in ${base} is not a regular file (a ${stat.isDirectory() ? "folder" : "device, socket or pipe"}).` : `Input file "${remote}" does not exist in ${base}.`,
        hint: stat?.isDirectory() ? "List folders under inputs.directories." : "Create it, or remove it from inputs.files in reana.yaml.",
      });
    }
    items.push({ local: file, remote, size: stat.size });
  }
  return items;
}
