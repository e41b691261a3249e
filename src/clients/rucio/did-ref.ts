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

const SCOPE_RE = /^[A-Za-z0-9_.-]+$/;
// Whitespace and control characters are in no Rucio naming schema, and "." / ".." path segments would make a DID
// name a relative path on storage and on disk.
const BAD_NAME_CHAR = /[\s\u0000-\u001f\u007f]/;

/**
 * What is wrong with a DID written by a user, or undefined when it can be sent. Follows what every Rucio naming
 * schema shares (the generic schema's scope characters; names without blanks and without "." or ".." segments),
 * so names of VOs with wider schemas (CMS's "/store/...#block") still pass.
 */
export function didProblem(did: DidRef): string | undefined {
  const { scope, name } = did;
  if (!scope) return "the scope is empty";
  if (scope === "." || scope === ".." || !SCOPE_RE.test(scope)) return `${JSON.stringify(clip(scope))} is not a scope (letters, digits, '.', '-' and '_')`;
  if (!name) return "the name is empty";
  if (BAD_NAME_CHAR.test(name)) return `the name ${JSON.stringify(clip(name))} contains a blank or a control character`;
  if (name.split("/").some((seg) => seg === "." || seg === "..")) return `the name ${JSON.stringify(clip(name))} is a relative path ("." or ".."), not a DID name`;
  return undefined;
}

/** Parses and checks a user's DID; a bad one is a RUCIO_INVALID_REQUEST that says why, before any request. */
export function checkedDid(did: string | DidRef, defaultScope?: string): DidRef {
  const d = parseDid(did, defaultScope);
  const problem = didProblem(d);
  if (problem) {
    throw new RucioError({
      code: "RUCIO_INVALID_REQUEST",
      message: `${JSON.stringify(clip(formatDid(d)))} is not a valid DID: ${problem}.`,
      hint: "Write DIDs as scope:name, e.g. user.jdoe:dataset1.",
    });
  }
  return d;
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}… (${s.length - 120} more characters)` : s;
}
