/**
 * The small HTTP/1.1 pieces the bulk paths (bulk-get.ts, bulk-put.ts) share: opening the connection,
 * writing a request head, parsing an answer's head, and errors that carry undici's codes (so classify.ts
 * treats them like undici's own).
 */
import { connect as netConnect, type OnReadOpts, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

export interface Http1Tls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  rejectUnauthorized?: boolean;
}

/** Largest answer head accepted. */
export const MAX_HEAD_BYTES = 64 * 1024;

export function transportError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Opens a TCP or TLS connection to `url`'s origin. `onConnected` runs once it is usable (after the TLS
 * handshake for https).
 */
export function connectTo(url: URL, tls: Http1Tls | undefined, onConnected: () => void, onread?: OnReadOpts): Socket {
  const secure = url.protocol === "https:";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const options = { host, port: Number(url.port || (secure ? 443 : 80)), ...(onread ? { onread } : {}) };
  const socket: Socket = secure
    ? tlsConnect({ ...options, servername: /^[\d.]+$|:/.test(host) ? undefined : host, ALPNProtocols: ["http/1.1"], ...tls })
    : netConnect(options);
  socket.setNoDelay(true);
  socket.once(secure ? "secureConnect" : "connect", onConnected);
  return socket;
}

/**
 * The request line and headers of a one-request connection (`Connection: close`). Host, Connection and the
 * framing headers of `headers` are replaced by ours; `extra` lines (e.g. content-length) are appended.
 */
export function requestHead(method: string, url: URL, headers: Record<string, string>, extra: string[] = []): string {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (name === "host" || name === "connection" || name === "content-length" || name === "transfer-encoding") continue;
    // Header values come from code and configuration; a line break would split the request.
    if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw transportError("UND_ERR_INVALID_ARG", `invalid header ${JSON.stringify(k)}`);
    lines.push(`${k}: ${v}`);
  }
  lines.push(...extra, "connection: close", "", "");
  return lines.join("\r\n");
}

/** Parses "HTTP/1.1 200 OK\r\nName: value\r\n..." (without the final blank line). */
export function parseHead(text: string): { status: number; headers: Record<string, string> } {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? "");
  if (!m) throw transportError("UND_ERR_SOCKET", "the server's answer does not start with an HTTP/1.x status line");
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i <= 0 || /^[ \t]/.test(line)) throw transportError("UND_ERR_SOCKET", "the server sent a malformed header line");
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(m[1]), headers };
}
