/**
 * A minimal Jupyter client over ZeroMQ used by the kernel's own tests: starts `vre-ts kernel` on a fresh
 * connection file and talks to it as a frontend does (Dealer sockets for shell/control/stdin, Subscriber for iopub).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { newHeader, parseMessage, serializeMessage, Signer, type JsonObject, type MessageType, type WireMessage } from "../wire";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface StartOptions {
  /** The compiled CLI (dist/cli/main.js). */
  main: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class TestKernelClient {
  readonly session = randomUUID();
  readonly iopubLog: WireMessage[] = [];
  private readonly waiters: { pred: (m: WireMessage) => boolean; resolve: (m: WireMessage) => void }[] = [];
  private readonly shellReplies = new Map<string, (m: WireMessage) => void>();
  private readonly pendingShell = new Map<string, WireMessage>();
  readonly stdinRequests: WireMessage[] = [];
  stderr = "";

  private constructor(
    readonly proc: ChildProcess,
    private readonly signer: Signer,
    private readonly shell: zmq.Dealer,
    private readonly control: zmq.Dealer,
    readonly stdin: zmq.Dealer,
    private readonly iopub: zmq.Subscriber,
    readonly cwd: string,
  ) {}

  static async start(options: StartOptions): Promise<TestKernelClient> {
    const key = randomUUID();
    const ports = { shell_port: 0, control_port: 0, stdin_port: 0, iopub_port: 0, hb_port: 0 };
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-kernel-test-"));
    const connFile = join(dir, "connection.json");
    writeFileSync(connFile, JSON.stringify({ ...ports, ip: "127.0.0.1", transport: "tcp", key, signature_scheme: "hmac-sha256" }));
    const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), "vre-ts-notebook-"));
    const proc = spawn(process.execPath, [options.main, "kernel", connFile], { cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    const shell = new zmq.Dealer();
    const control = new zmq.Dealer();
    const stdin = new zmq.Dealer();
    const iopub = new zmq.Subscriber();
    const id = Buffer.from(randomUUID());
    for (const s of [shell, control, stdin]) {
      s.routingId = id.toString();
      s.linger = 0;
    }
    iopub.linger = 0;
    shell.connect(`tcp://127.0.0.1:${ports.shell_port}`);
    control.connect(`tcp://127.0.0.1:${ports.control_port}`);
    stdin.connect(`tcp://127.0.0.1:${ports.stdin_port}`);
    iopub.connect(`tcp://127.0.0.1:${ports.iopub_port}`);
    iopub.subscribe();
    const client = new TestKernelClient(proc, new Signer(key), shell, control, stdin, iopub, cwd);
    proc.stderr!.on("data", (d: Buffer) => (client.stderr += d.toString()));
    proc.stdout!.on("data", (d: Buffer) => (client.stderr += d.toString()));
    void client.loop(iopub, (m) => client.onIopub(m));
    void client.loop(shell, (m) => client.onReply(m));
    void client.loop(control, (m) => client.onReply(m));
    void client.loop(stdin, (m) => client.stdinRequests.push(m));
    return client;
  }

  private async loop(sock: zmq.Dealer | zmq.Subscriber, on: (m: WireMessage) => void): Promise<void> {
    try {
      for await (const frames of sock) on(parseMessage(frames as Buffer[], this.signer));
    } catch {
      /* closed */
    }
  }

  private onIopub(m: WireMessage): void {
    this.iopubLog.push(m);
    for (let i = 0; i < this.waiters.length; i++) {
      if (this.waiters[i].pred(m)) {
        const [w] = this.waiters.splice(i, 1);
        w.resolve(m);
        i--;
      }
    }
  }

  private onReply(m: WireMessage): void {
    const id = (m.parent_header as { msg_id?: string }).msg_id ?? "";
    const r = this.shellReplies.get(id);
    if (r) {
      this.shellReplies.delete(id);
      r(m);
    } else this.pendingShell.set(id, m);
  }

  message(msgType: MessageType, content: JsonObject, buffers: Buffer[] = []): WireMessage {
    return { identities: [], header: { ...newHeader(msgType, this.session), username: "test" }, parent_header: {}, metadata: {}, content, buffers };
  }

  async send(channel: "shell" | "control" | "stdin", msg: WireMessage): Promise<string> {
    const sock = channel === "shell" ? this.shell : channel === "control" ? this.control : this.stdin;
    await sock.send(serializeMessage(msg, this.signer));
    return msg.header.msg_id;
  }

  reply(msgId: string, timeoutMs = 60_000): Promise<WireMessage> {
    const ready = this.pendingShell.get(msgId);
    if (ready) {
      this.pendingShell.delete(msgId);
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no reply to ${msgId} within ${timeoutMs} ms\n${this.stderr}`)), timeoutMs);
      this.shellReplies.set(msgId, (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  }

  /** Resolves with the first iopub message (already received or future) matching `pred`. */
  waitIopub(pred: (m: WireMessage) => boolean, timeoutMs = 60_000): Promise<WireMessage> {
    const seen = this.iopubLog.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (m: WireMessage) => (clearTimeout(t), resolve(m)) };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no matching iopub message within ${timeoutMs} ms\n${this.stderr}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** iopub messages whose parent is `msgId`. */
  children(msgId: string): WireMessage[] {
    return this.iopubLog.filter((m) => (m.parent_header as { msg_id?: string }).msg_id === msgId);
  }

  idle(msgId: string, timeoutMs = 60_000): Promise<WireMessage> {
    return this.waitIopub(
      (m) => m.header.msg_type === "status" && (m.parent_header as { msg_id?: string }).msg_id === msgId && m.content.execution_state === "idle",
      timeoutMs,
    );
  }

  /** Runs a cell and returns its reply plus every iopub message it caused (up to idle). */
  async execute(code: string, extra: JsonObject = {}, timeoutMs = 60_000): Promise<{ reply: WireMessage; outputs: WireMessage[]; id: string }> {
    const id = await this.send("shell", this.message("execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: true, stop_on_error: true, ...extra }));
    const reply = await this.reply(id, timeoutMs);
    await this.idle(id, timeoutMs);
    const outputs = this.children(id).filter((m) => !["status", "execute_input"].includes(m.header.msg_type));
    return { reply, outputs, id };
  }

  async request(channel: "shell" | "control", msgType: MessageType, content: JsonObject, buffers: Buffer[] = []): Promise<WireMessage> {
    const id = await this.send(channel, this.message(msgType, content, buffers));
    return this.reply(id);
  }

  async close(): Promise<void> {
    if (this.proc.exitCode === null) {
      try {
        await Promise.race([this.request("control", "shutdown_request", { restart: false }), new Promise((r) => setTimeout(r, 3000))]);
      } catch {
        /* already gone */
      }
      await Promise.race([new Promise((r) => this.proc.once("exit", r)), new Promise((r) => setTimeout(r, 3000))]);
      if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
    }
    for (const s of [this.shell, this.control, this.stdin, this.iopub]) s.close();
  }
}
