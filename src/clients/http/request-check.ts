/**
 * Checks a request before anything is sent: user input (a workflow name, a DID, a file name) must never change
 * which endpoint a request reaches, and must never reach undici in a form it rejects with a bare TypeError.
 *
 * - Path segments `.` and `..` (also percent-encoded, `%2E%2E`) are refused. The WHATWG URL parser resolves them,
 *   and so do proxies such as nginx after decoding, so `workflows/../../rucio/ping` would reach another endpoint;
 *   encoding cannot make them safe, so the request is refused with a clear error.
 * - NUL bytes anywhere in the path, query or a header value, and CR/LF in a header value, are refused.
 */
import type { ClientErrorInit } from "../errors";

export interface CheckedRequest {
  path: string;
  query?: Iterable<[string, string]>;
  headers?: Record<string, string>;
  what: string;
}

/** The path part of a relative request path or an absolute URL (no scheme, host, query or fragment). */
function pathPart(path: string): string {
  const noScheme = path.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "");
  return noScheme.split(/[?#]/, 1)[0];
}

function decodeDots(segment: string): string {
  return segment.replace(/%2e/gi, ".");
}

/** The first problem of a request, as error fields (code HTTP_INVALID_ARGUMENT), or undefined when it is fine. */
export function requestProblem(req: CheckedRequest): Omit<ClientErrorInit, "service"> | undefined {
  const refuse = (why: string, hint: string): Omit<ClientErrorInit, "service"> => ({
    code: "HTTP_INVALID_ARGUMENT",
    message: `Refusing to ${req.what}: ${why}; nothing was sent.`,
    hint,
  });
  const nul = /\0|%00/i;
  const p = pathPart(req.path);
  if (nul.test(p)) return refuse("a name in it contains a NUL byte", "Remove the NUL (\\0) character from the argument.");
  // WHATWG URLs treat "\" as "/" in http(s) paths, so both separate segments.
  for (const segment of p.split(/[/\\]|%2f|%5c/i)) {
    const s = decodeDots(segment);
    if (s === "." || s === "..") {
      return refuse(
        `a name in it is "${s}", which would address another resource`,
        "Names (workflow, scope, file, id) cannot be `.` or `..`; check the argument.",
      );
    }
  }
  for (const [k, v] of req.query ?? []) {
    if (k.includes("\0") || v.includes("\0")) return refuse(`the value of "${k.replace(/\0/g, "\\0")}" contains a NUL byte`, "Remove the NUL (\\0) character from the argument.");
  }
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    // Never quote the value: headers carry tokens.
    if (/[\0\r\n]/.test(v)) return refuse(`the ${k} header contains a NUL or line-break character`, "Check the setting or argument that fills this header (e.g. a token pasted with a line break).");
  }
  return undefined;
}
