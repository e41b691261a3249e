/**
 * A ZeroMQ client for one kernel: shell/control/stdin Dealers and an iopub Subscriber (jupyter_client's
 * BlockingKernelClient, minus the blocking). Replies are matched to requests by parent msg_id; iopub and stdin
 * messages go to listeners. Sends are serialised per socket, so a burst never hits zeromq's EBUSY.
 */
import { randomUUID } from "node:crypto";
import { userInfo } from "node:os";
import { Dealer, Subscriber, type Socket } from "zeromq";
import { Signer, parseMessage, serializeMessage } from "../kernel/wire";
import type { ConnectionInfo } from "./connection";
import { endpoint } from "./connection";
import { type Channel, type WireMessage, makeHeader, parentId } from "./messages";

export type Listener = (msg: WireMessage) => void;

export class KernelClientError extends Error {
  override readonly name = "KernelClientError";
  constructor(
    message: string,
    readonly code: "KERNEL_TIMEOUT" | "KERNEL_CLOSED" | "KERNEL_ABORTED",
  ) {
    super(message);
  }
}

interface Pending {
  resolve(msg: WireMessage): void;
  reject(err: Error): void;
}

export interface RequestOptions {
  metadata?: Record<string, unknown>;
  buffers?: Buffer[];
  /** Rejects with KERNEL_TIMEOUT after this many ms without a reply. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class KernelClient {
  readonly session = randomUUID();
  readonly username = safeUsername();
  private readonly shell = new Dealer({ linger: 0 });
  private readonly control = new Dealer({ linger: 0 });
  private readonly stdin = new Dealer({ linger: 0 });
  private readonly iopub = new Subscriber({ linger: 0 });
  private readonly pending = new Map<string, Pending>();
  private readonly iopubListeners = new Set<Listener>();
  private readonly stdinListeners = new Set<Listener>();
  private readonly sendChains = new Map<Socket, Promise<unknown>>();
  private readonly signer: Signer;
  private closed = false;
  /** Messages that failed verification (bad signature or malformed); never processed. */
  rejectedMessages = 0;

  constructor(private readonly info: ConnectionInfo) {
    // The kernel sends input_request to the routing id of the shell request, so shell and stdin share it.
    this.signer = new Signer(info.key, info.signature_scheme);
    const routingId = `vre-ts-run-${this.session}`;
    this.shell.routingId = routingId;
    this.stdin.routingId = routingId;
    this.control.routingId = `${routingId}-control`;
    this.shell.connect(endpoint(info, info.shell_port));
    this.control.connect(endpoint(info, info.control_port));
    this.stdin.connect(endpoint(info, info.stdin_port));
    this.iopub.connect(endpoint(info, info.iopub_port));
    this.iopub.subscribe();
    void this.receive(this.shell, (m) => this.settle(m));
    void this.receive(this.control, (m) => this.settle(m));
    void this.receive(this.stdin, (m) => this.stdinListeners.forEach((l) => l(m)));
    void this.receive(this.iopub, (m) => this.iopubListeners.forEach((l) => l(m)));
  }

  onIopub(listener: Listener): () => void {
    this.iopubListeners.add(listener);
    return () => this.iopubListeners.delete(listener);
  }

  onStdin(listener: Listener): () => void {
    this.stdinListeners.add(listener);
    return () => this.stdinListeners.delete(listener);
  }

  message<C>(msgType: string, content: C, parent?: WireMessage<unknown>, metadata: Record<string, unknown> = {}, buffers: Buffer[] = []): WireMessage<C> {
    return {
      header: makeHeader(msgType, this.session, this.username),
      parent_header: parent ? parent.header : {},
      metadata,
      content,
      buffers,
    };
  }

  /** Sends a request on shell or control; resolves with its reply. */
  request<R = Record<string, unknown>>(channel: "shell" | "control", msgType: string, content: unknown, options: RequestOptions = {}): { msgId: string; reply: Promise<WireMessage<R>> } {
    const msg = this.message(msgType, content, undefined, options.metadata, options.buffers);
    const msgId = msg.header.msg_id;
    const reply = new Promise<WireMessage<R>>((resolve, reject) => {
      if (this.closed) return reject(new KernelClientError("the kernel connection is closed", "KERNEL_CLOSED"));
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => finish(() => reject(new KernelClientError(`${msgType} aborted`, "KERNEL_ABORTED")));
      const finish = (fn: () => void) => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.pending.delete(msgId);
        fn();
      };
      this.pending.set(msgId, {
        resolve: (m) => finish(() => resolve(m as WireMessage<R>)),
        reject: (e) => finish(() => reject(e)),
      });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(
          () => finish(() => reject(new KernelClientError(`no ${msgType.replace(/_request$/, "_reply")} within ${options.timeoutMs} ms`, "KERNEL_TIMEOUT"))),
          options.timeoutMs,
        );
      }
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.send(channel, msg).catch((e) => this.pending.get(msgId)?.reject(e as Error));
    });
    reply.catch(() => undefined); // callers that only want msgId must not cause unhandled rejections
    return { msgId, reply };
  }

  /** Sends a message without waiting for a reply (input_reply, comm messages). */
  async send(channel: Exclude<Channel, "iopub">, msg: WireMessage<unknown>): Promise<void> {
    const socket = channel === "shell" ? this.shell : channel === "control" ? this.control : this.stdin;
    const frames = serializeMessage({ ...msg, identities: [], content: msg.content as Record<string, unknown> }, this.signer);
    const previous = this.sendChains.get(socket) ?? Promise.resolve();
    const next = previous.then(() => (socket as Dealer).send(frames));
    this.sendChains.set(socket, next.catch(() => undefined));
    await next;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of [...this.pending.values()]) p.reject(new KernelClientError("the kernel connection was closed", "KERNEL_CLOSED"));
    for (const s of [this.shell, this.control, this.stdin, this.iopub]) s.close();
  }

  private settle(msg: WireMessage): void {
    const id = parentId(msg);
    if (id) this.pending.get(id)?.resolve(msg);
  }

  private async receive(socket: Dealer | Subscriber, deliver: Listener): Promise<void> {
    try {
      for await (const frames of socket) {
        let msg: WireMessage;
        try {
          msg = parseMessage(frames as Buffer[], this.signer);
        } catch {
          this.rejectedMessages++;
          continue;
        }
        try {
          deliver(msg);
        } catch (err) {
          // A listener bug must not stop the receive loop.
          process.emitWarning(`vre-ts client listener failed: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      if (!this.closed) process.emitWarning(`vre-ts client socket failed: ${(err as Error).message}`);
    }
  }
}

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return "vre-ts";
  }
}
