/** Small helpers shared by the domain magics: paths relative to the notebook, confirmations, state files. */
import * as os from "node:os";
import * as path from "node:path";
import { UsageError, type MagicContext } from "./types";
import type { Progress } from "./progress";

/** A user path resolved against the notebook's folder (`~` expands to the home folder). */
export function resolvePath(ctx: Pick<MagicContext, "cwd">, p: string): string {
  const expanded = p === "~" ? os.homedir() : p.startsWith("~/") ? path.join(os.homedir(), p.slice(2)) : p;
  return path.resolve(ctx.cwd, expanded);
}

/** A path shown relative to the notebook's folder when it is inside it. */
export function displayPath(ctx: Pick<MagicContext, "cwd">, p: string): string {
  const rel = path.relative(ctx.cwd, p);
  if (rel === "") return ".";
  return !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

/**
 * Asks through the frontend; when it cannot ask (no stdin, e.g. a batch run), a UsageError says what to do
 * instead rather than failing with a protocol error.
 */
export async function ask(ctx: Pick<MagicContext, "input">, prompt: string, options: { password?: boolean }, instead: string): Promise<string> {
  try {
    return await ctx.input(prompt, options);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new UsageError(`Cannot ask "${prompt.trim()}" here (${why}). ${instead}`);
  }
}

/** Asks a yes/no question through the frontend; anything but y/yes is a no. */
export async function confirm(ctx: Pick<MagicContext, "input">, question: string): Promise<boolean> {
  const answer = await ask(ctx, `${question} [y/N] `, {}, "Add --yes to confirm in the command itself.");
  return /^\s*y(es)?\s*$/i.test(answer);
}

export { readJson, writeJsonAtomic } from "../clients/json-file";

/** Runs `op` with a progress display that ends as done, failed or interrupted. */
export async function withProgress<T>(progress: Progress, signal: AbortSignal, op: () => Promise<T>, doneMessage?: (v: T) => string | undefined): Promise<T> {
  try {
    const value = await op();
    progress.done(doneMessage?.(value));
    return value;
  } catch (err) {
    progress.end(err, signal);
    throw err;
  }
}

/** "1 file", "3 files". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export { anySignal } from "../clients/http/ambient-signal";
