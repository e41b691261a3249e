/** GET /ping: server version, no authentication needed. */
import type { CallOptions, RucioBase } from "./base";
import { PingSchema } from "./schemas";

export async function ping(base: RucioBase, opts: CallOptions = {}): Promise<{ version: string }> {
  return base.json({ method: "GET", path: "ping", what: "ping the Rucio server", auth: false, signal: opts.signal }, PingSchema);
}
