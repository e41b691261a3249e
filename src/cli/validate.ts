/**
 * `vre-ts validate NOTEBOOK.ipynb...`: checks notebooks against the nbformat 4 JSON schema in Node, with the verdict of
 * Jupyter's own `nbformat.validate` (see ../jupyter-client/validate.ts), so no Python is needed to check one.
 */
import { parseArgs } from "node:util";
import { validateNotebookFile } from "../jupyter-client/validate";

export const USAGE = `Usage: vre-ts validate NOTEBOOK.ipynb [...] [-q]

Checks each notebook against the nbformat 4 schema of its own minor version, as Jupyter's
nbformat.validate does. Missing or duplicate cell ids are warnings (Jupyter repairs them on load).
  -q, --quiet   print only problems
Exit status: 0 every notebook is valid, 1 one is not (or cannot be read), 2 bad arguments.`;

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { quiet: { type: "boolean", short: "q" }, help: { type: "boolean", short: "h" } } });
  } catch (err) {
    process.stderr.write(`vre-ts validate: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (parsed.positionals.length === 0) {
    process.stderr.write(`vre-ts validate: no notebook given\n${USAGE}\n`);
    return 2;
  }
  let failed = false;
  for (const file of parsed.positionals) {
    const result = await validateNotebookFile(file);
    for (const w of result.warnings) process.stderr.write(`${file}: warning: ${w}\n`);
    if (result.valid) {
      if (!parsed.values.quiet) process.stdout.write(`${file}: valid nbformat ${result.schema}\n`);
      continue;
    }
    failed = true;
    process.stderr.write(`${file}: not valid nbformat${result.schema ? ` ${result.schema}` : ""}:\n`);
    for (const e of result.errors) process.stderr.write(`  ${e}\n`);
  }
  return failed ? 1 : 0;
}
