/** Turns low-level (undici, node:net, node:tls, AbortSignal) failures into ClientError fields. */
import type { ClientErrorInit } from "../errors";

/** Failures that happen before a request byte reaches the server: always safe to repeat. */
const BEFORE_SEND = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
]);

const CONNECTION = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
  "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH",
  "ERR_STREAM_PREMATURE_CLOSE",
  ...BEFORE_SEND,
]);

const TIMEOUT = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

function codeOf(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === "object"; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === "string") return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS") ||
    code.startsWith("ERR_SSL") ||
    code.includes("CERT") ||
    code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
    code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" ||
    code === "ERR_OSSL_PEM_NO_START_LINE"
  );
}

export function isAbortError(e: unknown): boolean {
  if (!e || typeof e !== "object") return false;
  const name = (e as { name?: string }).name;
  const code = codeOf(e);
  return name === "AbortError" || code === "UND_ERR_ABORTED" || code === "ABORT_ERR";
}

export interface TransportContext {
  service: string;
  method: string;
  url: string; // redacted
  what: string; // "list replicas of test:dataset1"
  host: string;
  /** Whether any response byte was already consumed (mid-stream failures). */
  midStream?: boolean;
}

/** Classifies a thrown transport error. `beforeSend` tells the retry logic it is always safe to repeat. */
export function classifyTransportError(
  e: unknown,
  ctx: TransportContext,
): ClientErrorInit & { beforeSend: boolean } {
  const base = { service: ctx.service, method: ctx.method, url: ctx.url, cause: e };
  const code = codeOf(e) ?? "";
  if (isAbortError(e)) {
    return {
      ...base,
      code: "HTTP_ABORTED",
      message: `Cancelled: ${ctx.what}.`,
      hint: "The operation was interrupted; run it again when ready.",
      beforeSend: false,
    };
  }
  if (TIMEOUT.has(code)) {
    const phase =
      code === "UND_ERR_CONNECT_TIMEOUT" ? "connecting to" : code === "UND_ERR_HEADERS_TIMEOUT" ? "waiting for an answer from" : "reading the answer from";
    return {
      ...base,
      code: "HTTP_TIMEOUT",
      message: `Timed out ${phase} ${ctx.host} (${ctx.what}).`,
      hint: "The server is slow or unreachable; try again later, or raise the timeout in the client options.",
      retriable: true,
      outcomeUnknown: code !== "UND_ERR_CONNECT_TIMEOUT",
      beforeSend: code === "UND_ERR_CONNECT_TIMEOUT",
    };
  }
  if (isTlsCode(code)) {
    return {
      ...base,
      code: "HTTP_TLS",
      message: `TLS failure talking to ${ctx.host} (${ctx.what}): ${code}.`,
      hint: "Check the CA file (ca_cert / caCert) and, for x509, the client certificate and key paths.",
      beforeSend: true,
    };
  }
  if (CONNECTION.has(code) || (e instanceof Error && /socket|closed|reset|ECONN/i.test(e.message))) {
    const before = BEFORE_SEND.has(code);
    return {
      ...base,
      code: "HTTP_CONNECTION",
      message: ctx.midStream
        ? `The connection to ${ctx.host} broke while reading the answer (${ctx.what}); the result is incomplete.`
        : before
          ? `Cannot connect to ${ctx.host} (${ctx.what}): ${code}.`
          : `The connection to ${ctx.host} was lost (${ctx.what}): ${code || "socket closed"}.`,
      hint: before
        ? "Check the server URL in your profile and that the service is reachable from here."
        : "A network or server hiccup; run the command again.",
      retriable: true,
      outcomeUnknown: !before,
      beforeSend: before,
    };
  }
  return {
    ...base,
    code: "HTTP_CONNECTION",
    message: `Request failed (${ctx.what}): ${e instanceof Error ? e.message : String(e)}`,
    hint: "Check the server URL and your network; run the command again.",
    outcomeUnknown: true,
    beforeSend: false,
  };
}
