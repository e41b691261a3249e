/**
 * DIDs attached to a notebook as variables, as the Rucio JupyterLab extension attaches them: the notebook's
 * metadata holds `"vre-ts" → attachments: [{ did, variable }]` (the dataset browser writes it), and a kernel
 * started for that notebook declares `const VARIABLE: string[]` with the local paths of the DID's files before the
 * first cell runs. Paths come from the mounted destination RSE (replica mode) or, failing that, from a copy
 * downloaded into the notebook's folder (download mode, `%rucio download` puts files at FOLDER/scope/name).
 * Only attachments.ts' reading part is loaded at kernel start; the Rucio client is loaded when a notebook has some.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import type { RucioClient } from "../clients/rucio";
import { downloadTarget } from "../clients/rucio/paths";
import { METADATA_KEY } from "./record";

export interface Attachment {
  /** scope:name */
  did: string;
  /** A TypeScript identifier the kernel declares as `const VARIABLE: string[]`. */
  variable: string;
}

/** Where an attachment's files are here, or why they are not. */
export type ResolvedAttachment = (Attachment & { ok: true; paths: string[]; from: "mounted" | "downloaded" }) | (Attachment & { ok: false; problem: string });

const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in " +
    "instanceof new null return super switch this throw true try typeof var void while with as implements interface let package private " +
    "protected public static yield await any boolean number string symbol undefined never unknown object bigint type of declare"
  ).split(" "),
);

/** Why `name` cannot be an attachment's variable, or undefined when it can. */
export function variableProblem(name: string): string | undefined {
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) return `"${name}" is not a TypeScript identifier (letters, digits, _ and $, not starting with a digit)`;
  if (RESERVED.has(name)) return `"${name}" is a reserved word in TypeScript`;
  return undefined;
}

/** A variable name for a DID: its name with other characters as `_` ("open:dimuon-sim.v1" → "dimuon_sim_v1"). */
export function defaultVariableName(did: string): string {
  const name = did.includes(":") ? did.slice(did.indexOf(":") + 1) : did;
  let v = name.replace(/[^A-Za-z0-9_$]+/g, "_").replace(/^_+|_+$/g, "") || "data";
  if (/^[0-9]/.test(v)) v = `_${v}`;
  return variableProblem(v) ? `${v}_` : v;
}

const attachmentSchema = z.object({ did: z.string().regex(/^[^:\s]+:\S+$/), variable: z.string() });

/**
 * The attachments saved in a notebook file, with a problem line for each entry that cannot be used (bad shape,
 * invalid or repeated variable). A notebook without attachments gives none; an unreadable one gives one problem.
 */
export function readAttachments(notebookFile: string): { attachments: Attachment[]; problems: string[] } {
  let raw: unknown;
  try {
    raw = (JSON.parse(readFileSync(notebookFile, "utf8")) as { metadata?: Record<string, { attachments?: unknown }> }).metadata?.[METADATA_KEY]?.attachments;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { attachments: [], problems: [] };
    return { attachments: [], problems: [`cannot read the attached DIDs of ${notebookFile}: ${(e as Error).message}`] };
  }
  if (raw === undefined) return { attachments: [], problems: [] };
  if (!Array.isArray(raw)) return { attachments: [], problems: ['metadata "vre-ts" → attachments is not a list; no DID is attached'] };
  const attachments: Attachment[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of raw) {
    const parsed = attachmentSchema.safeParse(entry);
    if (!parsed.success) {
      problems.push(`attachment ${JSON.stringify(entry)} is not { did: "scope:name", variable: "name" }; skipped`);
      continue;
    }
    const { did, variable } = parsed.data;
    const bad = variableProblem(variable) ?? (seen.has(variable) ? `"${variable}" is used by another attachment` : undefined);
    if (bad) {
      problems.push(`attachment ${did}: ${bad}; skipped`);
      continue;
    }
    seen.add(variable);
    attachments.push({ did, variable });
  }
  return { attachments, problems };
}

/**
 * Finds the files of an attached DID here: all of them AVAILABLE on the mounted destination RSE, else all of them
 * downloaded into `folder` (FOLDER/scope/name). Never throws: a DID that is not here says how to bring it.
 */
export async function resolveAttachment(client: RucioClient, a: Attachment, folder: string, signal?: AbortSignal): Promise<ResolvedAttachment> {
  const rse = client.settings.destinationRse;
  let mountProblem = "";
  try {
    if (rse && client.settings.mountPath) {
      const rows = await client.localPaths(a.did, { rse, signal });
      const missing = rows.filter((f) => !f.path || (f.state && f.state !== "AVAILABLE"));
      if (rows.length && !missing.length) return { ...a, ok: true, paths: rows.map((f) => f.path!), from: "mounted" };
      mountProblem = rows.length ? `${missing.length} of ${rows.length} files not available on ${rse}` : `not available on ${rse}`;
    }
    const files: { did: string }[] = [];
    for await (const f of client.dids.files(a.did, { signal })) files.push({ did: `${f.scope}:${f.name}` });
    if (!files.length) return { ...a, ok: false, problem: `${a.did} has no files` };
    const downloaded = files.map((f) => {
      const i = f.did.indexOf(":");
      return downloadTarget(folder, f.did.slice(0, i), f.did.slice(i + 1));
    });
    if (downloaded.every((p) => existsSync(p))) return { ...a, ok: true, paths: downloaded, from: "downloaded" };
    const how = rse && client.settings.mountPath ? `%rucio make-available ${a.did} --wait, or %rucio download ${a.did}` : `%rucio download ${a.did}`;
    return { ...a, ok: false, problem: `${mountProblem ? `${mountProblem} and` : ""} not downloaded here; run ${how}, then restart the kernel` };
  } catch (e) {
    const err = e as Error & { hint?: string };
    return { ...a, ok: false, problem: `${err.message}${err.hint ? ` ${err.hint}` : ""}` };
  }
}

/** The TypeScript that declares the resolved attachments (one `const NAME: string[]` each). */
export function declarationCell(resolved: ResolvedAttachment[]): string {
  return resolved
    .filter((r): r is Extract<ResolvedAttachment, { ok: true }> => r.ok)
    .map((r) => `/** Files of ${r.did} (attached to this notebook). */\nconst ${r.variable}: string[] = ${JSON.stringify(r.paths)};`)
    .join("\n");
}

/** The one stderr line for an attachment that could not be declared. */
export function problemLine(r: Extract<ResolvedAttachment, { ok: false }>): string {
  return `vre-ts: attached DID ${r.did} is not declared as ${r.variable}: ${r.problem.replace(/\s+/g, " ").trim()}`;
}

/**
 * What a kernel started for `notebookFile` runs before its first cell: the declarations and one line per problem.
 * Loads the session (and the Rucio client) only when the notebook has attachments.
 */
export async function attachmentStartup(notebookFile: string, signal?: AbortSignal): Promise<{ code: string; problems: string[]; resolved: ResolvedAttachment[] }> {
  const { attachments, problems } = readAttachments(notebookFile);
  const lines = problems.map((p) => `vre-ts: ${p}`);
  if (!attachments.length) return { code: "", problems: lines, resolved: [] };
  let resolved: ResolvedAttachment[];
  try {
    const { session } = await import("./index");
    const s = session();
    const client = await s.rucio();
    resolved = [];
    for (const a of attachments) {
      const r = await resolveAttachment(client, a, dirname(notebookFile), signal);
      resolved.push(r);
      // The notebook reads these files: the provenance log says so, as it does for %rucio paths and downloads.
      if (r.ok) s.provenance.record({ action: "read", kind: "did", service: "rucio", id: r.did, via: "notebook attachment", endpoint: client.settings.host, paths: r.paths, details: { variable: r.variable, from: r.from } });
    }
  } catch (e) {
    const err = e as Error & { hint?: string };
    resolved = attachments.map((a) => ({ ...a, ok: false as const, problem: `Rucio is not reachable: ${err.message}${err.hint ? ` ${err.hint}` : ""}` }));
  }
  for (const r of resolved) if (!r.ok) lines.push(problemLine(r));
  atStart = resolved;
  return { code: declarationCell(resolved), problems: lines, resolved };
}

/** What this kernel resolved when it started (empty when the notebook attached nothing or it has not run). */
let atStart: ResolvedAttachment[] = [];

/** The kernel's start-up tells what it could declare (a declaration cell that failed to compile declares none). */
export function noteDeclared(resolved: ResolvedAttachment[]): void {
  atStart = resolved;
}

/** One row per attachment of the notebook as saved, with what this kernel made of it. */
export interface AttachmentRow {
  variable: string;
  did: string;
  /** e.g. "declared: 4 files on the mounted RSE", "not declared: …", "saved after this kernel started: restart the kernel" */
  here: string;
}

export function attachmentRows(notebookFile: string): { rows: AttachmentRow[]; problems: string[] } {
  const { attachments, problems } = readAttachments(notebookFile);
  const rows = attachments.map((a): AttachmentRow => {
    const r = atStart.find((x) => x.did === a.did && x.variable === a.variable);
    if (!r) return { ...a, here: "not declared: attached after this kernel started; restart the kernel" };
    if (!r.ok) return { ...a, here: `not declared: ${r.problem}` };
    const n = `${r.paths.length} file${r.paths.length === 1 ? "" : "s"}`;
    return { ...a, here: `declared: ${n} ${r.from === "mounted" ? "on the mounted RSE" : "downloaded here"}` };
  });
  return { rows, problems };
}
