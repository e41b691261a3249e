/**
 * reana.yaml scalars typed as PyYAML's safe_load types them (the table is what `yaml.safe_load("v: <text>")["v"]`
 * gives in PyYAML 6), for files and %%reana cell bodies alike.
 */
import { describe, expect, it } from "vitest";
import { parseReanaSpec } from "./spec";
import { YamlSource } from "./source";

const value = (text: string): unknown => (YamlSource.parse(`v: ${text}\n`, "t.yaml").value() as { v: unknown }).v;

describe("PyYAML safe_load scalar types", () => {
  it.each([
    // booleans: only yes/no/true/false/on/off in three spellings
    ["yes", true], ["Yes", true], ["YES", true], ["no", false], ["NO", false], ["on", true], ["Off", false], ["TRUE", true], ["False", false],
    ["y", "y"], ["Y", "Y"], ["n", "n"], ["N", "N"], ["yES", "yES"], ["tRUE", "tRUE"],
    // null
    ["~", null], ["null", null], ["Null", null], ["NULL", null], ["", null], ["nULL", "nULL"],
    // integers
    ["0", 0], ["42", 42], ["-17", -17], ["+5", 5], ["1_000", 1000], ["0b1010", 10], ["0x1F", 31], ["-0x10", -16], ["017", 15], ["-010", -8],
    ["1:30", 90], ["-1:00:00", -3600], ["09", "09"], ["0o17", "0o17"], ["08", "08"],
    // floats: a dot is required; an exponent needs its sign
    ["1.5", 1.5], ["1.", 1], ["-2.5", -2.5], [".5", 0.5], ["1.0e+3", 1000], ["1.5E-2", 0.015], ["1_0.2_5", 10.25], ["1:30.5", 90.5],
    [".inf", Infinity], ["-.Inf", -Infinity], ["+.INF", Infinity],
    ["1e3", "1e3"], ["1.0e3", "1.0e3"], ["+.5", "+.5"], ["-.5", "-.5"], ["1e+3", "1e+3"],
    // timestamps stay as written (PyYAML's date objects cannot be sent as JSON)
    ["2024-01-31", "2024-01-31"], ["2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"],
    // quoted is always a string
    ['"yes"', "yes"], ["'1.5'", "1.5"],
  ] as const)("%s → %j", (text, want) => {
    expect(value(text)).toEqual(want);
  });

  it(".nan is NaN", () => {
    expect(Number.isNaN(value(".nan"))).toBe(true);
    expect(Number.isNaN(value(".NaN"))).toBe(true);
  });

  it("explicit tags, merge keys and anchors work as in PyYAML", () => {
    const doc = YamlSource.parse("base: &b {a: 1}\nm:\n  <<: *b\n  c: !!str 12\n  d: !!int '7'\n", "t.yaml").value();
    expect(doc).toEqual({ base: { a: 1 }, m: { a: 1, c: "12", d: 7 } });
  });
});

describe("reana.yaml and %%reana bodies", () => {
  it("parameters y/n and step names stay strings; yes/no are booleans", () => {
    const loaded = parseReanaSpec(
      [
        "inputs:",
        "  parameters:",
        "    answer: y",
        "    other: n",
        "    flag: yes",
        "    scale: 1e3",
        "    mode: 0755",
        "workflow:",
        "  type: serial",
        "  specification:",
        "    steps:",
        "      - name: n",
        "        environment: docker.io/library/bash:5.2",
        "        commands: [echo $answer $other $flag $scale $mode]",
      ].join("\n"),
      { file: "reana.yaml (cell)" },
    );
    expect(loaded.specification.inputs?.parameters).toEqual({ answer: "y", other: "n", flag: true, scale: "1e3", mode: 493 });
    expect((loaded.specification.workflow.specification as { steps: { name: unknown }[] }).steps[0].name).toBe("n");
  });
});
