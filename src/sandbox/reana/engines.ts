import { execFile, spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants as fsConstants } from "node:fs";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { CwlLogParser, SnakemakeLogParser, type EngineLogParser } from "./engine-logs";
import { guardProcessGroup } from "./group-guard";
import { containersOf, descendantsOf, signalProcesses, stopper } from "./processes";
import { hostEnvironment, type ContainerRuntime } from "./runtime";

/**
 * The real workflow engines REANA runs, invoked locally: cwltool for `workflow.type: cwl` and snakemake for
 * `workflow.type: snakemake` (Debian's packages, the versions REANA 0.9 uses). The sandbox prepares their inputs as
 * REANA's engines do (CWL job order from `inputs.parameters`, Snakemake config from the parameters), runs the engine
 * in the workspace in its own process group, and reads the jobs from its console output (engine-logs.ts).
 */

export type EngineType = "cwl" | "snakemake";

/** Executable and the Debian package that provides it. */
export const ENGINES: Record<EngineType, { command: string; aptPackage: string; label: string }> = {
  cwl: { command: "cwltool", aptPackage: "cwltool", label: "cwltool" },
  snakemake: { command: "snakemake", aptPackage: "snakemake", label: "Snakemake" },
};

export function isEngineType(type: string): type is EngineType {
  return type === "cwl" || type === "snakemake";
}

/** Full path of the engine's executable on PATH, or undefined when it is not installed. */
export function findEngine(type: EngineType, envPath = process.env.PATH ?? ""): string | undefined {
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, ENGINES[type].command);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** What to tell a user whose machine lacks the engine. */
export function missingEngineMessage(type: EngineType): string {
  const e = ENGINES[type];
  return (
    `The local sandbox runs ${type} workflows with ${e.label}, which is not installed on this machine: install Debian's ` +
    `"${e.aptPackage}" package (apt-get install ${e.aptPackage}; scripts/setup.sh installs it).`
  );
}

export interface EngineStep {
  name: string;
  image: string;
  /** Names of the steps this one needs (DAG edges). */
  needs: string[];
}

export interface EngineInvocation {
  executable: string;
  args: string[];
  parser: EngineLogParser;
  /** Steps in the specification's order. */
  steps: EngineStep[];
  /** Jobs expected before the engine reports its own count. */
  expectedJobs: number;
  warnings: string[];
}

export interface PrepareInput {
  type: EngineType;
  executable: string;
  workspace: string;
  /** Private folder for the engine's input files (outside the workspace). */
  runDir: string;
  specification: Record<string, unknown>;
  inputParameters: Record<string, unknown>;
  operationalOptions: Record<string, unknown>;
  runtime: ContainerRuntime | undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `#main/generate`, `file:///x/wf.cwl#generate`, `generate` → `generate`. */
function shortId(id: string): string {
  const afterHash = id.includes("#") ? id.slice(id.lastIndexOf("#") + 1) : id;
  return afterHash.slice(afterHash.lastIndexOf("/") + 1);
}

function cwlEntries(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.filter(isObject);
  if (isObject(value)) return Object.entries(value).map(([id, v]) => (isObject(v) ? { id, ...v } : { id, type: v }));
  return [];
}

function dockerPull(process: Record<string, unknown> | undefined): string {
  if (!process) return "";
  for (const key of ["requirements", "hints"]) {
    for (const r of cwlEntries(process[key])) {
      const cls = r.class ?? r.id;
      if (cls === "DockerRequirement" && typeof r.dockerPull === "string") return r.dockerPull;
    }
  }
  return "";
}

/** The main process of a CWL document (packed `$graph` or a single document) and its graph. */
export function cwlMain(spec: Record<string, unknown>): { main: Record<string, unknown>; graph: Record<string, unknown>[] } {
  const graph = Array.isArray(spec.$graph) ? spec.$graph.filter(isObject) : [spec];
  const main = graph.find((p) => typeof p.id === "string" && shortId(p.id) === "main") ?? graph[0] ?? spec;
  return { main, graph };
}

/** Steps of a CWL workflow in document order, with their images and the steps whose outputs they read. */
export function cwlSteps(spec: Record<string, unknown>): EngineStep[] {
  const { main, graph } = cwlMain(spec);
  if (main.class !== "Workflow") {
    return [{ name: typeof main.id === "string" ? shortId(main.id) : "main", image: dockerPull(main), needs: [] }];
  }
  const byId = new Map(graph.map((p) => [typeof p.id === "string" ? shortId(p.id) : "", p]));
  const steps = cwlEntries(main.steps);
  const names = steps.map((s) => shortId(String(s.id ?? "")));
  return steps.map((step, i) => {
    const sources: string[] = [];
    for (const input of cwlEntries(step.in)) {
      const src = isObject(input) ? (input.source ?? (typeof input.type === "string" ? input.type : undefined)) : undefined;
      for (const s of Array.isArray(src) ? src : [src]) if (typeof s === "string") sources.push(s);
    }
    const needs = [...new Set(sources.map((s) => s.replace(/^#/, "").split("/").slice(-2)[0]!).filter((n) => names.includes(n) && n !== names[i]))];
    const run = step.run;
    const tool = isObject(run) ? run : typeof run === "string" ? byId.get(shortId(run)) : undefined;
    return { name: names[i]!, image: dockerPull(step) || dockerPull(tool) || dockerPull(main), needs };
  });
}

/** Snakemake steps as reana-client sends them (`steps` + `job_dependencies`). */
export function snakemakeSteps(spec: Record<string, unknown>): EngineStep[] {
  const deps = isObject(spec.job_dependencies) ? spec.job_dependencies : {};
  const steps = Array.isArray(spec.steps) ? spec.steps.filter(isObject) : [];
  const names = new Set(steps.map((s) => String(s.name ?? "")));
  return steps.map((s) => {
    const name = String(s.name ?? "");
    const needs = Array.isArray(deps[name]) ? (deps[name] as unknown[]).map(String).filter((n) => names.has(n)) : [];
    return { name, image: String(s.environment ?? ""), needs };
  });
}

/** File/Directory objects of a CWL job order with relative paths made absolute against the workspace. */
function absoluteJobOrder(value: unknown, workspace: string): unknown {
  if (Array.isArray(value)) return value.map((v) => absoluteJobOrder(v, workspace));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  const isFileLike = value.class === "File" || value.class === "Directory";
  for (const [k, v] of Object.entries(value)) {
    if (isFileLike && (k === "path" || k === "location") && typeof v === "string" && !/^[a-z][a-z0-9+.-]*:/i.test(v) && !path.isAbsolute(v)) {
      out[k] = path.join(workspace, v);
    } else out[k] = absoluteJobOrder(v, workspace);
  }
  return out;
}

export async function prepareEngine(input: PrepareInput): Promise<EngineInvocation> {
  await fs.mkdir(input.runDir, { recursive: true, mode: 0o700 });
  const workflow = input.specification.workflow as Record<string, unknown>;
  const wfSpec = (isObject(workflow.specification) ? workflow.specification : {}) as Record<string, unknown>;
  const inputs = (isObject(input.specification.inputs) ? input.specification.inputs : {}) as Record<string, unknown>;
  const parameters = { ...((isObject(inputs.parameters) ? inputs.parameters : {}) as Record<string, unknown>), ...input.inputParameters };
  const options = { ...((isObject(inputs.options) ? inputs.options : {}) as Record<string, unknown>), ...input.operationalOptions };
  const warnings: string[] = [];
  const ws = input.workspace;

  if (input.type === "cwl") {
    const steps = cwlSteps(wfSpec);
    const workflowFile = path.join(input.runDir, "workflow.json");
    const jobOrder = path.join(input.runDir, "inputs.json");
    await fs.writeFile(workflowFile, JSON.stringify(wfSpec, null, 1));
    await fs.writeFile(jobOrder, JSON.stringify(absoluteJobOrder(parameters, ws), null, 1));
    const target = Array.isArray(wfSpec.$graph) ? `${workflowFile}#main` : workflowFile;
    const args = [
      "--disable-color",
      "--outdir", path.join(ws, "outputs"),
      "--tmpdir-prefix", path.join(ws, "cwl", "tmpdir") + "/",
      "--tmp-outdir-prefix", path.join(ws, "cwl", "outdir") + "/",
    ];
    if (!input.runtime) args.push("--no-container");
    else if (input.runtime.command === "podman") args.push("--podman");
    if (options.TARGET != null) args.push("--target", String(options.TARGET));
    args.push(target, jobOrder);
    return { executable: input.executable, args, parser: new CwlLogParser(), steps, expectedJobs: steps.length, warnings };
  }

  // Snakemake: the Snakefile from the workspace, parameters as the workflow's config.
  const steps = snakemakeSteps(wfSpec);
  const file = typeof workflow.file === "string" ? workflow.file : "Snakefile";
  const snakefile = path.join(ws, file);
  if (!(await fs.stat(snakefile).catch(() => undefined))?.isFile()) {
    throw new Error(
      `The Snakefile ${file} (workflow.file) is not in the workspace; upload it (reana-client and %reana run upload the workflow file).`,
    );
  }
  const configFiles: string[] = [];
  if (typeof parameters.input === "string") {
    const fromWorkspace = path.join(ws, parameters.input);
    if ((await fs.stat(fromWorkspace).catch(() => undefined))?.isFile()) configFiles.push(fromWorkspace);
    delete parameters.input;
  }
  const config = path.join(input.runDir, "config.json");
  await fs.writeFile(config, JSON.stringify(parameters, null, 1));
  configFiles.push(config);
  if (options.report != null) warnings.push(`Operational option report=${String(options.report)}: the sandbox does not produce Snakemake reports.`);
  const runnable = new Set(steps.map((s) => s.name));
  const args = [
    "--snakefile", snakefile,
    "--directory", ws,
    "--cores", "1",
    "--printshellcmds",
    "--nocolor",
    "--nolock",
    "--rerun-incomplete",
    "--configfile", ...configFiles,
  ];
  return {
    executable: input.executable,
    args,
    parser: new SnakemakeLogParser((rule) => (runnable.size > 0 ? runnable.has(rule) : rule !== "all")),
    steps,
    expectedJobs: steps.length,
    warnings,
  };
}

export interface RunningEngine {
  pid: number | undefined;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Kills the engine's whole process group (the engine and every job it started): SIGTERM first and SIGKILL after a
   * grace period; `force` (REANA's `force_stop`) sends SIGKILL at once, also during a graceful stop's grace period.
   */
  kill(force?: boolean): void;
}

/**
 * Starts the engine in the workspace as the leader of a new process group, with stdout and stderr merged into one
 * ordered stream (`2>&1` on the same pipe) handed to `onLine` line by line.
 */
export function startEngine(
  invocation: EngineInvocation,
  workspace: string,
  env: Record<string, string>,
  onLine: (line: string) => void,
): RunningEngine {
  const child: ChildProcess = spawn("bash", ["-c", 'exec "$0" "$@" 2>&1', invocation.executable, ...invocation.args], {
    cwd: workspace,
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...hostEnvironment(), ...env, PYTHONUNBUFFERED: "1" },
  });
  const release = guardProcessGroup(child.pid);
  /** Processes below the engine when it was stopped: a rule's `timeout` takes its command out of the group. */
  const below = new Set<number>();
  const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  lines.on("line", onLine);
  const closed = new Promise<void>((resolve) => lines.once("close", () => resolve()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      // Every line the engine printed is delivered before the run is judged.
      // (bounded: a job that escaped the process group could hold the pipe open).
      void Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]).then(() => resolve({ code, signal }));
    };
    child.on("error", (err) => {
      onLine(`${invocation.executable}: ${err.message}`);
      finish(127, null);
      lines.close();
    });
    child.on("exit", (code, signal) => {
      release();
      // Nothing the engine started outlives it: leftovers in its process group (and, after a stop, those that were
      // below it in groups of their own) are killed with it.
      signalProcesses("SIGKILL", child.pid, below);
      finish(code, signal);
    });
  });
  const group = (signal: NodeJS.Signals) => {
    // SIGKILL gives cwltool no time to kill its steps' containers: they are killed by id before their clients die.
    if (signal === "SIGKILL") for (const c of containersOf(below)) execFile(c.command, ["kill", c.id], { timeout: 10000 }, () => undefined);
    signalProcesses(signal, child.pid, below);
  };
  return {
    pid: child.pid,
    done,
    // A forced stop gives the engine no chance to wait for its jobs: they die with it. Jobs that ignore SIGTERM (or
    // an engine busy cleaning up) get SIGKILL after the grace period, and whatever is left once the engine ended.
    kill: stopper({
      signal: group,
      done,
      prepare: () => {
        if (child.pid !== undefined) for (const pid of descendantsOf(child.pid)) below.add(pid);
      },
      onDone: () => group("SIGKILL"),
    }),
  };
}
