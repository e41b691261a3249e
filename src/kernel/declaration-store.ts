/**
 * The declarations earlier cells left behind, kept statement by statement so that checking a cell costs what the
 * cell uses, not what the notebook holds.
 *
 * tslab's converter checks a cell against one declaration file (`prevDecl`) holding every earlier cell's
 * declarations, re-parsed, re-bound and re-printed for every cell: a typed cell after 1000 cells took 8× as long as
 * after 10. Here each statement of that file is indexed by the names it declares and the names it mentions; a cell
 * is checked against the statements declaring a name the cell mentions, closed over the names those mention in
 * turn (an interface used by a function's signature, a base class, a `typeof` of another value). Names are matched
 * as text, so a false match only adds a statement; a cell cannot refer to an earlier declaration without spelling
 * its name (unicode escapes excepted: a cell with `\u` gets every statement).
 *
 * The converter's answer for a cell (tslab's `declOutput`: the cell's own declarations plus the given ones it did
 * not shadow) replaces the statements it was given, so the store evolves exactly as tslab's `prevDecl` would for
 * those statements and leaves the others untouched.
 */
import type * as TS from "typescript";

interface Statement {
  text: string;
  /** Names this statement declares (several for `declare const a, b` or an import). */
  declares: string[];
  /** Identifiers written in the statement (its types, initialisers, heritage clauses, comments). */
  mentions: string[];
  isImport: boolean;
}

const IDENTIFIER = /[A-Za-z_$\u00a0-\uffff][\w$\u00a0-\uffff]*/g;

/** Every identifier-like word in `text` (a superset of the identifiers a parser would see). */
export function identifiersIn(text: string): Set<string> {
  return new Set(text.match(IDENTIFIER) ?? []);
}

export class DeclarationStore {
  private nextId = 0;
  /** By id; ids grow, so iteration order is the order statements were added. */
  private readonly statements = new Map<number, Statement>();
  private readonly byName = new Map<string, Set<number>>();
  /** Statements that declare no name (`declare global {…}`, `import "side-effect"`): given to every cell. */
  private readonly unnamed = new Set<number>();

  constructor(private readonly ts: typeof TS) {}

  get size(): number {
    return this.statements.size;
  }

  /** Adds the statements of a declaration file's text (the converter's `declOutput`). */
  add(declarations: string): void {
    if (!declarations.trim()) return;
    const ts = this.ts;
    const file = ts.createSourceFile("declarations.d.ts", declarations, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    for (const node of file.statements) {
      const text = declarations.slice(node.pos, node.end).replace(/^\s*\n/, "");
      const declares = declaredNames(ts, node);
      const id = this.nextId++;
      this.statements.set(id, {
        text,
        declares,
        mentions: [...identifiersIn(text)],
        isImport: ts.isImportDeclaration(node) || ts.isImportEqualsDeclaration(node),
      });
      if (declares.length === 0) this.unnamed.add(id);
      for (const name of declares) {
        let ids = this.byName.get(name);
        if (!ids) this.byName.set(name, (ids = new Set()));
        ids.add(id);
      }
    }
  }

  /**
   * The statements a source mentioning `names` needs, in the order they were added, and every name reached on the
   * way (the given names and those the chosen statements mention).
   */
  select(names: Iterable<string>): { ids: number[]; names: Set<string> } {
    const reached = new Set<string>();
    const chosen = new Set<number>(this.unnamed);
    const queue = [...names];
    for (const id of this.unnamed) queue.push(...this.statements.get(id)!.mentions);
    while (queue.length) {
      const name = queue.pop()!;
      if (reached.has(name)) continue;
      reached.add(name);
      for (const id of this.byName.get(name) ?? []) {
        if (chosen.has(id)) continue;
        chosen.add(id);
        for (const m of this.statements.get(id)!.mentions) if (!reached.has(m)) queue.push(m);
      }
    }
    return { ids: [...chosen].sort((a, b) => a - b), names: reached };
  }

  /** Every statement, in order (for completion, which offers every earlier name). */
  all(): number[] {
    return [...this.statements.keys()];
  }

  /** The declaration file text of `ids`. */
  text(ids: readonly number[]): string {
    return ids.map((id) => this.statements.get(id)!.text).join("\n");
  }

  /** The converter's declarations for a cell checked against `given` replace those statements. */
  replace(given: readonly number[], declarations: string): void {
    for (const id of given) this.remove(id);
    this.add(declarations);
  }

  /** True when an earlier `import` declares `name` (an import merges with a redeclared variable instead of clashing). */
  imports(name: string): boolean {
    for (const id of this.byName.get(name) ?? []) if (this.statements.get(id)!.isImport) return true;
    return false;
  }

  private remove(id: number): void {
    const s = this.statements.get(id);
    if (!s) return;
    this.statements.delete(id);
    this.unnamed.delete(id);
    for (const name of s.declares) {
      const ids = this.byName.get(name);
      ids?.delete(id);
      if (ids?.size === 0) this.byName.delete(name);
    }
  }
}

/** The names a top-level statement of a declaration file declares; none for global augmentations and the like. */
function declaredNames(ts: typeof TS, node: TS.Statement): string[] {
  if (ts.isVariableStatement(node)) return node.declarationList.declarations.flatMap((d) => bindingNames(ts, d.name));
  if (
    ts.isFunctionDeclaration(node) ||
    ts.isClassDeclaration(node) ||
    ts.isInterfaceDeclaration(node) ||
    ts.isTypeAliasDeclaration(node) ||
    ts.isEnumDeclaration(node)
  ) {
    return node.name ? [node.name.text] : [];
  }
  if (ts.isModuleDeclaration(node)) {
    // `declare global {…}` parses as a module named `global`; it augments, it declares nothing here.
    const augments = (node.flags & ts.NodeFlags.GlobalAugmentation) !== 0;
    return ts.isIdentifier(node.name) && !augments ? [node.name.text] : [];
  }
  if (ts.isImportEqualsDeclaration(node)) return [node.name.text];
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    if (!clause) return [];
    const names = clause.name ? [clause.name.text] : [];
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
    else if (bindings) names.push(...bindings.elements.map((e) => e.name.text));
    return names;
  }
  return [];
}

function bindingNames(ts: typeof TS, name: TS.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingNames(ts, e.name)));
}
