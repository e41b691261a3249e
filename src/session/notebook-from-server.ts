/**
 * The notebook of this kernel, asked of the Jupyter server that started it, for when the environment does not name
 * it: JupyterLab 4 starts a notebook's session under a temporary path (FOLDER/<uuid>) and renames it once the kernel
 * runs, and jupyter_server 1.x gives the kernel that temporary path as JPY_SESSION_NAME. The server's own file
 * (jpserver-<pid>.json / nbserver-<pid>.json: url, token, root folder) sits beside the kernel's connection file
 * (kernel-<id>.json) in Jupyter's runtime folder; its sessions API maps the kernel id to the notebook's path.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { notebookPathFromEnv } from "./record";

interface ServerInfo {
  url?: string;
  token?: string;
  root_dir?: string;
  notebook_dir?: string;
}

/** The kernel's connection file, as Jupyter passed it on the command line (`vre-ts kernel …/kernel-ID.json`). */
export function connectionFileFromArgv(argv: string[] = process.argv): string | undefined {
  return argv.find((a) => /(^|[/\\])kernel-[\w-]+\.json$/.test(a));
}

/** The notebook's absolute path, or undefined when no server here knows this kernel (never throws). */
export async function notebookFromServer(connectionFile = connectionFileFromArgv()): Promise<string | undefined> {
  const id = connectionFile ? /^kernel-([\w-]+)\.json$/.exec(basename(connectionFile))?.[1] : undefined;
  if (!connectionFile || !id) return undefined;
  const runtime = dirname(connectionFile);
  let names: string[];
  try {
    names = readdirSync(runtime).filter((n) => /^(jpserver|nbserver)-\d+\.json$/.test(n));
  } catch {
    return undefined;
  }
  for (const name of names) {
    try {
      const info = JSON.parse(readFileSync(join(runtime, name), "utf8")) as ServerInfo;
      const root = info.root_dir ?? info.notebook_dir;
      if (!info.url || !root) continue;
      const res = await fetch(new URL("api/sessions", info.url.endsWith("/") ? info.url : `${info.url}/`), {
        headers: info.token ? { Authorization: `token ${info.token}` } : {},
        signal: AbortSignal.timeout(3000),
      });
      if (!res.ok) continue;
      const sessions = (await res.json()) as { path?: string; kernel?: { id?: string } }[];
      const mine = Array.isArray(sessions) ? sessions.find((s) => s.kernel?.id === id) : undefined;
      if (mine?.path?.endsWith(".ipynb")) return isAbsolute(mine.path) ? mine.path : join(root, mine.path);
    } catch {
      // a stale server file or a server that does not answer: try the next one
    }
  }
  return undefined;
}

/**
 * The notebook this kernel runs: the one the environment names (`vre-ts run`, a final JPY_SESSION_NAME), else the one
 * the Jupyter server that started the kernel knows. The one resolution the kernel's start-up cells, the provenance
 * log and `%rucio attachments` share; call it once the kernel runs (the server renames the session after start-up).
 */
export async function kernelNotebook(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd(), connectionFile = connectionFileFromArgv()): Promise<string | undefined> {
  return notebookPathFromEnv(env, cwd) ?? (await notebookFromServer(connectionFile));
}
