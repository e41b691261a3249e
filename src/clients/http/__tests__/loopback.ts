/** A scriptable HTTP server on 127.0.0.1 for fault tests: each request is handed to the test's handler. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer, n: number) => void | Promise<void>;

export interface Loopback {
  url: string;
  /** Requests received so far, with their bodies. */
  requests: { method: string; url: string; headers: IncomingMessage["headers"]; body: Buffer }[];
  setHandler(h: Handler): void;
  close(): Promise<void>;
}

export async function startLoopback(handler: Handler): Promise<Loopback> {
  let h = handler;
  const sockets = new Set<Socket>();
  const requests: Loopback["requests"] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    req.on("error", () => {});
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return;
    }
    const body = Buffer.concat(chunks);
    requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    try {
      await h(req, res, body, requests.length);
    } catch {
      res.destroy();
    }
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler: (x) => {
      h = x;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Abruptly resets the connection (RST), the way a crashed proxy or a dropped link looks to the client. */
export function reset(res: ServerResponse): void {
  const s = res.socket as Socket | null;
  if (s && typeof (s as Socket & { resetAndDestroy?: () => void }).resetAndDestroy === "function") (s as Socket & { resetAndDestroy: () => void }).resetAndDestroy();
  else s?.destroy();
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}
