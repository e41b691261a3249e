/**
 * The Zenodo deposit form: a widget to describe results and preserve them (`%zenodo form NAME`, prefilled by a
 * YAML body as `%%zenodo deposit` takes, or by a codemeta.json). The view edits the metadata and the file list;
 * the kernel checks them offline against Zenodo's deposit schema at every change (friendly field messages),
 * saves a draft and publishes with the resumable deposit (resumableDeposit): the form's NAME keys the progress
 * next to the notebook, so reopening the form, or saving again after a failure, continues the same deposition,
 * and a published deposition is never published or changed again.
 *
 * Publishing needs a second click in the view. The state holds the metadata, file paths and the deposition's
 * public facts (id, links, DOI), never a token.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { anySignal } from "../clients/http/ambient-signal";
import { UPLOAD_TYPES, validateDepositMetadata, zenodoInstance, type DepositFileResult, type Deposition, type ZenodoClient } from "../clients/zenodo";
import { depositFileProblems, depositInstance, rememberedDeposit, resumableDeposit, type DepositState } from "../clients/zenodo/resumable";
import type { RecordAttachment } from "../session/deposit-record";
import { DEPOSIT_FORM_CSS, DEPOSIT_FORM_ESM } from "./deposit-form-view";
import { errorText } from "./error-text";
import { escapeHtml, staticFields } from "./snapshot";
import { widget, type WidgetModel } from "./widget";

export interface FormCreator {
  name: string;
  affiliation: string;
  orcid: string;
}

/** The fields the form shows; other metadata of a prefill (communities, related identifiers, ...) is kept as is. */
export interface FormMetadata {
  title: string;
  upload_type: string;
  description: string;
  creators: FormCreator[];
  keywords: string[];
  license: string;
  access_right: string;
  version: string;
  publication_date: string;
}

export interface FormIssue {
  /** The form field (title, creators, license, files, …). */
  field: string;
  /** The creator's row (0-based) for creator fields, else null; and the part of it (name, affiliation, orcid). */
  index: number | null;
  part: string;
  /** What the field is called on the form ("Creator 2, ORCID iD") and the problem, in those words. */
  label: string;
  message: string;
}

export interface FormDeposition {
  id: number;
  state: "draft" | "published";
  url: string;
  doi: string;
  /** https://doi.org/… and the DOI badge as Markdown (for a README), once published. */
  doi_url: string;
  badge_markdown: string;
  files: string[];
}

export interface FormTask {
  kind: "save" | "publish";
  state: "running" | "done" | "failed" | "cancelled";
  message: string;
  done: number;
  total: number;
}

export type DepositFormState = {
  name: string;
  /** Which Zenodo, in plain words; `production` marks real, permanent DOIs. */
  instance: string;
  production: boolean;
  upload_types: string[];
  metadata: FormMetadata;
  /** Paths relative to the notebook's folder. */
  files: string[];
  errors: FormIssue[];
  warnings: FormIssue[];
  deposition: FormDeposition | null;
  task: FormTask | null;
  error: string;
};

export type DepositFormAction =
  | { kind: "save"; deposition: Deposition; files: DepositFileResult[] }
  | { kind: "publish"; deposition: Deposition; files: DepositFileResult[]; doi?: string; recordId?: string | number };

export interface DepositFormOptions {
  /** Keys the remembered progress (with the endpoint): the same name continues the same deposition. */
  name: string;
  /** Where that progress is kept (a JSON file next to the notebook). */
  stateFile: string;
  /** The notebook's folder: file paths are relative to it. */
  cwd: string;
  /** Initial metadata (a YAML body, codemeta.json) and files. */
  metadata?: Record<string, unknown>;
  files?: string[];
  /** Which Zenodo, in plain words. */
  instance: string;
  /** Told of every saved draft and publication (the magic records them in the provenance log). */
  onAction?: (action: DepositFormAction) => void;
  /** The notebook's research record, attached to every draft: the notebook and its RO-Crate, related identifiers. */
  record?: RecordAttachment;
  signal?: AbortSignal;
}

const FORM_FIELDS = ["title", "upload_type", "description", "creators", "keywords", "license", "access_right", "version", "publication_date"] as const;

const str = (v: unknown) => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));

/** The form's view of metadata (from a body, codemeta or a deposition). */
export function toForm(m: Record<string, unknown>): FormMetadata {
  const creators = Array.isArray(m.creators) ? m.creators : [];
  return {
    title: str(m.title),
    upload_type: str(m.upload_type),
    description: str(m.description),
    creators: creators.map((c) => {
      const o = (c ?? {}) as Record<string, unknown>;
      return { name: str(o.name), affiliation: str(o.affiliation), orcid: str(o.orcid) };
    }),
    keywords: Array.isArray(m.keywords) ? m.keywords.map(str).filter(Boolean) : [],
    license: typeof m.license === "object" && m.license ? str((m.license as { id?: unknown }).id) : str(m.license),
    access_right: str(m.access_right),
    version: str(m.version),
    publication_date: str(m.publication_date),
  };
}

/** Deposit metadata from the form: empty fields left out (Zenodo's defaults apply), other prefilled fields kept. */
export function fromForm(f: FormMetadata, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...extra };
  for (const k of FORM_FIELDS) delete out[k];
  const set = (k: string, v: string) => {
    if (v.trim()) out[k] = v.trim();
  };
  set("title", f.title);
  set("upload_type", f.upload_type);
  set("description", f.description);
  set("license", f.license);
  set("access_right", f.access_right);
  set("version", f.version);
  set("publication_date", f.publication_date);
  out.creators = f.creators
    .filter((c) => c.name.trim() || c.affiliation.trim() || c.orcid.trim())
    .map((c) => ({ name: c.name.trim(), ...(c.affiliation.trim() ? { affiliation: c.affiliation.trim() } : {}), ...(c.orcid.trim() ? { orcid: c.orcid.trim() } : {}) }));
  const keywords = f.keywords.map((k) => k.trim()).filter(Boolean);
  if (keywords.length) out.keywords = keywords;
  return out;
}

function summarize(d: Deposition, client: ZenodoClient): FormDeposition {
  const doi = d.submitted ? (d.doi ?? "") : "";
  return {
    id: d.id,
    state: d.submitted ? "published" : "draft",
    url: (d.submitted ? (d.links.record_html ?? d.links.html ?? d.record_url) : d.links.html) ?? "",
    doi,
    doi_url: doi ? `https://doi.org/${doi}` : "",
    badge_markdown: doi ? `[![DOI](${badgeImage(doi, client)})](https://doi.org/${doi})` : "",
    files: (d.files ?? []).map((f) => f.filename),
  };
}

/** Zenodo's DOI badge image (the local sandbox serves one too). */
function badgeImage(doi: string, client: ZenodoClient): string {
  let origin = "https://zenodo.org";
  try {
    origin = new URL(client.settings.baseUrl).origin;
  } catch {
    // keep zenodo.org
  }
  return client.settings.local ? `${origin}/zenodo/badge/DOI/${doi}.svg` : `${origin}/badge/DOI/${doi}.svg`;
}

const FIELD_LABELS: Record<string, string> = {
  title: "Title",
  upload_type: "Type",
  publication_type: "Publication type",
  image_type: "Image type",
  description: "Description",
  creators: "Creators",
  keywords: "Keywords",
  license: "Licence",
  access_right: "Access",
  version: "Version",
  publication_date: "Publication date",
  files: "Files",
};
const PART_LABELS: Record<string, string> = { name: "name", affiliation: "affiliation", orcid: "ORCID iD" };

/**
 * A validation issue in the form's words: `metadata.creators[1].orcid: "x" is not an ORCID iD` becomes
 * "Creator 2, ORCID iD" with the problem, placed on that creator's ORCID field.
 */
export function formIssue(i: { field: string; message: string }): FormIssue {
  const parts = i.field.replace(/^metadata\.?/, "").split(".").filter(Boolean);
  const field = parts[0] ?? "metadata";
  const index = parts.length > 1 && /^\d+$/.test(parts[1]!) ? Number(parts[1]) : null;
  const part = index !== null ? (parts[2] ?? "") : (parts[1] ?? "");
  const base = FIELD_LABELS[field] ?? field.replace(/_/g, " ");
  const label =
    index !== null && (field === "creators" || field === "contributors")
      ? `${field === "creators" ? "Creator" : "Contributor"} ${index + 1}${part ? `, ${PART_LABELS[part] ?? part}` : ""}`
      : `${base}${part ? `, ${part.replace(/_/g, " ")}` : ""}`;
  // The message starts with its path ("metadata.creators[1].orcid: …" or "files: …"): keep the problem only.
  const problem = i.message.replace(/^metadata(?:\.[\w]+|\[\d+\])*:\s*/, "").replace(/^files:\s*/, "");
  return { field, index, part, label, message: problem || i.message };
}

/** The output's text/html until the view saves a copy of itself. */
function formSnapshot(s: DepositFormState): string {
  const m = s.metadata;
  const d = s.deposition;
  return (
    `<div class="vre-snapshot"><div><strong>Zenodo deposit form</strong>: ${escapeHtml(s.name)} on ${escapeHtml(s.instance)}</div>` +
    staticFields([
      ["Title", m.title],
      ["Type", m.upload_type],
      ["Creators", m.creators.map((c) => c.name).filter(Boolean).join("; ")],
      ["Keywords", m.keywords.join(", ")],
      ["Licence", m.license],
      ["Version", m.version],
      ["Files", s.files.join(", ")],
      ["Deposition", d ? `${d.state} ${d.id}` : ""],
      ["DOI", d?.doi ?? ""],
    ]) +
    (d?.doi_url ? `<div><a href="${escapeHtml(d.doi_url)}">${escapeHtml(d.doi_url)}</a></div>` : "") +
    `</div>`
  );
}

/** Problems with the file list: none at all, or missing, not a file, two files with one name. */
function fileProblems(cwd: string, files: string[]): FormIssue[] {
  if (files.length === 0) return [formIssue({ field: "files", message: "files: add at least one file to deposit (paths relative to the notebook)" })];
  const entries = files.map((shown) => ({ shown, local: path.resolve(cwd, shown), name: path.basename(shown) }));
  return depositFileProblems(entries).map(({ problem, file }) =>
    formIssue({
      field: "files",
      message:
      problem === "missing"
        ? `files: ${file.shown} does not exist`
        : problem === "not a file"
          ? `files: ${file.shown} is not a file (deposits are flat lists of files)`
            : `files: two files are named ${file.name}`,
    }),
  );
}

export function depositForm(client: ZenodoClient, options: DepositFormOptions): WidgetModel<DepositFormState> {
  const extra: Record<string, unknown> = { ...(options.metadata ?? {}) };
  const model = widget<DepositFormState>({
    esm: DEPOSIT_FORM_ESM,
    css: DEPOSIT_FORM_CSS,
    id: "vre-ts.deposit-form",
    state: {
      name: options.name,
      instance: options.instance,
      production: zenodoInstance(client.settings).kind === "production",
      upload_types: [...UPLOAD_TYPES],
      metadata: toForm(extra),
      files: options.files ?? [],
      errors: [],
      warnings: [],
      deposition: null,
      task: null,
      error: "",
    },
    snapshot: formSnapshot,
  });
  const signal = options.signal ? anySignal(model.signal, options.signal) : model.signal;

  const metadata = () => fromForm(model.get("metadata"), extra);
  const validate = () => {
    const report = validateDepositMetadata(metadata());
    const errors = [...report.errors.map(formIssue), ...fileProblems(options.cwd, model.get("files"))];
    model.set({ errors, warnings: report.warnings.map(formIssue) });
    return errors.length === 0;
  };
  model.on("change:metadata", () => void validate());
  model.on("change:files", () => void validate());

  let running: AbortController | undefined;
  const run = async (kind: FormTask["kind"]) => {
    if (running) return;
    const published = model.get("deposition")?.state === "published";
    if (!published && !validate()) {
      model.set("error", "Fix the fields marked above first; nothing was sent.");
      return;
    }
    const ac = new AbortController();
    running = ac;
    const taskSignal = anySignal(signal, ac.signal);
    let task: FormTask = { kind, state: "running", message: "starting", done: 0, total: 0 };
    const update = (t: Partial<FormTask>) => {
      task = { ...task, ...t };
      if (!model.closed) model.set("task", task);
    };
    model.set("error", "");
    update({});
    try {
      const listed = model.get("files").map((f) => ({ local: path.resolve(options.cwd, f), name: path.basename(f) }));
      const files = options.record && !published ? [...listed, ...(await options.record.files(metadata(), listed))] : listed;
      const total = published ? 0 : files.reduce((n, f) => n + fs.statSync(f.local).size, 0);
      update({ total });
      const out = await resumableDeposit(client, {
        metadata: metadata(),
        files,
        stateFile: options.stateFile,
        prepare: options.record ? (draft) => options.record!.prepare(draft, metadata()) : undefined,
        publish: kind === "publish",
        signal: taskSignal,
        onProgress: (p) => update({ message: p.current ? `${p.status}: ${p.current}` : p.status, ...(p.bytes !== undefined ? { done: p.bytes } : {}) }),
        onUploaded: (draft, results) => options.onAction?.({ kind: "save", deposition: draft, files: results }),
      });
      if (out.published) options.onAction?.({ kind: "publish", deposition: out.deposition, files: out.files, doi: out.published.doi, recordId: out.published.recordId });
      model.set("deposition", summarize(out.deposition, client));
      update({
        state: "done",
        done: total,
        message: out.alreadyPublished
          ? `Deposition ${out.deposition.id} was published already; nothing was sent. Make a new version to change it (%zenodo newversion ${out.deposition.id}).`
          : out.published
            ? `Published: DOI ${out.published.doi ?? "(pending)"}.`
            : `Draft ${out.deposition.id} saved${out.resumed ? " (the same deposition as before)" : ""}; review it, then publish.`,
      });
    } catch (e) {
      if (ac.signal.aborted && !signal.aborted) update({ state: "cancelled", message: "Cancelled; save again to continue the same deposition." });
      else if (!signal.aborted) update({ state: "failed", message: errorText(e) });
    } finally {
      running = undefined;
    }
  };

  model.on("msg:custom", (content) => {
    if (signal.aborted) return;
    const action = ((content ?? {}) as { action?: string }).action;
    if (action === "save") void run("save");
    else if (action === "publish") void run("publish");
    else if (action === "cancel") running?.abort();
  });

  validate();
  // A form reopened under the same name shows the deposition it continues (and its metadata, when not prefilled).
  void (async () => {
    let remembered: DepositState | undefined;
    try {
      remembered = rememberedDeposit(options.stateFile, depositInstance(client.settings));
    } catch {
      return; // an unreadable state file: nothing to show now; saving reports it
    }
    if (!remembered) return;
    try {
      const dep = await client.getDeposition(remembered.depositionId, { signal });
      model.set("deposition", summarize(dep, client));
      if (!options.metadata && dep.metadata) {
        // The server's own fields (a reserved DOI) are not the user's to send back.
        const { doi: _doi, prereserve_doi: _reserved, ...kept } = dep.metadata as unknown as Record<string, unknown>;
        Object.assign(extra, kept);
        model.set("metadata", toForm(dep.metadata as unknown as Record<string, unknown>));
      }
    } catch (e) {
      if (!signal.aborted) model.set("error", `Could not read the remembered deposition ${remembered.depositionId}: ${errorText(e)}`);
    }
  })();
  return model;
}
