/**
 * `vre-ts install`: writes the Jupyter kernelspec (kernel.json from kernel-spec/kernel.json.in plus the logos),
 * pointing at this Node binary and this package's compiled CLI by absolute path.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { userDataDir } from "../widgets/anywidget-version";

export const PACKAGE_ROOT = resolve(__dirname, "..", "..");
export const DEFAULT_KERNEL_NAME = "vre-ts";

export interface InstallOptions {
  /** Install under DIR/share/jupyter/kernels (like `jupyter kernelspec install --prefix`). */
  prefix?: string;
  /** Kernel name (folder name); letters, digits, `.`, `_`, `-`. */
  name?: string;
  displayName?: string;
  env?: NodeJS.ProcessEnv;
}

export function kernelsDir(options: InstallOptions = {}): string {
  if (options.prefix) return join(resolve(options.prefix), "share", "jupyter", "kernels");
  return join(userDataDir(options.env ?? process.env), "kernels");
}

/** The kernel.json content for this installation. */
export function kernelJson(options: InstallOptions = {}): Record<string, unknown> {
  const template = JSON.parse(readFileSync(join(PACKAGE_ROOT, "kernel-spec", "kernel.json.in"), "utf8")) as Record<string, unknown>;
  const main = join(PACKAGE_ROOT, "dist", "cli", "main.js");
  const argv = (template.argv as string[]).map((a) => a.replace("@NODE@", process.execPath).replace("@MAIN@", main));
  return {
    ...template,
    argv,
    display_name: options.displayName ?? template.display_name,
  };
}

/** Writes the kernelspec; returns the folder it wrote. */
export function installKernelSpec(options: InstallOptions = {}): string {
  const name = options.name ?? DEFAULT_KERNEL_NAME;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`invalid kernel name "${name}": use letters, digits, ".", "_" and "-"`);
  const dest = join(kernelsDir(options), name);
  const spec = kernelJson(options);
  if (!existsSync(join(PACKAGE_ROOT, "dist", "cli", "main.js"))) {
    throw new Error(`${join(PACKAGE_ROOT, "dist", "cli", "main.js")} is missing: build the package first (npm run build)`);
  }
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  writeFileSync(join(dest, "kernel.json"), JSON.stringify(spec, null, 2) + "\n");
  const specDir = join(PACKAGE_ROOT, "kernel-spec");
  for (const f of readdirSync(specDir)) {
    if (/^logo-.*\.(png|svg)$/.test(f)) copyFileSync(join(specDir, f), join(dest, f));
  }
  return dest;
}
