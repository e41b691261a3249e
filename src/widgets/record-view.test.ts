/**
 * The record widget's view merges the kernel's record with what the notebook already holds exactly as `vre-ts run`
 * merges its record file with the notebook's metadata (mergeRecords), so the saved session order does not depend on
 * which of them saved the notebook last. The view's own merge is run here from its ES module, as the browser loads it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProvenanceLog } from "../session/provenance";
import { type ResearchRecord, mergeRecords } from "../session/record";
import { RECORD_ESM } from "./record-view";

type ViewMerge = (saved: unknown, record: ResearchRecord) => ResearchRecord;

const dir = mkdtempSync(join(tmpdir(), "vre-ts-record-view-"));
let viewMerge: ViewMerge;

beforeAll(async () => {
  const file = join(dir, "record-view.mjs");
  writeFileSync(file, RECORD_ESM);
  ({ mergedRecord: viewMerge } = (await import(pathToFileURL(file).href)) as { mergedRecord: ViewMerge });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A kernel session in memory only (no notebook, no record file), its clock a minute further at each reading. */
function kernelSession(start: string, ids: string[]): ResearchRecord {
  let t = Date.parse(start);
  const log = new ProvenanceLog({ env: {}, locate: async () => undefined, now: () => new Date((t += 60_000)) });
  for (const id of ids) log.record({ action: "read", kind: "did", service: "rucio", id });
  return log.toRecord();
}

const sessionsOf = (r: ResearchRecord) => r.sessions.map((s) => s.session);
const ids = (r: ResearchRecord) => r.entries.map((e) => e.id);

describe("record view: merging the notebook's saved record into the kernel's", () => {
  // This kernel (no record file) started on March 2. The notebook it writes into holds a session older than it
  // (March 1) and one newer (March 3: a `vre-ts run` elsewhere), and the kernel's own first entry, saved earlier
  // by this view under another number.
  const older = kernelSession("2026-03-01T10:00:00.000Z", ["open:older"]);
  const own = kernelSession("2026-03-02T09:00:00.000Z", ["open:own-1", "open:own-2"]);
  const newer = kernelSession("2026-03-03T08:00:00.000Z", ["open:newer"]);
  const saved: ResearchRecord = {
    version: 1,
    sessions: [older.sessions[0], own.sessions[0], newer.sessions[0]],
    entries: [older.entries[0], { ...own.entries[0], seq: 7 }, { ...newer.entries[0], seq: 2 }],
  };

  it("places a saved session older than the kernel's before it and a newer one after it, entries by time, renumbered", () => {
    const merged = viewMerge(saved, own);
    expect(sessionsOf(merged)).toEqual([older.sessions[0].session, own.sessions[0].session, newer.sessions[0].session]);
    expect(ids(merged)).toEqual(["open:older", "open:own-1", "open:own-2", "open:newer"]);
    expect(merged.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(merged.entries.map((e) => e.session)).toEqual([older.sessions[0].session, own.sessions[0].session, own.sessions[0].session, newer.sessions[0].session]);
    // The kernel's copy wins for what both hold.
    expect(merged.sessions[1]).toEqual(own.sessions[0]);
  });

  it("is mergeRecords: the same record, field for field, as vre-ts run saves from the same two copies", () => {
    expect(viewMerge(saved, own)).toEqual(mergeRecords(own, saved));
    // Saved in another order (each copy is merged in its own order, by time): still the same result.
    const runFirst: ResearchRecord = { version: 1, sessions: [older.sessions[0], newer.sessions[0]], entries: [older.entries[0], newer.entries[0]] };
    expect(viewMerge(runFirst, own)).toEqual(mergeRecords(own, runFirst));
    expect(sessionsOf(viewMerge(runFirst, own))).toEqual(sessionsOf(viewMerge(saved, own)));
  });

  it("is stable: what it wrote into the notebook, merged again (the next redraw), changes nothing and duplicates nothing", () => {
    const merged = viewMerge(saved, own);
    expect(viewMerge(merged, own)).toEqual(merged);
    expect(viewMerge(JSON.parse(JSON.stringify(merged)), own)).toEqual(merged);
  });

  it("keeps the kernel's record as it is when the notebook holds nothing more, or no record at all", () => {
    expect(viewMerge(own, own)).toBe(own);
    for (const nothing of [undefined, null, "record", 42, {}, { sessions: "x", entries: [] }, { version: 1, sessions: [], entries: [] }]) {
      expect(viewMerge(nothing, own)).toBe(own);
    }
    // Foreign items in a hand-edited record are skipped, not merged.
    expect(viewMerge({ version: 1, sessions: [null, { session: 3 }], entries: [null, { seq: 1 }] }, own)).toBe(own);
  });
});
