/**
 * The HTTP core shared by the Rucio, REANA and Zenodo clients.
 *
 * How a service client uses it (the pattern of the Rucio Python client: one base client per service that
 * alone owns hosts, auth, retries and error mapping, plus one small module per REST resource):
 *
 * ```ts
 * // zenodo/base.ts
 * export class ZenodoError extends ClientError {}               // one error class per service
 * export class ZenodoBase {
 *   readonly http = new HttpClient({
 *     service: "zenodo",
 *     baseUrl: settings.baseUrl,                                // path prefix kept: ".../api/"
 *     tls: { caFile },                                          // optional CA / client cert (x509)
 *     createError: (init) => new ZenodoError(init),             // transport errors become ZenodoError too
 *     mapStatusError: (r) => new ZenodoError({ code: "ZENODO_VALIDATION", status: r.status,
 *        message: ..., hint: ... }),                            // turn the server's error body into a code + hint
 *     logger,                                                   // gets redacted lines only
 *   });
 *   constructor(...) { registerSecret(settings.token); }        // the token is masked everywhere from now on
 *   get<S extends z.ZodType>(path: string, schema: S, what: string, o?: { signal?: AbortSignal }) {
 *     return this.http.json({ method: "GET", path, what, signal: o?.signal,
 *       headers: { authorization: `Bearer ${token}` } }, schema);   // zod-validated, typed
 *   }
 * }
 * // zenodo/depositions.ts — one module per resource, one short method per endpoint
 * export const create = (b: ZenodoBase, o) => submitOnce(
 *   () => b.http.json({ method: "POST", path: "deposit/depositions", json: {}, what: "create a deposition" }, Deposition),
 *   async () => undefined);   // "did it happen?": look for the deposition we may have created
 * ```
 *
 * What the core guarantees:
 *  - `HttpClient.send(req)` → `HttpResponse` (headers arrived, body unread). One undici Agent per client,
 *    i.e. a keep-alive Pool per origin (a separate auth host gets its own). Connect/headers/body timeouts,
 *    CA file, client cert/key. `req.signal` cancels the request at any stage, including retry waits.
 *  - Retries: exponential back-off with jitter on 429/502/503/504 and connection failures, for idempotent
 *    requests only (GET/HEAD/PUT/DELETE, or `idempotent: true`). Retry-After is honoured; X-RateLimit-
 *    Remaining: 0 holds the next request to that origin until X-RateLimit-Reset. A POST/PATCH is only
 *    re-sent when nothing reached the server (connection refused, connect timeout); otherwise it fails with
 *    `outcomeUnknown` (code HTTP_OUTCOME_UNKNOWN for lost connections) and `submitOnce(attempt, didItHappen)`
 *    lets the service check the server state before any new attempt.
 *  - Bodies: `res.json(schema)` (JSON whatever the Content-Type, capped by maxBodyBytes, zod-validated),
 *    `res.text()`, `res.ndjson(schema)` / `http.ndjson(req, schema)` (constant-memory NDJSON iterator;
 *    malformed line → HTTP_MALFORMED_RESPONSE with the line number; oversized → HTTP_RESPONSE_TOO_LARGE),
 *    `res.dump()`, or pipe `res.body` yourself.
 *  - Unexpected statuses go through `mapStatusError` (service-specific) and fall back to HTTP_* codes; 431 always
 *    becomes HTTP_HEADERS_TOO_LARGE saying whether the URL or which header is too large.
 *  - Before sending: a `.`/`..` path segment (even `%2E%2E`), a NUL byte in the path, query or a header, or a line
 *    break in a header is refused (HTTP_INVALID_ARGUMENT), so user input never reaches another endpoint.
 *  - A deadline bounds each request until its answer's headers, retries included (`deadlineMs`, default 120 s);
 *    every retry is announced to `onRetry` listeners and to the async context's `withRetryListener`.
 *  - Transfers: `downloadToFile` (atomic `.part` + verify + fsync + rename, resume with Range),
 *    `uploadFile` (streamed PUT, checksummed while read), `copyLocalFile`, `checksumFile`.
 *  - Redaction: `registerSecret(value)` for every token/password you load; `redact(text)` is applied to
 *    every error message, hint and log line by the core itself.
 */
export * from "./client";
export { setAmbientSignal, withAmbientSignal } from "./ambient-signal";
export * from "./response";
export * from "./ndjson";
export * from "./validate";
export * from "./retry";
export * from "./durations";
export * from "./retry-events";
export { requestProblem } from "./request-check";
export * from "./redact";
export * from "./log";
export * from "./checksum";
export * from "./transfer";
export { classifyTransportError, isAbortError } from "./classify";
export * from "../errors";
