/**
 * The contract between the kernel's magic dispatcher and every magic (built-in, domain or user-registered).
 * A magic is a plain function over a parsed argument string; it knows nothing of the Jupyter protocol.
 */

/** A mimebundle as Jupyter display messages carry it. */
export type MimeBundle = Record<string, unknown>;

export interface DisplayOptions {
  /** Jupyter display id; a later `update: true` call with the same id replaces the output in place. */
  display_id?: string;
  update?: boolean;
  /** Treat `value` as a ready mimebundle. */
  raw?: boolean;
  metadata?: Record<string, unknown>;
}

export interface MagicContext {
  /** Aborted when the user interrupts the kernel (or the cell otherwise ends early). */
  readonly signal: AbortSignal;
  /** The kernel's working directory (the notebook's folder unless `%cd` moved it). */
  readonly cwd: string;
  /** Shows a value (or a raw mimebundle) in the running cell's output area. */
  display(value: unknown, options?: DisplayOptions): void;
  /** Asks the user for a line of text through the frontend (stdin channel). `password` hides the input. */
  input(prompt: string, options?: { password?: boolean }): Promise<string>;
  /** Writes to the cell's stdout / stderr stream. */
  print(text: string): void;
  printError(text: string): void;
}

export interface MagicSpec {
  /** Name without `%`, e.g. "rucio". Letters, digits, `_` and `-`, starting with a letter. */
  name: string;
  /** "line" for `%name`, "cell" for `%%name`, "both" for either. */
  kind: "line" | "cell" | "both";
  /** One-line description shown by `%lsmagic`. */
  summary: string;
  /** Usage text shown by `%name?` (may span several lines). */
  usage: string;
  /** Example invocations shown by `%name?`. */
  examples?: string[];
  /**
   * Runs the magic. `args` is the argument string after the name, with `{expr}` interpolation already applied.
   * `body` is the cell body for `%%name` (undefined for a line magic).
   * The resolved value becomes the cell's `execute_result` (or the assigned value in `x = %name ...`);
   * values with a `[Symbol.for("Jupyter.display")]()` method supply their own mimebundle.
   */
  run(args: string, ctx: MagicContext, body?: string): unknown | Promise<unknown>;
}

/**
 * Thrown for a wrong magic invocation (bad arguments, unknown magic). The kernel shows it as an `error`
 * with ename `UsageError` and only the message, without a stack trace, as IPython does.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(message: string) {
    super(message);
  }
}
