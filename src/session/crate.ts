/**
 * The notebook's research record as an RO-Crate 1.1 (`ro-crate-metadata.json`), following the Workflow Run Crate
 * and Provenance Run Crate profiles (https://w3id.org/ro/wfrun/) where they fit:
 *
 * - the notebook is the main entity (a ComputationalWorkflow written in TypeScript), its record file a part;
 * - every kernel session that ran it is a CreateAction (instrument: the notebook; object: the Rucio DIDs it read,
 *   identified with their checksums, and the parameters; result: what it produced, the Zenodo deposit included),
 *   orchestrated by vre-ts (an OrganizeAction, as the Provenance Run Crate has the engine);
 * - every REANA run is a step: a CreateAction whose instrument is its reana.yaml, whose object is each uploaded
 *   input (sha256, md5, and the DID it came from) and whose result is each downloaded output (md5);
 * - a deposit's DOI and concept DOI are identifiers of the published result (and of the crate's root when the
 *   crate is written for that deposit).
 *
 * The JSON-LD is built with the `ro-crate` library; ./crate-profile.ts checks the profiles' required properties.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { ROCrate as ROCrateClass } from "ro-crate";
import { writeFileAtomic } from "../jupyter-client/notebook";
import type { ProvenanceEntry } from "./provenance";
import { type RecordSession, type ResearchRecord, environmentFacts, notebookDigest } from "./record";

export const CRATE_FILE = "ro-crate-metadata.json";
export const RO_CRATE_1_1 = "https://w3id.org/ro/crate/1.1";
export const PROFILES = {
  process: "https://w3id.org/ro/wfrun/process/0.5",
  workflow: "https://w3id.org/ro/wfrun/workflow/0.5",
  provenance: "https://w3id.org/ro/wfrun/provenance/0.5",
  workflowRoCrate: "https://w3id.org/workflowhub/workflow-ro-crate/1.0",
} as const;
const COMPUTATIONAL_WORKFLOW = "https://bioschemas.org/profiles/ComputationalWorkflow/1.0-RELEASE";

/** A Zenodo deposit the crate belongs to (its root gets the DOI). */
export interface CrateDeposit {
  doi?: string;
  conceptDoi?: string;
  url?: string;
  title?: string;
  description?: string;
  license?: string;
  creators?: Array<{ name: string; orcid?: string; affiliation?: string }>;
  keywords?: string[];
}

export interface CrateOptions {
  /** The notebook (absolute path). */
  notebook: string;
  record: ResearchRecord;
  /** The crate's folder (default: the notebook's). Paths in the crate are relative to it. */
  dir?: string;
  /** The deposit this crate is for (title, licence, creators, DOI); else taken from the record's last publication. */
  deposit?: CrateDeposit;
  /** The record file, listed as a part of the crate when it is inside the crate's folder. */
  recordFile?: string;
  /**
   * A crate for another layout than the notebook's folder, e.g. a Zenodo deposit (a flat list of files): local
   * path → name in that layout. Local files without a name there are described but not parts of the crate.
   */
  layout?: Map<string, string>;
  now?: Date;
}

type Json = Record<string, unknown>;
const ref = (id: string) => ({ "@id": id });
const safeId = (s: string) => s.replace(/[^A-Za-z0-9._:\-/]/g, "_");

/** A schema.org PropertyValue with a local id (so the library keeps it as its own entity, not `entity-N`). */
function identifier(owner: string, propertyID: string, value: string): Json {
  return { "@id": `#${safeId(owner)}-${propertyID}`, "@type": "PropertyValue", propertyID, value };
}

/** Zenodo's licence ids are SPDX ids in lower case. */
const SPDX: Record<string, string> = { "cc-by-4.0": "CC-BY-4.0", "cc-by-sa-4.0": "CC-BY-SA-4.0", "cc0-1.0": "CC0-1.0", "mit": "MIT", "apache-2.0": "Apache-2.0", "bsd-3-clause": "BSD-3-Clause", "gpl-3.0": "GPL-3.0-only", "gpl-3.0-or-later": "GPL-3.0-or-later" };
function spdxOf(id: string): string {
  return SPDX[id.toLowerCase()] ?? id;
}

function doiUrl(doi: string): string {
  return doi.startsWith("http") ? doi : `https://doi.org/${doi}`;
}

/** The notebook's title and first paragraph, from its first markdown cell. */
function describeNotebook(file: string): { title?: string; description?: string; digest?: string; codeCells?: number } {
  try {
    const nb = JSON.parse(fs.readFileSync(file, "utf8")) as { cells: Array<{ cell_type: string; source: string | string[] }> };
    const md = nb.cells.find((c) => c.cell_type === "markdown");
    const text = md ? (Array.isArray(md.source) ? md.source.join("") : md.source) : "";
    const title = /^#\s+(.+)$/m.exec(text)?.[1]?.trim();
    const paragraph = text
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .find((p) => p && !p.startsWith("#"));
    const digest = notebookDigest(nb);
    return { title, description: paragraph?.replace(/\s*\n\s*/g, " "), digest: digest.sha256, codeCells: digest.codeCells };
  } catch {
    return {};
  }
}

function actionStatus(status: string | undefined): string | undefined {
  if (!status) return undefined;
  if (status === "finished") return "http://schema.org/CompletedActionStatus";
  if (status === "failed" || status === "stopped" || status === "deleted") return "http://schema.org/FailedActionStatus";
  return "http://schema.org/ActiveActionStatus";
}

/** The last publication in the record, as a deposit. */
export function lastPublishedDeposit(record: ResearchRecord): CrateDeposit | undefined {
  const pub = [...record.entries].reverse().find((e) => e.action === "publish" && e.kind === "deposit" && e.doi);
  if (!pub) return undefined;
  const d = (pub.details ?? {}) as Json;
  const m = (d.metadata ?? {}) as Json;
  const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
  return {
    doi: pub.doi,
    conceptDoi: str(d.conceptDoi),
    url: str(d.recordUrl),
    title: str(m.title) ?? pub.label,
    license: str(m.license),
    creators: Array.isArray(m.creators) ? (m.creators as CrateDeposit["creators"]) : undefined,
    keywords: Array.isArray(m.keywords) ? (m.keywords as string[]) : undefined,
  };
}

/** Builds the crate's JSON-LD (nothing is written). */
export function buildCrate(opts: CrateOptions): Json {
  const dir = path.resolve(opts.dir ?? path.dirname(opts.notebook));
  const layout = opts.layout ? new Map([...opts.layout].map(([k, v]) => [path.resolve(k), v])) : undefined;
  const rel = (p: string) => {
    if (layout) return layout.get(path.resolve(p));
    const r = path.relative(dir, p).split(path.sep).join("/");
    return r && !r.startsWith("..") && !path.isAbsolute(r) ? r : undefined;
  };
  const now = opts.now ?? new Date();
  // Paths in a record are absolute, or relative to the notebook's folder in a record saved in notebook metadata.
  const local = (p: string) => path.resolve(path.dirname(opts.notebook), p);
  const { record } = opts;
  const facts = record.sessions.at(-1)?.environment ?? environmentFacts();
  const about = describeNotebook(opts.notebook);
  const deposit = opts.deposit;
  const notebookId = rel(opts.notebook) ?? path.basename(opts.notebook);

  // Loaded on first use: importing vre-ts (every notebook does) should not pay for the library (~35 ms).
  const { ROCrate } = require("ro-crate") as { ROCrate: typeof ROCrateClass };
  const crate = new ROCrate(
    {
      "@context": [`${RO_CRATE_1_1}/context`],
      "@graph": [
        { "@id": CRATE_FILE, "@type": "CreativeWork", about: ref("./"), conformsTo: [ref(RO_CRATE_1_1), ref(PROFILES.workflowRoCrate)] },
        { "@id": "./", "@type": "Dataset" },
      ],
    },
    { array: false, link: false, duplicate: false },
  );
  const add = (e: Json) => {
    if (!crate.getEntity(e["@id"] as string)) crate.addEntity(e);
    return ref(e["@id"] as string);
  };
  const root = crate.rootDataset as Json;
  const parts: Array<{ "@id": string }> = [];
  const mentions: Array<{ "@id": string }> = [];

  // Who and what ran it.
  const typescript = add({ "@id": "#typescript", "@type": "ComputerLanguage", name: "TypeScript", alternateName: "TS", url: ref("https://www.typescriptlang.org/"), version: facts.typescript });
  const vreTs = add({
    "@id": "#vre-ts",
    "@type": "SoftwareApplication",
    name: "vre-ts",
    description: "TypeScript Jupyter kernel (on tslab) and toolkit for Rucio, REANA and Zenodo",
    softwareVersion: facts.vreTs,
    softwareRequirements: [
      add({ "@id": "#tslab", "@type": "SoftwareApplication", name: "tslab", softwareVersion: facts.tslab }),
      add({ "@id": "#nodejs", "@type": "SoftwareApplication", name: "Node.js", softwareVersion: facts.node }),
    ],
  });

  // The notebook: the main entity, a workflow whose steps are its REANA runs.
  const notebookEntity: Json = {
    "@id": notebookId,
    "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
    name: about.title ?? path.basename(opts.notebook),
    encodingFormat: "application/x-ipynb+json",
    programmingLanguage: typescript,
    conformsTo: ref(COMPUTATIONAL_WORKFLOW),
    ...(fs.existsSync(opts.notebook) ? { contentSize: String(fs.statSync(opts.notebook).size) } : {}),
    ...(about.digest ? { identifier: [add(identifier(notebookId, "code-sha256", about.digest))] } : {}),
  };
  crate.addEntity(notebookEntity);
  parts.push(ref(notebookId));
  if (opts.recordFile && rel(opts.recordFile) && fs.existsSync(opts.recordFile)) {
    const id = rel(opts.recordFile)!;
    add({ "@id": id, "@type": "File", name: "Provenance record (JSON lines, one kernel session header then its entries)", encodingFormat: "application/x-ndjson", about: ref(notebookId) });
    parts.push(ref(id));
  }

  const fileEntity = (local: string | undefined, fallbackId: string, props: Json): { "@id": string } => {
    // A file in the crate's folder is a data entity by its path; anything else (gone, elsewhere) a local # entity.
    const id = (local && fs.existsSync(local) && rel(local)) || `#${safeId(fallbackId)}`;
    const existing = crate.getEntity(id) as Json | undefined;
    if (existing) return ref(id);
    add({ "@id": id, "@type": "File", ...props });
    if (!id.startsWith("#")) parts.push(ref(id));
    return ref(id);
  };

  const steps: Array<{ "@id": string }> = [];
  const bySession = new Map<string, ProvenanceEntry[]>();
  for (const e of record.entries) {
    const key = e.session ?? "";
    if (!bySession.has(key)) bySession.set(key, []);
    bySession.get(key)!.push(e);
  }
  const sessions: Array<RecordSession | undefined> = [...bySession.keys()].map((k) => record.sessions.find((s) => s.session === k));

  for (const [index, key] of [...bySession.keys()].entries()) {
    const entries = bySession.get(key)!;
    const session = sessions[index];
    const sid = safeId(key || `session-${index + 1}`);
    const didRefs: Array<{ "@id": string }> = [];
    const didByPath = new Map<string, { did: string; adler32?: string }>();
    // Rucio DIDs read: identified by scope:name with their checksums.
    for (const e of entries.filter((x) => x.service === "rucio" && x.kind === "did" && x.action === "read" && x.checksums?.adler32)) {
      const id = `#did:${e.id}`;
      add({
        "@id": id,
        "@type": "File",
        name: e.id,
        description: `Rucio DID ${e.id}`,
        ...(e.bytes !== undefined && Number.isFinite(e.bytes) ? { contentSize: String(e.bytes) } : {}),
        identifier: [add(identifier(id.slice(1), "rucio-did", e.id)), ...Object.entries(e.checksums ?? {}).map(([k, v]) => add(identifier(id.slice(1), k, v)))],
      });
      if (!didRefs.some((r) => r["@id"] === id)) didRefs.push(ref(id));
      for (const p of e.paths ?? []) didByPath.set(local(p), { did: e.id, adler32: e.checksums?.adler32 });
    }

    // REANA runs: one step each.
    const controls: Array<{ "@id": string }> = [];
    const runResults: Array<{ "@id": string }> = [];
    for (const run of entries.filter((x) => x.service === "reana" && x.kind === "workflow" && x.via !== "%reana follow")) {
      const d = (run.details ?? {}) as Json;
      const name = String(d.name ?? run.label ?? run.id).replace(/\.\d+$/, "");
      const baseDir = typeof d.baseDir === "string" ? local(d.baseDir) : undefined;
      const specFile = (d.specFile ?? {}) as { path?: string; sha256?: string };
      const specLocal = specFile.path ? (path.isAbsolute(specFile.path) ? specFile.path : baseDir ? path.join(baseDir, path.basename(specFile.path)) : undefined) : undefined;
      const specRef = fileEntity(specLocal, `reana-spec-${run.id}`, {
        "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
        // named by its path in the workspace, as it is also one of the run's inputs
        name: specLocal && baseDir ? path.relative(baseDir, specLocal).split(path.sep).join("/") : "reana.yaml",
        description: `REANA specification of ${name} (${String(d.type ?? "serial")})`,
        encodingFormat: "application/yaml",
        identifier: [
          ...(run.checksums?.sha256 ? [add(identifier(`reana-spec-${run.id}`, "specification-sha256", run.checksums.sha256))] : []),
          ...(specFile.sha256 ? [add(identifier(`reana-spec-${run.id}`, "sha256", specFile.sha256))] : []),
        ],
      });
      const stepId = `#step-${safeId(name)}`;
      add({ "@id": stepId, "@type": "HowToStep", name: `REANA workflow ${name}`, workExample: specRef });
      if (!steps.some((s) => s["@id"] === stepId)) steps.push(ref(stepId));

      const inputs = (Array.isArray(d.inputs) ? d.inputs : []) as Array<{ path: string; md5?: string; sha256?: string; bytes?: number }>;
      const objects = inputs.map((i) => {
        const inputPath = baseDir ? path.join(baseDir, i.path) : undefined;
        const from = inputPath ? didByPath.get(path.resolve(inputPath)) : undefined;
        return fileEntity(inputPath, `reana-input-${run.id}-${i.path}`, {
          name: i.path,
          ...(i.bytes !== undefined ? { contentSize: String(i.bytes) } : {}),
          identifier: [
            ...(i.sha256 ? [add(identifier(`${run.id}-${i.path}`, "sha256", i.sha256))] : []),
            ...(i.md5 ? [add(identifier(`${run.id}-${i.path}`, "md5", i.md5))] : []),
            ...(from ? [add(identifier(`${run.id}-${i.path}`, "rucio-did", from.did))] : []),
          ],
          ...(from ? { isBasedOn: ref(`#did:${from.did}`) } : {}),
        });
      });
      const params = Object.entries((d.parameters ?? {}) as Json).map(([k, v]) =>
        add({ "@id": `#reana-${safeId(run.id)}-param-${safeId(k)}`, "@type": "PropertyValue", name: k, value: typeof v === "string" ? v : JSON.stringify(v) }),
      );
      const outcome = entries.find((x) => x.via === "%reana follow" && x.id === run.id);
      const outputs = entries
        .filter((x) => x.service === "reana" && x.kind === "file" && x.action === "read" && (x.id.startsWith(`${name}:`) || x.id.startsWith(`${run.label}:`) || x.id.startsWith(`${run.id}:`)))
        .map((x) =>
          fileEntity(x.paths?.[0] ? local(x.paths[0]) : undefined, `reana-output-${x.id}`, {
            name: x.label ?? x.id,
            ...(x.bytes !== undefined ? { contentSize: String(x.bytes) } : {}),
            identifier: Object.entries(x.checksums ?? {}).map(([k, v]) => add(identifier(`${x.id}`, k, v))),
          }),
        );
      runResults.push(...outputs);
      const status = String((outcome?.details as Json | undefined)?.status ?? d.status ?? "");
      const actionId = `#reana-run-${safeId(run.id)}`;
      add({
        "@id": actionId,
        "@type": "CreateAction",
        name: `REANA run ${run.label ?? name}`,
        identifier: run.id,
        instrument: specRef,
        startTime: run.time,
        ...(outcome ? { endTime: outcome.time } : {}),
        object: [...objects, ...params],
        result: outputs,
        ...(actionStatus(status) ? { actionStatus: ref(actionStatus(status)!) } : {}),
        ...(run.endpoint ? { description: `Run on REANA at ${run.endpoint}` } : {}),
      });
      mentions.push(ref(actionId));
      const controlId = `#control-${safeId(run.id)}`;
      add({ "@id": controlId, "@type": "ControlAction", name: `orchestrate ${name}`, instrument: ref(stepId), object: ref(actionId) });
      controls.push(ref(controlId));
    }

    // Deposits published in this session.
    const published: Array<{ "@id": string }> = [];
    for (const p of entries.filter((x) => x.service === "zenodo" && x.kind === "deposit" && x.action === "publish" && x.doi)) {
      const d = (p.details ?? {}) as Json;
      const id = doiUrl(p.doi!);
      add({
        "@id": id,
        "@type": "Dataset",
        name: p.label ?? `Zenodo deposit ${p.id}`,
        identifier: [add(identifier(`deposit-${p.id}`, "doi", p.doi!)), ...(typeof d.conceptDoi === "string" ? [add(identifier(`deposit-${p.id}`, "concept-doi", d.conceptDoi))] : [])],
        ...(typeof d.recordUrl === "string" ? { url: d.recordUrl } : {}),
        ...(Array.isArray(d.files) ? { hasPart: (d.files as Array<{ name: string; md5?: string; bytes?: number }>).map((f) => add({ "@id": `${id}#${safeId(f.name)}`, "@type": "File", name: f.name, ...(f.bytes !== undefined ? { contentSize: String(f.bytes) } : {}), ...(f.md5 ? { identifier: [add(identifier(`deposit-${p.id}-${f.name}`, "md5", f.md5))] } : {}) })) } : {}),
      });
      published.push(ref(id));
    }

    // The notebook run itself.
    const parameters = Object.entries(session?.parameters ?? {}).map(([k, v]) =>
      add({ "@id": `#run-${sid}-param-${safeId(k)}`, "@type": "PropertyValue", name: k, value: typeof v === "string" ? v : JSON.stringify(v) }),
    );
    const runId = `#notebook-run-${sid}`;
    add({
      "@id": runId,
      "@type": "CreateAction",
      name: `Run of ${path.basename(opts.notebook)}${session ? ` started ${session.started}` : ""}`,
      instrument: ref(notebookId),
      startTime: session?.started ?? entries[0]?.time,
      endTime: entries.at(-1)?.time,
      object: [...didRefs, ...parameters],
      result: [...runResults, ...published],
      ...(session
        ? {
            description: `Kernel session ${session.session} on ${session.environment.os.platform} ${session.environment.os.release} (${session.environment.os.arch}), Node ${session.environment.node}` +
              (session.notebookSha256 ? `; notebook code sha256 ${session.notebookSha256}` : ""),
          }
        : {}),
      actionStatus: ref("http://schema.org/CompletedActionStatus"),
    });
    mentions.push(ref(runId));
    const orchestrationId = `#orchestration-${sid}`;
    add({ "@id": orchestrationId, "@type": "OrganizeAction", name: `vre-ts kernel session ${key}`, instrument: vreTs, object: controls, result: ref(runId), ...(session ? { startTime: session.started } : {}) });
    mentions.push(ref(orchestrationId));
  }
  if (steps.length) crate.setProperty(notebookId, "step", steps);
  // Every other file of the layout (e.g. results deposited with the notebook) is a part of the crate too.
  for (const [local, name] of layout ?? []) {
    if (crate.getEntity(name) || !fs.existsSync(local)) continue;
    add({ "@id": name, "@type": "File", name, contentSize: String(fs.statSync(local).size) });
    parts.push(ref(name));
  }

  // The root: what this crate is. Without a deposit of its own, it borrows licence and authors from the last one.
  const pubDeposit = lastPublishedDeposit(record);
  const meta = deposit ?? (pubDeposit ? { ...pubDeposit, doi: undefined, conceptDoi: undefined, title: undefined } : undefined);
  root.name = meta?.title ?? about.title ?? `Research record of ${path.basename(opts.notebook)}`;
  root.description =
    meta?.description ??
    about.description ??
    `The notebook ${path.basename(opts.notebook)}, what it read, ran and published, recorded by vre-ts.`;
  root.datePublished = now.toISOString();
  root.license = meta?.license
    ? add({ "@id": `https://spdx.org/licenses/${spdxOf(meta.license)}`, "@type": "CreativeWork", name: meta.license, identifier: spdxOf(meta.license) })
    : add({ "@id": "#license-not-specified", "@type": "CreativeWork", name: "No licence chosen", description: "Choose a licence (e.g. with the deposit's license:) before sharing this crate." });
  if (meta?.creators?.length) {
    root.author = meta.creators.map((c, i) =>
      add({ "@id": c.orcid ? `https://orcid.org/${c.orcid}` : `#author-${i + 1}`, "@type": "Person", name: c.name, ...(c.affiliation ? { affiliation: c.affiliation } : {}) }),
    );
  }
  if (meta?.keywords?.length) root.keywords = meta.keywords.join(", ");
  if (deposit?.doi) {
    root.identifier = doiUrl(deposit.doi);
    if (deposit.conceptDoi) root.isPartOf = add({ "@id": doiUrl(deposit.conceptDoi), "@type": "CreativeWork", name: "All versions (concept DOI)" });
  } else if (pubDeposit?.doi && !deposit) {
    root.subjectOf = ref(doiUrl(pubDeposit.doi));
  }
  root.conformsTo = [ref(PROFILES.process), ref(PROFILES.workflow), ref(PROFILES.provenance)];
  root.mainEntity = ref(notebookId);
  root.hasPart = parts;
  root.mentions = mentions;
  for (const [id, name] of [
    [PROFILES.process, "Process Run Crate"],
    [PROFILES.workflow, "Workflow Run Crate"],
    [PROFILES.provenance, "Provenance Run Crate"],
    [PROFILES.workflowRoCrate, "Workflow RO-Crate"],
  ]) {
    add({ "@id": id, "@type": "CreativeWork", name, version: id.split("/").pop() });
  }
  return crate.toJSON() as Json;
}

/** Writes `ro-crate-metadata.json` (atomically) into the crate's folder. */
export async function writeCrate(opts: CrateOptions): Promise<{ file: string; crate: Json }> {
  const dir = path.resolve(opts.dir ?? path.dirname(opts.notebook));
  fs.mkdirSync(dir, { recursive: true });
  const crate = buildCrate({ ...opts, dir });
  const file = path.join(dir, CRATE_FILE);
  await writeFileAtomic(file, `${JSON.stringify(crate, null, 2)}\n`);
  return { file, crate };
}
