/**
 * Client-side message construction. Shapes come from @jupyterlab/services' typed protocol namespace;
 * framing and signing live in the wire module shared with the kernel.
 */
import { randomUUID } from "node:crypto";
import type { KernelMessage } from "@jupyterlab/services";
import type * as Wire from "../kernel/wire";

export type { KernelMessage };

export const PROTOCOL_VERSION = "5.3";

export type Channel = "shell" | "control" | "iopub" | "stdin";

/** A message as it travels on the wire (the kernel's wire format), with a typed content. */
export type WireMessage<C = Record<string, unknown>> = Omit<Wire.WireMessage, "content" | "identities"> & {
  identities?: Buffer[];
  content: C;
};

export function makeHeader(msgType: string, session: string, username: string): KernelMessage.IHeader {
  return {
    msg_id: randomUUID(),
    msg_type: msgType as KernelMessage.MessageType,
    session,
    username,
    date: new Date().toISOString(),
    version: PROTOCOL_VERSION,
  };
}

export function parentId(msg: WireMessage<unknown>): string | undefined {
  const parent = msg.parent_header as Partial<KernelMessage.IHeader>;
  return typeof parent?.msg_id === "string" ? parent.msg_id : undefined;
}
