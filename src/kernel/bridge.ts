/**
 * The runtime bridge: the running kernel publishes this object at `globalThis[Symbol.for("vre-ts.kernel")]`.
 * User code, magic rewrites and any copy of the package reach the kernel only through it.
 */
import type { DisplayOptions, MimeBundle } from "../magics/types";
import type { CommManager } from "./comm/manager";

export const KERNEL_KEY = Symbol.for("vre-ts.kernel");

export interface KernelBridge {
  readonly protocol: 1;
  /** Runs a line magic (target of the `%name args` rewrite). */
  line(name: string, args: string): Promise<unknown>;
  /** Shows help for a magic (target of `%name?`). */
  help(name: string): unknown;
  /** Times an expression (target of `%time EXPR`). */
  time<T>(fn: () => Promise<T> | T, label?: string): Promise<T>;
  display(value: unknown, options?: DisplayOptions): void;
  input(prompt?: string, options?: { password?: boolean }): Promise<string>;
  readonly comms: CommManager;
  /** The running cell's AbortSignal (aborted on interrupt); a never-aborted signal outside a cell. */
  currentSignal(): AbortSignal;
  /** Clears the cell's output (optionally when the next output arrives). */
  clearOutput(wait?: boolean): void;
}

export function getBridge(): KernelBridge | undefined {
  return (globalThis as Record<symbol, unknown>)[KERNEL_KEY] as KernelBridge | undefined;
}

export function setBridge(bridge: KernelBridge | undefined): void {
  (globalThis as Record<symbol, unknown>)[KERNEL_KEY] = bridge;
}

export type { MimeBundle };
