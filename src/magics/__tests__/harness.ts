/** A MagicContext for tests: records every display, print and prompt; answers prompts from a queue. */
import type { DisplayOptions, MagicContext, MimeBundle } from "../types";

export interface Recorded {
  displays: Array<{ value: unknown; options: DisplayOptions }>;
  prints: string[];
  errors: string[];
  prompts: Array<{ prompt: string; password: boolean }>;
}

export function testContext(cwd: string, opts: { answers?: string[]; signal?: AbortSignal; onDisplay?: (bundle: MimeBundle) => void } = {}): { ctx: MagicContext; rec: Recorded } {
  const rec: Recorded = { displays: [], prints: [], errors: [], prompts: [] };
  const answers = [...(opts.answers ?? [])];
  const ctx: MagicContext = {
    signal: opts.signal ?? new AbortController().signal,
    cwd,
    display(value, options = {}) {
      rec.displays.push({ value, options });
      if (options.raw) opts.onDisplay?.(value as MimeBundle);
    },
    async input(prompt, options = {}) {
      rec.prompts.push({ prompt, password: !!options.password });
      const a = answers.shift();
      if (a === undefined) throw new Error(`unexpected prompt: ${prompt}`);
      return a;
    },
    print: (t) => void rec.prints.push(t),
    printError: (t) => void rec.errors.push(t),
  };
  return { ctx, rec };
}

/** The mimebundle a value renders as (as the kernel computes it). */
export function bundleOf(value: unknown): MimeBundle {
  const fn = (value as Record<symbol, unknown>)?.[Symbol.for("Jupyter.display")];
  if (typeof fn !== "function") throw new Error("value has no Jupyter.display method");
  return fn.call(value) as MimeBundle;
}

/** All text a run produced: rendered value, progress bundles, prints, prompts. */
export function allOutput(rec: Recorded, ...values: unknown[]): string {
  const parts: string[] = [];
  for (const d of rec.displays) parts.push(JSON.stringify(d.value));
  parts.push(...rec.prints, ...rec.errors, ...rec.prompts.map((p) => p.prompt));
  for (const v of values) {
    if (v instanceof Error) parts.push(v.name, v.message, String(v.stack));
    else {
      try {
        parts.push(JSON.stringify(bundleOf(v)));
      } catch {
        // no rich display
      }
      parts.push(JSON.stringify(v) ?? "");
    }
  }
  return parts.join("\n");
}
