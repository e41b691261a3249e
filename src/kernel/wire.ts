/**
 * The Jupyter wire format: `[routing ids…, "<IDS|MSG>", hmac, header, parent_header, metadata, content, buffers…]`.
 * The HMAC covers the four JSON parts only; binary buffers travel unsigned (messaging spec 5.x).
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import type * as KernelMessage from "@jupyterlab/services/lib/kernel/messages";

export const DELIMITER = "<IDS|MSG>";
export const PROTOCOL_VERSION = "5.3";

export type Header = KernelMessage.IHeader;
export type MessageType = KernelMessage.MessageType;
export type JsonObject = Record<string, unknown>;

/** A message as the kernel handles it: parsed JSON parts plus the raw routing ids and buffers. */
export interface WireMessage<C extends JsonObject = JsonObject> {
  identities: Buffer[];
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: JsonObject;
  content: C;
  buffers: Buffer[];
}

export class WireError extends Error {
  constructor(
    readonly code: "WIRE_NO_DELIMITER" | "WIRE_TOO_SHORT" | "WIRE_BAD_SIGNATURE" | "WIRE_BAD_JSON",
    message: string,
  ) {
    super(message);
    this.name = "WireError";
  }
}

/** HMAC signer for one connection key. An empty key disables signing (as the spec allows). */
export class Signer {
  private readonly algorithm: string | undefined;

  constructor(
    private readonly key: string,
    scheme = "hmac-sha256",
  ) {
    this.algorithm = key ? scheme.replace(/^hmac-/, "") : undefined;
  }

  sign(parts: readonly (Buffer | string)[]): string {
    if (!this.algorithm) return "";
    const hmac = createHmac(this.algorithm, this.key);
    for (const p of parts) hmac.update(typeof p === "string" ? p : (p as unknown as Uint8Array));
    return hmac.digest("hex");
  }

  verify(signature: string, parts: readonly Buffer[]): boolean {
    if (!this.algorithm) return true;
    const expected = Buffer.from(this.sign(parts), "utf8");
    const actual = Buffer.from(signature, "utf8");
    return expected.length === actual.length && timingSafeEqual(expected as unknown as Uint8Array, actual as unknown as Uint8Array);
  }
}

/** Parses and verifies a received multipart message. Throws `WireError` for anything malformed. */
export function parseMessage(frames: readonly Buffer[], signer: Signer): WireMessage {
  const delim = frames.findIndex((f) => f.length === DELIMITER.length && f.toString("latin1") === DELIMITER);
  if (delim < 0) throw new WireError("WIRE_NO_DELIMITER", "message has no <IDS|MSG> delimiter");
  if (frames.length < delim + 6) throw new WireError("WIRE_TOO_SHORT", "message has fewer than 4 JSON parts");
  const signature = frames[delim + 1].toString("latin1");
  const parts = frames.slice(delim + 2, delim + 6);
  if (!signer.verify(signature, parts)) throw new WireError("WIRE_BAD_SIGNATURE", "invalid HMAC signature");
  let json: unknown[];
  try {
    json = parts.map((p) => JSON.parse(p.toString("utf8")));
  } catch (e) {
    throw new WireError("WIRE_BAD_JSON", `message part is not JSON: ${(e as Error).message}`);
  }
  return {
    identities: frames.slice(0, delim),
    header: json[0] as Header,
    parent_header: (json[1] ?? {}) as Header,
    metadata: (json[2] ?? {}) as JsonObject,
    content: (json[3] ?? {}) as JsonObject,
    buffers: frames.slice(delim + 6),
  };
}

/** Serializes a message into frames, signing the four JSON parts. Buffers are appended unsigned. */
export function serializeMessage(msg: WireMessage, signer: Signer): Buffer[] {
  const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((p) =>
    Buffer.from(JSON.stringify(p), "utf8"),
  );
  return [...msg.identities, Buffer.from(DELIMITER), Buffer.from(signer.sign(parts)), ...parts, ...msg.buffers];
}

export function newHeader(msgType: MessageType, session: string, username = "kernel"): Header {
  return {
    msg_id: randomUUID(),
    msg_type: msgType,
    session,
    username,
    date: new Date().toISOString(),
    version: PROTOCOL_VERSION,
  };
}

/** Builds a message in reply to (or caused by) `parent`. */
export function childMessage<C extends JsonObject>(
  msgType: MessageType,
  content: C,
  parent: WireMessage | undefined,
  session: string,
  extra: { identities?: Buffer[]; metadata?: JsonObject; buffers?: readonly (Buffer | ArrayBufferView | ArrayBuffer)[] } = {},
): WireMessage<C> {
  return {
    identities: extra.identities ?? [],
    header: newHeader(msgType, session),
    parent_header: parent ? parent.header : {},
    metadata: extra.metadata ?? {},
    content,
    buffers: (extra.buffers ?? []).map(toBuffer),
  };
}

export function toBuffer(b: Buffer | ArrayBufferView | ArrayBuffer): Buffer {
  if (Buffer.isBuffer(b)) return b;
  if (ArrayBuffer.isView(b)) return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return Buffer.from(b);
}
