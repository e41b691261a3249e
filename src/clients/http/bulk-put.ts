/**
 * bulkPut: one HTTP/1.1 PUT of a local file, read into a small ring of reused buffers and written to the
 * socket without a stream in between. The buffers are borrowed from the adler32 module's memory, so the
 * checksum runs where the bytes were read, and the reads are made on this thread while the page cache
 * answers them in microseconds (file-reader.ts). A buffer is read into again only once the socket has
 * handed it to the kernel (the write callback), so no byte can change while it is being sent. The counterpart of bulk-get.ts
 * for large uploads; the answer (small, e.g. a JSON document) is read whole, whatever its framing.
 *
 * A fresh connection (`Connection: close`) and no retry: the caller falls back to the general undici path
 * for anything but a clean exchange.
 */
import { open } from "node:fs/promises";
import type { Socket } from "node:net";
import { lendHashBuffer, returnHashBuffer } from "./adler32";
import type { BulkGetRequest } from "./bulk-get";
import { FileReader } from "./file-reader";
import { connectTo, MAX_HEAD_BYTES, parseHead, requestHead, transportError } from "./http1";

export interface BulkPutRequest extends Omit<BulkGetRequest, "readBufferBytes"> {
  file: string;
  /** Bytes to send: the Content-Length. The file must still have them. */
  size: number;
  /** Sees every chunk before it is sent (checksums); may return a promise to hold the next read back. */
  onData?: (data: Uint8Array) => Promise<void> | undefined;
  /** A read slower than this moves the rest of the file to the thread pool. Default 20 ms. */
  slowReadMs?: number;
  /** Largest answer body kept. Default 1 MiB. */
  maxAnswerBytes?: number;
}

export interface BulkPutAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes of the file that were sent (less than `size` when the server answered early). */
  sent: number;
}

const RING = 4;
const CHUNK = 1024 * 1024;
const YIELD_EVERY = 32;
/** Decodes a complete chunked body; undefined while incomplete. */
export function decodeChunked(buf: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf("\r\n", pos);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(pos, eol).toString("latin1").split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size)) throw transportError("UND_ERR_SOCKET", "the server sent a malformed chunked answer");
    if (size === 0) return Buffer.concat(parts as unknown as Uint8Array[]);
    if (buf.length < eol + 2 + size + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

export function bulkPut(req: BulkPutRequest): Promise<BulkPutAnswer> {
  return new Promise<BulkPutAnswer>((resolve, reject) => {
    const signal = req.signal;
    if (signal?.aborted) return reject(signal.reason);
    const maxAnswer = req.maxAnswerBytes ?? 1024 * 1024;
    let settled = false;
    let sent = 0;
    let answer = Buffer.alloc(0);
    let head: { status: number; headers: Record<string, string>; bodyStart: number } | undefined;
    let fileClosed: Promise<void> | undefined;
    let timer: NodeJS.Timeout | undefined;
    /** The pump waiting for a buffer the socket has not given back yet. */
    const waiters: (() => void)[] = [];

    const finish = (err?: unknown, value?: BulkPutAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const wake of waiters.splice(0)) wake();
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      const settle = () => (err ? reject(err) : resolve(value!));
      (fileClosed ?? Promise.resolve()).then(settle, settle);
    };
    const onAbort = () => finish(signal!.reason ?? Object.assign(new Error("aborted"), { name: "AbortError" }));
    signal?.addEventListener("abort", onAbort, { once: true });
    const arm = (ms: number | undefined, code: string, message: string) => {
      clearTimeout(timer);
      timer = ms ? setTimeout(() => finish(transportError(code, message)), ms) : undefined;
    };
    arm(req.connectTimeoutMs ?? 10_000, "UND_ERR_CONNECT_TIMEOUT", "connect timeout");

    /** Resolves the answer once its body is complete (by length, chunks, or the end of the connection). */
    const tryComplete = (ended: boolean) => {
      if (!head) {
        const end = answer.indexOf("\r\n\r\n");
        if (end < 0) {
          if (answer.length > MAX_HEAD_BYTES) finish(transportError("UND_ERR_HEADERS_OVERFLOW", "the answer's headers are too large"));
          else if (ended) finish(transportError("UND_ERR_SOCKET", "other side closed"));
          return;
        }
        try {
          head = { ...parseHead(answer.subarray(0, end).toString("latin1")), bodyStart: end + 4 };
        } catch (e) {
          return finish(e);
        }
        arm(req.bodyTimeoutMs, "UND_ERR_BODY_TIMEOUT", "body timeout");
      }
      const raw = answer.subarray(head.bodyStart);
      const reply = (body: Buffer) => finish(undefined, { status: head!.status, headers: head!.headers, body, sent });
      if (raw.length > maxAnswer + 64 * 1024) return finish(transportError("UND_ERR_RES_EXCEEDED_MAX_SIZE", "the answer is too large"));
      const length = head.headers["content-length"];
      if (head.headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
        let body: Buffer | undefined;
        try {
          body = decodeChunked(raw);
        } catch (e) {
          return finish(e);
        }
        if (body) return reply(body);
      } else if (length !== undefined && /^\d+$/.test(length)) {
        if (raw.length >= Number(length)) return reply(raw.subarray(0, Number(length)));
      } else if (ended || head.status === 204 || head.status === 304) return reply(raw);
      if (ended) finish(transportError("UND_ERR_SOCKET", "other side closed before the whole answer arrived"));
    };

    let ring: Uint8Array[] = [];
    let pumping = true;
    let closed = false;
    /** The ring goes back once neither a read nor the socket can touch it. */
    const giveBack = () => {
      if (pumping || !closed) return;
      ring.forEach(returnHashBuffer);
      ring = [];
    };
    const pump = async () => {
      const fh = await open(req.file, "r");
      let release!: () => void;
      fileClosed = new Promise<void>((r) => (release = r));
      // Borrowed from the adler32 module's memory: the file is read into them, hashed in place and sent.
      ring = Array.from({ length: RING }, () => lendHashBuffer(CHUNK));
      const free = [...ring];
      try {
        const reader = new FileReader(fh, { slowReadMs: req.slowReadMs });
        let pos = 0;
        for (let chunks = 1; pos < req.size && !settled && !head; chunks++) {
          while (free.length === 0 && !settled) await new Promise<void>((r) => waiters.push(r));
          if (settled || head) break;
          const buf = free.pop()!;
          const want = Math.min(CHUNK, req.size - pos);
          const bytesRead = await reader.read(buf, want, pos);
          if (bytesRead === 0) throw transportError("UND_ERR_REQ_CONTENT_LENGTH_MISMATCH", `${req.file} became shorter while it was sent`);
          const view = buf.subarray(0, bytesRead) as unknown as Uint8Array;
          const wait = req.onData?.(view);
          if (wait) await wait;
          if (settled || head) break;
          pos += bytesRead;
          socket.write(view, (err) => {
            if (!err) sent += bytesRead;
            free.push(buf);
            waiters.shift()?.();
          });
          // Writes that the kernel takes at once never make the loop wait: let timers and aborts run.
          if (chunks % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
        }
        if (!settled && !head) arm(req.headersTimeoutMs ?? 300_000, "UND_ERR_HEADERS_TIMEOUT", "headers timeout");
      } finally {
        await fh.close().catch(() => undefined);
        pumping = false;
        giveBack();
        release();
      }
    };

    const socket: Socket = connectTo(req.url, req.tls, () => {
      clearTimeout(timer);
      timer = undefined;
      try {
        socket.write(requestHead("PUT", req.url, req.headers, [`content-length: ${req.size}`]));
      } catch (e) {
        return finish(e);
      }
      pump().catch((e) => finish(e));
    });
    socket.on("data", (chunk: Buffer) => {
      answer = answer.length === 0 ? chunk : Buffer.concat([answer, chunk] as unknown as Uint8Array[]);
      tryComplete(false);
    });
    socket.on("end", () => tryComplete(true));
    socket.on("error", (e) => finish(e));
    socket.on("close", () => {
      closed = true;
      giveBack();
      tryComplete(true);
    });
  });
}
