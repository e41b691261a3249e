/**
 * A small stand-in for Zenodo's Elasticsearch query strings: whitespace-separated terms (or "quoted phrases") that
 * must all match, case-insensitively, in the title, description, creator names or keywords; `field:value` limits a
 * term to one field (title, description, creators.name, keywords, doi, conceptrecid, upload_type); `AND` is
 * ignored, `OR` between two terms accepts either, `*` matches everything. Results carry a relevance score.
 */

export interface Searchable {
  title: string;
  description: string;
  creators: string[];
  keywords: string[];
  doi: string;
  conceptrecid: string;
  upload_type: string;
}

export function searchableOf(metadata: Record<string, unknown>, doi: string, conceptrecid: number): Searchable {
  const creators = Array.isArray(metadata.creators)
    ? metadata.creators.map((c) => (c && typeof c === "object" ? String((c as Record<string, unknown>).name ?? "") : ""))
    : [];
  const keywords = Array.isArray(metadata.keywords) ? metadata.keywords.map(String) : [];
  return {
    title: String(metadata.title ?? ""),
    description: String(metadata.description ?? "").replace(/<[^>]*>/g, " "),
    creators,
    keywords,
    doi,
    conceptrecid: String(conceptrecid),
    upload_type: String(metadata.upload_type ?? ""),
  };
}

interface Term {
  field?: string;
  text: string;
}

function tokenize(q: string): (Term | "OR")[] {
  const out: (Term | "OR")[] = [];
  const re = /(?:([\w.]+):)?(?:"([^"]*)"|(\S+))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(q)) !== null) {
    const text = (m[2] ?? m[3] ?? "").toLowerCase();
    if (!m[1] && m[3] === "AND") continue;
    if (!m[1] && m[3] === "OR") {
      out.push("OR");
      continue;
    }
    if (text === "") continue;
    out.push({ field: m[1]?.toLowerCase(), text: text.replace(/\*$/, "") });
  }
  return out;
}

function termScore(doc: Searchable, term: Term): number {
  const t = term.text;
  if (t === "" || t === "*") return 1;
  const fields: [string, string[], number][] = [
    ["title", [doc.title], 3],
    ["description", [doc.description], 1],
    ["creators.name", doc.creators, 2],
    ["keywords", doc.keywords, 2],
    ["doi", [doc.doi], 1],
    ["conceptrecid", [doc.conceptrecid], 1],
    ["upload_type", [doc.upload_type], 1],
  ];
  let score = 0;
  for (const [name, values, weight] of fields) {
    if (term.field && term.field !== name && !(term.field === "creators" && name === "creators.name")) continue;
    if (!term.field && ["doi", "conceptrecid", "upload_type"].includes(name) && !values.some((v) => v.toLowerCase() === t)) continue;
    if (values.some((v) => v.toLowerCase().includes(t))) score += weight;
  }
  return score;
}

/** Relevance of `doc` for query `q`; 0 means no match. An empty query matches everything with score 1. */
export function score(doc: Searchable, q: string | null): number {
  if (!q || q.trim() === "" || q.trim() === "*") return 1;
  const tokens = tokenize(q);
  let total = 0;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i]!;
    if (token === "OR") continue;
    let s = termScore(doc, token);
    while (tokens[i + 1] === "OR" && tokens[i + 2] && tokens[i + 2] !== "OR") {
      s = Math.max(s, termScore(doc, tokens[i + 2] as Term));
      i += 2;
    }
    if (s === 0) return 0;
    total += s;
  }
  return total;
}
