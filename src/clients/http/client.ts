/**
 * HttpClient: one per service client. Owns an undici Agent (a keep-alive Pool per origin, so a separate
 * auth host gets its own pool), TLS material, timeouts, retries and the translation of every failure
 * into the service's error class.
 */
import { anySignal, withAmbientSignal } from "./ambient-signal";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Agent, type Dispatcher } from "undici";
import { bulkGet, type BulkGetRequest, type BulkHead, type BulkOutcome, type BulkSink } from "./bulk-get";
import { bulkPut, type BulkPutAnswer } from "./bulk-put";
import type { z } from "zod";
import { ClientError, ConfigError, HttpError, type ClientErrorInit, type ErrorFactory } from "../errors";
import { classifyTransportError, type TransportContext } from "./classify";
import { safeLogger, type Logger } from "./log";
import type { NdjsonOptions } from "./ndjson";
import { DEFAULT_MAX_LINE_BYTES } from "./ndjson";
import { redactUrl } from "./redact";
import { HttpResponse, type ResponseHeaders } from "./response";
import { backoffDelay, checkRetryPolicy, DEFAULT_RETRY, parseRetryAfter, rateLimitUntil, sleep, type RetryPolicy } from "./retry";
import { checkOption, DAY_MS, HOUR_MS, longTimeout, RETRIES_RANGE, type OptionRange } from "./durations";
import { requestProblem } from "./request-check";
import { readSmallFileSync } from "../small-file";
import { currentRetryListener, type RetryEvent, type RetryListener } from "./retry-events";

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";

export type QueryValue = string | number | boolean | undefined | null;
export type Query = Record<string, QueryValue | QueryValue[]> | URLSearchParams;

/** A request body. Use a factory for streams so that a retry can start the stream again. */
export type RequestBody = string | Uint8Array | (() => Readable | AsyncIterable<Uint8Array>);

export interface TlsOptions {
  /** PEM file of the CA bundle to trust (in addition to nothing else: it replaces the default roots). */
  caFile?: string;
  /** PEM client certificate (x509) or proxy file holding both cert and key. */
  certFile?: string;
  keyFile?: string;
  /** Skip certificate verification (never the default; for throwaway test servers only). */
  insecure?: boolean;
}

export interface Timeouts {
  /** TCP + TLS connect. Default 10 s. */
  connectMs?: number;
  /** From request sent to response headers. Default 60 s. */
  headersMs?: number;
  /** Longest silence between two body chunks. Default 120 s. */
  bodyMs?: number;
}

export interface HttpClientOptions {
  /** "rucio", "reana", "zenodo": used in messages and on errors. */
  service: string;
  /** Base URL; request paths are appended to it (its path prefix is kept). */
  baseUrl: string;
  tls?: TlsOptions;
  timeouts?: Timeouts;
  retry?: Partial<RetryPolicy>;
  /** Idle keep-alive time of pooled sockets. Default 30 s. */
  keepAliveMs?: number;
  /** Max sockets per origin. Default 8. */
  connections?: number;
  userAgent?: string;
  defaultHeaders?: Record<string, string>;
  /** Receives redacted log lines. */
  logger?: Logger;
  /** Builds the service's error class (RucioError, ...). Default: HttpError. */
  createError?: ErrorFactory;
  /**
   * Maps an unexpected status into a service error, using the body the server sent. Return undefined to
   * fall back to the generic HTTP_* error.
   */
  mapStatusError?: (input: StatusErrorInput) => ClientError | undefined;
  /** Cap of buffered answers (json/text). Default 64 MiB. */
  maxBodyBytes?: number;
  /** Cap of one NDJSON line. Default 16 MiB. */
  maxLineBytes?: number;
  /** Inject a dispatcher (tests); the client then does not own or close it. */
  dispatcher?: Dispatcher;
  /**
   * Longest total time of one request until its answer's headers, retries and their waits included.
   * Default 120 s (or twice the headers timeout when that is longer); `null` for none. Requests with a streamed body
   * (uploads) have none unless they set one.
   */
  deadlineMs?: number | null;
  /** Told before each retry (the magics show it); see also `withRetryListener`. */
  onRetry?: RetryListener;
}

/** Default of `deadlineMs` (raised to twice the headers timeout when that is longer). */
export const DEFAULT_DEADLINE_MS = 120_000;

/** Allowed values of the time options (ms); anything else, NaN and Infinity included, is refused (HTTP_INVALID_ARGUMENT). */
export const TIME_OPTION_RANGES = {
  connectMs: { min: 1, max: HOUR_MS },
  headersMs: { min: 1, max: DAY_MS },
  bodyMs: { min: 1, max: DAY_MS },
  keepAliveMs: { min: 1, max: HOUR_MS },
  /** A total deadline of days is allowed: its timers are split (see longTimeout). */
  deadlineMs: { min: 1, max: 30 * DAY_MS },
} as const satisfies Record<string, OptionRange>;

export interface StatusErrorInput {
  status: number;
  headers: ResponseHeaders;
  /** Error body (first 1 MiB), decoded as UTF-8. */
  bodyText: string;
  method: string;
  url: string; // redacted
  what: string;
  request: HttpRequest;
  retryAfterMs?: number;
}

export interface HttpRequest {
  method: HttpMethod;
  /** Path relative to the base URL ("dids/test/x"), or an absolute http(s) URL (another host). */
  path: string;
  query?: Query;
  headers?: Record<string, string | undefined>;
  body?: RequestBody;
  /** JSON body; sets Content-Type: application/json. */
  json?: unknown;
  /** Human description used in messages: "search DIDs in scope test". */
  what: string;
  /**
   * Whether repeating the request is harmless. Default: true for GET, HEAD, PUT, DELETE, OPTIONS;
   * false for POST and PATCH. Non-idempotent requests are never repeated after they may have reached the
   * server; use `submitOnce` to add a "did it happen?" check.
   */
  idempotent?: boolean;
  retry?: false | Partial<RetryPolicy>;
  signal?: AbortSignal;
  /** Statuses treated as success. Default: 200-299. */
  expectStatus?: number[] | ((status: number) => boolean);
  timeouts?: Pick<Timeouts, "headersMs" | "bodyMs">;
  /** Overrides the client's `deadlineMs` for this request (`null`: none). */
  deadlineMs?: number | null;
  /** Told before each retry of this request. */
  onRetry?: RetryListener;
}

const IDEMPOTENT = new Set<HttpMethod>(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

function readPem(path: string, what: string): Buffer {
  try {
    // A CA *folder* (e.g. /etc/grid-security/certificates) is read as the bundle of its PEM files.
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path).filter((f) => /\.(pem|crt|0)$/.test(f)).sort();
      return Buffer.concat(files.map((f) => readSmallFileSync(join(path, f), { what: `the ${what} file`, encoding: null })) as unknown as Uint8Array[]);
    }
    return readSmallFileSync(path, { what: `the ${what} file`, encoding: null });
  } catch (e) {
    throw new ConfigError({
      code: "CONFIG_INVALID",
      message:
        e instanceof ClientError ? e.message : `Cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
      hint: `Fix the ${what} path in your profile or rucio.cfg.`,
      cause: e,
    });
  }
}

export class HttpClient {
  readonly service: string;
  readonly baseUrl: URL;
  private readonly opts: HttpClientOptions;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly policy: RetryPolicy;
  private readonly log: Logger;
  private readonly make: ErrorFactory;
  /** Per-origin "do not send before" instants from X-RateLimit-* headers. */
  private readonly rateGate = new Map<string, number>();
  private closed = false;
  /** TLS settings for connections made outside the dispatcher (bulkGet); undefined with an injected dispatcher. */
  private readonly directTls: BulkGetRequest["tls"] | undefined;

  constructor(opts: HttpClientOptions) {
    this.opts = opts;
    this.service = opts.service;
    let base: URL;
    try {
      base = new URL(opts.baseUrl);
    } catch (e) {
      throw new ConfigError({
        code: "CONFIG_INVALID",
        message: `The ${opts.service} server URL is not a valid URL: ${redactUrl(opts.baseUrl)}.`,
        hint: "Use a full URL such as https://rucio.example.org.",
        cause: e,
      });
    }
    if (!/^https?:$/.test(base.protocol)) {
      throw new ConfigError({
        code: "CONFIG_INVALID",
        message: `The ${opts.service} server URL must be http(s): ${redactUrl(opts.baseUrl)}.`,
      });
    }
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.baseUrl = base;
    this.policy = { ...DEFAULT_RETRY, ...opts.retry };
    this.log = safeLogger(opts.logger);
    this.make = opts.createError ?? ((init: ClientErrorInit) => new HttpError(init));
    this.checkTimeOptions(opts);
    if (opts.dispatcher) {
      this.dispatcher = opts.dispatcher;
      this.ownsDispatcher = false;
      this.directTls = undefined;
    } else {
      const tls = opts.tls ?? {};
      const t = opts.timeouts ?? {};
      this.directTls = {
        ca: tls.caFile ? readPem(tls.caFile, "CA certificate") : undefined,
        cert: tls.certFile ? readPem(tls.certFile, "client certificate") : undefined,
        key: tls.keyFile ? readPem(tls.keyFile, "client key") : tls.certFile ? readPem(tls.certFile, "client key") : undefined,
        rejectUnauthorized: !tls.insecure,
      };
      this.dispatcher = new Agent({
        keepAliveTimeout: opts.keepAliveMs ?? 30_000,
        keepAliveMaxTimeout: 600_000,
        connections: opts.connections ?? 8,
        headersTimeout: t.headersMs ?? 60_000,
        bodyTimeout: t.bodyMs ?? 120_000,
        connect: { timeout: t.connectMs ?? 10_000, ...this.directTls },
      });
      this.ownsDispatcher = true;
    }
  }

  /** Refuses time options that are not finite or out of range, before anything is sent (client or request options). */
  private checkTimeOptions(o: { timeouts?: Timeouts; keepAliveMs?: number; deadlineMs?: number | null; retry?: Partial<RetryPolicy> | false }): void {
    const make = (init: Omit<ClientErrorInit, "service">) => this.createError(init);
    const R = TIME_OPTION_RANGES;
    for (const k of ["connectMs", "headersMs", "bodyMs"] as const) checkOption(o.timeouts?.[k], `timeouts.${k}`, R[k], make);
    checkOption(o.keepAliveMs, "keepAliveMs", R.keepAliveMs, make);
    if (o.deadlineMs !== null) checkOption(o.deadlineMs, "deadlineMs", R.deadlineMs, make);
    checkRetryPolicy(o.retry, "retry", make);
  }

  /** Builds the service's error class from shared fields. */
  createError(init: ClientErrorInit): ClientError {
    return this.make({ service: this.service, ...init });
  }

  /** Resolves a request path against the base URL and appends the query. */
  url(path: string, query?: Query): URL {
    const u = /^https?:\/\//i.test(path) ? new URL(path) : new URL(path.replace(/^\/+/, ""), this.baseUrl);
    if (query) {
      const entries = query instanceof URLSearchParams ? [...query.entries()] : Object.entries(query);
      for (const [k, v] of entries) {
        const vals = Array.isArray(v) ? v : [v];
        for (const x of vals) if (x !== undefined && x !== null) u.searchParams.append(k, String(x));
      }
    }
    return u;
  }

  /**
   * Sends a request with retries; resolves once the headers of an expected status arrive. The caller must
   * consume the body (`json`, `text`, `ndjson`, `dump`, or pipe `body`). Unexpected statuses throw the
   * service's error (via mapStatusError), transport failures throw HTTP_* codes.
   */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const signal = withAmbientSignal(req.signal);
    if (signal !== req.signal) req = { ...req, signal };
    if (this.closed) throw this.createError({ code: "HTTP_CONNECTION", message: `The ${this.service} client is closed.` });
    this.checkTimeOptions({ timeouts: req.timeouts, deadlineMs: req.deadlineMs, retry: req.retry });
    const url = this.checkedUrl(req);
    const shownUrl = redactUrl(url.toString());
    const policy: RetryPolicy = req.retry === false ? { ...this.policy, retries: 0 } : { ...this.policy, ...req.retry };
    const idempotent = req.idempotent ?? IDEMPOTENT.has(req.method);
    const ctx = { service: this.service, method: req.method, url: shownUrl, what: req.what, host: url.host };
    const started = Date.now();
    const headersMs = req.timeouts?.headersMs ?? this.opts.timeouts?.headersMs ?? 60_000;
    // Default: two full waits for an answer, so that one slow answer is retried once before giving up.
    const budget = req.deadlineMs !== undefined ? req.deadlineMs : typeof req.body === "function" ? null : (this.opts.deadlineMs ?? Math.max(DEFAULT_DEADLINE_MS, 2 * headersMs));
    const deadline = budget === null ? Infinity : started + budget;
    /** The error to give up with: the last failure, saying how long and how often it was tried. */
    const giveUp = (err: ClientError, attempts: number, byDeadline = false): ClientError =>
      attempts < 2 && !byDeadline
        ? err
        : this.createError({
            ...(err.toJSON() as unknown as ClientErrorInit),
            code: err.code,
            message:
              `${err.message} Gave up after ${attempts === 1 ? "1 attempt" : `${attempts} attempts`} in ${Math.round((Date.now() - started) / 100) / 10} s` +
              `${byDeadline ? ` (the request's deadline is ${Math.round((budget ?? 0) / 100) / 10} s)` : ""}.`,
            hint: err.hint,
            status: err.status,
            retriable: err.retriable,
            outcomeUnknown: err.outcomeUnknown,
            retryAfterMs: err.retryAfterMs,
            cause: err,
          });
    /** Whether a retry after `delay` still fits the deadline (a retry needs a little time to be of use). */
    const fits = (delay: number) => Date.now() + delay + Math.min(1000, headersMs) < deadline;

    for (let attempt = 0; ; attempt++) {
      await this.waitForRateLimit(url.origin, policy, req, shownUrl, deadline);
      const canRetry = attempt < policy.retries;
      let res: Dispatcher.ResponseData;
      // undici's own timers are coarse (about a second): under a deadline, the wait for this answer's headers gets a
      // timer of its own (the body, if any, is small then: streamed uploads have no deadline).
      const remaining = deadline - Date.now();
      const guard = Number.isFinite(deadline) ? deadlineGuard(Math.min(headersMs, remaining), req.signal) : undefined;
      const deadlineHit = headersMs >= remaining;
      try {
        this.log("debug", `${req.method} ${shownUrl}${attempt ? ` (attempt ${attempt + 1})` : ""}`);
        res = await this.dispatch(url, guard ? { ...req, signal: guard.signal } : req, Math.max(1, Math.min(headersMs, deadline - Date.now())));
      } catch (e) {
        const init =
          guard?.fired() && !req.signal?.aborted
            ? {
                ...classifyTransportError(Object.assign(new Error("no answer"), { code: "UND_ERR_HEADERS_TIMEOUT" }), ctx),
                ...(deadlineHit ? { message: `No answer from ${url.host} within the request's deadline of ${Math.round((budget ?? 0) / 100) / 10} s (${req.what}).` } : {}),
              }
            : classifyTransportError(e, ctx);
        const err = this.createError(init);
        // Bodies are strings, bytes or stream factories, so every request can be sent again.
        if (init.retriable && canRetry && (idempotent || init.beforeSend)) {
          const delay = backoffDelay(policy, attempt);
          if (!fits(delay)) throw giveUp(err, attempt + 1, true);
          this.retrying(req, err, attempt, policy, delay, deadline);
          await this.pause(delay, req);
          continue;
        }
        if (!idempotent && err.outcomeUnknown) {
          throw this.createError({
            ...init,
            code: "HTTP_OUTCOME_UNKNOWN",
            message: `${err.message} It is not known whether the server carried out the request, so it was not repeated.`,
            hint: "Check the current state (e.g. list the rules or deposits) before trying again.",
          });
        }
        throw err;
      } finally {
        guard?.clear();
      }

      const gate = rateLimitUntil(res.headers);
      if (gate !== undefined) this.rateGate.set(url.origin, gate);
      else this.rateGate.delete(url.origin);

      const response = this.wrap(res, req, shownUrl, ctx);
      if (this.isExpected(req, res.statusCode)) return response;

      const status = res.statusCode;
      const retryAfterMs = parseRetryAfter(response.header("retry-after"));
      const retryStatus = policy.statuses.includes(status);
      if (retryStatus && canRetry && idempotent) {
        const delay = retryAfterMs ?? backoffDelay(policy, attempt);
        if (delay <= policy.maxWaitMs && fits(delay)) {
          await response.dump();
          const said = this.createError({ code: status === 429 ? "HTTP_RATE_LIMITED" : "HTTP_UNAVAILABLE", status, message: `${req.method} ${shownUrl} answered ${status} (${req.what}).` });
          this.retrying(req, said, attempt, policy, delay, deadline);
          await this.pause(delay, req);
          continue;
        }
      }
      const error = await this.statusError(response, req, retryAfterMs, retryStatus && !idempotent);
      throw attempt > 0 && retryStatus ? giveUp(error, attempt + 1) : error;
    }
  }

  /**
   * A GET whose body streams into a sink through a fixed buffer, for large downloads (see bulk-get.ts).
   * Resolves "declined" (nothing read past the head) when the answer is not a plain 200/206 with a
   * Content-Length, and undefined when the client cannot open its own connections (an injected
   * dispatcher): the caller then uses send(). Transport failures throw like send()'s; there is no retry.
   */
  async bulkGet(req: HttpRequest, onHead: (head: BulkHead) => Promise<BulkSink | undefined>): Promise<BulkOutcome | undefined> {
    if (!this.directTls) return undefined;
    const { connection, ctx } = await this.bulkTarget({ ...req, method: "GET" });
    let bodyStarted = false;
    try {
      return await bulkGet(connection, (head) => {
        bodyStarted = true;
        return onHead(head);
      });
    } catch (e) {
      if (e instanceof ClientError) throw e;
      throw this.createError(classifyTransportError(e, { ...ctx, midStream: bodyStarted }));
    }
  }

  /** What both bulk paths need before they open their own connection (the rate-limit wait included). */
  private async bulkTarget(req: HttpRequest): Promise<{ connection: BulkGetRequest; ctx: TransportContext }> {
    if (this.closed) throw this.createError({ code: "HTTP_CONNECTION", message: `The ${this.service} client is closed.` });
    this.checkTimeOptions({ timeouts: req.timeouts, deadlineMs: req.deadlineMs, retry: req.retry });
    const url = this.checkedUrl(req);
    const shownUrl = redactUrl(url.toString());
    await this.waitForRateLimit(url.origin, this.policy, req, shownUrl);
    const t = { ...this.opts.timeouts, ...req.timeouts };
    this.log("debug", `${req.method} ${shownUrl} (bulk)`);
    return {
      connection: {
        url,
        headers: this.requestHeaders(req),
        tls: this.directTls,
        connectTimeoutMs: t.connectMs ?? 10_000,
        headersTimeoutMs: t.headersMs ?? 60_000,
        bodyTimeoutMs: t.bodyMs ?? 120_000,
        signal: withAmbientSignal(req.signal),
      },
      ctx: { service: this.service, method: req.method, url: shownUrl, what: req.what, host: url.host },
    };
  }

  /**
   * A PUT of a local file through reused buffers, for large uploads (see bulk-put.ts). Resolves with the
   * answer when its status is expected; an unexpected status throws the service's error, as send() does.
   * Resolves undefined when the bulk path does not apply (an injected dispatcher), and "retry" when the
   * exchange failed in a way the general path should take over (a transport failure, or a status that
   * send() would retry): the caller then uploads through send(). PUTs are idempotent, so this is safe.
   */
  async bulkPut(req: HttpRequest, file: string, size: number, onData?: (data: Uint8Array) => Promise<void> | undefined): Promise<HttpResponse | "retry" | undefined> {
    if (!this.directTls || req.method !== "PUT") return undefined;
    const { connection, ctx } = await this.bulkTarget(req);
    const url = connection.url;
    let answer: BulkPutAnswer;
    try {
      answer = await bulkPut({ ...connection, file, size, onData });
    } catch (e) {
      if (e instanceof ClientError) throw e;
      const init = classifyTransportError(e, ctx);
      if (init.code === "HTTP_ABORTED" || !init.retriable) throw this.createError(init);
      this.log("warn", `${this.createError(init).message} Sending again through the general path.`);
      return "retry";
    }
    const gate = rateLimitUntil(answer.headers);
    if (gate !== undefined) this.rateGate.set(url.origin, gate);
    else this.rateGate.delete(url.origin);
    const response = this.wrap(
      { statusCode: answer.status, headers: answer.headers, body: Readable.from([answer.body]) } as unknown as Dispatcher.ResponseData,
      req,
      ctx.url,
      ctx,
    );
    if (this.isExpected(req, answer.status) && answer.sent === size) return response;
    if (this.policy.statuses.includes(answer.status)) {
      await response.dump();
      return "retry";
    }
    if (this.isExpected(req, answer.status)) {
      throw this.createError({ code: "HTTP_IO", message: `The server accepted ${req.what} before all of it was sent.`, hint: "Upload the file again." });
    }
    throw await this.statusError(response, req, parseRetryAfter(response.header("retry-after")), false);
  }

  /** send() then JSON-parse and validate the body. */
  async json<S extends z.ZodType>(req: HttpRequest, schema: S): Promise<z.output<S>>;
  async json(req: HttpRequest): Promise<unknown>;
  async json(req: HttpRequest, schema?: z.ZodType): Promise<unknown> {
    const res = await this.send(req);
    return schema ? res.json(schema) : res.json();
  }

  /** send() then read the body as text (capped). */
  async text(req: HttpRequest): Promise<string> {
    return (await this.send(req)).text();
  }

  /**
   * Streams an NDJSON listing. For idempotent requests, a failure before the first item is retried like
   * any other; a failure after items were yielded throws (HTTP_CONNECTION, "result is incomplete") rather
   * than silently restarting and duplicating items.
   */
  async *ndjson<S extends z.ZodType>(
    req: HttpRequest,
    schema: S,
    opts?: Partial<NdjsonOptions<S>>,
    /** Sends the request (default `this.send`); a service passes its authenticated sender. */
    sender?: (req: HttpRequest) => Promise<HttpResponse>,
  ): AsyncGenerator<z.output<S>, void, undefined> {
    for await (const batch of this.ndjsonBatches(req, schema, opts, sender)) yield* batch;
  }

  /** `ndjson` one array per received chunk, for layers that pass listings along. */
  async *ndjsonBatches<S extends z.ZodType>(
    req: HttpRequest,
    schema: S,
    opts?: Partial<NdjsonOptions<S>>,
    sender: (req: HttpRequest) => Promise<HttpResponse> = (r) => this.send(r),
  ): AsyncGenerator<z.output<S>[], void, undefined> {
    const idempotent = req.idempotent ?? IDEMPOTENT.has(req.method);
    const maxReopen = req.retry === false || !idempotent ? 0 : (req.retry?.retries ?? this.policy.retries);
    for (let reopen = 0; ; reopen++) {
      const res = await sender(req);
      let yielded = 0;
      try {
        for await (const batch of res.ndjsonBatches(schema, opts)) {
          yielded += batch.length;
          yield batch;
        }
        return;
      } catch (e) {
        const code = (e as ClientError).code;
        if (yielded === 0 && reopen < maxReopen && (code === "HTTP_CONNECTION" || code === "HTTP_TIMEOUT")) {
          const delay = backoffDelay(this.policy, reopen);
          this.retrying(req, e as ClientError, reopen, { ...this.policy, retries: maxReopen }, delay, Infinity);
          await this.pause(delay, req);
          continue;
        }
        throw e;
      }
    }
  }

  /** Closes the pooled connections (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  // --- internals -------------------------------------------------------------------------------

  /** The request's URL, after refusing what must not be sent (dot segments, NUL bytes, broken header values). */
  private checkedUrl(req: HttpRequest): URL {
    const query: [string, string][] = [];
    if (req.query) {
      const entries = req.query instanceof URLSearchParams ? [...req.query.entries()] : Object.entries(req.query);
      for (const [k, v] of entries) for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined && x !== null) query.push([k, String(x)]);
    }
    const problem = requestProblem({ path: req.path, query, headers: this.requestHeaders(req), what: req.what });
    if (problem) throw this.createError({ ...problem, method: req.method });
    return this.url(req.path, req.query);
  }

  /** Logs a retry and tells every listener (client option, request option, async context); also for transfers' own retries. */
  retrying(req: HttpRequest, err: ClientError, attempt: number, policy: RetryPolicy, delayMs: number, deadline: number): void {
    this.log("warn", `${err.message} Retrying in ${delayMs} ms.`);
    const event: RetryEvent = {
      service: this.service,
      what: req.what,
      reason: err.message,
      code: err.code,
      status: err.status,
      attempt: attempt + 2,
      maxAttempts: policy.retries + 1,
      delayMs,
      deadline: Number.isFinite(deadline) ? deadline : undefined,
    };
    for (const listener of new Set([this.opts.onRetry, req.onRetry, currentRetryListener()])) {
      try {
        listener?.(event);
      } catch {
        // A failing display must not break the request.
      }
    }
  }

  private isExpected(req: HttpRequest, status: number): boolean {
    const e = req.expectStatus;
    if (!e) return status >= 200 && status < 300;
    return typeof e === "function" ? e(status) : e.includes(status);
  }

  private requestHeaders(req: HttpRequest): Record<string, string> {
    const headers: Record<string, string> = {
      "user-agent": this.opts.userAgent ?? "vre-ts",
      accept: "*/*",
      ...lower(this.opts.defaultHeaders),
    };
    for (const [k, v] of Object.entries(req.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
    return headers;
  }

  private async dispatch(url: URL, req: HttpRequest, headersTimeout?: number): Promise<Dispatcher.ResponseData> {
    const headers = this.requestHeaders(req);
    let body: string | Uint8Array | Readable | AsyncIterable<Uint8Array> | undefined;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers["content-type"] ??= "application/json";
    } else if (typeof req.body === "function") {
      body = req.body();
    } else {
      body = req.body;
    }
    const t = req.timeouts ?? {};
    return this.dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: req.method,
      headers,
      body: body as Dispatcher.DispatchOptions["body"],
      signal: req.signal,
      headersTimeout: headersTimeout ?? t.headersMs,
      bodyTimeout: t.bodyMs,
    });
  }

  private wrap(res: Dispatcher.ResponseData, req: HttpRequest, shownUrl: string, ctx: Parameters<typeof classifyTransportError>[1]): HttpResponse {
    return new HttpResponse({
      status: res.statusCode,
      headers: res.headers as ResponseHeaders,
      body: res.body as unknown as Readable & AsyncIterable<Buffer>,
      method: req.method,
      url: shownUrl,
      what: req.what,
      service: this.service,
      createError: (init) => this.createError(init),
      maxBodyBytes: this.opts.maxBodyBytes ?? 64 * 1024 * 1024,
      maxLineBytes: this.opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      onBodyError: (e) => (e instanceof ClientError ? e : this.createError(classifyTransportError(e, { ...ctx, midStream: true }))),
    });
  }

  private async statusError(res: HttpResponse, req: HttpRequest, retryAfterMs: number | undefined, ambiguous: boolean): Promise<ClientError> {
    let bodyText = "";
    try {
      bodyText = await res.text(1024 * 1024);
    } catch {
      // An oversized or broken error body: keep the status alone.
    }
    const input: StatusErrorInput = {
      status: res.status,
      headers: res.headers,
      bodyText,
      method: req.method,
      url: res.url,
      what: req.what,
      request: req,
      retryAfterMs,
    };
    // Every service answers 431 the same way, and its bare status tells nobody what to change.
    if (res.status === 431) return this.createError(headersTooLarge(input, this.url(req.path, req.query).toString().length, this.requestHeaders(req)));
    const mapped = this.opts.mapStatusError?.(input);
    if (mapped) return mapped;
    return this.createError(genericStatusError(input, ambiguous));
  }

  private async waitForRateLimit(origin: string, policy: RetryPolicy, req: HttpRequest, shownUrl: string, deadline = Infinity): Promise<void> {
    const until = this.rateGate.get(origin);
    if (until === undefined) return;
    const wait = until - Date.now();
    if (wait <= 0) {
      this.rateGate.delete(origin);
      return;
    }
    if (wait > policy.maxWaitMs || until >= deadline) {
      throw this.createError({
        code: "HTTP_RATE_LIMITED",
        method: req.method,
        url: shownUrl,
        message: `The ${this.service} rate limit is exhausted for ${Math.ceil(wait / 1000)} s more (${req.what}).`,
        hint: `Wait until ${new Date(until).toISOString()} and try again.`,
        retriable: true,
        retryAfterMs: wait,
      });
    }
    this.log("info", `Rate limit exhausted; waiting ${wait} ms before ${req.method} ${shownUrl}.`);
    await this.pause(wait, req);
    this.rateGate.delete(origin);
  }

  private async pause(ms: number, req: HttpRequest): Promise<void> {
    try {
      await sleep(ms, req.signal);
    } catch (e) {
      throw this.createError({
        code: "HTTP_ABORTED",
        method: req.method,
        message: `Cancelled: ${req.what}.`,
        hint: "The operation was interrupted; run it again when ready.",
        cause: e,
      });
    }
  }
}

/** A signal that aborts when `ms` have passed or `outer` aborts; `fired()` tells which. */
function deadlineGuard(ms: number, outer: AbortSignal | undefined): { signal: AbortSignal; fired: () => boolean; clear: () => void } {
  const ac = new AbortController();
  let fired = false;
  // A long deadline must not become a 1 ms one: longTimeout splits waits over setTimeout's 2^31-1 ms.
  const timer = longTimeout(() => {
    fired = true;
    ac.abort(new Error("The request's deadline passed."));
  }, Math.max(0, ms));
  return {
    signal: outer ? anySignal(outer, ac.signal) : ac.signal,
    fired: () => fired,
    clear: () => timer.clear(),
  };
}

function lower(h: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = v;
  return out;
}

/**
 * 431 Request Header Fields Too Large: the request line (URL with its query) or a header (a token, a cookie, a proxy
 * certificate) is over the server's or proxy's limit. Says which part is largest, never its value.
 */
export function headersTooLarge(input: StatusErrorInput, urlBytes: number, headers: Record<string, string>): ClientErrorInit {
  const [name, size] = Object.entries(headers)
    .map(([k, v]) => [k, Buffer.byteLength(v)] as const)
    .sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
  const total = Object.entries(headers).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v) + 4, 0);
  const urlLarger = urlBytes >= size;
  return {
    status: 431,
    method: input.method,
    url: input.url,
    code: "HTTP_HEADERS_TOO_LARGE",
    message:
      `The server refused the request as too large (431 Request Header Fields Too Large) for ${input.what}: ` +
      `the URL is ${urlBytes} bytes, the headers ${total} bytes in all, the largest being ${name} (${size} bytes).`,
    hint: urlLarger
      ? "The URL is the largest part: shorten the query (fewer or shorter names, filters or patterns), or split the request. A token sent in the query string (REANA) counts too."
      : `The ${name} header is the largest part: a token, cookie or certificate that has grown too large (e.g. an OIDC token with many groups); get a smaller one or ask the service operators about the header size limit.`,
  };
}

/** The fallback error for a status no service mapping claimed. */
export function genericStatusError(input: StatusErrorInput, ambiguous = false): ClientErrorInit {
  const { status, method, url, what } = input;
  const base = { status, method, url, retryAfterMs: input.retryAfterMs };
  if (status === 429) {
    return {
      ...base,
      code: "HTTP_RATE_LIMITED",
      message: `Too many requests to the server (${what}).`,
      hint: input.retryAfterMs !== undefined ? `Wait ${Math.ceil(input.retryAfterMs / 1000)} s and try again.` : "Wait a minute and try again.",
      retriable: true,
    };
  }
  if (status === 502 || status === 503 || status === 504) {
    return {
      ...base,
      code: ambiguous && status !== 503 ? "HTTP_OUTCOME_UNKNOWN" : "HTTP_UNAVAILABLE",
      message: `The server is unavailable (${status}) for ${what}.`,
      hint: ambiguous && status !== 503 ? "Check the current state before trying again: the request may have been carried out." : "Try again in a few minutes.",
      retriable: true,
      outcomeUnknown: ambiguous && status !== 503,
    };
  }
  const snippet = input.bodyText.trim().slice(0, 200);
  return {
    ...base,
    code: "HTTP_STATUS",
    message: `Unexpected answer ${status} for ${what}${snippet && !snippet.startsWith("<") ? `: ${snippet}` : ""}.`,
    hint: status >= 500 ? "The server failed; try again later or report it to the service operators." : "Check the request arguments.",
  };
}

/**
 * Runs a non-idempotent operation at most once per real effect. When `attempt` fails in a way that leaves
 * the outcome unknown (connection lost after sending, 502/504), `didItHappen` looks at the server state
 * (e.g. lists the DID's rules); if it finds the effect it returns the result, otherwise the attempt is
 * safe to make again. The same check runs before re-sending after a transient server failure (503).
 * Failures where nothing was done (429, connection refused) are retried after their delay; everything
 * else is rethrown. At most `retries` (default 2) extra attempts.
 */
export async function submitOnce<T>(
  attempt: () => Promise<T>,
  didItHappen: (error: ClientError) => Promise<T | undefined>,
  opts: { retries?: number; signal?: AbortSignal; policy?: Partial<RetryPolicy>; what?: string; onRetry?: RetryListener } = {},
): Promise<T> {
  checkRetryPolicy(opts.policy, "policy");
  checkOption(opts.retries, "retries", RETRIES_RANGE);
  const policy = { ...DEFAULT_RETRY, ...opts.policy };
  const retries = opts.retries ?? 2;
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof ClientError) || n >= retries) throw e;
      // Provably not carried out: refused before sending, or rate-limited. Anything else that may be
      // transient (lost answer, 502/503/504) is checked against the server state first.
      const notDone = e.code === "HTTP_RATE_LIMITED" || (e.code === "HTTP_CONNECTION" && !e.outcomeUnknown);
      if (!notDone) {
        if (!e.outcomeUnknown && !e.retriable) throw e;
        const found = await didItHappen(e);
        if (found !== undefined) return found;
      }
      const delay = e.retryAfterMs ?? backoffDelay(policy, n);
      if (delay > policy.maxWaitMs) throw e;
      const event: RetryEvent = { service: e.service, what: opts.what ?? "the request", reason: e.message, code: e.code, status: e.status, attempt: n + 2, maxAttempts: retries + 1, delayMs: delay };
      for (const listener of new Set([opts.onRetry, currentRetryListener()])) {
        try {
          listener?.(event);
        } catch {
          // A failing display must not break the request.
        }
      }
      await sleep(delay, opts.signal);
    }
  }
}
