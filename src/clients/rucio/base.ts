/**
 * RucioBase: the one place that knows hosts, auth tokens and their renewal, retries and error mapping.
 * Resource modules (dids.ts, rules.ts, ...) only describe endpoints through `send`, `json` and `list`.
 */
import type { z } from "zod";
import type { RucioSettings } from "../config/types";
import { ConfigError } from "../errors";
import { HttpClient, type HttpRequest, type Timeouts } from "../http/client";
import type { Logger } from "../http/log";
import { safeLogger } from "../http/log";
import type { HttpResponse } from "../http/response";
import type { RetryPolicy } from "../http/retry";
import type { Dispatcher } from "undici";
import { RucioAuth } from "./auth";
import { createRucioError, mapRucioStatus, RucioError } from "./errors";
import { checkOption, DAY_MS } from "../http/durations";
import { AccountSchema } from "./schemas";

export interface RucioClientOptions {
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
  timeouts?: Timeouts;
  /** Renew userpass/x509 tokens this long before they expire. Default 5 min. */
  tokenMarginMs?: number;
  appId?: string;
  userAgent?: string;
  maxBodyBytes?: number;
  maxLineBytes?: number;
  /** Inject an undici dispatcher (tests). */
  dispatcher?: Dispatcher;
  /** Clock (tests). */
  now?: () => number;
}

/** Per-call options every method accepts. */
export interface CallOptions {
  signal?: AbortSignal;
}

export type RucioRequest = Omit<HttpRequest, "what"> & { what: string; auth?: boolean };

export function encodeSegment(s: string): string {
  return encodeURIComponent(s);
}

/** "scope/name" path segment pair; the name may contain '/', both parts are encoded. */
export function didPath(scope: string, name: string): string {
  return `${encodeSegment(scope)}/${encodeSegment(name)}`;
}

function withSlash(u: string): string {
  return u.endsWith("/") ? u : `${u}/`;
}

export class RucioBase {
  readonly settings: RucioSettings;
  readonly http: HttpClient;
  readonly auth: RucioAuth;
  readonly log: Logger;
  private whoamiCache?: string;

  constructor(settings: RucioSettings, options: RucioClientOptions = {}) {
    if (!settings?.host) {
      throw new ConfigError({
        code: "CONFIG_MISSING",
        service: "rucio",
        message: "No Rucio server is configured.",
        hint: "Set rucio_host in rucio.cfg, RUCIO_HOST, or a profile in ~/.config/vre-ts/config.json.",
      });
    }
    this.settings = settings;
    this.log = safeLogger(options.logger);
    this.http = new HttpClient({
      service: "rucio",
      baseUrl: settings.host,
      tls: { caFile: settings.caCert, certFile: settings.clientCert, keyFile: settings.clientKey },
      timeouts: options.timeouts,
      retry: options.retry,
      userAgent: options.userAgent ?? "vre-ts-rucio",
      logger: options.logger,
      createError: createRucioError,
      mapStatusError: mapRucioStatus,
      maxBodyBytes: options.maxBodyBytes,
      maxLineBytes: options.maxLineBytes,
      dispatcher: options.dispatcher,
    });
    let authBase: string;
    try {
      authBase = withSlash(new URL(settings.authHost ?? settings.host).toString());
    } catch (e) {
      throw new ConfigError({
        code: "CONFIG_INVALID",
        service: "rucio",
        message: "The Rucio auth host is not a valid URL.",
        hint: "Set auth_host to a full URL such as https://rucio-auth.example.org.",
        cause: e,
      });
    }
    checkOption(options.tokenMarginMs, "tokenMarginMs", { min: 0, max: DAY_MS }, (i) => new RucioError(i));
    this.auth = new RucioAuth(settings, this.http, authBase, {
      marginMs: options.tokenMarginMs,
      appId: options.appId,
      now: options.now,
      log: this.log,
    });
  }

  /** Sends an authenticated request; re-authenticates once when the token is rejected. */
  async send(req: RucioRequest): Promise<HttpResponse> {
    if (req.auth === false) return this.http.send(req);
    const token = await this.auth.token(req.signal);
    try {
      return await this.http.send({ ...req, headers: { ...this.headers(), ...req.headers, "x-rucio-auth-token": token } });
    } catch (e) {
      // 401 CannotAuthenticate: expired/revoked token, the request was not carried out, so one retry is
      // safe even for POST. 401 AccessDenied is a permission problem and is reported as is.
      if (e instanceof RucioError && e.status === 401 && e.exceptionClass !== "AccessDenied" && this.auth.canRenew()) {
        this.log("info", `Rucio token rejected (${e.exceptionClass ?? "401"}); authenticating again.`);
        this.auth.invalidate(token);
        const fresh = await this.auth.token(req.signal);
        return this.http.send({ ...req, headers: { ...this.headers(), ...req.headers, "x-rucio-auth-token": fresh } });
      }
      throw e;
    }
  }

  /** GET/POST returning one JSON value, validated. */
  async json<S extends z.ZodType>(req: RucioRequest, schema: S): Promise<z.output<S>> {
    return (await this.send(req)).json(schema);
  }

  /** A request whose answer body is irrelevant ("Created", empty). */
  async call(req: RucioRequest): Promise<number> {
    const res = await this.send(req);
    await res.dump();
    return res.status;
  }

  /** An NDJSON listing, validated line by line, streamed; `map` shapes each item on the way out. */
  list<S extends z.ZodType>(req: RucioRequest, schema: S): AsyncGenerator<z.output<S>, void, undefined>;
  list<S extends z.ZodType, T>(req: RucioRequest, schema: S, map: (item: z.output<S>) => T): AsyncGenerator<T, void, undefined>;
  async *list<S extends z.ZodType, T>(req: RucioRequest, schema: S, map?: (item: z.output<S>) => T): AsyncGenerator<unknown, void, undefined> {
    const batches = this.http.ndjsonBatches(req, schema, undefined, (r) => this.send({ ...r, auth: req.auth }));
    for await (const batch of batches) {
      if (map) for (const item of batch) yield map(item);
      else yield* batch;
    }
  }

  /** The account to act as: the configured one, else the token's (whoami, cached). */
  async account(opts: CallOptions = {}): Promise<string> {
    if (this.settings.account) return this.settings.account;
    if (this.whoamiCache) return this.whoamiCache;
    const res = await this.send({ method: "GET", path: "accounts/whoami", what: "find out who you are", expectStatus: [200, 303], signal: opts.signal });
    if (res.status === 303) {
      await res.dump();
      const loc = res.header("location") ?? "";
      const seg = decodeURIComponent(loc.split("?")[0].replace(/\/+$/, "").split("/").pop() ?? "");
      if (!seg) throw new RucioError({ code: "HTTP_MALFORMED_RESPONSE", message: "whoami answered 303 without a Location.", status: 303 });
      this.whoamiCache = seg;
      return seg;
    }
    const acc = await res.json(AccountSchema);
    this.whoamiCache = acc.account;
    return acc.account;
  }

  private headers(): Record<string, string | undefined> {
    return { "x-rucio-vo": this.settings.vo, "x-rucio-account": this.settings.account };
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
