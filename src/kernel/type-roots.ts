/**
 * Which `node_modules/@types` packages a notebook's program includes on its own (TypeScript's automatic type
 * inclusion). TypeScript takes every folder under each `node_modules/@types` from the notebook folder up; in a
 * project that also holds tools (a checkout of vre-ts itself, a lab image with JupyterLab extensions), that is
 * megabytes of declarations nobody imports: @types/jquery, lodash, underscore, backbone and chai added 1.9 MB to
 * the 2 MB of @types/node, made the type checker's start-up 1.5–2× as long, and declared globals (jQuery's `$`)
 * that type-check in a cell and fail when it runs.
 *
 * So a types folder whose project has a package.json keeps only the packages that project names as a dependency
 * of any kind (`@types/x`, or `x` itself, `@scope/x` for `@types/scope__x`), and always `node` (cells run on Node).
 * A types folder without a package.json beside it keeps everything, as TypeScript would. Imports are not affected:
 * `import _ from "lodash"` still finds @types/lodash through module resolution.
 */
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"] as const;

/** The project's declared dependency names for a `…/node_modules/@types` folder, or undefined to keep everything. */
export function declaredDependencies(typesDir: string): Set<string> | undefined {
  const normalized = typesDir.replace(/\\/g, "/").replace(/\/+$/, "");
  if (!normalized.endsWith("/node_modules/@types")) return undefined;
  const project = dirname(dirname(normalized));
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const names = new Set<string>();
  for (const field of DEPENDENCY_FIELDS) {
    const deps = manifest[field];
    if (deps && typeof deps === "object") for (const name of Object.keys(deps)) names.add(name);
  }
  return names;
}

/** True when the types package folder `name` (e.g. `lodash`, `babel__core`) belongs in a program using `declared`. */
export function includesTypesPackage(name: string, declared: ReadonlySet<string>): boolean {
  if (name === "node") return true;
  const runtime = name.includes("__") ? `@${name.replace("__", "/")}` : name;
  return declared.has(`@types/${name}`) || declared.has(runtime);
}

/** Filters a directory listing when `dir` is a project's `node_modules/@types` (see the module comment). */
export function filterTypesListing(dir: string, entries: string[]): string[] {
  const declared = declaredDependencies(dir);
  if (!declared) return entries;
  return entries.filter((entry) => includesTypesPackage(basename(entry), declared));
}
