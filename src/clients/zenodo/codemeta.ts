/**
 * codemeta.json → Zenodo deposit metadata, following the crosswalk eOSSR applies for the ESCAPE OSSR:
 * `name`→title, `description`, `version`/`softwareVersion`→version, `keywords`, `releaseNotes`→notes,
 * `datePublished`→publication_date (default: today), authors/creators→creators, other roles→contributors with a
 * Zenodo contributor type, `codeRepository`→related identifier `isDerivedFrom`, `readme`→`isDocumentedBy`,
 * `citation`→references, SPDX licence URL(s)→licence id, `upload_type` software, `access_right` open by default.
 * Keys without a Zenodo counterpart are reported, not silently dropped.
 */
import { readSmallFile } from "../small-file";
import { ZenodoError } from "./errors";
import { validateDepositMetadata, type Creator, type DepositMetadata, type MetadataReport } from "./metadata";

export interface CodemetaConversion {
  metadata: DepositMetadata;
  /** Keys of codemeta.json that were not converted. */
  ignored: string[];
  /** Offline validation of the result. */
  report: MetadataReport;
}

export interface CodemetaOptions {
  accessRight?: "open" | "embargoed" | "restricted" | "closed";
  /** Add the ESCAPE OSSR community (`escape2020`) and the ESCAPE grant, as eOSSR's `--add-escape2020` does. */
  escape2020?: boolean;
  /** Date used when codemeta has no datePublished (default: today). */
  today?: Date;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asList<T>(v: T | T[] | undefined): T[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

function fail(message: string): ZenodoError {
  return new ZenodoError({ code: "ZENODO_CODEMETA", message, hint: "Fix codemeta.json (the CodeMeta generator at codemeta.github.io can check it) and convert again." });
}

/** Role keys of codemeta and the Zenodo contributor type they become (creators have none). */
const CREATOR_ROLES = ["author", "creator"];
const CONTRIBUTOR_ROLES: Record<string, string> = {
  maintainer: "ContactPerson",
  contributor: "Other",
  editor: "Editor",
  producer: "Producer",
  sponsor: "Sponsor",
  copyrightHolder: "RightsHolder",
  provider: "Distributor",
  publisher: "Distributor",
};

const ORCID_ID = /(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$/;

function orgName(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (isObject(v) && typeof v.name === "string") return v.name;
  return undefined;
}

function person(value: unknown, role: string): Creator {
  if (typeof value === "string") return { name: value };
  if (!isObject(value)) throw fail(`codemeta "${role}" entries must be Person or Organization objects.`);
  const type = value["@type"];
  let name: string;
  if (type === "Organization" || (type === undefined && typeof value.name === "string" && !value.familyName)) {
    if (typeof value.name !== "string") throw fail(`codemeta "${role}": an Organization needs a name.`);
    name = value.name;
  } else {
    const family = typeof value.familyName === "string" ? value.familyName.trim() : "";
    const given = asList(value.givenName as string | string[]).join(" ").trim();
    if (!family && !given) {
      if (typeof value.name === "string") name = value.name;
      else throw fail(`codemeta "${role}": a Person needs familyName or givenName.`);
    } else name = family && given ? `${family}, ${given}` : family || given;
  }
  const out: Creator = { name };
  const affiliations = asList(value.affiliation as unknown).map(orgName).filter((n): n is string => !!n);
  if (affiliations.length) out.affiliation = affiliations.join("; ");
  for (const id of [value["@id"], value.identifier]) {
    const m = typeof id === "string" && id.includes("orcid") ? ORCID_ID.exec(id.trim().replace(/\/$/, "")) : typeof id === "string" ? ORCID_ID.exec(id.trim()) : null;
    if (m && !out.orcid) out.orcid = m[1];
  }
  return out;
}

/** `https://spdx.org/licenses/MIT.html` → `mit`; Zenodo (InvenioRDM) licence ids are lower-case SPDX ids. */
export function licenseId(value: string): string {
  const last = value.trim().replace(/\/+$/, "").split("/").pop() ?? value;
  return last.replace(/\.(html|json)$/i, "").toLowerCase();
}

export function codemetaToZenodo(codemeta: unknown, options: CodemetaOptions = {}): CodemetaConversion {
  if (!isObject(codemeta)) throw fail("codemeta.json must contain a JSON object.");
  const type = codemeta["@type"];
  if (type !== undefined && type !== "SoftwareSourceCode") {
    throw fail(`codemeta "@type" must be "SoftwareSourceCode" (CodeMeta describes software), not ${JSON.stringify(type)}.`);
  }
  const md: Json = { upload_type: "software" };
  const handled = new Set(["@context", "@type", "@id", "type", "id"]);
  const take = (key: string) => {
    handled.add(key);
    return codemeta[key];
  };

  const name = take("name");
  if (typeof name === "string") md.title = name;
  const description = take("description");
  if (typeof description === "string") md.description = description;

  const version = take("version");
  const softwareVersion = take("softwareVersion");
  if (version !== undefined && softwareVersion !== undefined && String(version) !== String(softwareVersion)) {
    throw fail(`codemeta "version" (${String(version)}) and "softwareVersion" (${String(softwareVersion)}) differ; keep one.`);
  }
  if (softwareVersion !== undefined || version !== undefined) md.version = String(softwareVersion ?? version);

  const keywords = take("keywords");
  if (keywords !== undefined) {
    md.keywords = asList(keywords as string | string[]).flatMap((k) => (typeof k === "string" ? k.split(",").map((s) => s.trim()) : [])).filter(Boolean);
  }
  const releaseNotes = take("releaseNotes");
  if (typeof releaseNotes === "string") md.notes = `Release Notes: ${releaseNotes}`;
  const citation = take("citation");
  if (citation !== undefined) {
    md.references = asList(citation as unknown).map((c) => (typeof c === "string" ? c : isObject(c) ? String(c["@id"] ?? c.url ?? c.name ?? "") : "")).filter(Boolean);
  }

  const published = take("datePublished");
  const today = (options.today ?? new Date()).toISOString().slice(0, 10);
  md.publication_date = typeof published === "string" ? published.slice(0, 10) : today;

  const creators: Creator[] = [];
  for (const role of CREATOR_ROLES) for (const p of asList(take(role))) creators.push(person(p, role));
  const contributors: (Creator & { type: string })[] = [];
  for (const [role, zenodoType] of Object.entries(CONTRIBUTOR_ROLES)) {
    for (const p of asList(take(role))) contributors.push({ ...person(p, role), type: zenodoType });
  }
  const uniqueBy = <T extends { name: string }>(list: T[], key: (x: T) => string) => {
    const seen = new Set<string>();
    return list.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)));
  };
  if (creators.length) md.creators = uniqueBy(creators, (c) => c.name);
  const dedupContributors = uniqueBy(contributors, (c) => `${c.name}|${c.type}`);
  if (dedupContributors.length) md.contributors = dedupContributors;

  const related: Json[] = [];
  for (const repo of asList(take("codeRepository") as string | string[])) {
    related.push({ scheme: "url", identifier: repo, relation: "isDerivedFrom", resource_type: "software" });
  }
  for (const readme of asList(take("readme") as string | string[])) {
    related.push({ scheme: "url", identifier: readme, relation: "isDocumentedBy", resource_type: "publication-softwaredocumentation" });
  }
  if (related.length) md.related_identifiers = related;

  const license = take("license");
  const licenses = asList(license as unknown).map((l) => (typeof l === "string" ? l : isObject(l) ? String(l.url ?? l["@id"] ?? l.identifier ?? l.name ?? "") : "")).filter(Boolean);
  if (licenses.length === 1) md.license = licenseId(licenses[0]);
  else if (licenses.length > 1) md.license = "other-open";

  md.access_right = options.accessRight ?? "open";
  if (options.escape2020) {
    md.communities = [{ identifier: "escape2020" }];
    md.grants = [{ id: "10.13039/501100000780::824064" }];
  }

  const ignored = Object.keys(codemeta).filter((k) => !handled.has(k));
  const metadata = md as DepositMetadata;
  return { metadata, ignored, report: validateDepositMetadata(metadata, { today: options.today }) };
}

export async function codemetaFileToZenodo(file: string, options: CodemetaOptions = {}): Promise<CodemetaConversion> {
  let text: string;
  try {
    text = await readSmallFile(file, { what: "the codemeta file" });
  } catch (e) {
    throw fail(`Cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw fail(`${file} is not valid JSON: ${(e as Error).message}.`);
  }
  return codemetaToZenodo(parsed, options);
}
