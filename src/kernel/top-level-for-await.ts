/**
 * tslab detects top-level await from `await` expressions only, so a cell whose only await is a top-level
 * `for await (...)` loop is not run as async and fails with "Unexpected reserved word". Such a cell gets an
 * `await undefined;` in front of its first line: the cell is then run as async, its last expression value and its
 * line numbers are unchanged.
 */
import { typescript } from "./tslab-adapter";

interface Node {
  kind: number;
  awaitModifier?: unknown;
}

interface Ts {
  createSourceFile(name: string, text: string, target: number, setParents?: boolean, kind?: number): Node;
  forEachChild(node: Node, visit: (child: Node) => boolean | undefined): boolean | undefined;
  isFunctionLike(node: Node): boolean;
  isClassLike(node: Node): boolean;
  ScriptTarget: { Latest: number };
  ScriptKind: { TS: number };
  SyntaxKind: { ForOfStatement: number };
}

export const ASYNC_MARKER = "await undefined; ";

/** True when `src` has a `for await` loop outside any function or class body. */
export function hasTopLevelForAwait(src: string): boolean {
  if (!src.includes("for await")) return false;
  const ts = typescript() as unknown as Ts;
  const file = ts.createSourceFile("cell.ts", src, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const visit = (node: Node): boolean => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node)) return false;
    if (node.kind === ts.SyntaxKind.ForOfStatement && node.awaitModifier) return true;
    return ts.forEachChild(node, (child) => visit(child) || undefined) === true;
  };
  return ts.forEachChild(file, (child) => visit(child) || undefined) === true;
}

/** The cell source as tslab should see it. */
export function markTopLevelForAwait(src: string): string {
  return hasTopLevelForAwait(src) ? ASYNC_MARKER + src : src;
}
