/** How a widget shows a failure: the error's message, Zenodo's field errors if any, then the hint, on one line. */
import type { ClientError } from "../clients/errors";

export function errorText(e: unknown): string {
  const err = e as (Partial<ClientError> & Error & { fieldErrors?: { message: string }[] }) | undefined;
  const fields = err?.fieldErrors?.length ? ` (${err.fieldErrors.map((f) => f.message).join("; ")})` : "";
  return [`${err?.message ?? String(e)}${fields}`, err?.hint].filter(Boolean).join(" ");
}
