/**
 * The engines' own checks of a CWL or Snakemake workflow, as reana-client gets them by loading the workflow with
 * the engine's tools: `cwltool --validate` (the CWL schema, every document a step runs) and Snakemake parsing the
 * Snakefile with the workflow's parameters as config (`snakemake --list`, run in a scratch folder so nothing is
 * written next to the workflow). Nothing is sent anywhere. Without the engine installed, a warning says which Debian
 * package adds the check.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { LoadedReanaSpec } from "./spec";
import type { ValidationIssue } from "./validate";

const ANSI = /\u001b\[[0-9;]*m/g;

function run(command: string, args: string[], signal?: AbortSignal): Promise<{ code: number | "missing"; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 120_000, maxBuffer: 8 * 1024 * 1024, signal, env: { ...process.env, PYTHONUNBUFFERED: "1" } }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (e?.code === "ENOENT") return resolve({ code: "missing", output: "" });
      resolve({ code: e ? (typeof e.code === "number" ? e.code : 1) : 0, output: `${stdout}${stderr}`.replace(ANSI, "") });
    });
  });
}

function issue(severity: "error" | "warning", code: string, at: string, message: string): ValidationIssue {
  return { severity, code, path: at, message };
}

/** The engine's verdict on the workflow file(s); empty for serial and Yadage workflows. */
export async function checkWithEngine(loaded: LoadedReanaSpec, o: { signal?: AbortSignal } = {}): Promise<ValidationIssue[]> {
  const type = loaded.specification.workflow?.type;
  const main = loaded.workflowFile?.files[0];
  if (!main || (type !== "cwl" && type !== "snakemake")) return [];
  if (type === "cwl") {
    const r = await run("cwltool", ["--validate", "--disable-color", main], o.signal);
    if (r.code === "missing") {
      return [issue("warning", "cwl.not-checked", "workflow.file", "cwltool is not installed, so the CWL documents were not checked against the CWL schema (install Debian's cwltool package).")];
    }
    if (r.code === 0) return [];
    const lines = r.output.split("\n").filter((l) => l.trim() !== "" && !/^INFO /.test(l) && !/^\/\S+ \d/.test(l));
    const text = lines.map((l) => l.replace(/^ERROR /, "")).join("\n").trim();
    return [issue("error", "cwl.schema", "workflow.file", `cwltool --validate ${path.basename(main)} failed:\n${text || `exit code ${r.code}`}`)];
  }
  const scratch = await mkdtemp(path.join(os.tmpdir(), "reana-snakemake-check-"));
  try {
    const config = path.join(scratch, "config.json");
    const parameters = { ...(loaded.specification.inputs?.parameters ?? {}) };
    delete parameters.input;
    await writeFile(config, JSON.stringify(parameters));
    const r = await run("snakemake", ["--snakefile", main, "--directory", scratch, "--configfile", config, "--list", "--nocolor"], o.signal);
    if (r.code === "missing") {
      return [issue("warning", "snakemake.not-checked", "workflow.file", "snakemake is not installed, so the Snakefile was not parsed (install Debian's snakemake package).")];
    }
    if (r.code === 0) return [];
    const text = r.output.split(scratch).join(".").trim();
    return [issue("error", "snakemake.syntax", "workflow.file", `Snakemake cannot load ${path.basename(main)}:\n${text || `exit code ${r.code}`}`)];
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
