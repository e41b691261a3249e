import { describe, expect, it } from "vitest";
import { RucioError } from "./errors";
import { filtersFromQuery, matchesFilters, parseFilters } from "./filters";

const dids: Record<string, Record<string, unknown>> = {
  run1: { name: "dimuon_run001.csv", run_number: 1, energy: 7000, datatype: "CSV", created_at: Date.parse("2026-01-01T00:00:00Z") },
  run2: { name: "dimuon_run002.csv", run_number: 2, energy: 8000, datatype: "CSV", created_at: Date.parse("2026-06-01T00:00:00Z") },
  readme: { name: "README.md", datatype: "README", created_at: Date.parse("2026-06-01T00:00:00Z") },
};
const select = (filters: string) =>
  Object.entries(dids)
    .filter(([, d]) => matchesFilters(parseFilters(filters), (k) => d[k]))
    .map(([k]) => k);

describe("DID search filters", () => {
  it("ANDs the keys of one dict and ORs the dicts", () => {
    expect(select("[{'name': 'dimuon*', 'energy.gt': 7500}]")).toEqual(["run2"]);
    expect(select("[{'run_number': 1}, {'datatype': 'README'}]")).toEqual(["run1", "readme"]);
  });

  it("supports gt, gte, lt, lte, ne and wildcards", () => {
    expect(select("[{'energy.gte': 7000, 'energy.lt': 8000}]")).toEqual(["run1"]);
    expect(select("[{'run_number.lte': 2}]")).toEqual(["run1", "run2"]);
    expect(select("[{'datatype.ne': 'CSV'}]")).toEqual(["readme"]);
    expect(select("[{'name': '*run00?.csv'}]")).toEqual([]);
    expect(select("[{'name': '*.md'}]")).toEqual(["readme"]);
    expect(select("[{'name': '*'}]")).toEqual(["run1", "run2", "readme"]);
  });

  it("compares numbers given as strings numerically and handles created_before/after", () => {
    expect(select("[{'run_number': '2'}]")).toEqual(["run2"]);
    expect(select("[{'created_after': '2026-03-01T00:00:00Z'}]")).toEqual(["run2", "readme"]);
    expect(select("[{'created_before': '2026-03-01T00:00:00Z'}]")).toEqual(["run1"]);
  });

  it("turns a bad literal into a server error like ast.literal_eval's", () => {
    try {
      parseFilters("[{'open': true}]");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RucioError);
      expect((err as RucioError).status).toBe(500);
    }
    expect(() => parseFilters("[42]")).toThrow(/not a dictionary/);
  });

  it("reads the legacy query form", () => {
    const group = filtersFromQuery(new URLSearchParams("type=all&name=dimuon*&energy.gt=7500"), new Set(["type"]));
    expect(group).toEqual([
      { key: "name", op: "eq", value: "dimuon*" },
      { key: "energy", op: "gt", value: 7500 },
    ]);
  });
});

describe("DID types per OR group (Rucio's list_dids)", () => {
  it("a type key inside a group replaces the query's type for that group and is not compared as metadata", async () => {
    const { typedFilterGroups } = await import("./catalog");
    expect(typedFilterGroups("collection", parseFilters("[{'type': 'dataset', 'name': '*'}]"))).toEqual([
      { types: ["DATASET"], conditions: [{ key: "name", op: "eq", value: "*" }] },
    ]);
    expect(typedFilterGroups("collection", parseFilters("[{'type': 'FILE'}, {'name': 'x*'}]")).map((g) => g.types)).toEqual([["FILE"], ["CONTAINER", "DATASET"]]);
    expect(typedFilterGroups("all", []).map((g) => g.types)).toEqual([["CONTAINER", "DATASET", "FILE"]]);
    expect(() => typedFilterGroups("collection", parseFilters("[{'type': 'Bogus'}]"))).toThrow(/^bogus is not a valid type/);
  });
});
