/**
 * REANA errors. Every failure of the REANA client is a `ReanaError` (a `ClientError` with service "reana"),
 * including transport failures from the shared HTTP core, so one `instanceof` check catches them all.
 */
import { ClientError, type ClientErrorInit } from "../errors";
import type { SourcePosition } from "./source";

export type ReanaErrorCode =
  | "REANA_AUTH" // no token, unknown / revoked token
  | "REANA_NOT_FOUND" // workflow, file or user not found
  | "REANA_REJECTED" // the server refused a logic operation (already running, quota exceeded, …): 403 / 409
  | "REANA_INVALID_REQUEST" // 400: the server found the request or the specification invalid
  | "REANA_SERVER" // 5xx that is not a transient unavailability
  | "REANA_SPEC_INVALID" // reana.yaml fails validation (offline)
  | "REANA_SPEC_FORMAT" // reana.yaml or a workflow file cannot be read or parsed
  | "REANA_UNSAFE_PATH" // an upload/download path that would escape its folder
  | "REANA_WORKFLOW_FAILED" // follow(): the workflow ended in failed/stopped/deleted (when asked to throw)
  | "REANA_NOT_SUPPORTED"; // the server does not implement this operation

export class ReanaError extends ClientError {
  constructor(init: Omit<ClientErrorInit, "service"> & { service?: string }) {
    super({ service: "reana", ...init });
  }
}

/** A reana.yaml problem found before anything is sent. */
export class ReanaSpecError extends ReanaError {
  readonly position?: SourcePosition;

  constructor(
    message: string,
    options: { hint?: string; position?: SourcePosition; code?: ReanaErrorCode; details?: Record<string, unknown> } = {},
  ) {
    super({ code: options.code ?? "REANA_SPEC_FORMAT", message, hint: options.hint, details: options.details });
    this.position = options.position;
  }
}

export const createReanaError = (init: ClientErrorInit): ClientError => new ReanaError(init);
