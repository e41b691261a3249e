/**
 * Jupyter comms in both directions. Targets are registered from TypeScript; a frontend comm_open for an unknown
 * target is answered with comm_close, as ipykernel does. Buffers travel both ways.
 */
import { randomUUID } from "node:crypto";
import { toBuffer } from "../wire";

export type JsonObject = Record<string, unknown>;
export type BufferLike = Buffer | ArrayBufferView | ArrayBuffer;

export interface CommMessage {
  data: JsonObject;
  metadata: JsonObject;
  buffers: Buffer[];
}

export interface CommSendOptions {
  metadata?: JsonObject;
  buffers?: readonly BufferLike[];
}

export interface Comm {
  readonly id: string;
  readonly targetName: string;
  readonly closed: boolean;
  /** Aborted when the comm closes (from either side). */
  readonly signal: AbortSignal;
  send(data: JsonObject, options?: CommSendOptions): void;
  close(data?: JsonObject, options?: CommSendOptions): void;
  onMessage(listener: (msg: CommMessage) => void): () => void;
  onClose(listener: (msg: CommMessage) => void): () => void;
}

/** Called when the frontend opens a comm to a registered target. */
export type CommTargetHandler = (comm: Comm, open: CommMessage) => void | Promise<void>;

/** How the manager emits comm messages (the kernel attributes them to the right parent). */
export interface CommTransport {
  publish(msgType: "comm_open" | "comm_msg" | "comm_close", content: JsonObject, options: { metadata?: JsonObject; buffers?: Buffer[] }): void;
  /** Reports an error raised by a comm listener. */
  reportError(error: unknown, where: string): void;
}

class CommImpl implements Comm {
  private readonly messageListeners = new Set<(m: CommMessage) => void>();
  private readonly closeListeners = new Set<(m: CommMessage) => void>();
  private readonly controller = new AbortController();

  constructor(
    readonly id: string,
    readonly targetName: string,
    private readonly manager: CommManager,
  ) {}

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  send(data: JsonObject, options: CommSendOptions = {}): void {
    if (this.closed) throw new Error(`comm ${this.id} (${this.targetName}) is closed`);
    this.manager.transport.publish(
      "comm_msg",
      { comm_id: this.id, data },
      { metadata: options.metadata, buffers: (options.buffers ?? []).map(toBuffer) },
    );
  }

  close(data: JsonObject = {}, options: CommSendOptions = {}): void {
    if (this.closed) return;
    this.manager.transport.publish(
      "comm_close",
      { comm_id: this.id, data },
      { metadata: options.metadata, buffers: (options.buffers ?? []).map(toBuffer) },
    );
    this.shutdown({ data, metadata: options.metadata ?? {}, buffers: [] });
  }

  onMessage(listener: (msg: CommMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  onClose(listener: (msg: CommMessage) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** @internal */
  deliver(msg: CommMessage): void {
    for (const l of [...this.messageListeners]) {
      try {
        l(msg);
      } catch (e) {
        this.manager.transport.reportError(e, `comm ${this.targetName} message listener`);
      }
    }
  }

  /** @internal Marks the comm closed and notifies listeners (no message is sent). */
  shutdown(msg: CommMessage): void {
    if (this.closed) return;
    this.controller.abort();
    this.manager.forget(this.id);
    for (const l of [...this.closeListeners]) {
      try {
        l(msg);
      } catch (e) {
        this.manager.transport.reportError(e, `comm ${this.targetName} close listener`);
      }
    }
  }
}

export class CommManager {
  private readonly targets = new Map<string, CommTargetHandler>();
  private readonly comms = new Map<string, CommImpl>();

  constructor(readonly transport: CommTransport) {}

  /** Registers a target the frontend can open comms to. Returns an unregister function. */
  registerTarget(name: string, handler: CommTargetHandler): () => void {
    this.targets.set(name, handler);
    return () => {
      if (this.targets.get(name) === handler) this.targets.delete(name);
    };
  }

  hasTarget(name: string): boolean {
    return this.targets.has(name);
  }

  /** Opens a comm from the kernel side. */
  open(targetName: string, data: JsonObject = {}, options: CommSendOptions & { commId?: string; targetModule?: string } = {}): Comm {
    const id = options.commId ?? randomUUID().replace(/-/g, "");
    const comm = new CommImpl(id, targetName, this);
    this.comms.set(id, comm);
    const content: JsonObject = { comm_id: id, target_name: targetName, data };
    if (options.targetModule) content.target_module = options.targetModule;
    this.transport.publish("comm_open", content, { metadata: options.metadata, buffers: (options.buffers ?? []).map(toBuffer) });
    return comm;
  }

  get(id: string): Comm | undefined {
    return this.comms.get(id);
  }

  /** comm_info_reply content, optionally filtered by target. */
  info(targetName?: string): Record<string, { target_name: string }> {
    const out: Record<string, { target_name: string }> = {};
    for (const c of this.comms.values()) {
      if (!targetName || c.targetName === targetName) out[c.id] = { target_name: c.targetName };
    }
    return out;
  }

  /** A frontend comm_open. Unknown targets get a comm_close back. */
  async handleOpen(content: JsonObject, metadata: JsonObject, buffers: Buffer[]): Promise<void> {
    const id = String(content.comm_id ?? "");
    const targetName = String(content.target_name ?? "");
    const handler = this.targets.get(targetName);
    if (!id) return;
    if (!handler) {
      this.transport.publish("comm_close", { comm_id: id, data: {} }, {});
      return;
    }
    const comm = new CommImpl(id, targetName, this);
    this.comms.set(id, comm);
    try {
      await handler(comm, { data: (content.data as JsonObject) ?? {}, metadata, buffers });
    } catch (e) {
      this.transport.reportError(e, `comm target ${targetName}`);
      comm.close();
    }
  }

  handleMsg(content: JsonObject, metadata: JsonObject, buffers: Buffer[]): void {
    const comm = this.comms.get(String(content.comm_id ?? ""));
    if (!comm) return; // ipykernel ignores messages for unknown comms too
    comm.deliver({ data: (content.data as JsonObject) ?? {}, metadata, buffers });
  }

  handleClose(content: JsonObject, metadata: JsonObject, buffers: Buffer[]): void {
    const comm = this.comms.get(String(content.comm_id ?? ""));
    comm?.shutdown({ data: (content.data as JsonObject) ?? {}, metadata, buffers });
  }

  /** @internal */
  forget(id: string): void {
    this.comms.delete(id);
  }
}
