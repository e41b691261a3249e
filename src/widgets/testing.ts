/**
 * For the widget tests: a real kernel process on an embedded sandbox of its own (steps on the host, no
 * configured service leaking in), the widget state a frontend would hold, and the sandbox's secrets to check
 * that none reaches the frontend (widget states are saved into the notebook).
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TestKernelClient } from "../kernel/testing/client";

const MAIN = resolve(__dirname, "..", "..", "dist", "cli", "main.js");

export async function startSandboxKernel(prefix: string): Promise<{ kernel: TestKernelClient; sandboxDir: string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` before the kernel tests`);
  const home = mkdtempSync(join(tmpdir(), prefix));
  const sandboxDir = join(home, "sandbox");
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, VRE_TS_CONFIG: join(home, "config.json"), VRE_SANDBOX_DIR: sandboxDir, VRE_SANDBOX_CONTAINER_RUNTIME: "none" };
  for (const name of Object.keys(env)) if (/^(REANA|RUCIO|ZENODO|BEARER)_/.test(name)) delete env[name];
  return { kernel: await TestKernelClient.start({ main: MAIN, env }), sandboxDir };
}

/** A widget's state as the frontend knows it: its comm_open, then every update, merged. */
export function widgetState(k: TestKernelClient, commId: string): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const m of k.iopubLog) {
    if (m.content.comm_id !== commId) continue;
    const data = m.content.data as { state?: Record<string, unknown>; method?: string };
    if (m.header.msg_type === "comm_open" || (m.header.msg_type === "comm_msg" && data.method === "update")) Object.assign(state, data.state);
  }
  return state;
}

/** Waits until the widget's state satisfies `pred`; the error shows the state it reached. */
export async function untilState(k: TestKernelClient, commId: string, pred: (s: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const start = Date.now();
  for (;;) {
    const s = widgetState(k, commId);
    if (pred(s)) return s;
    if (Date.now() - start > timeoutMs) throw new Error(`the widget never reached the expected state; it is ${JSON.stringify({ ...s, _esm: undefined, _css: undefined })}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A custom message from the view (a button). */
export function sendCustom(k: TestKernelClient, commId: string, content: Record<string, unknown>): Promise<string> {
  return k.send("shell", k.message("comm_msg", { comm_id: commId, data: { method: "custom", content } }));
}

export function sandboxSecrets(sandboxDir: string): string[] {
  const creds = JSON.parse(readFileSync(join(sandboxDir, "credentials.json"), "utf8")) as Record<string, Record<string, unknown>>;
  const out: string[] = [];
  for (const service of Object.values(creds)) {
    for (const [key, value] of Object.entries(service)) {
      if (typeof value === "string" && /password|token/i.test(key)) out.push(value);
    }
  }
  if (out.length < 3) throw new Error(`expected the sandbox's password and tokens in ${sandboxDir}/credentials.json`);
  return out;
}

/** Rucio tokens the sandbox issues for the demo account (never configured, so not in the credentials file). */
export const ISSUED_RUCIO_TOKEN = /demo-demo-[\w-]*[0-9a-f]{32}/;

/** Asserts that no sandbox secret reached any message the frontend received. */
export function frontendSawNoSecret(k: TestKernelClient, sandboxDir: string): { checked: number; bytes: number } {
  const everything = JSON.stringify(k.iopubLog);
  const secrets = sandboxSecrets(sandboxDir);
  for (const secret of secrets) if (everything.includes(secret)) throw new Error(`a secret (${secret.slice(0, 3)}…) reached the frontend`);
  if (ISSUED_RUCIO_TOKEN.test(everything)) throw new Error("an issued Rucio token reached the frontend");
  return { checked: secrets.length, bytes: everything.length };
}
