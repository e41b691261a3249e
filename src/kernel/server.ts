/**
 * The kernel's ZeroMQ sockets (shell/control/stdin Router, iopub Publisher, heartbeat echo) and a FIFO send
 * queue per socket. zeromq 6 rejects a send while another one is pending (EBUSY) once its synchronous budget is
 * spent, so every send is chained and awaited: a 5000-line burst and the final `idle` are never lost.
 */
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import * as zmq from "zeromq";
import { parseMessage, serializeMessage, Signer, type WireMessage } from "./wire";

export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  key: string;
  signature_scheme: string;
  shell_port: number;
  control_port: number;
  stdin_port: number;
  iopub_port: number;
  hb_port: number;
  kernel_name?: string;
}

export type Channel = "shell" | "control" | "stdin" | "iopub";

export function readConnectionFile(path: string): ConnectionInfo {
  const info = JSON.parse(readFileSync(path, "utf8")) as Partial<ConnectionInfo>;
  return {
    transport: info.transport ?? "tcp",
    ip: info.ip ?? "127.0.0.1",
    key: info.key ?? "",
    signature_scheme: info.signature_scheme ?? "hmac-sha256",
    shell_port: Number(info.shell_port),
    control_port: Number(info.control_port),
    stdin_port: Number(info.stdin_port),
    iopub_port: Number(info.iopub_port),
    hb_port: Number(info.hb_port),
    kernel_name: info.kernel_name,
  };
}

function address(info: ConnectionInfo, port: number): string {
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}

/** Serializes sends on one socket: each send starts when the previous one has completed. */
class SendQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(
    private readonly socket: zmq.Writable,
    private readonly onError: (e: unknown) => void,
  ) {}

  send(frames: Buffer[]): Promise<void> {
    this.pending++;
    const next = this.tail.then(async () => {
      try {
        await this.socket.send(frames);
      } catch (e) {
        this.onError(e);
      } finally {
        this.pending--;
      }
    });
    this.tail = next;
    return next;
  }

  /** Resolves when everything queued so far has been handed to ZeroMQ. */
  drain(): Promise<void> {
    return this.tail;
  }

  get size(): number {
    return this.pending;
  }
}

export type MessageHandler = (channel: Channel, msg: WireMessage) => void;

/**
 * Owns the sockets. Incoming messages are parsed, verified and passed to `onMessage`; messages that fail
 * verification are logged and dropped, as the spec requires.
 */
export class KernelServer {
  readonly signer: Signer;
  private readonly shell = new zmq.Router();
  private readonly control = new zmq.Router();
  private readonly stdin = new zmq.Router();
  private readonly iopub = new zmq.Publisher();
  private hbWorker: Worker | undefined;
  private readonly queues: Record<Channel, SendQueue>;
  private closed = false;

  constructor(
    private readonly info: ConnectionInfo,
    private readonly log: (text: string) => void,
  ) {
    this.signer = new Signer(info.key, info.signature_scheme);
    const onError = (e: unknown) => {
      if (!this.closed) this.log(`send failed: ${(e as Error).message}`);
    };
    for (const s of [this.shell, this.control, this.stdin, this.iopub]) {
      s.linger = 1000;
      s.sendHighWaterMark = 0;
    }
    this.queues = {
      shell: new SendQueue(this.shell, onError),
      control: new SendQueue(this.control, onError),
      stdin: new SendQueue(this.stdin, onError),
      iopub: new SendQueue(this.iopub, onError),
    };
  }

  async bind(onMessage: MessageHandler): Promise<void> {
    const { info } = this;
    await Promise.all([
      this.shell.bind(address(info, info.shell_port)),
      this.control.bind(address(info, info.control_port)),
      this.stdin.bind(address(info, info.stdin_port)),
      this.iopub.bind(address(info, info.iopub_port)),
    ]);
    this.startHeartbeat(address(info, info.hb_port));
    void this.receive("shell", this.shell, onMessage);
    void this.receive("control", this.control, onMessage);
    void this.receive("stdin", this.stdin, onMessage);
  }

  /**
   * The heartbeat echo runs on a worker thread with its own ZeroMQ context, so it keeps answering while a cell
   * runs synchronous code on the main thread.
   */
  private startHeartbeat(addr: string): void {
    const src = `
      const { workerData, parentPort } = require("node:worker_threads");
      const zmq = require(workerData.zmq);
      const sock = new zmq.Reply();
      sock.linger = 0;
      parentPort.on("message", () => { sock.close(); parentPort.close(); });
      (async () => {
        await sock.bind(workerData.addr);
        for await (const frames of sock) await sock.send(frames);
      })().catch(() => {});
    `;
    this.hbWorker = new Worker(src, { eval: true, workerData: { addr, zmq: require.resolve("zeromq") } });
    this.hbWorker.unref();
    this.hbWorker.on("error", (e) => this.log(`heartbeat stopped: ${e.message}`));
  }

  private async receive(channel: Channel, socket: zmq.Router, onMessage: MessageHandler): Promise<void> {
    try {
      for await (const frames of socket) {
        let msg: WireMessage;
        try {
          msg = parseMessage(frames, this.signer);
        } catch (e) {
          this.log(`dropped a ${channel} message: ${(e as Error).message}`);
          continue;
        }
        try {
          onMessage(channel, msg);
        } catch (e) {
          this.log(`error handling ${msg.header.msg_type}: ${(e as Error).stack ?? e}`);
        }
      }
    } catch (e) {
      if (!this.closed) this.log(`${channel} socket stopped: ${(e as Error).message}`);
    }
  }

  send(channel: Channel, msg: WireMessage): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.queues[channel].send(serializeMessage(msg, this.signer));
  }

  async drain(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.drain()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.race([this.drain(), new Promise((r) => setTimeout(r, 500))]);
    this.closed = true;
    const worker = this.hbWorker;
    if (worker) {
      // Let the heartbeat thread close its own socket before the process exits (exiting under it aborts).
      const exited = new Promise((r) => worker.once("exit", r));
      worker.postMessage("close");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 300))]);
    }
    for (const s of [this.shell, this.control, this.stdin, this.iopub]) {
      s.linger = 50;
      s.close();
    }
  }
}
