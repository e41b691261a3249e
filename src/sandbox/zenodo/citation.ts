import type { RecordDoc } from "./state";

/** Citation exports of a published record, as Zenodo serves them through `Accept` negotiation. */

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function creatorNames(rec: RecordDoc): string[] {
  const creators = Array.isArray(rec.metadata.creators) ? rec.metadata.creators : [];
  return creators.map((c) => String((c as Record<string, unknown>).name ?? "")).filter(Boolean);
}

function bibEscape(value: string): string {
  return value.replace(/([{}\\])/g, "\\$1");
}

/** BibTeX entry (`application/x-bibtex`). */
export function toBibtex(rec: RecordDoc): string {
  const md = rec.metadata;
  const date = String(md.publication_date ?? rec.created.slice(0, 10));
  const [year, month] = date.split("-");
  const type =
    md.upload_type === "dataset" ? "dataset" : md.upload_type === "software" ? "software" : md.publication_type === "article" ? "article" : "misc";
  const first = (creatorNames(rec)[0] ?? "zenodo").split(",")[0]!.toLowerCase().replace(/[^a-z0-9]+/g, "");
  const fields: [string, string][] = [
    ["author", creatorNames(rec).join(" and ")],
    ["title", String(md.title ?? "")],
    ["month", MONTHS[Number(month) - 1] ?? ""],
    ["year", year ?? ""],
    ["publisher", "Zenodo"],
    ["version", String(md.version ?? "")],
    ["doi", rec.doi],
    ["url", `https://doi.org/${rec.doi}`],
  ];
  const body = fields
    .filter(([, v]) => v !== "")
    .map(([k, v]) => `  ${k.padEnd(12)} = ${k === "month" || k === "year" ? v : `{${bibEscape(v)}}`},`)
    .join("\n");
  return `@${type}{${first}_${year ?? ""}_${rec.id},\n${body}\n}\n`;
}

/** CSL-JSON item (`application/vnd.citationstyles.csl+json`). */
export function toCslJson(rec: RecordDoc): Record<string, unknown> {
  const md = rec.metadata;
  const date = String(md.publication_date ?? rec.created.slice(0, 10)).split("-").map(Number);
  return {
    id: String(rec.id),
    type: md.upload_type === "dataset" ? "dataset" : md.upload_type === "software" ? "software" : "article",
    title: md.title,
    author: creatorNames(rec).map((name) => {
      const [family, given] = name.split(",").map((p) => p.trim());
      return given ? { family, given } : { literal: name };
    }),
    issued: { "date-parts": [date] },
    publisher: "Zenodo",
    version: md.version,
    DOI: rec.doi,
    URL: `https://doi.org/${rec.doi}`,
    abstract: typeof md.description === "string" ? md.description.replace(/<[^>]*>/g, "") : undefined,
  };
}
