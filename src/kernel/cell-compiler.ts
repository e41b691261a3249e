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
 * Earlier cells' declarations live in a `DeclarationStore`: each cell is checked against only the statements it
 * reaches by name, so a typed cell costs the same after 10 cells as after 1000 (tslab re-reads all of them).
 *
 * Fast-path declarations cost nothing until the next checked cell: they are put in front of the earlier cells'
 * declarations given to the converter. A name declared twice in that declaration file resolves to its first
 * declaration (TypeScript binds the later one apart and reports it in that file, whose errors are not shown),
 * so the newer declaration wins, as in a cell that redeclares a name; and the converter's next declaration output
 * (tslab's `remainingDecls`) keeps only the winner. Only an earlier `import` of the same name would merge with a
 * variable instead of conflicting; such a cell is converted for real instead.
 */
import type * as TS from "typescript";
import { DeclarationStore, identifiersIn } from "./declaration-store";
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
  private store: DeclarationStore | undefined;
  private pendingDecl: string | undefined;
  /** The stored statements the last convert gave the converter (its declarations replace them on commit). */
  private pendingGiven: number[] = [];
  /** Declarations of fast-path cells since the last commit, by name (latest wins). */
  private readonly fastDecls = new Map<string, string>();
  /** The fast-path declarations the last convert included (removed on commit). */
  private includedFast = new Map<string, string>();

  private get declarations(): DeclarationStore {
    return (this.store ??= new DeclarationStore(typescript() as unknown as typeof TS));
  }

  /**
   * The earlier cells' declarations a source needs, as the converter gets them: fast-path ones first (they win),
   * then the stored statements reached from the names the source mentions (all of them for `"all"`).
   */
  declarationsFor(src: string | "all"): { text: string; given: number[]; fast: Map<string, string> } {
    const store = this.declarations;
    let given: number[];
    let fast: Map<string, string>;
    if (src === "all" || src.includes("\\u")) {
      given = store.all();
      fast = new Map(this.fastDecls);
    } else {
      const selected = store.select(identifiersIn(src));
      given = selected.ids;
      fast = new Map([...this.fastDecls].filter(([name]) => selected.names.has(name)));
    }
    const stored = store.text(given);
    const text = fast.size === 0 ? stored : [...fast.values()].join("\n") + "\n" + stored;
    return { text, given, fast };
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
    const { text, given, fast } = this.declarationsFor(code);
    this.includedFast = fast;
    const converted = this.node!.convert(text, code);
    if (converted.diagnostics.length === 0) {
      this.pendingDecl = converted.declOutput || "";
      this.pendingGiven = given;
    }
    converted.diagnostics = mapBack(converted.diagnostics, rewritten, src);
    return { kind: "cell", code, meta, converted };
  }

  /** The last converted cell ran: later cells see its declarations. */
  commit(): void {
    if (this.pendingDecl !== undefined) {
      this.declarations.replace(this.pendingGiven, this.pendingDecl);
      for (const [name, text] of this.includedFast) if (this.fastDecls.get(name) === text) this.fastDecls.delete(name);
    }
    this.pendingDecl = undefined;
    this.pendingGiven = [];
    this.includedFast = new Map();
  }

  /**
   * Takes in the declarations of a cell that already ran on the fast path. Returns diagnostics (expected none)
   * when the cell had to be converted for real.
   */
  takeFastCell(src: string, declarations: readonly FastDeclaration[]): TslabDiagnostic[] {
    const imported = declarations.some(({ name }) => this.declarations.imports(name));
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

  /**
   * Completion at `position`. A member (`expr.na|`) comes from the type of an expression the cell spells, so the
   * declarations the cell reaches suffice; a bare name may be any earlier cell's, so those get every declaration.
   */
  complete(src: string, position: number): TslabCompletion {
    const { getCodeMetadata } = loadTslab<{ getCodeMetadata(s: string): { mode?: string } }>("tslab/dist/metadata");
    const member = /(^|[^.])\.\s*[\w$\u00a0-\uffff]*$/.test(src.slice(0, position));
    const declarations = this.declarationsFor(member ? src : "all").text;
    const { start, end, candidates } = this.converterFor(getCodeMetadata(src).mode).complete(declarations, src, position);
    return { start, end, candidates };
  }

  /** Quick info (type and docs) at `position` as text, or undefined when there is nothing there. */
  inspect(src: string, position: number): string | undefined {
    const { getCodeMetadata } = loadTslab<{ getCodeMetadata(s: string): { mode?: string } }>("tslab/dist/metadata");
    const info = this.converterFor(getCodeMetadata(src).mode).inspect(this.declarationsFor(src).text, src, position);
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
