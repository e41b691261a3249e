/**
 * Makes `import ... from "vre-ts"`, Node's types and the notebook globals work from a notebook folder that has no
 * node_modules, without writing anything into it.
 *
 * Types: tslab compiles the cell as `<cwd>/__tslab__.ts` with Node10 resolution and the default type roots
 * (`node_modules/@types` of cwd and its ancestors). The TypeScript module's exports cannot be patched, but its
 * `ts.sys` methods can, and tslab's private host delegates to them. The overlay below makes
 * `<cwd>/node_modules/vre-ts`, `<cwd>/node_modules/@types/node` and `<cwd>/node_modules/@types/vre-ts-globals`
 * appear, backed by this package, but only for names that no real node_modules folder (cwd or an ancestor)
 * provides: the notebook's own installation always wins. `realpath` maps back to the real location, so the
 * package's own dependencies resolve from where it is installed.
 *
 * Listing a project's `node_modules/@types` shows only the packages that project depends on (`type-roots.ts`).
 *
 * Run time: a `Module._resolveFilename` fallback resolves `vre-ts` (and `vre-ts/...`) to this package when normal
 * resolution fails.
 */
import { existsSync, statSync } from "node:fs";
import Module from "node:module";
import { dirname, join, resolve, sep } from "node:path";
import { filterTypesListing } from "./type-roots";

export const PACKAGE_NAME = "vre-ts";
export const GLOBALS_TYPES_NAME = "vre-ts-globals";
/** Root of this package (the folder holding package.json), from src/kernel or dist/kernel. */
export const PACKAGE_ROOT = resolve(__dirname, "..", "..");

type Sys = Record<string, unknown>;

interface Mapping {
  virtual: string;
  real: string;
}

function hasRealNodeModule(start: string, name: string): boolean {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, "node_modules", name, "package.json"))) return true;
    const parent = dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

/** The virtual folders for a notebook folder: only names that no real node_modules in cwd or above provides. */
export function computeMappings(cwd: string): Mapping[] {
  const candidates: [string, string][] = [
    [PACKAGE_NAME, PACKAGE_ROOT],
    ["@types/node", dirname(require.resolve("@types/node/package.json", { paths: [PACKAGE_ROOT] }))],
    [`@types/${GLOBALS_TYPES_NAME}`, join(PACKAGE_ROOT, "types", "globals")],
  ];
  const out: Mapping[] = [];
  for (const [name, real] of candidates) {
    if (name === `@types/${GLOBALS_TYPES_NAME}` || !hasRealNodeModule(cwd, name)) {
      if (existsSync(real)) out.push({ virtual: join(cwd, "node_modules", ...name.split("/")), real });
    }
  }
  return out;
}

let installedFor: string | undefined;

/** Installs the overlay on the TypeScript fork's `ts.sys`. Call before the first converter is created. */
export function installTypeOverlay(sys: Sys, cwd: string): void {
  if (installedFor !== undefined) return;
  installedFor = cwd;
  const mappings = computeMappings(cwd);
  if (mappings.length === 0) return;
  const norm = (p: string) => p.replace(/\\/g, "/").replace(/\/+$/, "");
  const maps = mappings.map((m) => ({ virtual: norm(m.virtual), real: norm(m.real) }));
  // Folders that must exist for the virtual entries to be reachable, with the child names they gain.
  const virtualChildren = new Map<string, Set<string>>();
  for (const m of maps) {
    let child = m.virtual;
    let parent = child.slice(0, child.lastIndexOf("/"));
    while (parent.length >= norm(cwd).length && parent !== norm(cwd)) {
      const set = virtualChildren.get(parent) ?? new Set<string>();
      set.add(child.slice(parent.length + 1));
      virtualChildren.set(parent, set);
      child = parent;
      parent = child.slice(0, child.lastIndexOf("/"));
    }
  }
  const toReal = (p: string): string | undefined => {
    const n = norm(p);
    for (const m of maps) {
      if (n === m.virtual || n.startsWith(m.virtual + "/")) return m.real + n.slice(m.virtual.length);
    }
    return undefined;
  };

  const orig = {
    fileExists: sys.fileExists as (p: string) => boolean,
    directoryExists: sys.directoryExists as (p: string) => boolean,
    readFile: sys.readFile as (p: string, enc?: string) => string | undefined,
    getDirectories: sys.getDirectories as (p: string) => string[],
    readDirectory: sys.readDirectory as (p: string, ...rest: unknown[]) => string[],
    realpath: sys.realpath as ((p: string) => string) | undefined,
  };
  const call = <K extends keyof typeof orig>(k: K) => (orig[k] as (...a: unknown[]) => unknown).bind(sys);
  const fileExists = call("fileExists") as (p: string) => boolean;
  const directoryExists = call("directoryExists") as (p: string) => boolean;

  sys.fileExists = (p: string) => {
    if (fileExists(p)) return true;
    const r = toReal(p);
    return r !== undefined && fileExists(r);
  };
  sys.directoryExists = (p: string) => {
    if (directoryExists(p)) return true;
    if (virtualChildren.has(norm(p))) return true;
    const r = toReal(p);
    return r !== undefined && directoryExists(r);
  };
  sys.readFile = (p: string, enc?: string) => {
    if (fileExists(p)) return orig.readFile.call(sys, p, enc);
    const r = toReal(p);
    return r !== undefined ? orig.readFile.call(sys, r, enc) : undefined;
  };
  sys.getDirectories = (p: string) => {
    const real = directoryExists(p) ? filterTypesListing(p, orig.getDirectories.call(sys, p)) : [];
    const extra = virtualChildren.get(norm(p));
    if (extra) for (const name of extra) if (!real.includes(name)) real.push(name);
    if (!directoryExists(p)) {
      const r = toReal(p);
      if (r !== undefined && directoryExists(r)) return orig.getDirectories.call(sys, r);
    }
    return real;
  };
  sys.readDirectory = (p: string, ...rest: unknown[]) => {
    if (!directoryExists(p)) {
      const r = toReal(p);
      if (r !== undefined) return orig.readDirectory.call(sys, r, ...rest);
    }
    return orig.readDirectory.call(sys, p, ...rest);
  };
  if (orig.realpath) {
    const realpath = orig.realpath;
    sys.realpath = (p: string) => {
      if (!fileExists(p) && !directoryExists(p)) {
        const r = toReal(p);
        if (r !== undefined) return realpath.call(sys, r);
      }
      return realpath.call(sys, p);
    };
  }
}

let runtimeInstalled = false;

/** Lets `require("vre-ts")` find this package when the notebook folder has no installation of its own. */
export function installRuntimeFallback(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const M = Module as unknown as {
    _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  };
  const original = M._resolveFilename;
  M._resolveFilename = function (this: unknown, request, parent, isMain, options) {
    try {
      return original.call(this, request, parent, isMain, options);
    } catch (e) {
      if (
        (e as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" &&
        (request === PACKAGE_NAME || request.startsWith(PACKAGE_NAME + "/"))
      ) {
        const target = PACKAGE_ROOT + request.slice(PACKAGE_NAME.length).replace(/\//g, sep);
        return original.call(this, target, parent, isMain, options);
      }
      throw e;
    }
  };
}

/** True when the compiled entry point exists (types and runtime of `vre-ts` come from dist/). */
export function packageBuilt(): boolean {
  try {
    return statSync(join(PACKAGE_ROOT, "dist", "index.js")).isFile();
  } catch {
    return false;
  }
}
