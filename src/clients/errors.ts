/**
 * Shared error base for every service client (Rucio, REANA, Zenodo).
 *
 * Every failure a client reports is an instance of its service's subclass of `ClientError`
 * (RucioError, ReanaError, ZenodoError), so `catch (e) { if (e instanceof RucioError) ... }` catches
 * transport failures too. What went wrong is in the stable `code` (tests and magics branch on it,
 * never on the message); `hint` tells the user what to do next; `cause` keeps the low-level error.
 *
 * Messages, hints and causes are passed through the redactor on construction, so a token or password
 * that slipped into a message never reaches an output, a log line or a stack trace.
 */
import { redact, redactError } from "./http/redact";

/** Codes produced by the shared HTTP core; service errors add their own (RUCIO_*, REANA_*, ZENODO_*). */
export type HttpErrorCode =
  | "HTTP_TIMEOUT" // connect, headers or body timeout
  | "HTTP_CONNECTION" // refused, reset, DNS, socket closed (also mid-stream)
  | "HTTP_TLS" // certificate problem, bad CA/client certificate file
  | "HTTP_ABORTED" // the caller's AbortSignal fired (kernel interrupt, widget closed)
  | "HTTP_MALFORMED_RESPONSE" // not JSON, bad NDJSON line, failed schema validation
  | "HTTP_RESPONSE_TOO_LARGE" // answer or NDJSON line over the configured cap
  | "HTTP_RATE_LIMITED" // 429 after retries, or a Retry-After longer than we are willing to wait
  | "HTTP_UNAVAILABLE" // 502/503/504 after retries
  | "HTTP_OUTCOME_UNKNOWN" // a non-idempotent request failed after it may have reached the server
  | "HTTP_STATUS" // any other unexpected status the service did not map
  | "HTTP_CHECKSUM_MISMATCH" // transferred bytes do not match the expected checksum or size
  | "HTTP_IO" // local file system error during a transfer
  | "HTTP_INVALID_ARGUMENT" // refused before sending: a `.`/`..` path segment, a NUL byte, a line break in a header, an option out of range (interval, timeout, deadline)
  | "HTTP_HEADERS_TOO_LARGE" // 431: the URL or a header (token, cookie) is over the server's limit
  | "CONFIG_MISSING" // a required setting is not configured
  | "CONFIG_INVALID"; // a setting or config file cannot be used

export interface ClientErrorInit {
  code: string;
  message: string;
  /** What the user should do next ("Run %vre login rucio", "Check the RSE name with %rucio list-rses"). */
  hint?: string;
  /** Service name: "rucio", "reana", "zenodo", or "http" for the bare core. */
  service?: string;
  /** HTTP status, when the server answered. */
  status?: number;
  method?: string;
  /** Request URL, already redacted. */
  url?: string;
  cause?: unknown;
  /** True when a non-idempotent request may or may not have taken effect. */
  outcomeUnknown?: boolean;
  /** True when the failure is transient and the same request may succeed later. */
  retriable?: boolean;
  /** Retry-After in milliseconds, when the server sent one. */
  retryAfterMs?: number;
  /** Extra structured detail (field errors, NDJSON line number, ...); must hold no secrets. */
  details?: Record<string, unknown>;
}

function redactDeep(v: unknown, depth = 0): unknown {
  if (typeof v === "string") return redact(v);
  if (depth > 4 || v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactDeep(x, depth + 1)]));
}

export class ClientError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly service: string;
  readonly status?: number;
  readonly method?: string;
  readonly url?: string;
  readonly outcomeUnknown: boolean;
  readonly retriable: boolean;
  readonly retryAfterMs?: number;
  readonly details?: Record<string, unknown>;

  constructor(init: ClientErrorInit) {
    super(redact(init.message), init.cause === undefined ? undefined : { cause: redactError(init.cause) });
    this.name = new.target.name;
    this.code = init.code;
    this.hint = init.hint === undefined ? undefined : redact(init.hint);
    this.service = init.service ?? "http";
    this.status = init.status;
    this.method = init.method;
    this.url = init.url === undefined ? undefined : redact(init.url);
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.retriable = init.retriable ?? false;
    this.retryAfterMs = init.retryAfterMs;
    this.details = init.details === undefined ? undefined : (redactDeep(init.details) as Record<string, unknown>);
  }

  /** One-paragraph text for notebook output: message, then the hint. */
  describe(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      hint: this.hint,
      service: this.service,
      status: this.status,
      method: this.method,
      url: this.url,
      outcomeUnknown: this.outcomeUnknown || undefined,
      details: this.details,
    };
  }
}

/** Errors of the bare HTTP core (used when a service does not supply its own error factory). */
export class HttpError extends ClientError {}

/** Errors of configuration resolution (profiles, rucio.cfg, config.json). */
export class ConfigError extends ClientError {
  constructor(init: Omit<ClientErrorInit, "service"> & { service?: string }) {
    super({ service: "config", ...init });
  }
}

/** Builds a service error from the shared init; each service passes its own subclass constructor. */
export type ErrorFactory = (init: ClientErrorInit) => ClientError;

export function isClientError(e: unknown): e is ClientError {
  return e instanceof ClientError;
}
