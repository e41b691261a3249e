import type { ErrorObject, ValidateFunction } from "ajv";
import Ajv04 from "ajv-draft-04";
import baseSchema from "./schemas/records-base-v1.0.0.json";
import legacySchema from "./schemas/legacyrecord.json";
import { isPlainObject } from "../reana/http";
import { licenseById } from "./vocabularies";

/**
 * Validation of legacy deposit metadata the way Zenodo answers it: a list of `{field: "metadata.creators.0.name",
 * message}` errors. Zenodo's own rules (required fields, conditional requirements, dates, licences, communities)
 * are written out here; field types and unknown keys come from Zenodo's legacy deposit JSON Schema merged onto the
 * base record schema (what eOSSR validates against).
 */

export interface FieldError {
  field: string;
  message: string;
}

export const UPLOAD_TYPES = ["publication", "poster", "presentation", "dataset", "image", "video", "software", "lesson", "physicalobject", "other", "workflow"];
export const PUBLICATION_TYPES = [
  "annotationcollection", "book", "section", "conferencepaper", "datamanagementplan", "article", "patent", "preprint",
  "deliverable", "milestone", "proposal", "report", "softwaredocumentation", "taxonomictreatment", "technicalnote",
  "thesis", "workingpaper", "other",
];
export const IMAGE_TYPES = ["figure", "plot", "drawing", "diagram", "photo", "other"];
export const ACCESS_RIGHTS = ["open", "embargoed", "restricted", "closed"];

let validator: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (!validator) {
    const base = baseSchema as unknown as { definitions: object; properties: Record<string, unknown> };
    const legacy = legacySchema as unknown as { properties: Record<string, unknown> };
    const fromBase = Object.fromEntries(
      ["version", "language", "locations", "dates", "method"].map((k) => [k, base.properties[k]]),
    );
    const { $schema: _ignored, ...legacyProps } = legacy.properties;
    const merged = {
      type: "object",
      additionalProperties: false,
      definitions: base.definitions,
      properties: { ...fromBase, ...legacyProps, prereserve_doi: {} },
    };
    const ajv = new Ajv04({ strict: false, allErrors: true, validateFormats: false });
    validator = ajv.compile(merged);
  }
  return validator;
}

function fieldOf(pointer: string, extra?: string): string {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (extra) parts.push(extra);
  return ["metadata", ...parts].join(".");
}

function schemaMessage(err: ErrorObject): FieldError {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case "additionalProperties":
      return { field: fieldOf(err.instancePath, String(p.additionalProperty)), message: "Unknown field." };
    case "type":
      return { field: fieldOf(err.instancePath), message: `Not a valid ${p.type === "array" ? "list" : String(p.type)}.` };
    case "enum":
      return {
        field: fieldOf(err.instancePath),
        message: `Invalid value. Must be one of: ${(p.allowedValues as unknown[]).map(String).join(", ")}.`,
      };
    case "required":
      return { field: fieldOf(err.instancePath, String(p.missingProperty)), message: "Missing data for required field." };
    default:
      return { field: fieldOf(err.instancePath), message: err.message ?? "Invalid value." };
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
export function isValidDate(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

const ORCID = /^(https?:\/\/orcid\.org\/)?\d{4}-\d{4}-\d{4}-\d{3}[\dX]$/;

/**
 * Validates deposit metadata; `knownCommunity` tells whether a community identifier exists. Returns the errors
 * (empty when valid) and the metadata with Zenodo's defaults applied (publication date, access right, licence).
 */
export function validateMetadata(
  input: unknown,
  knownCommunity: (id: string) => boolean,
  today = new Date().toISOString().slice(0, 10),
): { errors: FieldError[]; metadata: Record<string, unknown> } {
  const errors: FieldError[] = [];
  if (!isPlainObject(input)) {
    return { errors: [{ field: "metadata", message: "Not a valid object." }], metadata: {} };
  }
  const md: Record<string, unknown> = structuredClone(input);
  const add = (field: string, message: string) => {
    if (!errors.some((e) => e.field === field)) errors.push({ field, message });
  };
  const required = (key: string) => {
    const v = md[key];
    if (v === undefined || v === null || (typeof v === "string" && v.trim() === "")) {
      add(`metadata.${key}`, "Missing data for required field.");
      return false;
    }
    return true;
  };

  if (required("upload_type") && !UPLOAD_TYPES.includes(String(md.upload_type))) {
    add("metadata.upload_type", `Invalid upload type: ${String(md.upload_type)}. Must be one of: ${UPLOAD_TYPES.join(", ")}.`);
  }
  if (md.upload_type === "publication" && required("publication_type") && !PUBLICATION_TYPES.includes(String(md.publication_type))) {
    add("metadata.publication_type", `Invalid publication type: ${String(md.publication_type)}.`);
  }
  if (md.upload_type === "image" && required("image_type") && !IMAGE_TYPES.includes(String(md.image_type))) {
    add("metadata.image_type", `Invalid image type: ${String(md.image_type)}.`);
  }
  if (md.publication_date === undefined || md.publication_date === null || md.publication_date === "") md.publication_date = today;
  else if (!isValidDate(md.publication_date)) add("metadata.publication_date", "Not a valid date (expected YYYY-MM-DD).");

  if (required("title") && typeof md.title === "string" && md.title.trim().length < 3) {
    add("metadata.title", "Shorter than minimum length 3.");
  }
  if (required("description") && typeof md.description === "string" && md.description.trim().length < 3) {
    add("metadata.description", "Shorter than minimum length 3.");
  }
  if (md.creators === undefined || md.creators === null) add("metadata.creators", "Missing data for required field.");
  else if (!Array.isArray(md.creators)) add("metadata.creators", "Not a valid list.");
  else if (md.creators.length === 0) add("metadata.creators", "Shorter than minimum length 1.");
  else {
    md.creators.forEach((c: unknown, i) => {
      if (!isPlainObject(c)) return add(`metadata.creators.${i}`, "Not a valid object.");
      if (typeof c.name !== "string" || c.name.trim() === "") add(`metadata.creators.${i}.name`, "Name is required.");
      if (c.orcid !== undefined && (typeof c.orcid !== "string" || !ORCID.test(c.orcid))) {
        add(`metadata.creators.${i}.orcid`, "Not a valid ORCID identifier.");
      }
    });
  }
  if (Array.isArray(md.contributors)) {
    md.contributors.forEach((c: unknown, i) => {
      if (!isPlainObject(c)) return;
      if (typeof c.name !== "string" || c.name.trim() === "") add(`metadata.contributors.${i}.name`, "Name is required.");
      if (c.type === undefined) add(`metadata.contributors.${i}.type`, "Missing data for required field.");
    });
  }

  if (md.access_right === undefined || md.access_right === null) md.access_right = "open";
  const access = String(md.access_right);
  if (!ACCESS_RIGHTS.includes(access)) {
    add("metadata.access_right", `Invalid access right: ${access}. Must be one of: ${ACCESS_RIGHTS.join(", ")}.`);
  }
  if (access === "open" || access === "embargoed") {
    if (md.license === undefined || md.license === null || md.license === "") {
      md.license = md.upload_type === "dataset" ? "cc0-1.0" : "cc-by-4.0";
    } else {
      const id = typeof md.license === "string" ? md.license : isPlainObject(md.license) ? String(md.license.id ?? "") : "";
      if (!licenseById(id)) add("metadata.license", `Invalid license provided: ${id || JSON.stringify(md.license)}.`);
    }
  }
  if (access === "embargoed") {
    if (!isValidDate(md.embargo_date)) add("metadata.embargo_date", "Embargo date must be a valid date (YYYY-MM-DD).");
    else if (String(md.embargo_date) <= today) add("metadata.embargo_date", "Embargo date must be in the future.");
  }
  if (access === "restricted" && (typeof md.access_conditions !== "string" || md.access_conditions.trim() === "")) {
    add("metadata.access_conditions", "Access conditions are required for restricted access.");
  }
  if (Array.isArray(md.related_identifiers)) {
    md.related_identifiers.forEach((r: unknown, i) => {
      if (!isPlainObject(r)) return;
      if (typeof r.identifier !== "string" || !r.identifier) add(`metadata.related_identifiers.${i}.identifier`, "Missing data for required field.");
      if (r.relation === undefined) add(`metadata.related_identifiers.${i}.relation`, "Missing data for required field.");
    });
  }
  if (Array.isArray(md.communities)) {
    md.communities.forEach((c: unknown, i) => {
      if (!isPlainObject(c) || typeof c.identifier !== "string") return add(`metadata.communities.${i}.identifier`, "Missing data for required field.");
      if (!knownCommunity(c.identifier)) add(`metadata.communities.${i}.identifier`, `Provided community does not exist: ${c.identifier}.`);
    });
  }
  if (md.language !== undefined && (typeof md.language !== "string" || !/^[a-z]{3}$/.test(md.language))) {
    add("metadata.language", "Not a valid ISO 639-2/3 language code.");
  }
  if (Array.isArray(md.dates)) {
    md.dates.forEach((d: unknown, i) => {
      if (!isPlainObject(d)) return;
      if (d.start === undefined && d.end === undefined) add(`metadata.dates.${i}`, "There must be at least one date (start or end).");
      for (const k of ["start", "end"]) if (d[k] !== undefined && !isValidDate(d[k])) add(`metadata.dates.${i}.${k}`, "Not a valid date.");
      if (!["Collected", "Valid", "Withdrawn"].includes(String(d.type))) add(`metadata.dates.${i}.type`, "Must be one of: Collected, Valid, Withdrawn.");
    });
  }

  const check = schemaValidator();
  const { license: _license, prereserve_doi: _pre, ...forSchema } = md;
  if (typeof md.license === "string") (forSchema as Record<string, unknown>).license = md.license;
  if (!check(forSchema)) {
    for (const err of check.errors ?? []) {
      const fe = schemaMessage(err);
      if (!errors.some((e) => e.field === fe.field || fe.field.startsWith(`${e.field}.`))) errors.push(fe);
    }
  }
  return { errors, metadata: md };
}
