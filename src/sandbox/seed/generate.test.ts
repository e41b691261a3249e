import { describe, expect, it } from "vitest";
import { checksums, u8 } from "../rucio/checksum";
import { CSV_HEADER, generateRunCsv, generateSeedFiles, prng, SEED_RUNS } from "./generate";

describe("seed dataset generator", () => {
  it("is deterministic: the same bytes on every call", () => {
    const a = generateSeedFiles().map((f) => checksums(u8(f.content)));
    const b = generateSeedFiles().map((f) => checksums(u8(f.content)));
    expect(a).toEqual(b);
    expect(prng(1)()).toBe(prng(1)());
  });

  it("has a few hundred KB of well-formed CSV with the requested event counts", () => {
    const files = generateSeedFiles();
    const total = files.reduce((s, f) => s + f.content.length, 0);
    expect(total).toBeGreaterThan(200_000);
    expect(total).toBeLessThan(600_000);
    for (const run of SEED_RUNS) {
      const lines = generateRunCsv(run).trimEnd().split("\n");
      expect(lines[0]).toBe(CSV_HEADER);
      expect(lines).toHaveLength(run.events + 1);
      for (const line of lines.slice(1, 50)) {
        const cols = line.split(",");
        expect(cols).toHaveLength(11);
        expect(Number(cols[0])).toBe(run.run);
        expect(Math.abs(Number(cols[3]))).toBeLessThanOrEqual(2.4);
        expect(Number(cols[5]) * Number(cols[9])).toBe(-1);
      }
    }
  });

  it("shows the J/psi, Upsilon and Z peaks in the dimuon mass", () => {
    const masses = SEED_RUNS.flatMap((r) => generateRunCsv(r).trimEnd().split("\n").slice(1).map((l) => Number(l.split(",")[10])));
    const count = (lo: number, hi: number) => masses.filter((m) => m >= lo && m < hi).length;
    // Each peak window holds far more events than equally wide side bands.
    expect(count(3.0, 3.2)).toBeGreaterThan(5 * (count(3.4, 3.5) + count(2.7, 2.8)));
    expect(count(9.2, 9.7)).toBeGreaterThan(3 * (count(10.5, 10.75) + count(8.3, 8.55)));
    expect(count(86, 96)).toBeGreaterThan(5 * (count(70, 75) + count(107, 112)));
  });
});
