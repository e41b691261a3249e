/**
 * Starts a kernel from a kernelspec, connects a client, waits until it is ready, interrupts it and shuts it down
 * (jupyter_client's KernelManager in small). The kernel runs in its own process group so that an interrupt
 * also reaches its subprocesses (e.g. a `%%bash` cell), as jupyter_client does.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { KernelClient, KernelClientError } from "./client";
import { type ConnectionFile, newConnectionInfo, writeConnectionFile } from "./connection";
import type { KernelSpec } from "./kernelspec";
import type { KernelMessage, WireMessage } from "./messages";
import { parentId } from "./messages";

export interface StartOptions {
  cwd?: string;
  /** Extra environment for the kernel (on top of ours and the kernelspec's). */
  env?: Record<string, string>;
  /** How long to wait for the first kernel_info_reply. */
  startupTimeoutMs?: number;
}

export class KernelDiedError extends Error {
  override readonly name = "KernelDiedError";
  readonly code = "KERNEL_DIED";
}

/** Keeps the last `limit` characters a stream produced (kernel logs for error reports). */
class Tail {
  private text = "";
  constructor(private readonly limit = 8000) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString(): string {
    return this.text;
  }
}

export class KernelManager {
  readonly client: KernelClient;
  kernelInfo?: KernelMessage.IInfoReply;
  private readonly logs = new Tail();
  private exitInfo?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly exited: Promise<void>;

  private constructor(
    readonly spec: KernelSpec,
    private readonly child: ChildProcess,
    private readonly connection: ConnectionFile,
  ) {
    this.client = new KernelClient(connection.info);
    child.stdout?.on("data", (d) => this.logs.push(d));
    child.stderr?.on("data", (d) => this.logs.push(d));
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
      child.once("error", (err) => {
        this.logs.push(`\n${err.message}\n`);
        this.exitInfo = { code: null, signal: null };
        resolve();
      });
    });
  }

  static async start(spec: KernelSpec, options: StartOptions = {}): Promise<KernelManager> {
    const info = await newConnectionInfo(spec.name);
    const connection = await writeConnectionFile(info);
    const argv = spec.argv.map((a) => a.replaceAll("{connection_file}", connection.path).replaceAll("{resource_dir}", spec.resource_dir));
    const child = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd,
      env: { ...process.env, ...spec.env, ...options.env, JPY_PARENT_PID: String(process.pid) },
      stdio: ["ignore", "pipe", "pipe"],
      detached: process.platform !== "win32",
    });
    const manager = new KernelManager(spec, child, connection);
    try {
      const deadline = Date.now() + (options.startupTimeoutMs ?? 60_000);
      await manager.waitForReady(deadline - Date.now());
      await manager.settle(deadline);
    } catch (err) {
      await manager.kill();
      throw err;
    }
    return manager;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** What the kernel process wrote to stdout/stderr (the tail), for error reports. */
  get log(): string {
    return this.logs.toString();
  }

  /** Resolves when the process has exited. */
  whenExited(): Promise<void> {
    return this.exited;
  }

  describeExit(): string {
    if (!this.exitInfo) return "running";
    const { code, signal } = this.exitInfo;
    return signal ? `was killed by ${signal}` : `exited with code ${code}`;
  }

  /**
   * Sends kernel_info_request until both its reply (shell) and a status message for it (iopub) arrived:
   * only then is the iopub subscription known to be live, so no output of the first cell can be missed.
   */
  private async waitForReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const died = this.exited.then(() => {
      throw new KernelDiedError(`The kernel ${this.describeExit()} before it was ready.${formatLog(this.log)}`);
    });
    died.catch(() => undefined);
    while (Date.now() < deadline) {
      const { msgId, reply } = this.client.request<KernelMessage.IInfoReply>("shell", "kernel_info_request", {});
      let seenStatus = false;
      let statusSeen: () => void = () => undefined;
      const status = new Promise<void>((resolve) => (statusSeen = resolve));
      const off = this.client.onIopub((m) => {
        if (m.header.msg_type === "status" && parentId(m) === msgId) {
          seenStatus = true;
          statusSeen();
        }
      });
      try {
        const attempt = Math.min(2_000, Math.max(1, deadline - Date.now()));
        const r = await Promise.race([reply, died, sleep(attempt)]);
        if (r && typeof r === "object" && "content" in r) {
          this.kernelInfo = (r as WireMessage<KernelMessage.IInfoReply>).content;
          await Promise.race([status, died, sleep(Math.min(1_000, Math.max(1, deadline - Date.now())))]);
          if (seenStatus) return;
        }
      } finally {
        off();
      }
    }
    throw new KernelClientError(`The kernel did not answer kernel_info_request within ${Math.round(timeoutMs / 1000)} s.${formatLog(this.log)}`, "KERNEL_TIMEOUT");
  }

  /**
   * Kernels may answer kernel_info before their language runtime is loaded (ours builds the TypeScript program
   * right after). A complete_request is answered only once that is done, so the warm-up counts against the startup
   * timeout instead of the first cell's. Failing to answer is not fatal: some kernels do not implement completion.
   */
  private async settle(deadline: number): Promise<void> {
    const timeoutMs = Math.max(1, deadline - Date.now());
    await this.client.request("shell", "complete_request", { code: "", cursor_pos: 0 }, { timeoutMs }).reply.catch(() => undefined);
  }

  /** Interrupts the running cell: SIGINT to the kernel's process group, or interrupt_request for "message" kernels. */
  async interrupt(): Promise<void> {
    if (this.spec.interrupt_mode === "message") {
      await this.client.request("control", "interrupt_request", {}, { timeoutMs: 5_000 }).reply.catch(() => undefined);
    } else {
      this.signal("SIGINT");
    }
  }

  /** shutdown_request on control, then SIGTERM/SIGKILL if the process has not gone after `graceMs`. */
  async shutdown(graceMs = 3_000): Promise<void> {
    if (this.alive) {
      const { reply } = this.client.request("control", "shutdown_request", { restart: false }, { timeoutMs: graceMs });
      await Promise.race([reply.catch(() => undefined), this.exited]);
      await Promise.race([this.exited, sleep(graceMs)]);
    }
    await this.kill();
  }

  /** Stops the process for good (SIGTERM, then SIGKILL) and removes the connection file. */
  async kill(): Promise<void> {
    this.client.close();
    if (this.alive) {
      this.signal("SIGTERM");
      await Promise.race([this.exited, sleep(1_000)]);
      if (this.alive) {
        this.signal("SIGKILL");
        await Promise.race([this.exited, sleep(1_000)]);
      }
    }
    await this.connection.remove().catch(() => undefined);
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || !this.alive) return;
    try {
      process.kill(process.platform === "win32" ? pid : -pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  }
}

export function sleep(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref?.());
}

function formatLog(log: string): string {
  const text = log.trim();
  return text ? `\nKernel log (last lines):\n${text.split("\n").slice(-20).join("\n")}` : "";
}
