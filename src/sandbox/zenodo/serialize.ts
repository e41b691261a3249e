import type { Deposition, FileEntry, RecordDoc, ZenodoState } from "./state";

/** Legacy Zenodo JSON representations of depositions, files, bucket objects and records. */

export const DOI_PREFIX = "10.5072";

export function doiFor(recid: number): string {
  return `${DOI_PREFIX}/zenodo.${recid}`;
}

export class Links {
  readonly api: string;
  constructor(readonly base: string) {
    this.api = `${base}/api`;
  }
  deposition(id: number): string {
    return `${this.api}/deposit/depositions/${id}`;
  }
  bucket(uuid: string): string {
    return `${this.api}/files/${uuid}`;
  }
  object(uuid: string, key: string): string {
    return `${this.bucket(uuid)}/${encodeURIComponent(key)}`;
  }
  record(id: number): string {
    return `${this.api}/records/${id}`;
  }
  recordHtml(id: number): string {
    return `${this.base}/records/${id}`;
  }
  depositHtml(id: number): string {
    return `${this.base}/deposit/${id}`;
  }
}

/** Published records of a concept, oldest first. */
export function conceptVersions(state: ZenodoState, conceptrecid: number): RecordDoc[] {
  return Object.values(state.records)
    .filter((r) => r.conceptrecid === conceptrecid)
    .sort((a, b) => a.id - b.id);
}

/** The open (never published) draft of a concept, if any. */
export function openDraft(state: ZenodoState, conceptrecid: number): Deposition | undefined {
  return Object.values(state.depositions).find((d) => d.conceptrecid === conceptrecid && !d.published);
}

export function depositionState(dep: Deposition): "unsubmitted" | "done" | "inprogress" {
  if (!dep.published) return "unsubmitted";
  return dep.editing ? "inprogress" : "done";
}

function oldStyleFile(links: Links, dep: Deposition, f: FileEntry): Record<string, unknown> {
  return {
    id: f.id,
    filename: f.key,
    filesize: f.size,
    checksum: f.md5,
    links: { self: `${links.deposition(dep.id)}/files/${f.id}`, download: links.object(dep.bucket, f.key) },
  };
}

export function bucketObject(links: Links, bucket: string, f: FileEntry): Record<string, unknown> {
  const self = links.object(bucket, f.key);
  return {
    key: f.key,
    mimetype: f.mimetype,
    checksum: `md5:${f.md5}`,
    version_id: f.version_id,
    size: f.size,
    created: f.created,
    updated: f.updated,
    is_head: true,
    delete_marker: false,
    links: { self, version: `${self}?versionId=${f.version_id}`, uploads: `${self}?uploads` },
  };
}

export function serializeDeposition(state: ZenodoState, links: Links, dep: Deposition): Record<string, unknown> {
  const versions = conceptVersions(state, dep.conceptrecid);
  const latest = versions[versions.length - 1];
  const draft = openDraft(state, dep.conceptrecid);
  const latestDraftId = draft?.id ?? Math.max(dep.id, ...Object.values(state.depositions).filter((d) => d.conceptrecid === dep.conceptrecid).map((d) => d.id));
  const self = links.deposition(dep.id);
  const doi = dep.published ? doiFor(dep.id) : "";
  const linkSet: Record<string, string> = {
    self,
    html: links.depositHtml(dep.id),
    files: `${self}/files`,
    latest_draft: links.deposition(latestDraftId),
    latest_draft_html: links.depositHtml(latestDraftId),
    publish: `${self}/actions/publish`,
    edit: `${self}/actions/edit`,
    discard: `${self}/actions/discard`,
    newversion: `${self}/actions/newversion`,
    registerconceptdoi: `${self}/actions/registerconceptdoi`,
  };
  // Like Zenodo, only drafts advertise their bucket: a published deposition's files are locked.
  if (!dep.published) linkSet.bucket = links.bucket(dep.bucket);
  if (dep.published) {
    Object.assign(linkSet, {
      badge: `${links.base}/badge/doi/${doi}.svg`,
      doi: `https://doi.org/${doi}`,
      conceptdoi: `https://doi.org/${doiFor(dep.conceptrecid)}`,
      record: links.record(dep.id),
      record_html: links.recordHtml(dep.id),
      latest: links.record(latest?.id ?? dep.id),
      latest_html: links.recordHtml(latest?.id ?? dep.id),
    });
  }
  const metadata: Record<string, unknown> = {
    ...dep.metadata,
    prereserve_doi: { doi: doiFor(dep.id), recid: dep.id },
  };
  if (dep.published) metadata.doi = doi;
  const out: Record<string, unknown> = {
    created: dep.created,
    modified: dep.modified,
    id: dep.id,
    conceptrecid: String(dep.conceptrecid),
    doi,
    doi_url: dep.published ? `https://doi.org/${doi}` : "",
    files: dep.files.map((f) => oldStyleFile(links, dep, f)),
    links: linkSet,
    metadata,
    owner: dep.owner,
    record_id: dep.id,
    state: depositionState(dep),
    submitted: dep.published,
    title: typeof dep.metadata.title === "string" ? dep.metadata.title : "",
  };
  if (dep.published) {
    out.conceptdoi = doiFor(dep.conceptrecid);
    out.record_url = links.recordHtml(dep.id);
  }
  return out;
}

export function serializeRecord(state: ZenodoState, links: Links, rec: RecordDoc): Record<string, unknown> {
  const versions = conceptVersions(state, rec.conceptrecid);
  const index = versions.findIndex((v) => v.id === rec.id);
  const latest = versions[versions.length - 1]!;
  const self = links.record(rec.id);
  const uploadType = String(rec.metadata.upload_type ?? "other");
  const subtype = rec.metadata.publication_type ?? rec.metadata.image_type;
  return {
    created: rec.created,
    modified: rec.updated,
    updated: rec.updated,
    id: rec.id,
    recid: String(rec.id),
    conceptrecid: String(rec.conceptrecid),
    doi: rec.doi,
    conceptdoi: rec.conceptdoi,
    doi_url: `https://doi.org/${rec.doi}`,
    metadata: {
      ...rec.metadata,
      doi: rec.doi,
      resource_type: subtype ? { type: uploadType, subtype, title: `${uploadType}/${String(subtype)}` } : { type: uploadType, title: uploadType },
      relations: {
        version: [
          {
            index,
            is_last: latest.id === rec.id,
            count: versions.length,
            parent: { pid_type: "recid", pid_value: String(rec.conceptrecid) },
            last_child: { pid_type: "recid", pid_value: String(latest.id) },
          },
        ],
      },
    },
    files: rec.files.map((f) => ({
      id: f.id,
      key: f.key,
      size: f.size,
      checksum: `md5:${f.md5}`,
      links: { self: `${self}/files/${encodeURIComponent(f.key)}/content` },
    })),
    links: {
      self,
      self_html: links.recordHtml(rec.id),
      html: links.recordHtml(rec.id),
      doi: `https://doi.org/${rec.doi}`,
      self_doi: `https://doi.org/${rec.doi}`,
      parent_doi: `https://doi.org/${rec.conceptdoi}`,
      conceptdoi: `https://doi.org/${rec.conceptdoi}`,
      badge: `${links.base}/badge/doi/${rec.doi}.svg`,
      files: `${self}/files`,
      latest: links.record(latest.id),
      latest_html: links.recordHtml(latest.id),
      versions: `${self}/versions`,
    },
    owners: [rec.owner],
    revision: rec.revision,
    state: "done",
    submitted: true,
    title: rec.metadata.title ?? "",
    stats: { downloads: 0, unique_downloads: 0, views: 0, unique_views: 0, version_downloads: 0, version_views: 0 },
  };
}
