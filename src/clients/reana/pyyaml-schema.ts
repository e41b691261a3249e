/**
 * Plain-scalar typing exactly as PyYAML's `safe_load` (what reana-client and reana-server read reana.yaml with):
 * the implicit resolvers of PyYAML's `resolver.py` and the conversions of its `SafeConstructor`, as tags for the
 * `yaml` package. The `yaml` package's own YAML 1.1 schema differs in ways that change a workflow:
 *
 *  - booleans are only `yes|no|true|false|on|off` (three spellings each); `y`, `Y`, `n`, `N` stay strings
 *    (a parameter `y` or a step named `n` must not become `true`/`false`);
 *  - a float needs a `.` and, with an exponent, a signed one: `1.5`, `1.`, `.5`, `1.0e+3`; `1e3` and `1.0e3` are
 *    strings, as are `+.5` and `0o17`;
 *  - integers: `0b1010`, `0x1F`, octal `017` (`09` is a string), `1_000`, sexagesimal `1:30` (= 90);
 *  - floats also sexagesimal (`1:30.5` = 90.5), `.inf`, `-.inf`, `.nan`.
 *
 * One deliberate difference: timestamps (`2024-01-01`) stay the strings they were written as. PyYAML makes them
 * `date`/`datetime` objects, which reana-client then cannot send as JSON; the text is what a workflow means.
 */
import type { ScalarTag } from "yaml";

const BOOL = /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/;
const INT = /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/;
const FLOAT =
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** Base-60 digits (`1:30:15`) as PyYAML's constructors add them up. */
function sexagesimal(digits: string, parse: (s: string) => number): number {
  let base = 1;
  let value = 0;
  for (const d of digits.split(":").reverse()) {
    value += parse(d) * base;
    base *= 60;
  }
  return value;
}

/** `SafeConstructor.construct_yaml_int`. */
export function pyInt(text: string): number {
  let value = text.replace(/_/g, "");
  let sign = 1;
  if (value[0] === "-") sign = -1;
  if (value[0] === "-" || value[0] === "+") value = value.slice(1);
  if (value === "0") return 0;
  if (value.startsWith("0b")) return sign * parseInt(value.slice(2), 2);
  if (value.startsWith("0x")) return sign * parseInt(value.slice(2), 16);
  if (value[0] === "0") return sign * parseInt(value, 8);
  if (value.includes(":")) return sign * sexagesimal(value, (d) => parseInt(d, 10));
  return sign * parseInt(value, 10);
}

/** `SafeConstructor.construct_yaml_float`. */
export function pyFloat(text: string): number {
  let value = text.replace(/_/g, "").toLowerCase();
  let sign = 1;
  if (value[0] === "-") sign = -1;
  if (value[0] === "-" || value[0] === "+") value = value.slice(1);
  if (value === ".inf") return sign * Infinity;
  if (value === ".nan") return NaN;
  if (value.includes(":")) return sign * sexagesimal(value, (d) => parseFloat(d));
  return sign * parseFloat(value);
}

function tagName(t: unknown): string | undefined {
  return typeof t === "object" && t !== null ? (t as { tag?: string }).tag : undefined;
}

/**
 * `customTags` for `parseDocument(text, { version: "1.1", customTags: pyyamlTags })`: the 1.1 schema's collections,
 * strings, null, binary, merge, omap, pairs and set, with PyYAML's booleans, integers and floats, and no timestamps.
 */
export function pyyamlTags<T>(tags: T[]): T[] {
  const replaced = new Set(["tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"]);
  const keep = tags.filter((t) => !replaced.has(tagName(t) ?? ""));
  const bool: ScalarTag = {
    tag: "tag:yaml.org,2002:bool",
    default: true,
    identify: (v) => typeof v === "boolean",
    test: BOOL,
    resolve: (s) => /^(?:yes|true|on)$/i.test(s),
  };
  const float: ScalarTag = {
    tag: "tag:yaml.org,2002:float",
    default: true,
    identify: (v) => typeof v === "number" && !Number.isInteger(v),
    test: FLOAT,
    resolve: pyFloat,
  };
  const int: ScalarTag = {
    tag: "tag:yaml.org,2002:int",
    default: true,
    identify: (v) => typeof v === "number" && Number.isInteger(v),
    test: INT,
    resolve: pyInt,
  };
  // PyYAML tries float before int (their patterns never both match).
  return [...keep, bool, float, int] as T[];
}
