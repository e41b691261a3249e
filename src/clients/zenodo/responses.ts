/** zod schemas of the Zenodo answers the client reads (legacy deposit API + search endpoints), loose on extras. */
import { z } from "zod";

const id = z.union([z.number(), z.string()]);
const optStr = z.string().nullable().optional();

export const DepositionFile = z.looseObject({
  id: z.string(),
  filename: z.string(),
  filesize: z.number().optional(),
  checksum: z.string().optional(),
  links: z.looseObject({ self: optStr, download: optStr }).optional(),
});
export type DepositionFile = z.infer<typeof DepositionFile>;

export const Deposition = z.looseObject({
  id: z.number(),
  conceptrecid: id.nullable().optional(),
  record_id: id.nullable().optional(),
  created: optStr,
  modified: optStr,
  owner: id.nullable().optional(),
  doi: optStr,
  doi_url: optStr,
  conceptdoi: optStr,
  record_url: optStr,
  title: optStr,
  state: z.string(),
  submitted: z.boolean(),
  files: z.array(DepositionFile).nullable().optional(),
  links: z.looseObject({
    self: optStr,
    html: optStr,
    bucket: optStr,
    files: optStr,
    publish: optStr,
    edit: optStr,
    discard: optStr,
    newversion: optStr,
    latest_draft: optStr,
    latest_draft_html: optStr,
    record: optStr,
    record_html: optStr,
    latest: optStr,
    latest_html: optStr,
  }),
  metadata: z.looseObject({ title: optStr, prereserve_doi: z.unknown().optional() }).optional(),
});
export type Deposition = z.infer<typeof Deposition>;

export const DepositionList = z.array(Deposition);
export const DepositionFileList = z.array(DepositionFile);

/** Answer of a bucket PUT (the "new files API"). */
export const BucketObject = z.looseObject({
  key: z.string(),
  size: z.number(),
  checksum: z.string(),
  mimetype: optStr,
  version_id: optStr,
  links: z.looseObject({ self: optStr }).optional(),
});

export const Record = z.looseObject({
  id: id,
  conceptrecid: id.nullable().optional(),
  doi: optStr,
  conceptdoi: optStr,
  created: optStr,
  updated: optStr,
  links: z.looseObject({ self: optStr, html: optStr, doi: optStr, latest: optStr, latest_html: optStr }).optional(),
  metadata: z.looseObject({
    title: z.string().optional(),
    publication_date: optStr,
    creators: z.array(z.looseObject({ name: z.string().optional() })).optional(),
    resource_type: z.looseObject({ type: optStr, subtype: optStr, title: optStr }).optional(),
    access_right: optStr,
    version: optStr,
    license: z.unknown().optional(),
    communities: z.array(z.looseObject({ id: optStr, identifier: optStr })).optional(),
  }),
  files: z.array(z.looseObject({ key: z.string().optional(), size: z.number().optional(), checksum: optStr, links: z.looseObject({ self: optStr }).optional() })).nullable().optional(),
});
export type ZenodoRecord = z.infer<typeof Record>;

const total = z.union([z.number(), z.looseObject({ value: z.number() })]);

export function searchResult<T extends z.ZodType>(item: T) {
  return z.looseObject({
    hits: z.looseObject({ hits: z.array(item), total: total.optional() }),
    links: z.looseObject({ next: optStr, prev: optStr, self: optStr }).optional(),
  });
}

export const License = z.looseObject({
  id: z.string(),
  title: z.union([z.string(), z.looseObject({ en: z.string().optional() })]).optional(),
  props: z.looseObject({ url: optStr, scheme: optStr }).optional(),
});

export const Community = z.looseObject({
  id: z.string(),
  slug: z.string().optional(),
  metadata: z.looseObject({ title: z.string().optional(), description: optStr, website: optStr }).optional(),
  links: z.looseObject({ self: optStr, self_html: optStr }).optional(),
});

export function totalOf(t: z.infer<typeof total> | undefined, fallback: number): number {
  if (t === undefined) return fallback;
  return typeof t === "number" ? t : t.value;
}
