/**
 * Rucio errors. Every failure of the Rucio client is a `RucioError` (transport failures included), with
 * a stable `code`, the server's `exceptionClass`/`exceptionMessage` when it sent them, and a hint.
 *
 * The server reports errors as a JSON body {"ExceptionClass","ExceptionMessage"} plus the same two values
 * as headers (the header message is cut to 125 characters); the body is preferred. Note that Rucio uses
 * 401 both for "cannot authenticate" (re-login may help) and for "AccessDenied" (a permission problem).
 */
import { ClientError, type ClientErrorInit } from "../errors";
import { redact } from "../http/redact";
import type { StatusErrorInput } from "../http/client";
import { genericStatusError } from "../http/client";

export type RucioErrorCode =
  | "RUCIO_AUTH" // CannotAuthenticate: bad credentials, expired or invalid token
  | "RUCIO_TOKEN_EXPIRED" // the configured bearer token has expired and cannot be renewed here
  | "RUCIO_FORBIDDEN" // AccessDenied (401 on Rucio): the account lacks a permission
  | "RUCIO_ACCOUNT_AMBIGUOUS" // the identity maps to several accounts; choose one
  | "RUCIO_DID_NOT_FOUND"
  | "RUCIO_RULE_NOT_FOUND"
  | "RUCIO_RSE_NOT_FOUND"
  | "RUCIO_SCOPE_NOT_FOUND"
  | "RUCIO_ACCOUNT_NOT_FOUND"
  | "RUCIO_REPLICA_NOT_FOUND"
  | "RUCIO_NOT_FOUND"
  | "RUCIO_ALREADY_EXISTS" // DataIdentifierAlreadyExists, Duplicate, ...
  | "RUCIO_DUPLICATE_RULE"
  | "RUCIO_QUOTA" // InsufficientAccountLimit
  | "RUCIO_NO_TARGET_RSE" // InsufficientTargetRSEs
  | "RUCIO_INVALID_RSE_EXPRESSION"
  | "RUCIO_INVALID_FILTER" // DID search filter rejected (client- or server-side)
  | "RUCIO_INVALID_REQUEST" // 400/500 schema and value errors (InvalidObject, ValueError, ...)
  | "RUCIO_UNSUPPORTED_OPERATION"
  | "RUCIO_CHECKSUM_CONFLICT" // FileConsistencyMismatch
  | "RUCIO_UNSUPPORTED_CONTENT_TYPE" // 406
  | "RUCIO_NOT_SUPPORTED" // 405: endpoint absent on this server version
  | "RUCIO_PROTOCOL_NOT_SUPPORTED" // no usable transfer protocol for an RSE / replica
  | "RUCIO_NO_REPLICA" // download: no replica reachable from here
  | "RUCIO_NO_DESTINATION" // no RSE given and none configured to make data available on
  | "RUCIO_RULE_STUCK" // a followed rule went STUCK or SUSPENDED
  | "RUCIO_NOT_AVAILABLE" // files not (yet) on the mounted destination RSE
  | "RUCIO_UNAVAILABLE" // 503 DatabaseException etc.
  | "RUCIO_SERVER"; // other server failures

export class RucioError extends ClientError {
  /** Rucio's exception class name, e.g. "DataIdentifierNotFound". */
  readonly exceptionClass?: string;
  /** The server's full message. */
  readonly exceptionMessage?: string;

  constructor(init: Omit<ClientErrorInit, "service"> & { service?: string; exceptionClass?: string; exceptionMessage?: string }) {
    super({ service: "rucio", ...init });
    this.exceptionClass = init.exceptionClass;
    // The server's message can quote what it received (headers, URLs): redact it like every other text.
    this.exceptionMessage = init.exceptionMessage === undefined ? undefined : redact(init.exceptionMessage);
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), exceptionClass: this.exceptionClass, exceptionMessage: this.exceptionMessage };
  }
}

export const createRucioError = (init: ClientErrorInit): ClientError => new RucioError(init);

interface Mapping {
  code: RucioErrorCode;
  hint: string;
  retriable?: boolean;
}

const BY_CLASS: Record<string, Mapping> = {
  CannotAuthenticate: {
    code: "RUCIO_AUTH",
    hint: "Check the credentials of your Rucio profile (username/password, token or certificate), or get a fresh token.",
  },
  AccessDenied: {
    code: "RUCIO_FORBIDDEN",
    hint: "Your account is not allowed to do this; use a scope or RSE you have rights on (e.g. user.<account>), or ask the Rucio admins.",
  },
  DataIdentifierNotFound: { code: "RUCIO_DID_NOT_FOUND", hint: "Check the scope and name (search with wildcards: `%rucio search scope:name*`)." },
  RuleNotFound: { code: "RUCIO_RULE_NOT_FOUND", hint: "Check the rule id (`%rucio list-rules scope:name` lists a DID's rules)." },
  RSENotFound: { code: "RUCIO_RSE_NOT_FOUND", hint: "Check the RSE name (`%rucio list-rses` lists them)." },
  ScopeNotFound: { code: "RUCIO_SCOPE_NOT_FOUND", hint: "Check the scope name (`%rucio list-scopes` lists them)." },
  AccountNotFound: { code: "RUCIO_ACCOUNT_NOT_FOUND", hint: "Check the account name in your profile." },
  ReplicaNotFound: { code: "RUCIO_REPLICA_NOT_FOUND", hint: "The file has no replica there; list its replicas first." },
  KeyNotFound: { code: "RUCIO_NOT_FOUND", hint: "Check the metadata key." },
  RSEAttributeNotFound: { code: "RUCIO_NOT_FOUND", hint: "Check the RSE attribute name." },
  DataIdentifierAlreadyExists: { code: "RUCIO_ALREADY_EXISTS", hint: "Choose another name, or use the existing DID." },
  Duplicate: { code: "RUCIO_ALREADY_EXISTS", hint: "It already exists." },
  ReplicaAlreadyExists: { code: "RUCIO_ALREADY_EXISTS", hint: "The replica is already registered." },
  FileAlreadyExists: { code: "RUCIO_ALREADY_EXISTS", hint: "The file is already registered." },
  DuplicateRule: { code: "RUCIO_DUPLICATE_RULE", hint: "An identical rule already exists; list the DID's rules to find it." },
  InsufficientAccountLimit: {
    code: "RUCIO_QUOTA",
    hint: "Your account has no (or not enough) quota on that RSE; choose another RSE or ask for a limit.",
  },
  InsufficientTargetRSEs: { code: "RUCIO_NO_TARGET_RSE", hint: "Not enough RSEs match the expression for the copies requested." },
  InvalidRSEExpression: { code: "RUCIO_INVALID_RSE_EXPRESSION", hint: "Check the RSE expression (e.g. `CERN-EOS`, `site=CERN`, `tier=1&type=DISK`)." },
  DIDFilterSyntaxError: { code: "RUCIO_INVALID_FILTER", hint: "Write filters as `key op value`, `,` for AND and `;` for OR, e.g. `run_number>100,datatype=AOD`." },
  InvalidMetadata: { code: "RUCIO_INVALID_FILTER", hint: "This server cannot filter on that metadata key; use DID columns (name, length, created_after, ...) or ask the admins." },
  UnsupportedOperation: { code: "RUCIO_UNSUPPORTED_OPERATION", hint: "The server refused the operation; check the arguments (e.g. the DID type)." },
  FileConsistencyMismatch: { code: "RUCIO_CHECKSUM_CONFLICT", hint: "The file is registered with different checksums/size." },
  UnsupportedRequestedContentType: { code: "RUCIO_UNSUPPORTED_CONTENT_TYPE", hint: "The client sent an Accept header the endpoint does not offer; please report it." },
  RSEProtocolNotSupported: { code: "RUCIO_PROTOCOL_NOT_SUPPORTED", hint: "The RSE offers no protocol for this operation from here." },
  DatabaseException: { code: "RUCIO_UNAVAILABLE", hint: "The Rucio server is overloaded; try again in a minute.", retriable: true },
  InvalidObject: { code: "RUCIO_INVALID_REQUEST", hint: "The server rejected the request body; check the arguments." },
  InvalidValueForKey: { code: "RUCIO_INVALID_REQUEST", hint: "Check the value given for that key." },
  InvalidType: { code: "RUCIO_INVALID_REQUEST", hint: "Check the DID type." },
  InvalidPath: { code: "RUCIO_INVALID_REQUEST", hint: "Check the path." },
  ValueError: { code: "RUCIO_INVALID_REQUEST", hint: "Check the arguments." },
  KeyError: { code: "RUCIO_INVALID_REQUEST", hint: "A required argument is missing." },
  UnsupportedValueType: { code: "RUCIO_INVALID_REQUEST", hint: "Check the value types." },
};

function header(h: StatusErrorInput["headers"], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Extracts ExceptionClass/ExceptionMessage from the body, falling back to the headers. */
export function rucioExceptionOf(input: Pick<StatusErrorInput, "headers" | "bodyText">): { cls?: string; msg?: string } {
  const text = input.bodyText.trim();
  if (text.startsWith("{")) {
    try {
      const j = JSON.parse(text) as Record<string, unknown>;
      if (typeof j.ExceptionClass === "string") {
        return { cls: j.ExceptionClass, msg: typeof j.ExceptionMessage === "string" ? j.ExceptionMessage : undefined };
      }
    } catch {
      // fall through to headers
    }
  }
  return { cls: header(input.headers, "exceptionclass"), msg: header(input.headers, "exceptionmessage") };
}

function firstLine(s: string, max = 300): string {
  const line = s.split("\n")[0].trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** mapStatusError for Rucio's HttpClient. */
export function mapRucioStatus(input: StatusErrorInput): ClientError {
  const { status, method, url, what } = input;
  const { cls, msg } = rucioExceptionOf(input);
  const base = { status, method, url, exceptionClass: cls, exceptionMessage: msg, retryAfterMs: input.retryAfterMs };
  if (cls) {
    const m = BY_CLASS[cls];
    const code: RucioErrorCode = m?.code ?? (status >= 500 ? "RUCIO_SERVER" : status === 404 ? "RUCIO_NOT_FOUND" : "RUCIO_INVALID_REQUEST");
    return new RucioError({
      ...base,
      code,
      message: `Rucio refused to ${what}: ${cls}: ${firstLine(msg ?? "(no message)")}`,
      hint: m?.hint ?? (status >= 500 ? "The Rucio server failed; try again later or report it." : "Check the arguments."),
      retriable: m?.retriable ?? status === 503,
    });
  }
  if (status === 405) {
    return new RucioError({
      ...base,
      code: "RUCIO_NOT_SUPPORTED",
      message: `The Rucio server does not support this request (${method} ${what}): 405 Method Not Allowed.`,
      hint: "The server runs a version without this endpoint.",
    });
  }
  if (status === 404) {
    return new RucioError({ ...base, code: "RUCIO_NOT_FOUND", message: `Not found on the Rucio server: ${what}.`, hint: "Check the server URL and the names." });
  }
  if (status === 500) {
    return new RucioError({
      ...base,
      code: "RUCIO_SERVER",
      message: `The Rucio server failed to ${what} (500, no details).`,
      hint: "This often means the server lacks a feature for this request (e.g. JSON metadata on SQLite); try a simpler query, or report it.",
    });
  }
  const generic = genericStatusError(input);
  return new RucioError({ ...base, ...generic, code: generic.code as string });
}
