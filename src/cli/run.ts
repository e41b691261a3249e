/**
 * `vre-ts run`: executes a notebook end to end over the Jupyter protocol with our own client, like
 * `jupyter nbconvert --execute` / papermill, and saves the executed copy.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { type CellFailure, executeNotebook, recordKernelMetadata } from "../jupyter-client/executor";
import { KernelSpecError, resolveKernelSpec } from "../jupyter-client/kernelspec";
import { KernelManager } from "../jupyter-client/manager";
import { type Notebook, NotebookFormatError, joinSource, readNotebook, serializeNotebook, writeFileAtomic } from "../jupyter-client/notebook";
import { ParameterError, injectParameters, isSecretName, parseParameter } from "../jupyter-client/parameters";
import { CRATE_FILE } from "../session/crate";
import { type RunFingerprint, compareFingerprints, fingerprintOfCrate, fingerprintOfRecord, formatDifferences } from "../session/verify";
import { loadRecord, runRecordEnv, saveRunRecord, seedRecordFile } from "./run-record";

export const USAGE = `Usage: vre-ts run NOTEBOOK.ipynb [options]

Executes every code cell of NOTEBOOK in order on a fresh kernel, over the Jupyter protocol,
and saves the executed notebook (outputs, execution counts, widget state).

Options:
  -o, --output PATH      Where to save the executed notebook. Default: NOTEBOOK.nbconvert.ipynb
                         next to the input (as \`jupyter nbconvert --execute --to notebook\`).
                         "-" writes it to stdout.
      --inplace          Overwrite NOTEBOOK itself.
  -f, --parameters-file FILE  Parameters from a YAML or JSON mapping (as papermill's -f);
                         -p values given as well win.
  -p, --parameter K=V    Set a parameter (repeatable), papermill style: a cell tagged
                         "injected-parameters" is added after the cell tagged "parameters".
                         Values are typed: 3 and 2.5 are numbers, true/false booleans, null,
                         [..] {..} "..." JSON; anything else a string. Names that look like
                         secrets (token, password, secret, credential, api_key) are passed
                         through the kernel's environment, never written into the notebook,
                         and masked as *** in what the runner prints and in saved outputs.
      --allow-errors     Keep running after a failing cell; exit 0 (the errors stay in the outputs).
      --timeout S        Per-cell time limit in seconds; a cell that runs longer is interrupted
                         and counts as failed. Default: no limit.
      --startup-timeout S  How long to wait for the kernel to start (default 60).
      --kernel NAME      Kernelspec to use (default: vre-ts; if it is not installed, this
                         package's own kernel is started directly).
      --cwd DIR          Working directory of the kernel (default: the notebook's folder).
      --log-output       Echo cell output (streams and errors) to stderr while running.
      --verify           Compare this run with the recorded one: the same parameters, Rucio DIDs
                         and checksums read, REANA specification digests, inputs, statuses and
                         output checksums. Prints the differences; exit 4 when there are any.
      --against PATH     What --verify compares with: a notebook (its record file beside it, else
                         its metadata) or an RO-Crate (ro-crate-metadata.json or its folder).
                         Default: NOTEBOOK's own record, its last session before this run.
      --json             With --verify, print the comparison as JSON instead of a table.
  -q, --quiet            Print nothing but errors.
  -h, --help             Show this help.

Exit status: 0 all cells ran (or --allow-errors), 1 a cell failed, timed out or the kernel died
(the partial notebook is still saved), 2 bad arguments or input, 3 the kernel could not start,
130 interrupted (Ctrl+C); with --verify, 4 the run differs from the record.`;

interface RunArgs {
  notebook: string;
  output: string;
  params: Map<string, unknown>;
  allowErrors: boolean;
  timeoutMs?: number;
  startupTimeoutMs: number;
  kernel?: string;
  cwd: string;
  logOutput: boolean;
  quiet: boolean;
  verify: boolean;
  against?: string;
  json: boolean;
}

class UsageError extends Error {
  constructor(
    message: string,
    /** Whether the help text helps here (wrong options) or only adds noise (a missing file). */
    readonly showUsage = true,
  ) {
    super(message);
  }
}

function seconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number of seconds, got "${value}".`);
  return Math.round(n * 1000);
}

export function parseRunArgs(argv: string[]): RunArgs | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        output: { type: "string", short: "o" },
        inplace: { type: "boolean" },
        parameter: { type: "string", short: "p", multiple: true },
        "parameters-file": { type: "string", short: "f" },
        "allow-errors": { type: "boolean" },
        timeout: { type: "string" },
        "startup-timeout": { type: "string" },
        kernel: { type: "string" },
        cwd: { type: "string" },
        "log-output": { type: "boolean" },
        verify: { type: "boolean" },
        against: { type: "string" },
        json: { type: "boolean" },
        quiet: { type: "boolean", short: "q" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return "help";
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `Expected one notebook, got ${positionals.length}.` : "No notebook given.");
  const notebook = resolve(positionals[0]);
  if (!existsSync(notebook)) throw new UsageError(`Notebook not found: ${positionals[0]}`, false);
  if (values.inplace && values.output) throw new UsageError("Use either --inplace or --output, not both.");
  const output = values.inplace ? notebook : values.output === "-" ? "-" : resolve(values.output ?? defaultOutput(notebook));
  const params = values["parameters-file"] ? readParametersFile(values["parameters-file"]) : new Map<string, unknown>();
  for (const p of values.parameter ?? []) {
    const [k, v] = parseParameter(p);
    params.set(k, v);
  }
  if ((values.against || values.json) && !values.verify) throw new UsageError(`--${values.against ? "against" : "json"} goes with --verify.`);
  if (values.verify && values.output === "-") throw new UsageError("--verify prints its report on stdout; save the notebook to a file (-o PATH).");
  if (values.against && !existsSync(values.against)) throw new UsageError(`--against: ${values.against} does not exist.`, false);
  const cwd = resolve(values.cwd ?? dirname(notebook));
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) throw new UsageError(`--cwd ${values.cwd} is not a directory.`, false);
  return {
    notebook,
    output,
    params,
    allowErrors: values["allow-errors"] ?? false,
    timeoutMs: seconds("timeout", values.timeout),
    startupTimeoutMs: seconds("startup-timeout", values["startup-timeout"]) ?? 60_000,
    kernel: values.kernel,
    cwd,
    logOutput: values["log-output"] ?? false,
    quiet: values.quiet ?? false,
    verify: values.verify ?? false,
    against: values.against ? resolve(values.against) : undefined,
    json: values.json ?? false,
  };
}

/** A YAML (or JSON, which is YAML) mapping of parameter names to values. */
export function readParametersFile(path: string): Map<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`Cannot read the parameters file ${path}: ${(e as Error).message}`, false);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (e) {
    throw new UsageError(`The parameters file ${path} is not valid YAML/JSON: ${(e as Error).message}`, false);
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) throw new UsageError(`The parameters file ${path} must hold a mapping of names to values.`, false);
  const params = new Map<string, unknown>();
  for (const [k, v] of Object.entries(data)) {
    if (!/^[A-Za-z_$][\w$]*$/.test(k)) throw new UsageError(`Parameter name "${k}" in ${path} is not a valid TypeScript identifier.`, false);
    params.set(k, v);
  }
  return params;
}

export function defaultOutput(notebook: string): string {
  const ext = extname(notebook);
  return join(dirname(notebook), `${basename(notebook, ext)}.nbconvert${ext || ".ipynb"}`);
}

/** Replaces secret values (secret-named parameters, the connection key) in everything the runner prints. */
export class Redactor {
  private readonly secrets: string[] = [];
  add(value: unknown): void {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    if (text && text.length >= 4 && !this.secrets.includes(text)) this.secrets.push(text);
  }
  apply(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("***");
    return out;
  }
  /** A deep copy of a JSON value with every string redacted. */
  applyDeep<T>(value: T): T {
    if (this.secrets.length === 0) return value;
    if (typeof value === "string") return this.apply(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.applyDeep(v)) as T;
    if (value && typeof value === "object" && !Buffer.isBuffer(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.applyDeep(v)])) as T;
    }
    return value;
  }
}

/** Secret parameters printed by the notebook itself are masked in the saved outputs and widget state too. */
export function redactNotebook(nb: Notebook, redactor: Redactor): void {
  for (const cell of nb.cells) if (cell.outputs) cell.outputs = redactor.applyDeep(cell.outputs);
  const meta = nb.metadata as Record<string, unknown>;
  if (meta.widgets) meta.widgets = redactor.applyDeep(meta.widgets);
  if (meta["vre-ts"]) meta["vre-ts"] = redactor.applyDeep(meta["vre-ts"]);
}

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function formatFailure(failure: CellFailure, nb: Notebook, color: boolean): string {
  const codeCells = nb.cells.filter((c) => c.cell_type === "code");
  const ordinal = codeCells.indexOf(failure.cell) + 1;
  const lines = joinSource(failure.cell.source).split("\n");
  const shown = lines.slice(0, 12);
  const width = String(shown.length).length;
  const excerpt = shown.map((l, i) => `  ${String(i + 1).padStart(width)} | ${l}`);
  if (lines.length > shown.length) excerpt.push(`  ${" ".repeat(width)} | … (${lines.length - shown.length} more lines)`);
  const count = failure.cell.execution_count != null ? `, In [${failure.cell.execution_count}]` : "";
  const what = { error: "failed", timeout: "timed out", kernel_died: "killed the kernel", cancelled: "was cancelled" }[failure.kind];
  const trace = failure.traceback.length ? failure.traceback.join("\n") : `${failure.ename}: ${failure.evalue}`;
  return [
    `Cell ${failure.index} (code cell ${ordinal} of ${codeCells.length}${count}) ${what}:`,
    ...excerpt,
    "",
    color ? trace : trace.replace(ANSI, ""),
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const err = (text: string) => process.stderr.write(text.endsWith("\n") ? text : text + "\n");
  let args: RunArgs;
  try {
    const parsed = parseRunArgs(argv);
    if (parsed === "help") {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    args = parsed;
  } catch (e) {
    if (e instanceof UsageError || e instanceof ParameterError) {
      const usage = e instanceof UsageError && !e.showUsage ? "" : `\n\n${USAGE}`;
      err(`vre-ts run: ${e.message}${usage}`);
      return 2;
    }
    throw e;
  }

  const redactor = new Redactor();
  for (const [k, v] of args.params) if (isSecretName(k)) redactor.add(v);
  const say = (text: string) => err(redactor.apply(text));
  const info = (text: string) => args.quiet || say(text);

  let nb: Notebook;
  try {
    nb = await readNotebook(args.notebook);
  } catch (e) {
    if (e instanceof NotebookFormatError || (e as NodeJS.ErrnoException).code) {
      say(`vre-ts run: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
  let spec;
  try {
    spec = resolveKernelSpec(args.kernel);
  } catch (e) {
    if (e instanceof KernelSpecError) {
      say(`vre-ts run: ${e.message}`);
      return e.code === "KERNELSPEC_NOT_FOUND" ? 2 : 3;
    }
    throw e;
  }
  let injection;
  try {
    injection = injectParameters(nb, args.params, spec.language);
  } catch (e) {
    if (e instanceof ParameterError) {
      say(`vre-ts run: ${e.message}`);
      return 2;
    }
    throw e;
  }
  injection.warnings.forEach((w) => info(`vre-ts run: warning: ${w}`));

  // --verify: what the run is compared with is read before the run adds its own session to the record.
  let baseline: Baseline | undefined;
  if (args.verify) {
    try {
      baseline = await readBaseline(args.against ?? args.notebook);
    } catch (e) {
      say(`vre-ts run --verify: ${(e as Error).message}`);
      return 2;
    }
  }

  const interrupted = new AbortController();
  const onSignal = () => {
    if (interrupted.signal.aborted) return;
    info("\nvre-ts run: interrupted; stopping the kernel and saving what ran so far…");
    interrupted.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const started = Date.now();
  let kernel: KernelManager | undefined;
  try {
    info(`vre-ts run: ${args.notebook} on kernel ${spec.name}${spec.resource_dir ? "" : " (built in)"}`);
    // The kernel keeps its provenance in the record file next to the notebook; a record that only travelled in
    // the notebook's metadata seeds that file, so the history goes on.
    seedRecordFile(args.notebook, nb);
    const record = runRecordEnv(args.notebook, args.params);
    try {
      kernel = await KernelManager.start(spec, { cwd: args.cwd, env: { ...injection.env, ...record.env }, startupTimeoutMs: args.startupTimeoutMs });
    } catch (e) {
      say(`vre-ts run: the kernel could not start: ${(e as Error).message}`);
      return 3;
    }
    const total = nb.cells.filter((c) => c.cell_type === "code" && joinSource(c.source).trim()).length;
    let n = 0;
    let cellStart = 0;
    const result = await executeNotebook(nb, kernel, {
      allowErrors: args.allowErrors,
      cellTimeoutMs: args.timeoutMs,
      signal: interrupted.signal,
      onCellStart: (index) => {
        n++;
        cellStart = Date.now();
        if (!args.quiet && process.stderr.isTTY) process.stderr.write(`  [${n}/${total}] cell ${index}…\r`);
      },
      onCellEnd: (index, _cell, failure) => {
        const took = ((Date.now() - cellStart) / 1000).toFixed(2);
        if (!failure) info(`  [${n}/${total}] cell ${index} ok ${took} s`);
        else info(`  [${n}/${total}] cell ${index} ${failure.ename}${args.allowErrors ? " (allowed)" : ""} ${took} s`);
      },
      onOutput: args.logOutput
        ? (index, msg) => {
            const c = msg.content as Record<string, any>;
            if (msg.header.msg_type === "stream") say(`[cell ${index}] ${String(c.text).replace(/\n$/, "")}`);
            else if (msg.header.msg_type === "error") say(`[cell ${index}] ${c.ename}: ${c.evalue}`);
          }
        : undefined,
      onInputRequest: (index) => info(`vre-ts run: cell ${index} asked for input; non-interactive runs answer with an empty string.`),
    });
    recordKernelMetadata(nb, kernel);
    const saved = saveRunRecord(nb, args.notebook);

    // With --allow-errors a run that reached the end succeeded, whatever its cells raised.
    const fatal = result.completed ? undefined : result.failures[result.failures.length - 1];
    if (fatal?.kind === "kernel_died" && kernel.log.trim()) {
      say(`Kernel log (last lines):\n${kernel.log.trim().split("\n").slice(-20).join("\n")}`);
    }
    redactNotebook(nb, redactor);
    const where = args.output === "-" ? "stdout" : args.output;
    try {
      await save(nb, args.output);
    } catch (e) {
      say(`vre-ts run: could not save the executed notebook to ${where}: ${(e as Error).message}`);
      return fatal?.kind === "cancelled" ? 130 : 1;
    }
    if (fatal) {
      say(`\nvre-ts run: ${fatal.kind === "cancelled" ? "interrupted" : "failed"} in ${args.notebook}\n${formatFailure(fatal, nb, !!process.stderr.isTTY)}`);
      say(`\nSaved the partially executed notebook to ${where}.`);
      return fatal.kind === "cancelled" ? 130 : 1;
    }
    info(`vre-ts run: ${total} cells in ${((Date.now() - started) / 1000).toFixed(1)} s${result.failures.length ? ` (${result.failures.length} with errors)` : ""}; saved ${where}`);
    if (baseline) {
      const now = fingerprintOfRecord(saved ?? { version: 1, sessions: [], entries: [] }, record.session).fingerprint;
      const differences = compareFingerprints(baseline.fingerprint, now);
      const report = args.json
        ? JSON.stringify({ identical: differences.length === 0, against: baseline.label, recordedSession: baseline.session, session: record.session, differences }, null, 2)
        : formatDifferences(differences, baseline.label);
      process.stdout.write(`${redactor.apply(report)}\n`);
      return differences.length ? 4 : 0;
    }
    return 0;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await kernel?.shutdown();
  }
}

interface Baseline {
  fingerprint: RunFingerprint;
  label: string;
  session?: string;
}

/** The recorded run --verify compares with: a notebook's record (file beside it, else metadata) or an RO-Crate. */
async function readBaseline(against: string): Promise<Baseline> {
  const crateFile = statSync(against).isDirectory() ? join(against, CRATE_FILE) : against;
  if (!against.endsWith(".ipynb")) {
    if (!existsSync(crateFile)) throw new Error(`${against} is neither a notebook nor an RO-Crate (no ${CRATE_FILE}).`);
    let crate: Record<string, unknown>;
    try {
      crate = JSON.parse(readFileSync(crateFile, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${crateFile} is not valid JSON: ${(e as Error).message}`);
    }
    return { fingerprint: fingerprintOfCrate(crate), label: `the RO-Crate ${crateFile}` };
  }
  const { record, recordFile } = loadRecord(against, await readNotebook(against));
  if (!record || record.entries.length === 0) throw new Error(`${against} has no recorded run to verify against (no record file beside it, nothing in its metadata); run it once without --verify first.`);
  const { fingerprint, session } = fingerprintOfRecord(record);
  const when = session ? `session ${session.session.slice(0, 8)} started ${session.started}` : "its last session";
  return { fingerprint, label: `${recordFile ?? against}, ${when}`, session: session?.session };
}

async function save(nb: Notebook, output: string): Promise<void> {
  const text = serializeNotebook(nb);
  if (output === "-") {
    await new Promise<void>((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
    return;
  }
  await writeFileAtomic(output, text);
}
