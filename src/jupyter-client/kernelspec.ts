/**
 * Kernelspec discovery, following jupyter_core's search path: $JUPYTER_PATH entries, the user data dir
 * ($JUPYTER_DATA_DIR or ~/.local/share/jupyter), then the system dirs. The first folder named NAME
 * (case-insensitive, as jupyter_client lowercases names) that holds a valid kernel.json wins.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";

export interface KernelSpec {
  name: string;
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: "signal" | "message";
  env: Record<string, string>;
  /** The kernelspec folder; "" for the built-in fallback. */
  resource_dir: string;
}

/** The kernel name `vre-ts install` registers. */
export const DEFAULT_KERNEL_NAME = "vre-ts";

export function jupyterDataDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  for (const p of (env.JUPYTER_PATH ?? "").split(delimiter)) if (p) dirs.push(p);
  if (env.JUPYTER_DATA_DIR) dirs.push(env.JUPYTER_DATA_DIR);
  else if (process.platform === "darwin") dirs.push(join(homedir(), "Library", "Jupyter"));
  else dirs.push(join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "jupyter"));
  // The environment prefix of the Python that launched us is unknown here; the usual system prefixes follow.
  dirs.push("/usr/local/share/jupyter", "/usr/share/jupyter");
  return [...new Set(dirs.map((d) => resolve(d)))];
}

export class KernelSpecError extends Error {
  override readonly name = "KernelSpecError";
  constructor(message: string, readonly code: "KERNELSPEC_NOT_FOUND" | "KERNELSPEC_INVALID") {
    super(message);
  }
}

function readSpec(name: string, dir: string): KernelSpec {
  const file = join(dir, "kernel.json");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new KernelSpecError(`Kernelspec ${file} is not valid JSON: ${(err as Error).message}`, "KERNELSPEC_INVALID");
  }
  const spec = raw as Partial<KernelSpec> & { metadata?: unknown };
  if (!Array.isArray(spec.argv) || spec.argv.length === 0 || !spec.argv.every((a) => typeof a === "string")) {
    throw new KernelSpecError(`Kernelspec ${file} has no usable "argv" list.`, "KERNELSPEC_INVALID");
  }
  return {
    name,
    argv: spec.argv,
    display_name: typeof spec.display_name === "string" ? spec.display_name : name,
    language: typeof spec.language === "string" ? spec.language : "",
    interrupt_mode: spec.interrupt_mode === "message" ? "message" : "signal",
    env: spec.env && typeof spec.env === "object" ? (spec.env as Record<string, string>) : {},
    resource_dir: dir,
  };
}

/** Lists every installed kernelspec name with its folder (first occurrence wins, as in jupyter_client). */
export function listKernelSpecs(env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const found = new Map<string, string>();
  for (const data of jupyterDataDirs(env)) {
    const kernels = join(data, "kernels");
    let entries: string[];
    try {
      entries = readdirSync(kernels);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const key = entry.toLowerCase();
      if (!found.has(key) && existsSync(join(kernels, entry, "kernel.json"))) found.set(key, join(kernels, entry));
    }
  }
  return found;
}

export function findKernelSpec(name: string, env: NodeJS.ProcessEnv = process.env): KernelSpec | undefined {
  const dir = listKernelSpecs(env).get(name.toLowerCase());
  return dir ? readSpec(name.toLowerCase(), dir) : undefined;
}

/** The package root (the folder whose package.json is named "vre-ts"), from this module's location. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, "utf8")).name === "vre-ts") return dir;
      } catch {
        /* keep looking */
      }
    }
    if (dirname(dir) === dir) throw new Error(`Cannot find the vre-ts package root above ${from}`);
  }
}

/** Launches this package's own kernel directly with the running Node, for when no kernelspec is installed. */
export function builtinKernelSpec(): KernelSpec {
  const main = join(packageRoot(), "dist", "cli", "main.js");
  if (!existsSync(main)) {
    throw new KernelSpecError(`The vre-ts kernel is not built (${main} is missing); run \`npm run build\`.`, "KERNELSPEC_NOT_FOUND");
  }
  return {
    name: DEFAULT_KERNEL_NAME,
    argv: [process.execPath, main, "kernel", "{connection_file}"],
    display_name: "TypeScript (vre-ts)",
    language: "typescript",
    interrupt_mode: "signal",
    env: {},
    resource_dir: "",
  };
}

/**
 * Resolves the kernel to launch. An explicit name must exist; the default falls back to the built-in kernel.
 */
export function resolveKernelSpec(name: string | undefined, env: NodeJS.ProcessEnv = process.env): KernelSpec {
  const wanted = name ?? DEFAULT_KERNEL_NAME;
  const spec = findKernelSpec(wanted, env);
  if (spec) return spec;
  if (name === undefined || name.toLowerCase() === DEFAULT_KERNEL_NAME) return builtinKernelSpec();
  const known = [...listKernelSpecs(env).keys()].sort();
  throw new KernelSpecError(
    `No kernelspec named "${name}". Installed: ${known.length ? known.join(", ") : "none"}. ` +
      "Install ours with `vre-ts install --user`, or omit --kernel to use the built-in one.",
    "KERNELSPEC_NOT_FOUND",
  );
}
