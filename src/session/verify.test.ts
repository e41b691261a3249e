import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { recordedLifecycle } from "./__tests__/record-fixture";
import { buildCrate } from "./crate";
import { compareFingerprints, fingerprintOfCrate, fingerprintOfRecord, formatDifferences } from "./verify";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vre-verify-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const lifecycleRecord = () => recordedLifecycle(dir);

describe("re-run fingerprints", () => {
  it("a record session and the crate written from it give the same fingerprint", () => {
    const { notebook, log } = lifecycleRecord();
    const record = log.toRecord();
    const fromRecord = fingerprintOfRecord(record).fingerprint;
    expect(fromRecord).toEqual({
      notebookCode: expect.stringMatching(/^[0-9a-f]{64}$/),
      parameters: { min_pt: "3" },
      dids: { "open:run1.csv": "adler32:0a0b0c0d md5:m1" },
      workflows: {
        dimuon: {
          specification: "a".repeat(64),
          inputs: { "data/run1.csv": "c".repeat(64), "reana.yaml": "b".repeat(64) },
          parameters: { min_pt: "3" },
          status: "finished",
          outputs: { "results/mass.json": "m3" },
        },
      },
    });
    expect(fingerprintOfCrate(buildCrate({ notebook, record }))).toEqual(fromRecord);
  });

  it("names each difference, and says identical when there is none", () => {
    const { log } = lifecycleRecord();
    const a = fingerprintOfRecord(log.toRecord()).fingerprint;
    expect(compareFingerprints(a, a)).toEqual([]);
    expect(formatDifferences([], "the record")).toMatch(/^vre-ts run --verify: identical to the recorded run \(the record\)/);
    const b = structuredClone(a);
    b.parameters.min_pt = "4";
    b.dids["open:run1.csv"] = "adler32:ffffffff md5:m1";
    b.workflows.dimuon.inputs["data/run1.csv"] = "d".repeat(64);
    b.workflows.dimuon.status = "failed";
    delete b.workflows.dimuon.outputs["results/mass.json"];
    b.workflows.other = { inputs: {}, parameters: {}, outputs: {} };
    const diffs = compareFingerprints(a, b);
    expect(diffs).toEqual([
      { what: "parameter", item: "min_pt", recorded: "3", now: "4" },
      { what: "did", item: "open:run1.csv", recorded: "adler32:0a0b0c0d md5:m1", now: "adler32:ffffffff md5:m1" },
      { what: "workflow input", item: "dimuon: data/run1.csv", recorded: "c".repeat(64), now: "d".repeat(64) },
      { what: "workflow status", item: "dimuon", recorded: "finished", now: "failed" },
      { what: "workflow output", item: "dimuon: results/mass.json", recorded: "m3", now: undefined },
      { what: "workflow", item: "other", recorded: undefined, now: "ran" },
    ]);
    const table = formatDifferences(diffs, "the record");
    expect(table.split("\n")[0]).toBe("vre-ts run --verify: 6 differences from the recorded run (the record):");
    expect(table).toMatch(/workflow output\s+dimuon: results\/mass\.json\s+m3\s+\(absent\)/);
  });
});
