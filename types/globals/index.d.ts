// Globals of a vre-ts notebook cell. This folder is served to the cell's type checker as an automatic type root,
// so it applies in any notebook folder. ES2023 library typings (`findLast`, …) come with it.
/// <reference lib="es2023" />

/** Options of `display()`; `display_id` + `update: true` replaces an earlier output in place. */
interface VreDisplayOptions {
  display_id?: string;
  update?: boolean;
  /** Treat the value as a ready mimebundle, e.g. `{ "text/html": "<b>hi</b>" }`. */
  raw?: boolean;
  metadata?: Record<string, unknown>;
}

/**
 * Shows a value in the cell's output. Objects with a `[Symbol.for("Jupyter.display")]()` method supply their own
 * mimebundle; other values are shown like the cell's last expression.
 */
declare function display(value: unknown, options?: VreDisplayOptions): void;

/** Asks the user for a line of text through the notebook (the stdin channel). `password: true` hides the input. */
declare function input(prompt?: string, options?: { password?: boolean }): Promise<string>;
