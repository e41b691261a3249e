import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildSync } from "esbuild";

/** Bundles the child entry once per test file (no build step needed before vitest). */
export function bundleChild(): string {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), "vre-sandbox-child-")), "child.js");
  buildSync({ entryPoints: [path.join(__dirname, "child.ts")], bundle: true, platform: "node", target: "node20", outfile: out, logLevel: "error" });
  return out;
}

export interface ChildSandbox {
  url: string;
  password: string;
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

export async function startChild(script: string, dataDir: string, opts: { seed?: boolean; env?: Record<string, string> } = {}): Promise<ChildSandbox> {
  const proc = spawn(process.execPath, [script, dataDir, ...(opts.seed ? ["--seed"] : [])], {
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    void exited.then((code) => reject(new Error(`sandbox child exited with ${code}: ${err}`)));
  });
  const info = JSON.parse(line) as { url: string; password: string };
  return { url: info.url, password: info.password, proc, stderr: () => err, exited };
}

/** A demo-account Rucio token from a running sandbox. */
export async function login(url: string, password: string): Promise<string> {
  const r = await fetch(`${url}/rucio/auth/userpass`, { headers: { "X-Rucio-Username": "demo", "X-Rucio-Password": password, "X-Rucio-Account": "demo" } });
  if (r.status !== 200) throw new Error(`login failed: ${r.status}`);
  return r.headers.get("x-rucio-auth-token")!;
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
