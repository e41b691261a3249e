/**
 * `_model_module_version` must be satisfied by the anywidget frontend the user has installed, so it is read from
 * `<jupyter data dir>/labextensions/anywidget/package.json` (as @anywidget/deno does) and sent as a `~major.minor.*`
 * range like the Python package does. Fallback: a range the current npm release (0.11.x) accepts.
 */
import { readFileSync } from "node:fs";
import { homedir, platform } from "node:os";
import { delimiter, join } from "node:path";

export const FALLBACK_ANYWIDGET_RANGE = "~0.11.*";

/** Jupyter's data search path, most specific first (JUPYTER_DATA_DIR, JUPYTER_PATH, user, system). */
export function jupyterDataDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env.JUPYTER_DATA_DIR) dirs.push(env.JUPYTER_DATA_DIR);
  if (env.JUPYTER_PATH) dirs.push(...env.JUPYTER_PATH.split(delimiter).filter(Boolean));
  dirs.push(userDataDir(env));
  if (platform() !== "win32") dirs.push("/usr/local/share/jupyter", "/usr/share/jupyter");
  else if (env.PROGRAMDATA) dirs.push(join(env.PROGRAMDATA, "jupyter"));
  return [...new Set(dirs)];
}

/** The per-user Jupyter data folder (where `jupyter kernelspec install --user` writes). */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  const home = homedir();
  if (platform() === "darwin") return join(home, "Library", "Jupyter");
  if (platform() === "win32") return join(env.APPDATA ?? join(home, "AppData", "Roaming"), "jupyter");
  return join(env.XDG_DATA_HOME || join(home, ".local", "share"), "jupyter");
}

/** `~major.minor.*` for a semver version string. */
export function semverRange(version: string): string | undefined {
  const m = /^(\d+)\.(\d+)\./.exec(version.trim());
  return m ? `~${m[1]}.${m[2]}.*` : undefined;
}

let cached: string | undefined;

/** The `_model_module_version` / `_view_module_version` to send for anywidget models. */
export function anywidgetVersionRange(env: NodeJS.ProcessEnv = process.env, useCache = true): string {
  if (useCache && cached) return cached;
  let found: string | undefined = env.VRE_TS_ANYWIDGET_VERSION ? semverRange(env.VRE_TS_ANYWIDGET_VERSION) ?? env.VRE_TS_ANYWIDGET_VERSION : undefined;
  for (const dir of found ? [] : jupyterDataDirs(env)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "labextensions", "anywidget", "package.json"), "utf8")) as { version?: string };
      found = pkg.version ? semverRange(pkg.version) : undefined;
      if (found) break;
    } catch {
      /* not installed here */
    }
  }
  const range = found ?? FALLBACK_ANYWIDGET_RANGE;
  if (useCache) cached = range;
  return range;
}
