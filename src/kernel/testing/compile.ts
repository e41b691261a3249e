import type { CellCompiler } from "../cell-compiler";

/**
 * Checks one cell as the kernel does: its diagnostics' messages, and, when there are none, its declarations
 * committed for later cells (as after a cell that ran).
 */
export function checkCell(compiler: CellCompiler, src: string): string[] {
  const r = compiler.convert(src, []);
  if (r.kind !== "cell") throw new Error(`not a plain cell: ${src}`);
  if (r.converted.diagnostics.length === 0) compiler.commit();
  return r.converted.diagnostics.map((d) => d.messageText);
}
