/** DID references: "scope:name" strings or {scope, name} objects. */
import { RucioError } from "./errors";

export interface DidRef {
  scope: string;
  name: string;
}

/** Parses "scope:name" (the name may itself contain ':' or '/'). */
export function parseDid(did: string | DidRef, defaultScope?: string): DidRef {
  if (typeof did !== "string") return { scope: did.scope, name: did.name };
  const i = did.indexOf(":");
  if (i > 0) return { scope: did.slice(0, i), name: did.slice(i + 1) };
  if (defaultScope && did.length) return { scope: defaultScope, name: did };
  throw new RucioError({
    code: "RUCIO_INVALID_REQUEST",
    message: `"${did}" is not a DID: expected scope:name.`,
    hint: "Write DIDs as scope:name, e.g. user.jdoe:dataset1.",
  });
}

export function formatDid(d: DidRef): string {
  return `${d.scope}:${d.name}`;
}
