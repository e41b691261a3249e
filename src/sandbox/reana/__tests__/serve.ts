import { createServer, type Server } from "node:http";
import * as path from "node:path";
import type { ServiceHandler } from "../../service";
import { createReanaService } from "../index";
import { createZenodoService } from "../../zenodo/index";

/**
 * Test harness: mounts the REANA and Zenodo emulations on a plain node:http server (REANA under `/reana`, Zenodo
 * under `/zenodo`), independent of the full sandbox server. Run as a script it prints one JSON line with the URL
 * and tokens, which the kill tests use to drive a child process.
 */

export interface Harness {
  url: string;
  reanaToken: string;
  zenodoToken: string;
  server: Server;
  close(): Promise<void>;
}

export async function startHarness(dataDir: string, port = 0): Promise<Harness> {
  const services: Record<string, ServiceHandler> = {};
  let base = "";
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", base);
    const match = /^\/(reana|zenodo)(\/.*)?$/.exec(url.pathname);
    const service = match ? services[match[1]!] : undefined;
    if (!match || !service) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ message: "Not Found" }));
      return;
    }
    void service.handle(req, res, match[2] ?? "/", url);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}`;
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const reana = createReanaService({ dataDir: path.join(dataDir, "reana"), baseUrl: `${base}/reana`, log });
  const zenodo = createZenodoService({ dataDir: path.join(dataDir, "zenodo"), baseUrl: `${base}/zenodo`, log });
  services.reana = reana;
  services.zenodo = zenodo;
  await reana.ready;
  await zenodo.ready;
  return {
    url: base,
    reanaToken: reana.accessToken,
    zenodoToken: zenodo.accessToken,
    server,
    async close() {
      await Promise.all([reana.close(), zenodo.close()]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (require.main === module) {
  const dataDir = process.argv[2];
  if (!dataDir) {
    process.stderr.write("usage: serve <data-dir> [port]\n");
    process.exit(2);
  }
  void startHarness(dataDir, Number(process.argv[3] ?? 0)).then((h) => {
    process.stdout.write(`${JSON.stringify({ url: h.url, reanaToken: h.reanaToken, zenodoToken: h.zenodoToken })}\n`);
  });
}
