/**
 * Every hint, help text and message in the sources that tells the user to run `%rucio ...`, `%reana ...`,
 * `%zenodo ...` or `%vre ...` names a verb that exists, with options that verb declares. Hints live as string
 * literals across the clients (error hints), magics (help, examples, notes) and widgets, so the sources are read
 * as text: a hint added anywhere is checked without being registered anywhere.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { COMMON_OPTIONS, tokenize, type VerbSpec } from "./args";
import { reanaVerbs } from "./reana";
import { rucioVerbs } from "./rucio";
import { vreVerbs } from "./vre";
import { zenodoVerbs } from "./zenodo";

const TABLES: Record<string, VerbSpec[]> = { rucio: rucioVerbs, reana: reanaVerbs, zenodo: zenodoVerbs, vre: vreVerbs };
const SRC = path.resolve(__dirname, "..");

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "__tests__" && e.name !== "node_modules") out.push(...sourceFiles(full));
    } else if (/\.(ts|js|mjs)$/.test(e.name) && !/\.(test|bench|d)\.ts$/.test(e.name)) out.push(full);
  }
  return out;
}

interface Hint {
  file: string;
  line: number;
  magic: string;
  words: string[];
}

/** The `%magic verb args` commands written in the sources' strings (comments are skipped). */
function hintsIn(file: string): Hint[] {
  const out: Hint[] = [];
  const lines = fs.readFileSync(file, "utf8").split("\n");
  let inComment = false;
  const code = /\.(ts|js|mjs)$/.test(file);
  lines.forEach((line, i) => {
    let text = line;
    const t = code ? text.trim() : "";
    if (inComment) {
      if (t.includes("*/")) inComment = false;
      return;
    }
    if (t.startsWith("/*")) {
      inComment = !t.includes("*/");
      return;
    }
    if (t.startsWith("//") || t.startsWith("*")) return;
    // A provenance entry's `via` names where it came from (an identifier stored in the log), not a command to run.
    text = text.replace(/\bvia\s*(?::|[!=]==?)\s*"[^"]*"/g, "");
    const re = /(?<![\w%])%%?(rucio|reana|zenodo|vre)\s+([^`'"\n]*)/g;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      // The command ends where the sentence does; ${...} placeholders are values, not words to check.
      const command = m[2]
        .replace(/\$\{[^}]*\}/g, "VALUE")
        .replace(/\$\{.*$/, "VALUE")
        .split(/(?<=\S)[.;,)]+(?=\s|$|\\)|\s[—–(]\s?|\\n/)[0];
      let words: string[];
      try {
        words = tokenize(command);
      } catch {
        words = command.split(/\s+/).filter(Boolean);
      }
      if (words.length && /^[a-z]/.test(words[0])) out.push({ file: path.relative(SRC, file), line: i + 1, magic: m[1], words });
    }
  });
  return out;
}

/** The README and the example notebooks teach commands too. */
function docFiles(): string[] {
  const root = path.resolve(SRC, "..");
  const out = [path.join(root, "README.md")].filter((f) => fs.existsSync(f));
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(ipynb|md)$/.test(e.name)) out.push(full);
    }
  };
  walk(path.join(root, "notebooks", "examples"));
  return out;
}

const hints = [...sourceFiles(SRC), ...docFiles()].flatMap(hintsIn);

describe("hints and help texts name commands that exist", () => {
  it("finds the hints of every magic across the sources", () => {
    expect(hints.length).toBeGreaterThan(50);
    for (const magic of Object.keys(TABLES)) expect(hints.some((h) => h.magic === magic), magic).toBe(true);
    expect(new Set(hints.map((h) => h.file.split(path.sep)[0])).size).toBeGreaterThan(1); // clients and magics at least
    expect(hints.some((h) => h.file.endsWith(".ipynb"))).toBe(true);
  });

  it("every hinted verb is registered, and every option it passes is declared by that verb", () => {
    const wrong: string[] = [];
    for (const h of hints) {
      const verbs = TABLES[h.magic];
      const [word, ...rest] = h.words;
      // Prose such as "%rucio, %reana and %zenodo" is not a command.
      if (["and", "or", "magics", "magic", "verbs", "is", "with"].includes(word)) continue;
      if (word === "help") continue;
      const verb = verbs.find((v) => v.name === word || v.aliases?.includes(word));
      if (!verb) {
        wrong.push(`${h.file}:${h.line}: %${h.magic} ${h.words.join(" ")} (no verb "${word}")`);
        continue;
      }
      const declared = { ...(verb.options ?? {}), ...COMMON_OPTIONS };
      const shorts = new Set(Object.values(declared).map((o) => o.short).filter(Boolean));
      for (const w of rest) {
        const long = /^--([a-z][\w-]*)/.exec(w)?.[1];
        const short = /^-([A-Za-z])$/.exec(w)?.[1];
        if (long && !(long in declared)) wrong.push(`${h.file}:${h.line}: %${h.magic} ${h.words.join(" ")} (no option --${long})`);
        if (short && !shorts.has(short)) wrong.push(`${h.file}:${h.line}: %${h.magic} ${h.words.join(" ")} (no option -${short})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
