/**
 * What a deposit carries of the notebook's research record: the notebook itself and its RO-Crate (written with the
 * draft's reserved DOI, so the crate names the record it lives in), and `related_identifiers` that point from the
 * DOI back to where the results came from: `isDerivedFrom` the DOIs of the Rucio DIDs the notebook read (their
 * `doi` metadata), `isSupplementTo` the notebook in the record.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CRATE_FILE, type CrateDeposit, writeCrate } from "./crate";
import type { ProvenanceLog } from "./provenance";

export interface RelatedIdentifier {
  identifier: string;
  relation: string;
  scheme?: string;
  resource_type?: string;
}

/** The DIDs the deposit's results were made from: those read in this kernel session, else in the last one that read any. */
export function inputDids(log: ProvenanceLog): string[] {
  const reads = log.entries({ service: "rucio", kind: "did", action: "read" });
  const current = reads.filter((e) => e.session === log.session);
  const lastSession = reads.at(-1)?.session;
  const chosen = current.length ? current : reads.filter((e) => e.session === lastSession);
  return [...new Set(chosen.map((e) => e.id))];
}

/** Related identifiers merged into those the metadata already has (no duplicates). */
export function mergeRelated(existing: unknown, extra: RelatedIdentifier[]): RelatedIdentifier[] {
  const out = Array.isArray(existing) ? ([...existing] as RelatedIdentifier[]) : [];
  for (const r of extra) {
    if (!out.some((o) => o && o.identifier === r.identifier && o.relation === r.relation)) out.push(r);
  }
  return out;
}

/** Where a file of a Zenodo record is published: `{site}/records/{recid}/files/{name}`. */
export function recordFileUrl(apiBase: string, recid: number | string, name: string): string {
  return `${apiBase.replace(/\/api\/?$/, "")}/records/${recid}/files/${encodeURIComponent(name)}`;
}

export interface DepositRecordOptions {
  log: ProvenanceLog;
  notebook: string;
  /** The deposit's metadata (title, licence, creators... go into the crate). */
  metadata: Record<string, unknown>;
  /** The DOI of a DID from its Rucio metadata, if it has one (errors count as none). */
  doiOf?: (did: string) => Promise<string | undefined>;
}

/** Where the crate of a deposit is written: next to the deposit's progress, not over the notebook folder's crate. */
export function depositCrateFile(notebook: string): string {
  return path.join(path.dirname(notebook), ".vre-ts", "deposits", `${path.basename(notebook, ".ipynb")}.ro-crate`, CRATE_FILE);
}

/** Local path → name in the deposit, for the crate's data entities. */
function depositLayout(files: Array<{ local: string; name: string }>): Map<string, string> {
  return new Map(files.filter((f) => f.name !== CRATE_FILE).map((f) => [path.resolve(f.local), f.name]));
}

/**
 * The notebook and its crate as deposit files, given the files listed for the deposit. The crate describes the
 * deposit's own (flat) layout: the deposited files are its parts, by their names in the deposit.
 */
export async function recordFiles(opts: DepositRecordOptions & { listed: Array<{ local: string; name: string }> }): Promise<Array<{ local: string; name: string }>> {
  const crate = depositCrateFile(opts.notebook);
  const extra = [
    { local: opts.notebook, name: path.basename(opts.notebook) },
    { local: crate, name: CRATE_FILE },
  ].filter((e) => !opts.listed.some((f) => f.name === e.name));
  await writeCrate({ notebook: opts.notebook, record: opts.log.toRecord(), dir: path.dirname(crate), layout: depositLayout([...opts.listed, ...extra]), deposit: crateDeposit(opts.metadata) });
  return extra;
}

function crateDeposit(m: Record<string, unknown>, doi?: string, conceptDoi?: string): CrateDeposit {
  const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
  return {
    title: str(m.title),
    description: str(m.description)?.replace(/<[^>]+>/g, ""),
    license: str(m.license),
    creators: Array.isArray(m.creators) ? (m.creators as CrateDeposit["creators"]) : undefined,
    keywords: Array.isArray(m.keywords) ? (m.keywords as string[]) : undefined,
    doi,
    conceptDoi,
  };
}

/**
 * Once the draft exists: rewrite the crate with its reserved DOI and return the metadata with the related
 * identifiers added.
 */
export async function prepareRecordDeposit(
  opts: DepositRecordOptions & {
    apiBase: string;
    draft: { id: number; conceptrecid?: string | number | null; metadata?: { prereserve_doi?: unknown } };
    /** Every file of the deposit (listed and attached). */
    files: Array<{ local: string; name: string }>;
  },
): Promise<Record<string, unknown>> {
  const reserved = (opts.draft.metadata?.prereserve_doi ?? {}) as { doi?: string; recid?: number };
  const recid = reserved.recid ?? opts.draft.id;
  const crate = depositCrateFile(opts.notebook);
  await writeCrate({ notebook: opts.notebook, record: opts.log.toRecord(), dir: path.dirname(crate), layout: depositLayout(opts.files), deposit: crateDeposit(opts.metadata, reserved.doi) });
  const related: RelatedIdentifier[] = [];
  for (const did of inputDids(opts.log).slice(0, 100)) {
    const doi = await opts.doiOf?.(did).catch(() => undefined);
    if (doi) related.push({ identifier: doi, relation: "isDerivedFrom", scheme: "doi", resource_type: "dataset" });
  }
  if (fs.existsSync(opts.notebook)) {
    related.push({ identifier: recordFileUrl(opts.apiBase, recid, path.basename(opts.notebook)), relation: "isSupplementTo", scheme: "url", resource_type: "software" });
  }
  return { ...opts.metadata, related_identifiers: mergeRelated(opts.metadata.related_identifiers, related) };
}

/** The notebook's record as a deposit attachment: the files to add, and what to do once the draft exists. */
export interface RecordAttachment {
  notebook: string;
  /** The crate that goes into the deposit. */
  crateFile: string;
  /** The files to add to those listed (and writes the crate for them). */
  files(metadata: Record<string, unknown>, listed: Array<{ local: string; name: string }>): Promise<Array<{ local: string; name: string }>>;
  /** Once the draft exists: the crate with its DOI, and the metadata with related identifiers. */
  prepare(draft: Parameters<typeof prepareRecordDeposit>[0]["draft"], metadata: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export function recordAttachment(log: ProvenanceLog, notebook: string, apiBase: string, doiOf?: (did: string) => Promise<string | undefined>): RecordAttachment {
  let all: Array<{ local: string; name: string }> = [];
  return {
    notebook,
    crateFile: depositCrateFile(notebook),
    async files(metadata, listed) {
      const extra = await recordFiles({ log, notebook, metadata, listed });
      all = [...listed, ...extra];
      return extra;
    },
    prepare: (draft, metadata) => prepareRecordDeposit({ log, notebook, metadata, doiOf, apiBase, draft, files: all }),
  };
}
