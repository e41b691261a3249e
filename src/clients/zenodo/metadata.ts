/**
 * Offline validation of Zenodo deposit metadata (the `metadata` object of the legacy deposit API).
 *
 * The schema is built the way eOSSR's `validate_zenodo_metadata_deposit` builds it: Zenodo's
 * `records/base-v1.0.0.json` with its `$ref`s inlined, recursively updated with the deposit schema
 * `deposits/records/legacyrecord.json`, and `required = [title, upload_type, creators, description]` (draft-04).
 * On top of the schema come the rules Zenodo applies on the server and eOSSR checks by hand: a licence for
 * open/embargoed records, an embargo date for embargoed ones, access conditions for restricted ones,
 * `publication_type`/`image_type` for publications/images, ISO dates, at least one creator, licence ids Zenodo
 * knows (schemas/licenses.json, with the closest id suggested) and ORCID iDs with a valid ISO 7064 check digit.
 * Messages name the field and what to do: `metadata.creators[0].name: required — add the creator as 'Family, Given'`.
 */
import Ajv04 from "ajv-draft-04";
import type { ErrorObject, ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import baseSchema from "./schemas/records-base-v1.0.0.json";
import legacySchema from "./schemas/legacyrecord.json";
import { ZenodoError, type FieldError } from "./errors";
import { checkLicenseId, orcidProblem } from "./identifiers";

export type UploadType =
  | "publication"
  | "poster"
  | "presentation"
  | "dataset"
  | "image"
  | "video"
  | "software"
  | "lesson"
  | "workflow"
  | "physicalobject"
  | "other";

export interface Creator {
  /** "Family, Given" for people; the name for organisations. */
  name: string;
  affiliation?: string;
  orcid?: string;
  gnd?: string;
}

export interface DepositMetadata {
  upload_type: UploadType;
  publication_type?: string;
  image_type?: string;
  publication_date?: string;
  title: string;
  creators: Creator[];
  description: string;
  access_right?: "open" | "embargoed" | "restricted" | "closed";
  license?: string;
  embargo_date?: string;
  access_conditions?: string;
  doi?: string;
  prereserve_doi?: boolean | { doi?: string; recid?: number };
  keywords?: string[];
  notes?: string;
  related_identifiers?: { identifier: string; relation: string; resource_type?: string; scheme?: string }[];
  contributors?: (Creator & { type: string })[];
  references?: string[];
  communities?: { identifier: string }[];
  grants?: { id: string }[];
  subjects?: { term: string; identifier: string; scheme?: string }[];
  version?: string;
  language?: string;
  locations?: { lat?: number; lon?: number; place: string; description?: string }[];
  dates?: { start?: string; end?: string; type: "Collected" | "Valid" | "Withdrawn"; description?: string }[];
  method?: string;
  [field: string]: unknown;
}

export interface MetadataIssue extends FieldError {
  /** Readable path: `metadata.creators[0].name`. */
  path: string;
}

export interface MetadataReport {
  valid: boolean;
  errors: MetadataIssue[];
  warnings: MetadataIssue[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Replaces local `#/definitions/x` references by (copies of) their targets, as eOSSR's `replace_refs` does. */
function inlineRefs(node: unknown, root: Json, depth = 0): unknown {
  if (depth > 50) throw new Error("schema references nest too deeply");
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, root, depth + 1));
  if (!isObject(node)) return node;
  if (typeof node.$ref === "string" && node.$ref.startsWith("#/")) {
    let target: unknown = root;
    for (const part of node.$ref.slice(2).split("/")) target = isObject(target) ? target[part] : undefined;
    if (target === undefined) throw new Error(`unresolved reference ${node.$ref}`);
    return inlineRefs(structuredClone(target), root, depth + 1);
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[k] = inlineRefs(v, root, depth + 1);
  return out;
}

/** eOSSR's `update_dict_recursively`: mappings present on both sides merge, anything else is replaced. */
function updateRecursively(target: Json, update: Json): void {
  for (const [k, v] of Object.entries(update)) {
    if (k in target && isObject(v) && isObject(target[k])) updateRecursively(target[k] as Json, v);
    else target[k] = structuredClone(v);
  }
}

export function depositSchema(): Json {
  const base = inlineRefs(structuredClone(baseSchema), baseSchema as Json) as Json;
  delete base.definitions;
  updateRecursively(base, structuredClone(legacySchema) as Json);
  base.required = ["title", "upload_type", "creators", "description"];
  // The deposit API returns (and accepts back) `prereserve_doi`, which neither schema lists.
  (base.properties as Json).prereserve_doi = { type: ["boolean", "object"] };
  delete base.id;
  return base;
}

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv04({ allErrors: true, strict: false });
    addFormats(ajv as never);
    compiled = ajv.compile(depositSchema());
  }
  return compiled;
}

export const UPLOAD_TYPES: UploadType[] = ["publication", "poster", "presentation", "dataset", "image", "video", "software", "lesson", "workflow", "physicalobject", "other"];

/** What to do, per field (`*` stands for an array index). */
const FIELD_HINTS: Record<string, string> = {
  title: "give the record a title",
  upload_type: `one of ${UPLOAD_TYPES.join(", ")}`,
  description: "add a short abstract (simple HTML is allowed)",
  creators: "list at least one creator, e.g. [{name: 'Curie, Marie', affiliation: 'Sorbonne'}]",
  "creators.*.name": "add the creator as 'Family, Given'",
  "contributors.*.name": "add the contributor as 'Family, Given'",
  "contributors.*.type": "e.g. ContactPerson, DataCurator, Researcher, Supervisor, Other",
  "creators.*.orcid": "an ORCID iD such as 0000-0002-1825-0097",
  "contributors.*.orcid": "an ORCID iD such as 0000-0002-1825-0097",
  license: "a licence id such as cc-by-4.0, cc0-1.0 or mit (list them with the client's licenses())",
  embargo_date: "the date (YYYY-MM-DD) when the files become open",
  access_conditions: "say under which conditions access is granted",
  publication_type: "e.g. article, preprint, report, thesis, softwaredocumentation, other",
  image_type: "one of figure, plot, drawing, diagram, photo, other",
  publication_date: "a date as YYYY-MM-DD",
  access_right: "one of open, embargoed, restricted, closed",
  "related_identifiers.*.relation": "e.g. isSupplementTo, isDerivedFrom, cites, isNewVersionOf, isDocumentedBy",
  "related_identifiers.*.identifier": "a DOI, URL, arXiv id, …",
  "related_identifiers.*.scheme": "the identifier's scheme, e.g. doi, url, arxiv, handle",
  "communities.*.identifier": "the community id as in its URL, e.g. escape2020",
  "grants.*.id": "e.g. 10.13039/501100000780::824064",
  keywords: "a list of strings",
};

function hintFor(path: (string | number)[]): string | undefined {
  const key = path.map((p) => (typeof p === "number" ? "*" : p)).join(".");
  return FIELD_HINTS[key];
}

function dotted(path: (string | number)[]): string {
  return ["metadata", ...path].join(".");
}

function readable(path: (string | number)[]): string {
  let out = "metadata";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `.${p}`;
  return out;
}

function issue(path: (string | number)[], problem: string, withHint = true): MetadataIssue {
  const hint = withHint ? hintFor(path) : undefined;
  const message = `${readable(path)}: ${problem}${hint ? ` — ${hint}` : ""}`;
  return { field: dotted(path), path: readable(path), message };
}

function pointer(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

function suggestion(name: string, allowed: string[]): string {
  let best: string | undefined;
  let score = Infinity;
  for (const candidate of allowed) {
    const s = levenshtein(name.toLowerCase(), candidate.toLowerCase());
    if (s < score) [best, score] = [candidate, s];
  }
  return best && score <= Math.max(2, Math.floor(name.length / 3)) ? ` — did you mean "${best}"?` : "";
}

function schemaIssue(e: ErrorObject, schema: Json): MetadataIssue {
  const at = pointer(e.instancePath);
  const p = e.params as Json;
  switch (e.keyword) {
    case "required":
      return issue([...at, String(p.missingProperty)], "required");
    case "additionalProperties": {
      const extra = String(p.additionalProperty);
      let props: Json | undefined = schema;
      for (const seg of at) {
        const node: Json | undefined = props && (typeof seg === "number" ? (props.items as Json) : ((props.properties as Json)?.[seg] as Json));
        props = node;
      }
      const allowed = props && isObject(props.properties) ? Object.keys(props.properties) : [];
      const i = issue([...at, extra], `unknown field${suggestion(extra, allowed)}`, false);
      return i;
    }
    case "enum":
      return issue(at, `must be one of ${(p.allowedValues as unknown[]).join(", ")}`, false);
    case "type":
      return issue(at, `must be ${p.type === "array" ? "a list" : p.type === "object" ? "a mapping" : `a ${String(p.type)}`}`);
    default:
      return issue(at, e.message ?? "is invalid");
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
function isIsoDate(v: unknown): boolean {
  if (typeof v !== "string" || !ISO_DATE.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}… (${s.length - 80} more characters)` : s;
}
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Validates deposit metadata; never throws. */
export function validateDepositMetadata(metadata: unknown, options: { today?: Date } = {}): MetadataReport {
  const errors: MetadataIssue[] = [];
  const warnings: MetadataIssue[] = [];
  if (!isObject(metadata)) {
    return { valid: false, errors: [{ field: "metadata", path: "metadata", message: "metadata: must be a mapping of fields (title, upload_type, creators, description, …)" }], warnings };
  }
  const validate = validator();
  if (!validate(metadata)) {
    const schema = depositSchema();
    const seen = new Set<string>();
    for (const e of validate.errors ?? []) {
      const i = schemaIssue(e, schema);
      if (!seen.has(i.message)) {
        seen.add(i.message);
        errors.push(i);
      }
    }
  }
  const m = metadata as Json;
  const has = (k: string) => m[k] !== undefined && m[k] !== null && m[k] !== "";
  const blank = (k: string) => typeof m[k] === "string" && (m[k] as string).trim() === "";

  for (const k of ["title", "description"]) {
    if (blank(k)) errors.push(issue([k], "must not be empty"));
    // Zenodo (InvenioRDM) refuses titles and descriptions shorter than 3 characters.
    else if (typeof m[k] === "string" && (m[k] as string).trim().length < 3) errors.push(issue([k], "must be at least 3 characters long"));
  }
  if (Array.isArray(m.creators) && m.creators.length === 0) errors.push(issue(["creators"], "must not be empty"));
  for (const list of ["creators", "contributors"]) {
    if (!Array.isArray(m[list])) continue;
    (m[list] as unknown[]).forEach((c, i) => {
      if (!isObject(c)) return;
      if (typeof c.name === "string" && c.name.trim() === "") errors.push(issue([list, i, "name"], "must not be empty"));
      if (typeof c.orcid === "string") {
        const problem = orcidProblem(c.orcid);
        if (problem === "format") errors.push(issue([list, i, "orcid"], `"${clip(c.orcid)}" is not an ORCID iD`));
        else if (problem) errors.push(issue([list, i, "orcid"], `"${clip(c.orcid)}" ${problem}`, false));
      }
    });
  }

  const access = (m.access_right as string | undefined) ?? "open";
  if (m.access_right === undefined) warnings.push(issue(["access_right"], "not set; Zenodo will use open", false));
  if ((access === "open" || access === "embargoed") && !has("license")) {
    errors.push(issue(["license"], `required when access_right is ${access}`));
  }
  if (typeof m.license === "string" && m.license !== "") {
    const lic = checkLicenseId(m.license);
    if (!lic.known) {
      const fix = lic.suggestion ? `did you mean "${lic.suggestion}"?` : "use a Zenodo licence id such as cc-by-4.0, cc0-1.0, mit or apache-2.0";
      errors.push(issue(["license"], `"${clip(m.license)}" is not a licence id Zenodo knows — ${fix} (ids are matched exactly)`, false));
    }
  }
  if (access === "embargoed") {
    if (!has("embargo_date")) errors.push(issue(["embargo_date"], "required when access_right is embargoed"));
    else if (!isIsoDate(m.embargo_date)) errors.push(issue(["embargo_date"], `"${String(m.embargo_date)}" is not a date`));
    else if (new Date(`${m.embargo_date as string}T00:00:00Z`) <= (options.today ?? new Date())) {
      errors.push(issue(["embargo_date"], "must be in the future for an embargo", false));
    }
  }
  if (access === "restricted" && !has("access_conditions")) errors.push(issue(["access_conditions"], "required when access_right is restricted"));
  if (m.upload_type === "publication" && !has("publication_type")) errors.push(issue(["publication_type"], "required when upload_type is publication"));
  if (m.upload_type === "image" && !has("image_type")) errors.push(issue(["image_type"], "required when upload_type is image"));
  if (m.publication_type !== undefined && m.upload_type !== "publication") {
    warnings.push(issue(["publication_type"], "is ignored unless upload_type is publication", false));
  }
  if (m.image_type !== undefined && m.upload_type !== "image") warnings.push(issue(["image_type"], "is ignored unless upload_type is image", false));

  if (!has("publication_date")) warnings.push(issue(["publication_date"], "not set; Zenodo will use the publication day", false));
  else if (!isIsoDate(m.publication_date)) errors.push(issue(["publication_date"], `"${String(m.publication_date)}" is not a date`));
  if (typeof m.version === "string" && !SEMVER.test(m.version)) {
    warnings.push(issue(["version"], `"${m.version}" does not follow semantic versioning (semver.org), as recommended`, false));
  }
  if (Array.isArray(m.dates)) {
    (m.dates as unknown[]).forEach((d, i) => {
      if (!isObject(d)) return;
      if (d.start === undefined && d.end === undefined) errors.push(issue(["dates", i], "needs start or end", false));
      for (const k of ["start", "end"]) if (d[k] !== undefined && !isIsoDate(d[k])) errors.push(issue(["dates", i, k], `"${String(d[k])}" is not a date`, false));
    });
  }
  return { valid: errors.length === 0, errors, warnings };
}

/** Throws `ZENODO_VALIDATION` listing every field problem. */
export function assertValidMetadata(metadata: unknown): MetadataReport {
  const report = validateDepositMetadata(metadata);
  if (!report.valid) {
    throw new ZenodoError({
      code: "ZENODO_VALIDATION",
      message: `The deposit metadata is not valid:\n${report.errors.map((e) => `  ✖ ${e.message}`).join("\n")}`,
      hint: "Fix the listed fields and try again; nothing was sent to Zenodo.",
      fieldErrors: report.errors.map(({ field, message }) => ({ field, message })),
    });
  }
  return report;
}
