/**
 * How two copies of a notebook's research record become one: the one rule `vre-ts run` (mergeRecords in
 * ./record.ts: the record file with the notebook's metadata) and the record widget's view (the kernel's record with
 * what the notebook it writes into already holds) follow, so a notebook shows its sessions in the same order
 * whichever of them saved it last.
 *
 * The view runs in the browser as one self-contained ES module, so it gets these functions as source
 * (RECORD_MERGE_JS, their own compiled text): they use nothing but their arguments, each other and the language's
 * built-ins: no import, no exported constant, no other helper of the module.
 */
import type { ProvenanceEntry } from "./provenance";
import type { ResearchRecord } from "./record";

/**
 * One entry as the same entry in another copy of the record: its session, time and what it is about. Not `seq`,
 * which is the entry's position in whichever log held it (a kernel that found its record file late, or a merge,
 * renumbers), and not the details, which redaction may have touched.
 */
function recordEntryKey(e: ProvenanceEntry): string {
  return JSON.stringify([e.session ?? null, e.time, e.action, e.kind, e.service, e.id]);
}

/** Merges two lists that are each in order into one in order of `at`, keeping each list's own order; ties: `a` first. */
function mergeRecordLists<T>(a: T[], b: T[], at: (item: T) => string | undefined): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ta = at(a[i]);
    const tb = at(b[j]);
    if (typeof ta === "string" && typeof tb === "string" && tb < ta) out.push(b[j++]);
    else out.push(a[i++]);
  }
  return out.concat(a.slice(i), b.slice(j));
}

/**
 * The record from two copies: `primary` (the one that wins) and `other` (anything: a notebook's metadata may hold
 * what its author typed). Sessions and entries only `other` has are kept, in their order, among the primary's by
 * time (session start, entry time); for what both have, the primary's copy wins. Sessions are the same by their id;
 * entries by their session, time and subject, the primary's as `asOther` shows them (e.g. with its absolute paths
 * made relative as `other` keeps them). When `other` adds nothing the primary record is returned as it is;
 * otherwise the entries are renumbered (`seq` is the position in the log).
 */
export function mergeRecordCopies(primary: ResearchRecord, other: unknown, asOther?: (e: ProvenanceEntry) => ProvenanceEntry): ResearchRecord {
  const copy = other as Partial<ResearchRecord> | null | undefined;
  if (!copy || typeof copy !== "object" || !Array.isArray(copy.sessions) || !Array.isArray(copy.entries)) return primary;
  const sessionIds = new Set(primary.sessions.map((s) => s.session));
  const extraSessions = copy.sessions.filter((s) => {
    if (!s || typeof s.session !== "string" || sessionIds.has(s.session)) return false;
    sessionIds.add(s.session);
    return true;
  });
  const keys = new Set(primary.entries.map((e) => recordEntryKey(asOther ? asOther(e) : e)));
  const extraEntries = copy.entries.filter((e) => {
    if (!e || typeof e.action !== "string") return false;
    const key = recordEntryKey(e);
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  });
  if (extraSessions.length === 0 && extraEntries.length === 0) return primary;
  const sessions = mergeRecordLists(primary.sessions, extraSessions, (s) => s.started);
  const entries = mergeRecordLists(primary.entries, extraEntries, (e) => e.time).map((e, i) => ({ ...e, seq: i + 1 }));
  return { version: 1, notebook: primary.notebook ?? copy.notebook, sessions, entries };
}

/**
 * The merge as plain JavaScript for a browser-side module: defines `mergeRecordCopies(primary, other)` (and its two
 * helpers) from this module's own code, so the view cannot drift from `vre-ts run`.
 */
export const RECORD_MERGE_JS = [recordEntryKey, mergeRecordLists, mergeRecordCopies].map((f) => f.toString()).join("\n\n");
