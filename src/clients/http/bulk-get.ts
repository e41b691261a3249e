/**
 * bulkGet: one HTTP/1.1 GET whose body goes from the socket into a sink through one small fixed read buffer
 * (Node's `onread`): no allocation per read, no stream machinery, no garbage to collect. On a large
 * download this halves the CPU the client spends per byte, which is what limits throughput when the
 * network is fast (loopback, a 10 Gb/s LAN, a mounted data lake door).
 *
 * It is deliberately narrow: a fresh connection (`Connection: close`), and only a 200/206 answer with a
 * Content-Length and no Transfer-Encoding is streamed. Anything else (redirects, errors, chunked bodies)
 * is declined before the body is read, and the caller repeats the request on the general undici path,
 * which handles every case. Failures carry the codes undici uses, so they are classified alike.
 */
import type { Socket } from "node:net";
import { lendHashBuffer, returnHashBuffer } from "./adler32";
import { connectTo, MAX_HEAD_BYTES, parseHead, requestHead, transportError, type Http1Tls } from "./http1";

export interface BulkGetRequest {
  url: URL;
  /** Request headers (lower-case names); Host and Connection are set here. */
  headers: Record<string, string>;
  tls?: Http1Tls;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** Longest silence while reading the body. */
  bodyTimeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Size of the read buffer. Default 128 KiB: small enough to stay in the CPU cache while the sink hashes
   * and writes it (with 1 MiB the kernel's copy into the page cache costs twice as much).
   */
  readBufferBytes?: number;
}

export interface BulkHead {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  contentLength: number;
}

/** Receives the body. `data` is valid only during the call; return a promise to pause reading until it settles. */
export type BulkSink = (data: Uint8Array) => Promise<void> | undefined;

export { parseHead } from "./http1";

export type BulkOutcome =
  | { kind: "done"; head: BulkHead; bytes: number }
  | { kind: "declined"; status: number; headers: Record<string, string>; reason: string };

/**
 * Sends the GET and, once the head has arrived, asks `onHead` for a sink (undefined declines). Resolves
 * when the whole body has been delivered and every promise the sink returned has settled.
 */
export function bulkGet(req: BulkGetRequest, onHead: (head: BulkHead) => Promise<BulkSink | undefined>): Promise<BulkOutcome> {
  return new Promise<BulkOutcome>((resolve, reject) => {
    const signal = req.signal;
    if (signal?.aborted) return reject(signal.reason);
    // Borrowed from the adler32 module's memory, so the checksum runs where the socket put the bytes.
    const readBuffer = lendHashBuffer(req.readBufferBytes ?? 128 * 1024);

    let phase: "connect" | "head" | "wait" | "body" | "ended" = "connect";
    let headBytes: Buffer[] = [];
    let headLength = 0;
    let head: BulkHead | undefined;
    let sink: BulkSink | undefined;
    let remaining = 0;
    let received = 0;
    let pending = 0; // sink promises not settled yet
    let settled = false;

    const finish = (err?: unknown, outcome?: BulkOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(outcome!);
    };
    const done = () => {
      if (phase === "ended" && pending === 0) finish(undefined, { kind: "done", head: head!, bytes: received });
    };
    const onAbort = () => finish(signal!.reason ?? Object.assign(new Error("aborted"), { name: "AbortError" }));
    signal?.addEventListener("abort", onAbort, { once: true });

    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number | undefined, code: string, message: string) => {
      clearTimeout(timer);
      timer = ms ? setTimeout(() => finish(transportError(code, message)), ms) : undefined;
    };
    arm(req.connectTimeoutMs ?? 10_000, "UND_ERR_CONNECT_TIMEOUT", "connect timeout");

    const deliver = (data: Uint8Array) => {
      if (data.length > remaining) data = data.subarray(0, remaining); // bytes past the body: ignored
      remaining -= data.length;
      received += data.length;
      const wait = sink!(data);
      if (wait) {
        pending++;
        socket.pause();
        wait.then(
          () => {
            pending--;
            if (pending === 0 && phase === "body") socket.resume();
            done();
          },
          (e) => finish(e),
        );
      }
      if (remaining === 0) {
        phase = "ended";
        clearTimeout(timer);
        done();
      }
    };

    const onHeadComplete = (all: Buffer, end: number) => {
      let parsed: { status: number; headers: Record<string, string> };
      try {
        parsed = parseHead(all.subarray(0, end).toString("latin1"));
      } catch (e) {
        return finish(e);
      }
      const { status, headers } = parsed;
      const length = headers["content-length"];
      const decline = (reason: string) => finish(undefined, { kind: "declined", status, headers, reason });
      if (status !== 200 && status !== 206) return decline(`status ${status}`);
      if (headers["transfer-encoding"] !== undefined) return decline("transfer-encoding");
      if (length === undefined || !/^\d+$/.test(length)) return decline("no content-length");
      head = { status, headers, contentLength: Number(length) };
      remaining = head.contentLength;
      // What followed the head in the same read must survive the wait for the sink.
      const early = Buffer.from(all.subarray(end + 4) as Uint8Array) as Uint8Array;
      phase = "wait";
      socket.pause();
      onHead(head).then(
        (s) => {
          if (settled) return;
          if (!s) return decline("the caller declined");
          sink = s;
          phase = "body";
          arm(req.bodyTimeoutMs, "UND_ERR_BODY_TIMEOUT", "body timeout");
          if (remaining === 0) {
            phase = "ended";
            return done();
          }
          if (early.length > 0) deliver(early);
          if (phase === "body" && pending === 0) socket.resume();
        },
        (e) => finish(e),
      );
    };

    const onRead = (n: number, buf: Uint8Array): boolean => {
      if (settled) return false;
      const data = buf.subarray(0, n);
      if (phase === "head") {
        headBytes.push(Buffer.from(data as Uint8Array));
        headLength += n;
        const all = headBytes.length === 1 ? headBytes[0]! : Buffer.concat(headBytes as unknown as Uint8Array[]);
        headBytes = [all];
        const end = all.indexOf("\r\n\r\n");
        if (end >= 0) onHeadComplete(all, end);
        else if (headLength > MAX_HEAD_BYTES) finish(transportError("UND_ERR_HEADERS_OVERFLOW", "the answer's headers are too large"));
        return true;
      }
      if (phase === "body") {
        if (req.bodyTimeoutMs) arm(req.bodyTimeoutMs, "UND_ERR_BODY_TIMEOUT", "body timeout");
        deliver(data);
      }
      return true;
    };

    const socket: Socket = connectTo(
      req.url,
      req.tls,
      () => {
        phase = "head";
        arm(req.headersTimeoutMs ?? 300_000, "UND_ERR_HEADERS_TIMEOUT", "headers timeout");
        try {
          socket.write(requestHead("GET", req.url, req.headers));
        } catch (e) {
          finish(e);
        }
      },
      { buffer: readBuffer, callback: onRead },
    );
    socket.on("error", (e) => finish(e));
    socket.on("close", () => {
      returnHashBuffer(readBuffer); // nothing reads into it any more
      if (phase === "ended") return done();
      finish(transportError("UND_ERR_SOCKET", phase === "body" ? "other side closed before the whole body arrived" : "other side closed"));
    });
  });
}
