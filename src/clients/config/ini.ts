/**
 * A reader for Python `configparser` files such as rucio.cfg. The `ini` npm package follows a different
 * dialect (no `key: value`, no continuation lines, no `%(name)s` interpolation), so rucio.cfg is read here
 * with configparser's rules: `[section]`, `key = value` or `key: value`, `#`/`;` comment lines, indented
 * continuation lines, case-insensitive keys, values from `[DEFAULT]`, `%(key)s` interpolation and `%%`.
 */

export type IniSections = Record<string, Record<string, string>>;

export function parseIni(text: string): IniSections {
  const raw: IniSections = {};
  let section: Record<string, string> | undefined;
  let lastKey: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*([#;].*)?$/.test(line)) {
      lastKey = undefined;
      continue;
    }
    const sec = /^\[([^\]]+)\]\s*$/.exec(line);
    if (sec) {
      raw[sec[1]] ??= {};
      section = raw[sec[1]];
      lastKey = undefined;
      continue;
    }
    if (/^\s/.test(line) && section && lastKey !== undefined) {
      section[lastKey] += `\n${line.trim()}`;
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (kv && section) {
      lastKey = kv[1].trim().toLowerCase();
      section[lastKey] = kv[2].trim();
    }
  }
  const defaults = raw["DEFAULT"] ?? {};
  const out: IniSections = {};
  for (const [name, values] of Object.entries(raw)) {
    if (name === "DEFAULT") continue;
    const merged = { ...defaults, ...values };
    const resolved: Record<string, string> = {};
    for (const [k, v] of Object.entries(merged)) resolved[k] = interpolate(v, merged, 0);
    out[name] = resolved;
  }
  return out;
}

function interpolate(value: string, vars: Record<string, string>, depth: number): string {
  if (depth > 10 || !value.includes("%")) return value;
  return value.replace(/%%|%\(([^)]+)\)s/g, (m, key: string | undefined) => {
    if (m === "%%") return "%";
    const v = vars[key!.toLowerCase()];
    return v === undefined ? m : interpolate(v, vars, depth + 1);
  });
}
