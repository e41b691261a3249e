/**
 * Zenodo errors. Every failure of the Zenodo client is a `ZenodoError` (a `ClientError` with service "zenodo"),
 * including transport failures from the shared HTTP core.
 */
import { ClientError, type ClientErrorInit } from "../errors";

export type ZenodoErrorCode =
  | "ZENODO_AUTH" // 401: missing/invalid token; 403 on a scope problem
  | "ZENODO_FORBIDDEN" // 403: not allowed (published deposition, missing scope, not the owner)
  | "ZENODO_NOT_FOUND" // 404 / 410
  | "ZENODO_VALIDATION" // metadata invalid (offline, or the server's field errors)
  | "ZENODO_CONFLICT" // 409: the deposition is being processed; retry later
  | "ZENODO_INVALID_REQUEST" // 400 / 405 / 415 without field errors
  | "ZENODO_SERVER" // 5xx
  | "ZENODO_ALREADY_PUBLISHED" // publish() on a deposition that is already published
  | "ZENODO_CHECKSUM_MISMATCH" // the md5 Zenodo computed differs from the bytes we sent
  | "ZENODO_CODEMETA"; // codemeta.json cannot be converted

export interface FieldError {
  /** Zenodo's own field notation: `metadata.creators.0.name`. */
  field: string;
  message: string;
}

export class ZenodoError extends ClientError {
  /** Field-level problems, from offline validation or from the server's `errors` array. */
  readonly fieldErrors: FieldError[];

  constructor(init: Omit<ClientErrorInit, "service"> & { service?: string; fieldErrors?: FieldError[] }) {
    super({
      service: "zenodo",
      ...init,
      details: init.fieldErrors?.length ? { ...(init.details ?? {}), fieldErrors: init.fieldErrors } : init.details,
    });
    this.fieldErrors = init.fieldErrors ?? [];
  }
}

export const createZenodoError = (init: ClientErrorInit): ClientError => new ZenodoError(init);
