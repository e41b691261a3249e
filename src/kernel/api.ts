/**
 * The kernel API for notebook code and other modules: `display`, `input`, `registerMagic`, `widget`, comms and the
 * typed equivalents of the built-in magics. Every function reaches the running kernel through the runtime bridge
 * (`globalThis[Symbol.for("vre-ts.kernel")]`), so any copy of the package talks to the same kernel. Outside a kernel
 * they throw a clear error, except `registerMagic`, which just records the magic.
 */
import { getBridge, type KernelBridge } from "./bridge";
import type { Comm, CommMessage, CommSendOptions, CommTargetHandler, JsonObject } from "./comm/manager";
import type { DisplayOptions } from "../magics/types";

export { registerMagic, listMagics, closestName } from "../magics/registry";
export { UsageError } from "../magics/types";
export type { MagicSpec, MagicContext, MimeBundle, DisplayOptions } from "../magics/types";
export { table, rich, escapeHtml, type TableOptions, type Table, type Displayable } from "../magics/render";
export { lsmagic, time, bash, html, markdown, env, setEnv, cd, ShellCommandError, type BashOptions } from "../magics/builtins";
export { widget, WidgetModel, type WidgetOptions, type WidgetState } from "../widgets/widget";
export type { Comm, CommMessage, CommSendOptions, CommTargetHandler } from "./comm/manager";

function kernel(what: string): KernelBridge {
  const bridge = getBridge();
  if (!bridge) {
    throw new Error(`${what} needs a running vre-ts kernel: run this code in a notebook using the "TypeScript (vre-ts)" kernel`);
  }
  return bridge;
}

/** True when this code runs inside a vre-ts kernel. */
export function inKernel(): boolean {
  return getBridge() !== undefined;
}

/**
 * Shows a value in the running cell's output. Objects with `[Symbol.for("Jupyter.display")]()` supply their own
 * mimebundle; `{ raw: true }` sends `value` as a mimebundle; `display_id` + `update: true` replaces an earlier output.
 */
export function display(value: unknown, options?: DisplayOptions): void {
  kernel("display()").display(value, options);
}

/** Clears the cell's output (with `wait`, when the next output arrives). */
export function clearOutput(wait = false): void {
  kernel("clearOutput()").clearOutput(wait);
}

/** Asks the user for a line of text through the frontend. `password: true` hides what is typed. */
export function input(prompt = "", options?: { password?: boolean }): Promise<string> {
  return kernel("input()").input(prompt, options);
}

/** The running cell's AbortSignal: aborted when the user interrupts the kernel. */
export function cellSignal(): AbortSignal {
  return kernel("cellSignal()").currentSignal();
}

/** Opens a comm to a frontend target (kernel → frontend). */
export function openComm(targetName: string, data: JsonObject = {}, options?: CommSendOptions & { targetModule?: string }): Comm {
  return kernel("openComm()").comms.open(targetName, data, options);
}

/** Registers a target the frontend can open comms to (frontend → kernel). Returns an unregister function. */
export function registerCommTarget(targetName: string, handler: CommTargetHandler): () => void {
  return kernel("registerCommTarget()").comms.registerTarget(targetName, handler);
}

export type { CommMessage as ReceivedCommMessage };
