/**
 * Offline checks of identifiers Zenodo validates on the server: licence ids (against the ids its deposit API
 * accepts, shipped in schemas/licenses.json) and ORCID iDs (format and ISO 7064 MOD 11-2 check digit).
 */
import licenses from "./schemas/licenses.json";

/** Every licence id the legacy deposit API accepts in `metadata.license` (matched exactly, as Zenodo does). */
export const ZENODO_LICENSE_IDS: ReadonlySet<string> = new Set([...licenses.ids, ...Object.keys(licenses.legacy), ...Object.keys(licenses.aliases)]);

export interface LicenseCheck {
  /** Zenodo accepts the id as written. */
  known: boolean;
  /** For an unknown id: the accepted id the user most likely meant. */
  suggestion?: string;
}

function normalised(id: string): string {
  return id
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\/(spdx\.org|opensource\.org|creativecommons\.org)\/licen[sc]es\//, "")
    .replace(/\.(html?|php|json)$/, "")
    .replace(/[\s_]+/g, "-")
    .replace(/-licen[sc]e$/, "");
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Whether Zenodo knows a licence id; for an unknown one, the closest known id (case, SPDX URL, typo). */
export function checkLicenseId(id: string): LicenseCheck {
  if (ZENODO_LICENSE_IDS.has(id)) return { known: true };
  const norm = normalised(id);
  // The lower-case ids (InvenioRDM's SPDX vocabulary) first: they are the canonical spelling.
  if (licenses.ids.includes(norm) || norm in licenses.legacy) return { known: false, suggestion: norm };
  for (const known of ZENODO_LICENSE_IDS) if (known.toLowerCase() === norm) return { known: false, suggestion: known };
  // A version left out or cut short: "cc0" → cc0-1.0, "cc-by-4" → cc-by-4.0 (the shortest such id).
  const longer = licenses.ids.filter((k) => k.startsWith(norm) && /^[-.]/.test(k.slice(norm.length))).sort((a, b) => a.length - b.length);
  if (norm.length >= 2 && longer.length) return { known: false, suggestion: longer[0] };
  let best: string | undefined;
  let score = Infinity;
  for (const known of licenses.ids) {
    const d = editDistance(norm, known);
    if (d < score) [best, score] = [known, d];
  }
  return { known: false, suggestion: best && score <= Math.max(2, Math.floor(norm.length / 4)) ? best : undefined };
}

const ORCID_FORM = /^(?:https?:\/\/orcid\.org\/)?(\d{4})-(\d{4})-(\d{4})-(\d{3}[\dX])$/;

/** The ISO 7064 MOD 11-2 check character of an ORCID iD's first 15 digits. */
export function orcidCheckDigit(digits15: string): string {
  let total = 0;
  for (const c of digits15) total = (total + Number(c)) * 2;
  const result = (12 - (total % 11)) % 11;
  return result === 10 ? "X" : String(result);
}

/**
 * What is wrong with an ORCID iD: "format" when it is not written as one (16 digits in groups of four, optionally
 * as https://orcid.org/…), else a sentence about its check digit; undefined when it is valid.
 */
export function orcidProblem(value: string): string | undefined {
  const m = ORCID_FORM.exec(value.trim());
  if (!m) return "format";
  const all = m.slice(1).join("");
  const expected = orcidCheckDigit(all.slice(0, 15));
  if (all[15] !== expected) return `is not a valid ORCID iD: its last character (check digit) should be ${expected}, so a digit is probably mistyped; copy the iD from orcid.org`;
  return undefined;
}
