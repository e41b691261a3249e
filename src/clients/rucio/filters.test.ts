import { describe, expect, it } from "vitest";
import { Dids } from "./dids";
import { encodeFilters, parseFilterExpression, pyStr } from "./filters";

describe("DID search filters", () => {
  it("parses key op value with , = AND and ; = OR", () => {
    expect(parseFilterExpression("name=data*,project=vre ; run_number>=100,datatype!=RAW")).toEqual([
      { name: "data*", project: "vre" },
      { "run_number.gte": 100, "datatype.ne": "RAW" },
    ]);
    expect(parseFilterExpression("length>0;length<10;energy<=1.5e3;x==y")).toEqual([{ "length.gt": 0 }, { "length.lt": 10 }, { "energy.lte": 1500 }, { x: "y" }]);
  });

  it("keeps quoted numbers as strings", () => {
    expect(parseFilterExpression("run='00042'")).toEqual([{ run: "00042" }]);
  });

  it("encodes exactly as Python's str(list_of_dicts)", () => {
    expect(encodeFilters([{ name: "*" }])).toBe("[{'name': '*'}]");
    expect(encodeFilters([{ name: "*", project: "vre" }, { "length.gt": 0 }])).toBe("[{'name': '*', 'project': 'vre'}, {'length.gt': 0}]");
    expect(pyStr("it's")).toBe(`"it's"`);
    expect(pyStr(`a'b"c`)).toBe(`'a\\'b"c'`);
    expect(pyStr("tab\there\\")).toBe("'tab\\there\\\\'");
  });

  it("rejects bad terms with a clear, typed error", () => {
    for (const bad of ["novalue=", "=x", "justaword", "bad key=1", "a=1,a=2"]) {
      expect(() => parseFilterExpression(bad)).toThrow(expect.objectContaining({ code: "RUCIO_INVALID_FILTER" }));
    }
    expect(() => encodeFilters([{ "x.between": 1 }])).toThrow(expect.objectContaining({ code: "RUCIO_INVALID_FILTER" }));
    expect(() => encodeFilters([{ x: true as unknown as string }])).toThrow(/string or a number/);
  });

  it("applies the name pattern to every OR group that lacks one", () => {
    expect(Dids.searchFilters({})).toEqual([{ name: "*" }]);
    expect(Dids.searchFilters({ name: "data*", filters: "a=1;name=x*" })).toEqual([{ name: "data*", a: 1 }, { name: "x*" }]);
    expect(Dids.searchFilters({ filters: "length>0" })).toEqual([{ "length.gt": 0 }]);
  });
});
