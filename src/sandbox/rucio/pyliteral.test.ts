import { describe, expect, it } from "vitest";
import { parsePyLiteral, PyLiteralError } from "./pyliteral";

describe("parsePyLiteral", () => {
  it("reads what the Python client sends as str(list_of_dicts)", () => {
    expect(parsePyLiteral("[{'name': 'data*', 'length.gt': 0}]")).toEqual([{ name: "data*", "length.gt": 0 }]);
    expect(parsePyLiteral("[{'run_number': 42, 'datatype': 'AOD'}, {'energy.gte': 1.3e4}]")).toEqual([{ run_number: 42, datatype: "AOD" }, { "energy.gte": 13000 }]);
  });

  it("accepts double quotes, escapes, tuples, booleans, None and negative numbers", () => {
    expect(parsePyLiteral('{"a": "it\\\'s", \'b\': (1, -2.5,), "c": True, "d": False, "e": None}')).toEqual({ a: "it's", b: [1, -2.5], c: true, d: false, e: null });
    expect(parsePyLiteral("'\\x41\\u00e9\\n'")).toBe("Aé\n");
    expect(parsePyLiteral("r'a\\b'")).toBe("a\\b");
    expect(parsePyLiteral("'ab' 'cd'")).toBe("abcd");
    expect(parsePyLiteral("0x1F")).toBe(31);
    expect(parsePyLiteral("1_000")).toBe(1000);
  });

  it("rejects JSON's true/false/null and other names, as ast.literal_eval does", () => {
    expect(() => parsePyLiteral('[{"open": true}]')).toThrow(PyLiteralError);
    expect(() => parsePyLiteral("[{'a': null}]")).toThrow(/malformed node or string: name 'null'/);
    expect(() => parsePyLiteral("__import__('os')")).toThrow(PyLiteralError);
  });

  it("reports unterminated and trailing input", () => {
    expect(() => parsePyLiteral("[{'a': 1}")).toThrow(/expected/);
    expect(() => parsePyLiteral("'abc")).toThrow(/unterminated/);
    expect(() => parsePyLiteral("[1] 2")).toThrow(/trailing/);
    expect(() => parsePyLiteral("")).toThrow(/end of input/);
  });
});
