/** Path rules for files that cross the boundary between a local folder and a REANA workspace. */
import * as path from "node:path";
import { ReanaError } from "./errors";

/**
 * Normalises a workspace-relative path (`data/x.csv`) and refuses anything that could leave the workspace or the
 * local folder: absolute paths, drive letters, `..` segments, NUL bytes, empty names.
 */
export function safeRelativePath(name: string, what = "path"): string {
  const bad = (why: string) =>
    new ReanaError({
      code: "REANA_UNSAFE_PATH",
      message: `Refusing ${what} "${name}": ${why}.`,
      hint: "Use a path relative to the workflow folder, without `..`.",
    });
  if (typeof name !== "string" || name.length === 0) throw bad("it is empty");
  if (name.includes("\0")) throw bad("it contains a NUL byte");
  const unified = name.replace(/\\/g, "/");
  if (unified.startsWith("/") || /^[a-zA-Z]:/.test(unified)) throw bad("it is absolute");
  const parts = unified.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) throw bad("it goes up with `..`");
  if (parts.length === 0) throw bad("it names no file");
  return parts.join("/");
}

/** `root/rel` after checking that the result stays inside `root` (defence in depth after `safeRelativePath`). */
export function resolveInside(root: string, rel: string, what = "path"): string {
  const clean = safeRelativePath(rel, what);
  const base = path.resolve(root);
  const target = path.resolve(base, ...clean.split("/"));
  if (target !== base && !target.startsWith(base + path.sep)) {
    throw new ReanaError({ code: "REANA_UNSAFE_PATH", message: `Refusing ${what} "${rel}": it resolves outside ${base}.` });
  }
  return target;
}
