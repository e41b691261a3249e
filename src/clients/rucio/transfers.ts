/** The data plane: an HttpClient for storage hosts (PFNs), separate from the Rucio REST client. */
import type { RucioSettings } from "../config/types";
import { HttpClient, genericStatusError } from "../http/client";
import type { RucioClientOptions } from "./base";
import { RucioError } from "./errors";
import { isJwt } from "./auth";

export function createStorageClient(settings: RucioSettings, options: RucioClientOptions): HttpClient {
  return new HttpClient({
    service: "rucio",
    baseUrl: settings.host,
    tls: { caFile: settings.caCert, certFile: settings.clientCert, keyFile: settings.clientKey },
    timeouts: { headersMs: 120_000, bodyMs: 300_000, ...options.timeouts },
    retry: options.retry,
    userAgent: options.userAgent ?? "vre-ts-rucio",
    logger: options.logger,
    createError: (init) => new RucioError(init),
    mapStatusError: (input) => {
      const g = genericStatusError(input);
      if (input.status === 401 || input.status === 403) {
        return new RucioError({
          ...g,
          code: "RUCIO_FORBIDDEN",
          message: `The storage refused access (${input.status}) to ${input.what}.`,
          hint: "Your token may lack the storage scope/audience, or you have no rights on this RSE; try another replica or RSE.",
        });
      }
      if (input.status === 404) return new RucioError({ ...g, code: "RUCIO_REPLICA_NOT_FOUND", message: `The storage has no file at that PFN (${input.what}).`, hint: "The replica may be lost; try another RSE." });
      return new RucioError(g);
    },
    // Keep a small pool: transfers are big and few.
    connections: 4,
    dispatcher: options.dispatcher,
  });
}

/**
 * Headers to present to a storage host. A bearer JWT is made for storage (WLCG tokens carry their
 * audience); a Rucio-issued token is only sent back to the Rucio host's own origin (e.g. the sandbox's
 * data plane), never to a third-party storage.
 */
export function storageAuthHeaders(url: string, token: string | undefined, settings: RucioSettings): Record<string, string> {
  if (!token) return {};
  if (isJwt(token)) return { authorization: `Bearer ${token}` };
  try {
    if (new URL(url).origin === new URL(settings.host).origin) return { authorization: `Bearer ${token}`, "x-rucio-auth-token": token };
  } catch {
    // fall through
  }
  return {};
}
