import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A request handler mounted under a path prefix; `path` has the prefix removed and always starts with `/`. */
export type MountHandler = (req: IncomingMessage, res: ServerResponse, path: string, url: URL) => Promise<void>;

export interface SandboxServer {
  server: Server;
  port: number;
  url: string;
  /** Requests being answered now, and when the last one arrived (ms since the epoch); for the idle exit. */
  activity(): { inFlight: number; lastRequestAt: number };
  close(): Promise<void>;
}

/**
 * The sandbox's single HTTP server, bound to 127.0.0.1 only. Requests go to the handler whose prefix (`/rucio`,
 * `/rucio-storage`, `/reana`, `/zenodo`) starts the path; the longest matching prefix wins.
 */
export async function startServer(port: number, mounts: () => Map<string, MountHandler>, log: (m: string) => void): Promise<SandboxServer> {
  let base = "http://127.0.0.1";
  let inFlight = 0;
  let lastRequestAt = Date.now();
  const server = createServer((req, res) => {
    // The server's own idle probes (PROBE_HEADER of ./lifecycle) are not use.
    if (!req.headers["x-vre-sandbox-probe"]) {
      inFlight++;
      lastRequestAt = Date.now();
      res.once("close", () => {
        inFlight--;
        lastRequestAt = Date.now();
      });
    }
    let url: URL;
    try {
      url = new URL(req.url ?? "/", base);
    } catch {
      res.writeHead(400, { "Content-Type": "text/plain" }).end("bad request\n");
      return;
    }
    const table = mounts();
    const prefixes = [...table.keys()].sort((a, b) => b.length - a.length);
    const prefix = prefixes.find((p) => url.pathname === p || url.pathname.startsWith(`${p}/`));
    if (!prefix) {
      const body = JSON.stringify({ service: "vre-ts sandbox", endpoints: prefixes.sort() }, null, 1);
      res.writeHead(url.pathname === "/" ? 200 : 404, { "Content-Type": "application/json" }).end(`${body}\n`);
      return;
    }
    const rest = url.pathname.slice(prefix.length) || "/";
    table
      .get(prefix)!(req, res, rest, url)
      .catch((err: unknown) => {
        log(`sandbox: unhandled error on ${req.method} ${url.pathname}: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" }).end("internal error\n");
        else res.destroy();
      });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${actual}`;
  return {
    server,
    port: actual,
    url: base,
    activity: () => ({ inFlight, lastRequestAt }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}
