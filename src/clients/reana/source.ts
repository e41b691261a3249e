/**
 * YAML/JSON source files that keep their line numbers, so that a validation message can point at
 * `reana.yaml:12:7` instead of a JSON pointer.
 */
import { Document, isCollection, isNode, LineCounter, parseDocument, type Node } from "yaml";
import { readSmallFileSync } from "../small-file";
import { pyyamlTags } from "./pyyaml-schema";

export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

export class SourceFormatError extends Error {
  constructor(
    message: string,
    readonly position?: SourcePosition,
  ) {
    super(message);
    this.name = "SourceFormatError";
  }
}

export class YamlSource {
  private constructor(
    readonly file: string,
    readonly text: string,
    readonly document: Document,
    private readonly lines: LineCounter,
  ) {}

  /**
   * Parses YAML 1.1 with the scalar types of PyYAML's `safe_load` (what reana-client and reana-server use): `yes`/
   * `no`/`on`/`off` are booleans but `y`/`n` are not, `1e3` is a string, `017` octal, `1:30` is 90 (pyyaml-schema.ts).
   * JSON is valid YAML, so `.json` workflow files go through here too.
   */
  static parse(text: string, file: string): YamlSource {
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, version: "1.1", customTags: pyyamlTags, prettyErrors: true, uniqueKeys: true });
    const source = new YamlSource(file, text, document, lines);
    const first = document.errors[0];
    if (first) {
      const pos = first.linePos?.[0];
      const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
      throw new SourceFormatError(
        `${where}: not valid YAML: ${first.message.split("\n")[0]}`,
        pos ? { file, line: pos.line, column: pos.col } : undefined,
      );
    }
    return source;
  }

  /** Reads a YAML/JSON file the user named: a regular file of at most 5 MiB (LOCAL_FILE_* errors otherwise). */
  static read(file: string, what = "the YAML file"): YamlSource {
    return YamlSource.parse(readSmallFileSync(file, { what }), file);
  }

  /** The document as plain JavaScript values (maps become objects). */
  value(): unknown {
    return this.document.toJS({ maxAliasCount: 1000 });
  }

  /** Position of the node at `path`, or of its nearest existing ancestor. */
  locate(path: readonly (string | number)[]): SourcePosition | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.document.contents : this.document.getIn(path.slice(0, n), true);
      if (isNode(node)) return this.positionOf(node as Node, n < path.length && isCollection(node));
    }
    return undefined;
  }

  /** For a key that is absent, point at the map that should hold it; for a present node, at the node itself. */
  private positionOf(node: Node, isParent: boolean): SourcePosition | undefined {
    const offset = node.range?.[0];
    if (offset === undefined) return undefined;
    const { line, col } = this.lines.linePos(offset);
    void isParent;
    return { file: this.file, line, column: col };
  }
}

/** JSON pointer (`/a/0/b`) → path segments, with array indices as numbers. */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === "" || pointer === "/") return [];
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Human path: `workflow.specification.steps[0].commands`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}
