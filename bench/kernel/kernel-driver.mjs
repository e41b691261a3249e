/**
 * What the kernel benchmarks share: start a kernel over a fresh connection file and wait for its kernel_info_reply,
 * run a cell until its execute_reply and idle, stop it. Drives any Jupyter kernel through our own client
 * (src/jupyter-client: ZeroMQ, signed messages); `npm run build` first.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { KernelClient } = require(join(ROOT, "dist/jupyter-client/client.js"));
const { newConnectionInfo, writeConnectionFile } = require(join(ROOT, "dist/jupyter-client/connection.js"));
const { parentId } = require(join(ROOT, "dist/jupyter-client/messages.js"));

export const now = () => performance.now();

/**
 * Spawns `argvFor(connectionFile)` in the repository root (a folder with no node_modules of a notebook's own, so
 * tslab's cwd hand-off is not exercised) and re-sends kernel_info every `retryMs` until answered (the kernel may
 * not have bound its sockets yet). `kernelInfoMs` is spawn → first reply.
 */
export async function startKernel(name, argvFor, { retryMs = 1000, env = process.env } = {}) {
  const info = await newConnectionInfo();
  const file = await writeConnectionFile(info);
  const argv = argvFor(file.path);
  const t0 = now();
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], env });
  let log = "";
  child.stderr.on("data", (d) => (log = (log + d).slice(-4000)));
  const client = new KernelClient(info);
  const waiters = new Map();
  client.onIopub((m) => {
    const id = parentId(m);
    if (id && m.header.msg_type === "status" && m.content.execution_state === "idle") waiters.get(id)?.();
  });
  const kernel = { name, child, client, file, t0, log: () => log, waiters };
  for (;;) {
    const { reply } = client.request("shell", "kernel_info_request", {}, { timeoutMs: retryMs });
    try {
      await reply;
      break;
    } catch {
      if (child.exitCode !== null) throw new Error(`${name} exited: ${log}`);
      if (now() - t0 > 60_000) throw new Error(`${name}: no kernel_info_reply in 60 s`);
    }
  }
  kernel.kernelInfoMs = now() - t0;
  return kernel;
}

/** execute_request → execute_reply and idle; returns [ms, reply]. */
export async function execute(kernel, code) {
  const t = now();
  let idle;
  const idlePromise = new Promise((r) => (idle = r));
  const { msgId, reply } = kernel.client.request("shell", "execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
  kernel.waiters.set(msgId, idle);
  // tslab publishes no idle for some requests; do not wait for it longer than 5 s after the reply.
  const r = await reply;
  await Promise.race([idlePromise, new Promise((res) => setTimeout(res, 5000))]);
  kernel.waiters.delete(msgId);
  return [now() - t, r];
}

/** shutdown_request, then SIGKILL after 5 s; removes the connection file. */
export async function stop(kernel) {
  kernel.client.request("control", "shutdown_request", { restart: false });
  await Promise.race([new Promise((r) => kernel.child.once("exit", r)), new Promise((r) => setTimeout(r, 5000))]);
  if (kernel.child.exitCode === null) kernel.child.kill("SIGKILL");
  kernel.client.close();
  await kernel.file.remove();
}
