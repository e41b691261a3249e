/**
 * `vre-ts crate NOTEBOOK`: writes the notebook's research record as an RO-Crate (`ro-crate-metadata.json`) and
 * checks it against the Workflow Run Crate and Provenance Run Crate profiles.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { NotebookFormatError, readNotebook } from "../jupyter-client/notebook";
import { writeCrate } from "../session/crate";
import { checkRunCrate } from "../session/crate-profile";
import { loadRecord } from "./run-record";

export const USAGE = `Usage: vre-ts crate NOTEBOOK.ipynb [options]

Writes the notebook's research record (what it read from Rucio, ran on REANA and published on
Zenodo, session by session; see %vre provenance) as an RO-Crate 1.1, ro-crate-metadata.json,
following the Workflow Run Crate and Provenance Run Crate profiles, and checks it against them.
The record comes from NOTEBOOK's record file (NOTEBOOK.provenance.jsonl beside it), else from
the notebook's metadata as \`vre-ts run\` saves it.

Options:
  -o, --dir DIR   Folder of the crate (default: the notebook's); paths in it are relative to DIR.
      --json      Print the crate's JSON-LD to stdout as well.
  -h, --help      Show this help.

Exit status: 0 written and conforming, 1 written but the profile check found problems,
2 bad arguments, or a notebook without a record.`;

export async function main(argv: string[]): Promise<number> {
  const err = (t: string) => process.stderr.write(t.endsWith("\n") ? t : `${t}\n`);
  let values: { dir?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { dir: { type: "string", short: "o" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } }));
  } catch (e) {
    err(`vre-ts crate: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    err(`vre-ts crate: ${positionals.length ? "expected one notebook" : "no notebook given"}.\n\n${USAGE}`);
    return 2;
  }
  const notebook = resolve(positionals[0]);
  if (!existsSync(notebook)) {
    err(`vre-ts crate: notebook not found: ${positionals[0]}`);
    return 2;
  }
  let nb;
  try {
    nb = await readNotebook(notebook);
  } catch (e) {
    if (e instanceof NotebookFormatError) {
      err(`vre-ts crate: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const { record, recordFile } = loadRecord(notebook, nb);
  if (!record) {
    err(`vre-ts crate: ${positionals[0]} has no research record yet (no record file beside it, nothing in its metadata). Run it first, e.g. vre-ts run ${positionals[0]}.`);
    return 2;
  }
  const { file, crate } = await writeCrate({ notebook, record, recordFile, dir: resolve(values.dir ?? dirname(notebook)) });
  if (values.json) process.stdout.write(`${JSON.stringify(crate, null, 2)}\n`);
  const problems = checkRunCrate(crate);
  const runs = (crate["@graph"] as Array<Record<string, unknown>>).filter((e) => e["@type"] === "CreateAction").length;
  err(`vre-ts crate: wrote ${file} (${record.entries.length} provenance entries, ${runs} runs)`);
  if (problems.length) {
    err(`vre-ts crate: the crate does not conform to the run crate profiles:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return 1;
  }
  err("vre-ts crate: conforms to RO-Crate 1.1 and the Process, Workflow and Provenance Run Crate profiles (0.5).");
  return 0;
}
