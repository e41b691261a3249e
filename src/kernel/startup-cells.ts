/**
 * Code the kernel runs once, just before the first cell, through the normal execute path (so the declarations are
 * typed for every later cell): today the DIDs attached to the notebook (session/attachments.ts). Run lazily so
 * kernel start-up does not wait for Rucio; a problem never fails the cell: it is one stderr line in its output.
 * The notebook is the one the environment names, else the one the Jupyter server that started the kernel knows.
 */
import { existsSync, readFileSync } from "node:fs";
import { kernelNotebook } from "../session/notebook-from-server";
import type { ExecOutcome } from "./tslab-adapter";

export interface StartupDeps {
  /** The kernel's folder (where Jupyter started it). */
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Runs TypeScript as a silent cell. */
  execute(code: string): Promise<ExecOutcome>;
  /** Writes to the first cell's stderr. */
  printError(text: string): void;
  signal?: AbortSignal;
}

/** Declares the notebook's attached DIDs; returns the names declared. */
export async function runStartupCells(deps: StartupDeps): Promise<string[]> {
  const notebook = await kernelNotebook(deps.env ?? process.env, deps.cwd);
  // Most notebooks attach nothing: a look at the file's text spares loading the Rucio client.
  if (!notebook || !existsSync(notebook) || !/"attachments"/.test(readFileSync(notebook, "utf8"))) return [];
  try {
    const { attachmentStartup, noteDeclared } = await import("../session/attachments");
    const { code, problems, resolved } = await attachmentStartup(notebook, deps.signal);
    for (const p of problems) deps.printError(`${p}\n`);
    if (!code) return [];
    const out = await deps.execute(code);
    if (!out.ok) {
      const why = out.diagnostics[0]?.message ?? (out.error ? String((out.error.value as Error)?.message ?? out.error.value) : "failed");
      deps.printError(`vre-ts: the attached DIDs could not be declared: ${String(why).split("\n")[0]}\n`);
      noteDeclared(resolved.map((r) => (r.ok ? { ...r, ok: false as const, problem: String(why).split("\n")[0]! } : r)));
      return [];
    }
    return resolved.filter((r) => r.ok).map((r) => r.variable);
  } catch (e) {
    deps.printError(`vre-ts: the attached DIDs could not be declared: ${(e as Error).message}\n`);
    return [];
  }
}
