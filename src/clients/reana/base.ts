/**
 * The REANA base client: server URL, the access token (sent ONLY as the `access_token` query parameter, which is
 * the only way REANA accepts it, and masked in every message), TLS, and the mapping of REANA's `{"message": …}`
 * error bodies to `ReanaError` codes with hints. Resource modules (workflows, workspace, secrets) sit on top.
 */
import type { z } from "zod";
import { HttpClient, type HttpRequest, type StatusErrorInput, type Timeouts } from "../http/client";
import type { Logger } from "../http/log";
import { registerSecret } from "../http/redact";
import type { RetryPolicy } from "../http/retry";
import type { Dispatcher } from "undici";
import type { ClientError } from "../errors";
import type { ReanaSettings } from "../config/types";
import { ReanaError } from "./errors";

export type { ReanaSettings };

export interface ReanaClientOptions {
  logger?: Logger;
  timeouts?: Timeouts;
  retry?: Partial<RetryPolicy>;
  /** Inject an undici dispatcher (tests). */
  dispatcher?: Dispatcher;
  userAgent?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

function serverMessage(bodyText: string): string | undefined {
  try {
    const body = JSON.parse(bodyText) as unknown;
    if (body && typeof body === "object" && !Array.isArray(body) && typeof (body as { message?: unknown }).message === "string") {
      return (body as { message: string }).message;
    }
    if (Array.isArray(body)) return undefined;
  } catch {
    // not JSON (an HTML error page from a proxy)
  }
  const t = bodyText.trim();
  return t && !t.startsWith("<") ? t.slice(0, 300) : undefined;
}

const AUTH_MESSAGES = /token|signed in|not authori[sz]ed|unauthori[sz]ed|credentials|login/i;

/** REANA error answer → ReanaError. 429 and 502-504 are left to the core (retries, HTTP_* codes). */
export function mapReanaStatus(input: StatusErrorInput): ClientError | undefined {
  const { status, method, url, what } = input;
  if (status === 429 || status === 502 || status === 503 || status === 504) return undefined;
  const said = serverMessage(input.bodyText);
  const base = { status, method, url };
  const text = said ? `${said}` : `REANA answered ${status}`;
  if (status === 401 || (status === 403 && said !== undefined && AUTH_MESSAGES.test(said) && !/quota/i.test(said))) {
    return new ReanaError({
      ...base,
      code: "REANA_AUTH",
      message: `REANA refused the access token (${what}): ${text}.`,
      hint: "Check REANA_ACCESS_TOKEN (or the accessToken of your profile): copy a valid token from your REANA profile page.",
    });
  }
  if (status === 404) {
    return new ReanaError({ ...base, code: "REANA_NOT_FOUND", message: `Not found (${what}): ${text}.`, hint: "Check the workflow name or id (`name.run` or UUID) and the file path." });
  }
  if (status === 403 || status === 409) {
    return new ReanaError({
      ...base,
      code: "REANA_REJECTED",
      message: `REANA refused to ${what}: ${text}.`,
      hint: /quota/i.test(text)
        ? "Free some space (delete old workflows with their workspace) or ask the administrators for a larger quota."
        : /already exist/i.test(text)
          ? "Use overwrite to replace it."
          : "Check the workflow's current status; the operation is not allowed in that state.",
    });
  }
  if (status === 400) {
    return new ReanaError({ ...base, code: "REANA_INVALID_REQUEST", message: `REANA rejected the request to ${what}: ${text}.`, hint: "Fix the request as the message says." });
  }
  if (status === 501) {
    return new ReanaError({ ...base, code: "REANA_NOT_SUPPORTED", message: `This REANA server does not support that (${what}): ${text}.` });
  }
  if (status >= 500) {
    return new ReanaError({ ...base, code: "REANA_SERVER", message: `REANA failed to ${what} (${status}): ${text}.`, hint: "A server-side problem; try again later or contact the REANA administrators.", retriable: true });
  }
  return undefined;
}

export class ReanaBase {
  readonly http: HttpClient;
  readonly settings: Readonly<ReanaSettings>;
  private readonly token?: string;

  constructor(settings: ReanaSettings, options: ReanaClientOptions = {}) {
    this.settings = { ...settings };
    this.token = settings.accessToken?.trim() || undefined;
    registerSecret(this.token);
    // REANA_SERVER_URL is the server root (https://reana.cern.ch); tolerate a pasted ".../api".
    const root = settings.serverUrl.trim().replace(/\/+$/, "").replace(/\/api$/, "");
    this.http = new HttpClient({
      service: "reana",
      baseUrl: `${root}/api/`,
      tls: { caFile: settings.caCert, insecure: settings.insecure },
      timeouts: options.timeouts,
      retry: options.retry,
      logger: options.logger,
      dispatcher: options.dispatcher,
      userAgent: options.userAgent ?? "vre-ts (reana)",
      createError: (init) => new ReanaError(init),
      mapStatusError: mapReanaStatus,
    });
  }

  /** Server root URL as configured (no token in it). */
  get serverUrl(): string {
    return this.settings.serverUrl.trim().replace(/\/+$/, "").replace(/\/api$/, "");
  }

  /** Adds `access_token` to the query. */
  authQuery(query: Record<string, unknown> = {}, what = "call REANA"): Record<string, string | number | boolean | (string | number)[] | undefined> {
    if (!this.token) {
      throw new ReanaError({
        code: "REANA_AUTH",
        message: `No REANA access token is configured (needed to ${what}).`,
        hint: "Set REANA_ACCESS_TOKEN, or pass accessToken in the REANA settings/profile.",
      });
    }
    return { ...(query as Record<string, string>), access_token: this.token };
  }

  /** An authenticated request returning a zod-validated JSON answer. */
  async call<S extends z.ZodType>(req: Omit<HttpRequest, "query"> & { query?: Record<string, unknown> }, schema: S): Promise<z.output<S>> {
    return this.http.json({ ...req, query: this.authQuery(req.query, req.what) as HttpRequest["query"] }, schema);
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}

/** `encodeURIComponent` per path segment (workflow names, workspace paths keep their `/`). */
export function encodePath(p: string): string {
  return p
    .split("/")
    .map((s) => encodeURIComponent(s))
    .join("/");
}
