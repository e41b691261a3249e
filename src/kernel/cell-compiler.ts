/**
 * The type-checking half of a TypeScript session: tslab's converter (incremental program, earlier cells'
 * declarations carried forward, completion, quick info) plus the source fixes of `cell-rewrite`. It runs on the
 * type-check worker thread (see `type-check-worker.ts`), so building the program (seconds, cold) and checking a
 * cell never block the kernel's event loop; the executor stays on the kernel thread and runs what this returns.
 *
 * Protocol with the executor: `convert()` checks and compiles a cell against the declarations committed so
 * far; `commit()` makes that cell's declarations visible to later cells (the executor calls it only when the cell
 * ran without throwing, as tslab's executor does); `takeFastCell()` takes in the declarations of a cell that
 * already ran on the fast path (`fast-cell.ts`), so later cells see them.
 *
 * Fast-path declarations cost nothing until the next checked cell: they are put in front of the earlier cells'
 * declarations given to the converter. A name declared twice in that declaration file resolves to its first
 * declaration (TypeScript binds the later one apart and reports it in that file, whose errors are not shown),
 * so the newer declaration wins, as in a cell that redeclares a name; and the converter's next declaration output
 * (tslab's `remainingDecls`) keeps only the winner. Only an earlier `import` of the same name would merge with a
 * variable instead of conflicting; such a cell is converted for real instead.
 */
import { installTypeOverlay } from "./resolve";
import { rewriteCell } from "./cell-rewrite";
import type { FastDeclaration } from "./fast-cell";
import { mapDiagnostics, type Rewritten } from "./position-map";
import { loadTslab, typescript } from "./tslab-adapter";

/** A diagnostic as tslab's converter reports it (0-based line/character). */
export interface TslabDiagnostic {
  start: { offset: number; line: number; character: number };
  end: { offset: number; line: number; character: number };
  messageText: string;
  category: number;
  code: number;
  fileName?: string;
}

/** tslab's conversion of one cell, as its executor consumes it. */
export interface TslabConversion {
  output?: string;
  declOutput?: string;
  diagnostics: TslabDiagnostic[];
  hasToplevelAwait?: boolean;
  sideOutputs?: { path: string; data: string }[];
  lastExpressionVar?: string;
}

export interface TslabCompletion {
  start: number;
  end: number;
  candidates: string[];
}

interface Converter {
  convert(prevDecl: string, src: string): TslabConversion;
  addModule(name: string, src: string, meta: unknown): TslabDiagnostic[];
  complete(prevDecl: string, src: string, position: number): TslabCompletion;
  inspect(prevDecl: string, src: string, position: number): unknown;
  close(): void;
}

/** What the executor gets for a cell: the code it must run (after the fixes) and how to run it. */
export type CompiledCell = (
  | { kind: "cell"; converted: TslabConversion }
  | { kind: "module"; diagnostics: TslabDiagnostic[] }
  | { kind: "browser" }
) & { code: string; meta: CodeMetadata };

/** tslab's reading of a cell's leading JSDoc tags (`@module name`, `@browser`, `@node`, `@jsx`). */
export interface CodeMetadata {
  module?: string;
  mode?: string;
  jsx?: boolean;
}

export class CellCompiler {
  private node: Converter | undefined;
  private browserConverter: Converter | undefined;
  private prevDecl = "";
  private pendingDecl: string | undefined;
  /** Declarations of fast-path cells since the last commit, by name (latest wins). */
  private readonly fastDecls = new Map<string, string>();
  /** The fast-path declarations the last convert included (removed on commit). */
  private includedFast = new Map<string, string>();

  /** The earlier cells' declarations as the converter gets them: fast-path ones first (they win). */
  private currentDecls(): string {
    if (this.fastDecls.size === 0) return this.prevDecl;
    return [...this.fastDecls.values()].join("\n") + "\n" + this.prevDecl;
  }

  constructor(private readonly cwd: string) {}

  /** Builds the TypeScript program (seconds, cold) and compiles a trivial cell so the first real one is fast. */
  warmUp(): void {
    if (this.node) return;
    installTypeOverlay(typescript().sys, this.cwd);
    this.node = this.createConverter(false);
    this.node.convert("", "0");
  }

  private createConverter(isBrowser: boolean): Converter {
    const { createConverter } = loadTslab<{ createConverter(o: { isJS: boolean; isBrowser: boolean }): Converter }>("tslab/dist/converter");
    return createConverter({ isJS: false, isBrowser });
  }

  private converterFor(mode: string | undefined): Converter {
    this.warmUp();
    if (mode === "browser") return (this.browserConverter ??= this.createConverter(true));
    return this.node!;
  }

  /** Type-checks and compiles `src`; `earlier` lists the names earlier cells left in the executor's exports. */
  convert(src: string, earlier: readonly string[]): CompiledCell {
    this.warmUp();
    const names = new Set(earlier);
    const rewritten = rewriteCell(src, (name) => names.has(name));
    const code = rewritten.code;
    const { getCodeMetadata } = loadTslab<{ getCodeMetadata(s: string): CodeMetadata }>("tslab/dist/metadata");
    const meta = getCodeMetadata(code);
    this.pendingDecl = undefined;
    if (meta.module) {
      const diagnostics = this.converterFor(meta.mode).addModule(meta.module, code, meta);
      return { kind: "module", code, meta, diagnostics: mapBack(diagnostics, rewritten, src) };
    }
    if (meta.mode === "browser") return { kind: "browser", code, meta };
    this.includedFast = new Map(this.fastDecls);
    const converted = this.node!.convert(this.currentDecls(), code);
    if (converted.diagnostics.length === 0) this.pendingDecl = converted.declOutput || "";
    converted.diagnostics = mapBack(converted.diagnostics, rewritten, src);
    return { kind: "cell", code, meta, converted };
  }

  /** The last converted cell ran: later cells see its declarations. */
  commit(): void {
    if (this.pendingDecl !== undefined) {
      this.prevDecl = this.pendingDecl;
      for (const [name, text] of this.includedFast) if (this.fastDecls.get(name) === text) this.fastDecls.delete(name);
    }
    this.pendingDecl = undefined;
    this.includedFast = new Map();
  }

  /**
   * Takes in the declarations of a cell that already ran on the fast path. Returns diagnostics (expected none)
   * when the cell had to be converted for real.
   */
  takeFastCell(src: string, declarations: readonly FastDeclaration[]): TslabDiagnostic[] {
    const decls = this.currentDecls();
    const imported = declarations.some(({ name }) => new RegExp(`^import\\b.*\\b${name.replace(/\$/g, "\\$")}\\b`, "m").test(decls));
    if (!imported) {
      for (const { name, declaration } of declarations) {
        this.fastDecls.delete(name);
        this.fastDecls.set(name, declaration);
      }
      return [];
    }
    const r = this.convert(src, []);
    const diagnostics = r.kind === "cell" ? r.converted.diagnostics : r.kind === "module" ? r.diagnostics : [];
    if (diagnostics.length === 0) this.commit();
    return diagnostics;
  }

  complete(src: string, position: number): TslabCompletion {
    const { getCodeMetadata } = loadTslab<{ getCodeMetadata(s: string): { mode?: string } }>("tslab/dist/metadata");
    const { start, end, candidates } = this.converterFor(getCodeMetadata(src).mode).complete(this.currentDecls(), src, position);
    return { start, end, candidates };
  }

  /** Quick info (type and docs) at `position` as text, or undefined when there is nothing there. */
  inspect(src: string, position: number): string | undefined {
    const { getCodeMetadata } = loadTslab<{ getCodeMetadata(s: string): { mode?: string } }>("tslab/dist/metadata");
    const info = this.converterFor(getCodeMetadata(src).mode).inspect(this.currentDecls(), src, position);
    if (!info) return undefined;
    const { printQuickInfo } = loadTslab<{ printQuickInfo(i: unknown): string }>("tslab/dist/inspect");
    return printQuickInfo(info) || undefined;
  }

  close(): void {
    this.node?.close();
    this.browserConverter?.close();
  }
}

/** Maps the cell's own diagnostics from the rewritten code back to the user's source. */
function mapBack(diagnostics: TslabDiagnostic[], rewritten: Rewritten, src: string): TslabDiagnostic[] {
  if (rewritten.code === src) return diagnostics;
  return diagnostics.map((d) => {
    if (d.fileName) return d;
    const [start, end] = mapDiagnostics(
      [
        { line: d.start.line + 1, column: d.start.character + 1 },
        { line: d.end.line + 1, column: d.end.character + 1 },
      ],
      rewritten,
      src,
    );
    return {
      ...d,
      start: { ...d.start, line: start.line - 1, character: start.column - 1 },
      end: { ...d.end, line: end.line - 1, character: end.column - 1 },
    };
  });
}
