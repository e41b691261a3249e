import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import type { WorkflowRecord } from "./state";

/**
 * `GET /api/workflows/{a}/diff/{b}` as REANA 0.9 answers it: `reana_specification` is a JSON string mapping each
 * top-level section of the specification to its unified diff lines (sections that are equal map to an empty list;
 * start-time parameters count as part of `inputs.parameters`), and `workspace_listing` is a JSON string with the
 * output of a recursive `diff` of the two workspaces (`brief`: only which files differ), paths shown as
 * "workspace a" / "workspace b".
 */

export interface DiffSide {
  name: string;
  record: WorkflowRecord;
  /** Absolute workspace folder, undefined when the workspace was deleted. */
  workspace?: string;
}

function runDiff(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("diff", args, { maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      // diff exits 1 when the inputs differ; 2 is trouble.
      const code = err ? ((err as NodeJS.ErrnoException & { code?: number | string }).code as number | string) : 0;
      if (code === 0 || code === 1) resolve(stdout);
      else reject(new Error(`diff failed: ${stderr || String(code)}`));
    });
  });
}

/** The specification as the run used it: start-time parameters merged into `inputs.parameters`. */
function effectiveSpecification(wf: WorkflowRecord): Record<string, unknown> {
  const spec = structuredClone(wf.specification);
  if (Object.keys(wf.input_parameters).length > 0) {
    const inputs = (spec.inputs ?? {}) as Record<string, unknown>;
    inputs.parameters = { ...((inputs.parameters ?? {}) as Record<string, unknown>), ...wf.input_parameters };
    spec.inputs = inputs;
  }
  return spec;
}

export async function diffWorkflows(a: DiffSide, b: DiffSide, o: { brief: boolean; context: number }): Promise<{ reana_specification: string; workspace_listing: string }> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "reana-diff-"));
  try {
    const specA = effectiveSpecification(a.record);
    const specB = effectiveSpecification(b.record);
    const sections: Record<string, string[]> = {};
    for (const key of [...new Set([...Object.keys(specA), ...Object.keys(specB)])]) {
      const fileA = path.join(tmp, "a.yaml");
      const fileB = path.join(tmp, "b.yaml");
      await writeFile(fileA, specA[key] === undefined ? "" : stringify(specA[key]));
      await writeFile(fileB, specB[key] === undefined ? "" : stringify(specB[key]));
      const out = await runDiff(["-U", String(o.context), "--label", a.name, "--label", b.name, fileA, fileB]);
      sections[key] = out === "" ? [] : out.replace(/\n$/, "").split("\n");
    }
    let listing = "";
    if (!a.workspace || !b.workspace) {
      listing = `The workspace of ${!a.workspace ? a.name : b.name} has been deleted.`;
    } else {
      const args = o.brief ? ["-r", "-q", a.workspace, b.workspace] : ["-r", "-U", String(o.context), a.workspace, b.workspace];
      listing = (await runDiff(args)).split(a.workspace).join("workspace a").split(b.workspace).join("workspace b");
    }
    return { reana_specification: JSON.stringify(sections), workspace_listing: JSON.stringify(listing) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
