/**
 * Source fixes applied to a cell before tslab's converter sees it, for two tslab 1.0.22 gaps (without forking it):
 *
 * - Shorthand properties. tslab rewrites references to earlier cells' variables into `exports.name`, but misses
 *   the shorthand `{ name }`, which then fails with "ReferenceError: name is not defined". Shorthands of names that
 *   earlier cells declared are expanded to `{ name: name }` (same meaning, also in destructuring assignments).
 * - Top-level await that tslab does not see. tslab detects top-level await from TypeScript's "await is only allowed
 *   in async functions" diagnostic, which a `for await` loop and an `await (expr)` (TypeScript parses it as a call to
 *   a function named `await`) never produce, so the cell runs as a plain function and fails ("Unexpected reserved
 *   word", "await is not defined"). Such a cell gets `await undefined; ` in front of its first statement: the cell
 *   then runs as an async function, in which JavaScript reads `await (expr)` as an await.
 *
 * Every edit is recorded in a `PositionMap`, so compile errors keep the user's lines and columns.
 */
import { RewriteBuilder, type Rewritten } from "./position-map";
import { typescript } from "./tslab-adapter";

interface Node {
  kind: number;
  pos: number;
  end: number;
  name?: Node & { text?: string };
  expression?: Node & { text?: string };
  awaitModifier?: unknown;
  getStart(file?: unknown): number;
}

interface Ts {
  createSourceFile(name: string, text: string, target: number, setParents?: boolean, kind?: number): Node & { statements: Node[] };
  forEachChild(node: Node, visit: (child: Node) => boolean | undefined): boolean | undefined;
  isFunctionLike(node: Node): boolean;
  isClassLike(node: Node): boolean;
  ScriptTarget: { Latest: number };
  ScriptKind: { TS: number };
  SyntaxKind: { ForOfStatement: number; ShorthandPropertyAssignment: number; CallExpression: number; Identifier: number; AwaitExpression: number };
}

export const ASYNC_MARKER = "await undefined; ";

/**
 * A name that may be a shorthand property: after `{` or `,`, before `,`, `}` or `=` (comments allowed between).
 * Blocks such as `{ x }` match too; the parse then finds no shorthand.
 */
const GAP = String.raw`(?:\s|/\*[\s\S]*?\*/|//[^\n\r\u2028\u2029]*)*`;
const SHORTHAND_CANDIDATE = new RegExp(String.raw`[{,]${GAP}([A-Za-z_$\u00a0-\uffff][\w$\u00a0-\uffff]*)${GAP}(?=[,}=])`, "g");

/** What a cell needs: the shorthand properties to expand (name end offsets) and whether to mark it async. */
export interface CellFixes {
  shorthandEnds: { end: number; name: string }[];
  markAsync: boolean;
  /** Where the first statement starts (the async marker goes there, after leading comments such as `@module`). */
  firstStatement: number;
}

/**
 * Finds what to fix. `earlier` tells whether a name was declared by an earlier cell. Parses the cell only when a
 * cheap text check says a fix may be needed.
 */
export function findCellFixes(src: string, earlier: (name: string) => boolean): CellFixes {
  const none: CellFixes = { shorthandEnds: [], markAsync: false, firstStatement: 0 };
  const mayAwait = /\bawait\s*\(|\bfor\s+await\b/.test(src);
  let mayShorthand = false;
  if (src.includes("{")) {
    for (const m of src.matchAll(SHORTHAND_CANDIDATE)) {
      if (earlier(m[1])) {
        mayShorthand = true;
        break;
      }
    }
  }
  if (!mayAwait && !mayShorthand) return none;

  const ts = typescript() as unknown as Ts;
  const K = ts.SyntaxKind;
  const file = ts.createSourceFile("cell.ts", src, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const fixes: CellFixes = { ...none, shorthandEnds: [] };
  const visit = (node: Node, topLevel: boolean): void => {
    if (node.kind === K.ShorthandPropertyAssignment && node.name?.text !== undefined && earlier(node.name.text)) {
      fixes.shorthandEnds.push({ end: node.name.end, name: node.name.text });
    }
    if (topLevel && mayAwait) {
      if (node.kind === K.ForOfStatement && node.awaitModifier) fixes.markAsync = true;
      // `await (x)` outside a module: a call of the identifier `await`; in a module: an AwaitExpression that
      // TypeScript parsed in an await context, so tslab gets no diagnostic either. Marking either is harmless.
      if (node.kind === K.CallExpression && node.expression?.kind === K.Identifier && node.expression.text === "await") fixes.markAsync = true;
      if (node.kind === K.AwaitExpression) fixes.markAsync = true;
    }
    const inner = topLevel && !ts.isFunctionLike(node) && !ts.isClassLike(node);
    ts.forEachChild(node, (child) => void visit(child, inner));
  };
  ts.forEachChild(file, (child) => void visit(child, true));
  if (fixes.markAsync && file.statements.length > 0) fixes.firstStatement = file.statements[0].getStart(file);
  return fixes;
}

/** The cell as tslab should see it, with the map back to `src` (undefined map when nothing changed). */
export function rewriteCell(src: string, earlier: (name: string) => boolean): Rewritten {
  const fixes = findCellFixes(src, earlier);
  const inserts: { at: number; text: string }[] = fixes.shorthandEnds.map((s) => ({ at: s.end, text: `: ${s.name}` }));
  if (fixes.markAsync) inserts.push({ at: fixes.firstStatement, text: ASYNC_MARKER });
  if (inserts.length === 0) return { code: src, map: identityFor(src) };
  inserts.sort((a, b) => a.at - b.at);
  const b = new RewriteBuilder(src);
  let pos = 0;
  for (const ins of inserts) {
    b.keep(pos, ins.at).emit(ins.text, ins.at);
    pos = ins.at;
  }
  b.keep(pos, src.length);
  const { text, map } = b.build();
  return { code: text, map };
}

function identityFor(src: string) {
  return new RewriteBuilder(src).keep(0, src.length).build().map;
}
