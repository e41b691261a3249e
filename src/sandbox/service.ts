import type { IncomingMessage, ServerResponse } from "node:http";

/** What the sandbox server hands each emulated service (Rucio, REANA, Zenodo). */
export interface ServiceContext {
  /** The service's own folder inside the sandbox data folder; all its state lives here. */
  dataDir: string;
  /** Public base URL of the service, e.g. `http://127.0.0.1:5000/reana` (no trailing slash). */
  baseUrl: string;
  /** Diagnostic log line (never pass secrets). */
  log(message: string): void;
}

/** One emulated service mounted under a path prefix of the sandbox server. */
export interface ServiceHandler {
  /**
   * Handles one request. `path` is the request path with the service prefix removed (always starts with `/`),
   * `url` the full parsed request URL (for query parameters).
   */
  handle(req: IncomingMessage, res: ServerResponse, path: string, url: URL): Promise<void>;
  /** Stops background work (running workflows, rule transfers) and flushes state. */
  close(): Promise<void>;
}
