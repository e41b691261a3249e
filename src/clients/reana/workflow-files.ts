/**
 * Loading the workflow file that `workflow.file` names, for each engine, into the object that goes into
 * `workflow.specification` when the workflow is created (REANA 0.9.x inlines it; the server never reads the file).
 *
 * - serial: YAML or JSON with `steps`;
 * - CWL: the document with the tools its steps `run` packed into one `$graph` (what `cwltool --pack` produces);
 * - Yadage: YAML/JSON with every `$ref` to another file replaced by the referenced content (`load_as_ref=False`);
 * - Snakemake: the rules read from the Snakefile (see snakemake.ts).
 */
import * as path from "node:path";
import { readSmallFileSync } from "../small-file";
import { SourceFormatError, YamlSource } from "./source";
import { snakemakeSpecification } from "./snakemake";

export type WorkflowType = "serial" | "cwl" | "yadage" | "snakemake";

export interface LoadedWorkflowFile {
  specification: Record<string, unknown>;
  /** The parsed main file when it is YAML/JSON (for line numbers in messages). */
  source?: YamlSource;
  /** Raw text (Snakefile). */
  text?: string;
  /** Every local file read while loading (main file first). */
  files: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function readStructured(file: string): { value: unknown; source: YamlSource } {
  let source: YamlSource;
  try {
    source = YamlSource.read(file, "the workflow file");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new SourceFormatError(`Workflow file ${file} does not exist.`);
    throw e;
  }
  return { value: source.value(), source };
}

export function loadSerialFile(file: string): LoadedWorkflowFile {
  const { value, source } = readStructured(file);
  if (!isObject(value)) throw new SourceFormatError(`${file}: a serial workflow file must be a mapping with "steps".`);
  return { specification: value, source, files: [file] };
}

/** Follows a JSON pointer (`#/a/b`) inside a loaded document. */
function resolvePointer(doc: unknown, fragment: string, where: string): unknown {
  if (fragment === "" || fragment === "/") return doc;
  let node = doc;
  for (const raw of fragment.replace(/^\//, "").split("/")) {
    const key = decodeURIComponent(raw.replace(/~1/g, "/").replace(/~0/g, "~"));
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node)) node = node[key];
    else node = undefined;
    if (node === undefined) throw new SourceFormatError(`${where}: reference target #${fragment} not found.`);
  }
  return node;
}

/**
 * Yadage: inline every `{$ref: "file.yml#/pointer"}` relative to the referring file. The caller resolves the
 * main file against the `toplevel` operational option (default: the reana.yaml folder).
 */
export function loadYadageFile(file: string): LoadedWorkflowFile {
  const files: string[] = [];
  const cache = new Map<string, unknown>();
  const load = (f: string): unknown => {
    if (!cache.has(f)) {
      files.push(f);
      cache.set(f, readStructured(f).value);
    }
    return cache.get(f);
  };
  const main = readStructured(file);
  files.push(file);
  cache.set(file, main.value);
  const inline = (node: unknown, base: string, stack: string[]): unknown => {
    if (Array.isArray(node)) return node.map((n) => inline(n, base, stack));
    if (!isObject(node)) return node;
    const ref = node.$ref;
    if (typeof ref === "string" && Object.keys(node).length === 1) {
      if (/^[a-z]+:/i.test(ref) && !ref.startsWith("file:")) {
        throw new SourceFormatError(`${base}: remote reference ${ref} cannot be loaded offline; copy the file next to the workflow.`);
      }
      const [target, fragment = ""] = ref.replace(/^file:/, "").split("#");
      const targetFile = target === "" ? base : path.resolve(path.dirname(base), target);
      const key = `${targetFile}#${fragment}`;
      if (stack.includes(key)) throw new SourceFormatError(`${base}: circular reference ${ref}.`);
      const doc = targetFile === base ? cache.get(base) : load(targetFile);
      return inline(resolvePointer(doc, fragment, targetFile), targetFile, [...stack, key]);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = inline(v, base, stack);
    return out;
  };
  const spec = inline(main.value, file, []);
  if (!isObject(spec)) throw new SourceFormatError(`${file}: a Yadage workflow must be a mapping with "stages".`);
  return { specification: spec, source: main.source, files };
}

/**
 * CWL: packs the main document and the local files its steps `run` into `{cwlVersion, $graph: [...]}` with the
 * main process as `#main`, as `cwltool --pack` does. A document that already has `$graph` is used as is.
 */
export function loadCwlFile(file: string): LoadedWorkflowFile {
  const main = readStructured(file);
  if (!isObject(main.value)) throw new SourceFormatError(`${file}: a CWL document must be a mapping.`);
  if (Array.isArray(main.value.$graph)) return { specification: main.value, source: main.source, files: [file] };
  const files = [file];
  const graph: Record<string, unknown>[] = [];
  const ids = new Map<string, string>();
  const cwlVersion = main.value.cwlVersion;

  const pack = (doc: Record<string, unknown>, docFile: string, id: string): void => {
    const copy: Record<string, unknown> = { ...doc, id };
    delete copy.cwlVersion;
    const steps = copy.steps;
    const rewrite = (step: unknown): unknown => {
      if (!isObject(step) || typeof step.run !== "string") return step;
      const target = path.resolve(path.dirname(docFile), step.run.replace(/^file:\/\//, "").split("#")[0]);
      let ref = ids.get(target);
      if (!ref) {
        ref = `#${path.basename(target)}`;
        ids.set(target, ref);
        files.push(target);
        const loaded = readStructured(target).value;
        if (!isObject(loaded)) throw new SourceFormatError(`${target}: a CWL document must be a mapping.`);
        pack(loaded, target, ref);
      }
      return { ...step, run: ref };
    };
    if (Array.isArray(steps)) copy.steps = steps.map(rewrite);
    else if (isObject(steps)) copy.steps = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, rewrite(v)]));
    graph.push(copy);
  };
  ids.set(file, "#main");
  pack(main.value, file, "#main");
  if (graph.length === 1) {
    // A single tool or a workflow without external steps: cwltool keeps it as one document.
    return { specification: { ...main.value }, source: main.source, files };
  }
  graph.sort((a, b) => (a.id === "#main" ? -1 : b.id === "#main" ? 1 : 0));
  return { specification: { cwlVersion, $graph: graph }, source: main.source, files };
}

export function loadSnakemakeFile(file: string): LoadedWorkflowFile {
  let text: string;
  try {
    text = readSmallFileSync(file, { what: "the Snakefile" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new SourceFormatError(`Workflow file ${file} does not exist.`);
    throw e;
  }
  return { specification: snakemakeSpecification(text) as unknown as Record<string, unknown>, text, files: [file] };
}

export function loadWorkflowFile(type: WorkflowType, file: string): LoadedWorkflowFile {
  switch (type) {
    case "serial":
      return loadSerialFile(file);
    case "cwl":
      return loadCwlFile(file);
    case "yadage":
      return loadYadageFile(file);
    case "snakemake":
      return loadSnakemakeFile(file);
  }
}
