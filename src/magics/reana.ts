/**
 * %reana: reproducible analyses from the notebook with reana-client's verbs. `%%reana run -n NAME` takes the
 * reana.yaml itself as the cell body, so the workflow definition lives in the notebook; the inputs it names are
 * uploaded from the notebook's folder. A thin parser over ReanaClient (src/clients/reana).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { checksumFile } from "../clients/http/checksum";
import {
  loadReanaSpec,
  parseReanaSpec,
  validateReanaSpec,
  formatIssues,
  type LoadedReanaSpec,
  type ReanaClient,
  type WorkflowState,
  type WorkflowSummary,
  type RunStatus,
  RUN_STATUSES,
} from "../clients/reana";
import { checkWithEngine } from "../clients/reana/engine-check";
import type { Session } from "../session";
import { specDigest } from "../session/provenance";
import { sha256File } from "../session/record";
import { runMonitor } from "../widgets/run-monitor";
import type { VerbCall } from "./args";
import { MagicServiceError, verbMagic, type Verb } from "./args-dispatch";
import { Progress } from "./progress";
import { UsageError, type MagicContext, type MagicSpec } from "./types";
import { ask, displayPath, plural, resolvePath, withProgress } from "./vre-common";
import { escapeHtml, formatBytes, formatDate, recordBundle, tableBundle, withDisplay } from "./vre-format";

type Env = Pick<Session, "reana" | "provenance">;

const wfOption = { workflow: { type: "string" as const, short: "w", placeholder: "WF", required: true, description: "workflow name (name or name.run) or id" } };
const fileOption = { file: { type: "string" as const, short: "f", placeholder: "FILE", description: "reana.yaml to use (default: reana.yaml in the notebook's folder)" } };
const paramOptions = {
  parameter: { type: "string" as const, short: "p", multiple: true, placeholder: "K=V", description: "input parameter override" },
  option: { type: "string" as const, short: "o", multiple: true, placeholder: "K=V", description: "operational option (serial: CACHE, FROM, TARGET)" },
};

// ---------------------------------------------------------------------------------------------------------------
// Values

function stateValue(s: WorkflowState, title?: string): WorkflowState {
  return withDisplay(s, () =>
    recordBundle(
      [
        ["workflow", s.name],
        ["id", s.id],
        ["status", s.status],
        ["progress", s.progress.total ? `${s.progress.finished}/${s.progress.total} jobs finished${s.progress.failed ? `, ${s.progress.failed} failed` : ""}` : ""],
        ["current step", s.terminal ? undefined : s.progress.currentStep],
        ["created", formatDate(s.created)],
        ["started", formatDate(s.progress.startedAt)],
        ["finished", formatDate(s.progress.finishedAt)],
        ["stopped", formatDate(s.progress.stoppedAt)],
      ],
      { title: title ?? `Workflow ${s.name}` },
    ),
  );
}

function progressOf(w: WorkflowSummary): string {
  const p = w.progress;
  if (!p) return "";
  const n = (v: unknown) => (typeof v === "number" ? v : ((v as { total?: number } | null)?.total ?? 0));
  const total = n(p.total);
  return total ? `${n(p.finished)}/${total}` : "";
}

// ---------------------------------------------------------------------------------------------------------------
// Specification loading (file or cell body)

function loadSpec(call: VerbCall, ctx: MagicContext, body: string | undefined): LoadedReanaSpec {
  if (body !== undefined && body.trim() !== "") {
    if (call.optStr("file")) throw new UsageError(`${call.prefix()}: give the reana.yaml either as the cell body or with -f, not both.`);
    return parseReanaSpec(body, { baseDir: ctx.cwd, file: "reana.yaml (cell)" });
  }
  if (body !== undefined) throw new UsageError(`${call.prefix()}: the cell body is empty; write the reana.yaml there, or use the line magic with -f FILE.`);
  const file = resolvePath(ctx, call.optStr("file") ?? "reana.yaml");
  if (!call.optStr("file") && !fs.existsSync(file)) {
    throw new UsageError(
      `${call.prefix()}: no reana.yaml in ${ctx.cwd}. Pass one with -f FILE, or write it as the body of a %%reana ${call.verb.name} cell.\nUsage: ${call.usage()}`,
    );
  }
  return loadReanaSpec(file);
}

function parameterValues(call: VerbCall): { parameters?: Record<string, string>; options?: Record<string, string> } {
  const parameters = call.pairs("parameter");
  const options = call.pairs("option");
  return { parameters: Object.keys(parameters).length ? parameters : undefined, options: Object.keys(options).length ? options : undefined };
}

/** Regular files under a folder, sorted, symbolic links skipped (as reana-client does). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(full));
    else if (e.isFile()) out.push(full);
  }
  return out;
}

/** Bounds of `%reana monitor --every`, in seconds: the poll loop's 200 ms floor, and one hour. */
const MIN_POLL_S = 0.2;
const MAX_POLL_S = 3600;

function pollInterval(client: ReanaClient): number {
  return client.settings.sandbox ? 500 : 5000;
}

/** Follows a workflow with a live progress line until it ends; a failed or stopped run becomes an error. */
async function follow(client: ReanaClient, ctx: MagicContext, workflow: string, progress?: Progress, env?: Env): Promise<WorkflowState> {
  const note = `The workflow keeps running on REANA: check it with %reana status -w ${workflow}, stop it with %reana stop -w ${workflow}.`;
  const p = progress ?? new Progress(ctx, { title: `Workflow ${workflow}`, stepUnit: "jobs", interruptNote: note });
  const final = await withProgress(p, ctx.signal, () =>
    client.follow(workflow, {
      signal: ctx.signal,
      intervalMs: pollInterval(client),
      onUpdate: (s) =>
        p.update({
          status: s.status,
          steps: s.progress.finished,
          totalSteps: s.progress.total || undefined,
          current: s.terminal ? undefined : s.progress.currentStep,
          detail: s.terminal ? undefined : s.progress.currentCommand,
        }),
    }),
  );
  // The run's outcome joins the record (the entry of `%reana run` holds what went in).
  env?.provenance.record({ action: "run", kind: "workflow", service: "reana", id: final.id, label: final.name, via: "%reana follow", endpoint: client.settings.serverUrl, details: { status: final.status, jobs: { finished: final.progress.finished, total: final.progress.total } } });
  if (final.status === "failed" || final.status === "stopped" || final.status === "deleted") {
    let tail = "";
    if (final.status === "failed") {
      const logs = await client.logs(workflow, { signal: ctx.signal }).catch(() => undefined);
      const failedJob = logs?.jobs.find((j) => j.status === "failed") ?? logs?.jobs.at(-1);
      if (failedJob) {
        const lines = failedJob.logs.trimEnd().split("\n").slice(-8);
        tail = `\nLast lines of step ${failedJob.step}:\n${lines.map((l) => `  ${l}`).join("\n")}`;
      }
    }
    throw new MagicServiceError({
      name: "ReanaError",
      code: "REANA_WORKFLOW_FAILED",
      message: `Workflow ${final.name} ${final.status} (${final.progress.finished}/${final.progress.total} jobs finished).${tail}`,
      hint: `See the full logs with %reana logs -w ${final.name}.`,
    });
  }
  return stateValue(final);
}

// ---------------------------------------------------------------------------------------------------------------
// Verbs

export const reanaVerbs: Verb<Env>[] = [
  {
    name: "ping",
    summary: "Check that the REANA server answers.",
    examples: ["%reana ping"],
    typescript: "await reana.ping()",
    async run(_call, ctx, env) {
      const client = await env.reana();
      const started = Date.now();
      const r = await client.ping({ signal: ctx.signal });
      const value = { endpoint: client.settings.serverUrl, message: r.message, status: r.status, ms: Date.now() - started };
      return withDisplay(value, () => recordBundle(Object.entries(value), { title: "REANA" }));
    },
  },
  {
    name: "whoami",
    summary: "Show who the token belongs to, with the CPU and disk quota.",
    examples: ["%reana whoami"],
    typescript: "await reana.you()",
    async run(_call, ctx, env) {
      const client = await env.reana();
      const you = await client.you({ signal: ctx.signal });
      const q = (k: "cpu" | "disk") => {
        const v = you.quota?.[k];
        if (!v) return undefined;
        const used = v.usage?.human_readable ?? (v.usage?.raw ?? "");
        const limit = v.limit?.human_readable ?? (v.limit?.raw ? String(v.limit.raw) : "unlimited");
        return `${used} of ${limit}${v.health ? ` (${v.health})` : ""}`;
      };
      return withDisplay(you, () =>
        recordBundle(
          [
            ["endpoint", client.settings.serverUrl],
            ["user", you.fullName ?? you.username],
            ["email", you.email],
            ["server version", you.serverVersion],
            ["token", you.tokenStatus ? `${you.tokenStatus} (the token itself is never shown)` : undefined],
            ["CPU quota", q("cpu")],
            ["disk quota", q("disk")],
          ],
          { title: "REANA account" },
        ),
      );
    },
  },
  {
    name: "list",
    summary: "List your workflows (newest first), with status and progress.",
    options: {
      status: { type: "string", placeholder: "S", description: "only this status", choices: RUN_STATUSES as readonly string[] },
      search: { type: "string", placeholder: "NAME", description: "only workflows whose name contains NAME" },
      sort: { type: "string", description: "by creation date (default desc)", choices: ["asc", "desc"] },
      page: { type: "integer", placeholder: "N", min: 1, max: 1_000_000, description: "page number (with --size)" },
      size: { type: "integer", placeholder: "N", min: 1, max: 1000, description: "workflows per page (default 20)" },
    },
    examples: ["%reana list", "%reana list --status finished --search dimuon"],
    typescript: "await reana.listWorkflows({ status, search, sort, page, size })",
    async run(call, ctx, env) {
      const client = await env.reana();
      const size = call.num("size") ?? 20;
      const r = await client.listWorkflows({
        status: call.optStr("status") as RunStatus | undefined,
        search: call.optStr("search"),
        sort: (call.optStr("sort") as "asc" | "desc" | undefined) ?? "desc",
        page: call.num("page") ?? 1,
        size,
        includeProgress: true,
        signal: ctx.signal,
      });
      const rows = r.items;
      return withDisplay(rows, () =>
        tableBundle(
          rows,
          [
            { label: "name", get: (w) => w.name },
            { label: "status", get: (w) => w.status },
            { label: "jobs", get: progressOf, align: "right" },
            { label: "created", get: (w) => formatDate(w.created) },
            { label: "id", get: (w) => w.id },
          ],
          { title: `REANA workflows (${r.total})`, footer: r.total > rows.length ? `showing ${rows.length} of ${r.total}; use --page` : undefined },
        ),
      );
    },
  },
  {
    name: "validate",
    summary: "Validate a reana.yaml offline (JSON schema, REANA's parameter rules; CWL/Snakemake structure and the files they read); nothing is sent.",
    options: { ...fileOption },
    body: "optional",
    bodyHelp: "The reana.yaml itself (instead of -f).",
    examples: ["%reana validate", "%reana validate -f analysis/reana.yaml"],
    typescript: 'validateReanaSpec(loadReanaSpec("reana.yaml"))',
    async run(call, ctx, _env, body) {
      const loaded = loadSpec(call, ctx, body);
      const offline = validateReanaSpec(loaded);
      // CWL and Snakemake files are also loaded by their engines (as reana-client does): schema and syntax.
      const engine = await checkWithEngine(loaded, { signal: ctx.signal });
      const errors = [...offline.errors, ...engine.filter((i) => i.severity === "error")];
      const report = { valid: errors.length === 0, errors, warnings: [...offline.warnings, ...engine.filter((i) => i.severity === "warning")] };
      const issues = [...report.errors, ...report.warnings];
      const value = { valid: report.valid, errors: report.errors.map((i) => ({ ...i })), warnings: report.warnings.map((i) => ({ ...i })) };
      return withDisplay(value, () => {
        const head = report.valid ? `✔ ${loaded.file} is valid${report.warnings.length ? ` (${plural(report.warnings.length, "warning")})` : ""}.` : `✘ ${loaded.file} is not valid.`;
        const text = [head, issues.length ? formatIssues(issues) : ""].filter(Boolean).join("\n");
        return { "text/plain": text, "text/html": `<div class="vre-result"><div><strong>${escapeHtml(head)}</strong></div>${issues.length ? `<pre>${escapeHtml(formatIssues(issues))}</pre>` : ""}</div>` };
      });
    },
  },
  {
    name: "create",
    summary: "Create a workflow from a reana.yaml (validated first) without uploading or starting it.",
    options: { name: { type: "string", short: "n", placeholder: "NAME", required: true, description: "workflow name (letters, digits, _ and -)" }, ...fileOption },
    body: "optional",
    bodyHelp: "The reana.yaml itself (instead of -f).",
    examples: ["%reana create -n dimuon -f reana.yaml"],
    typescript: 'await reana.createWorkflow(loadReanaSpec("reana.yaml"), name)',
    async run(call, ctx, env, body) {
      const loaded = loadSpec(call, ctx, body);
      const client = await env.reana();
      const r = await client.createWorkflow(loaded, call.str("name"), { signal: ctx.signal });
      return withDisplay(r, () =>
        recordBundle([["workflow", r.workflowName], ["id", r.workflowId], ["warnings", r.warnings.map((w) => w.message).join("; ")]], {
          title: "Workflow created",
          footer: `Next: %reana upload -w ${r.workflowName}, then %reana start -w ${r.workflowName}`,
        }),
      );
    },
  },
  {
    name: "upload",
    summary: "Upload files or folders (relative to the notebook) to a workflow's workspace; without PATHS, the inputs named in reana.yaml.",
    positionals: [{ name: "PATHS", variadic: true, required: false, description: "files or folders (default: the inputs of reana.yaml)" }],
    options: { ...wfOption, ...fileOption },
    examples: ["%reana upload -w dimuon", "%reana upload -w dimuon data/run1.csv code/"],
    typescript: "await reana.uploadFile(wf, localPath, remoteName)  /  await reana.uploadInputs(wf, loadReanaSpec(...))",
    async run(call, ctx, env) {
      const client = await env.reana();
      const wf = call.str("workflow");
      const paths = call.list("PATHS");
      const progress = new Progress(ctx, { title: `Uploading to ${wf}` });
      const results = await withProgress(progress, ctx.signal, async () => {
        if (paths.length === 0) {
          const loaded = loadSpec(call, ctx, undefined);
          return client.uploadInputs(wf, loaded, {
            signal: ctx.signal,
            onProgress: (p) => progress.update({ current: p.file, files: p.index + (p.done ? 1 : 0), totalFiles: p.count, bytes: p.bytes }),
          });
        }
        const items: Array<{ local: string; remote: string; size: number }> = [];
        for (const p of paths) {
          const local = resolvePath(ctx, p);
          const st = fs.statSync(local, { throwIfNoEntry: false });
          if (!st) throw new UsageError(`${call.prefix()}: ${p} does not exist (paths are relative to ${ctx.cwd}).`);
          const remoteOf = (f: string) => {
            const rel = path.relative(ctx.cwd, f);
            return (rel.startsWith("..") || path.isAbsolute(rel) ? path.basename(f) : rel).split(path.sep).join("/");
          };
          if (st.isDirectory()) {
            for (const full of filesUnder(local)) items.push({ local: full, remote: remoteOf(full), size: fs.statSync(full).size });
          } else items.push({ local, remote: remoteOf(local), size: st.size });
        }
        const totalBytes = items.reduce((n, i) => n + i.size, 0);
        const out = [];
        let done = 0;
        for (const [i, item] of items.entries()) {
          progress.update({ current: item.remote, files: i, totalFiles: items.length, bytes: done, totalBytes });
          const base = done;
          out.push(await client.uploadFile(wf, item.local, item.remote, { signal: ctx.signal, onProgress: (pr) => progress.update({ bytes: base + pr.bytes }) }));
          done += item.size;
          progress.update({ files: i + 1, bytes: done });
        }
        return out;
      });
      return withDisplay(results, () =>
        tableBundle(results, [
          { label: "workspace path", get: (r) => r.name },
          { label: "size", get: (r) => formatBytes(r.size), align: "right" },
          { label: "md5", get: (r) => r.md5 },
        ], { title: `Uploaded ${plural(results.length, "file")} to ${wf}` }),
      );
    },
  },
  {
    name: "start",
    summary: "Start a created workflow, optionally overriding input parameters and operational options.",
    options: { ...wfOption, ...paramOptions, follow: { type: "boolean", description: "follow the run live until it ends" } },
    examples: ["%reana start -w dimuon -p bins=80", "%reana start -w dimuon -o TARGET=fit --follow"],
    typescript: "await reana.startWorkflow(wf, { parameters, options })",
    async run(call, ctx, env) {
      const client = await env.reana();
      const wf = call.str("workflow");
      const started = await client.startWorkflow(wf, { ...parameterValues(call), signal: ctx.signal });
      if (call.flag("follow")) return follow(client, ctx, started.workflow_name, undefined, env);
      return withDisplay(started, () =>
        recordBundle([["workflow", started.workflow_name], ["id", started.workflow_id], ["status", started.status], ["run", started.run_number]], {
          title: "Workflow started",
          footer: `Follow it with %reana status -w ${started.workflow_name}`,
        }),
      );
    },
  },
  {
    name: "run",
    summary: "Create, upload the inputs and start a workflow in one step (as reana-client run); --follow shows it live until it ends.",
    options: { name: { type: "string", short: "n", placeholder: "NAME", required: true, description: "workflow name" }, ...fileOption, ...paramOptions, follow: { type: "boolean", description: "follow the run live until it ends" } },
    body: "optional",
    bodyHelp: "The reana.yaml itself. Input files and folders it names (inputs.files, inputs.directories, workflow.file) are uploaded from the notebook's folder.",
    examples: [
      "%reana run -n dimuon -f reana.yaml --follow",
      "%%reana run -n histogram --follow\ninputs:\n  files: [data/events.csv]\n  parameters: {bins: 50}\nworkflow:\n  type: serial\n  specification:\n    steps:\n      - environment: docker.io/library/python:3.12-slim\n        commands: [python histogram.py --bins ${bins}]\noutputs:\n  files: [results/histogram.csv]",
    ],
    typescript: 'await reana.run(loadReanaSpec("reana.yaml"), name, { parameters, options })  // then reana.follow(name)',
    async run(call, ctx, env, body) {
      const loaded = loadSpec(call, ctx, body);
      const report = validateReanaSpec(loaded, { workflowName: call.str("name") });
      if (!report.valid) {
        throw new MagicServiceError({ name: "ReanaSpecError", code: "REANA_SPEC_INVALID", message: `The reana.yaml is not valid:\n${formatIssues(report.errors)}`, hint: "Fix it and run the cell again; nothing was sent to REANA." });
      }
      const client = await env.reana();
      const name = call.str("name");
      const progress = new Progress(ctx, {
        title: `Workflow ${name}`,
        stepUnit: "jobs",
        interruptNote: `Check with %reana list --search ${name} whether the workflow was created or started before running the cell again.`,
      });
      progress.update({ status: "creating" });
      const result = await (async () => {
        try {
          return await client.run(loaded, name, {
            ...parameterValues(call),
            signal: ctx.signal,
            onUpload: (p) => progress.update({ status: "uploading inputs", current: p.file, files: p.index + (p.done ? 1 : 0), totalFiles: p.count }),
          });
        } catch (e) {
          progress.end(e, ctx.signal);
          throw e;
        }
      })();
      // The record of the run: the exact specification and every input by sha256, so a re-run can be checked.
      const inputs = [];
      for (const u of result.uploaded) inputs.push({ path: u.name, md5: u.md5, sha256: await sha256File(path.join(loaded.baseDir, u.name), ctx.signal), bytes: u.size });
      const specFileSha256 = fs.existsSync(loaded.file) ? await sha256File(loaded.file, ctx.signal) : undefined;
      env.provenance.record({
        action: "run",
        kind: "workflow",
        service: "reana",
        id: result.workflowId,
        label: result.runNumber !== undefined && !String(result.workflowName).includes(".") ? `${result.workflowName}.${result.runNumber}` : result.workflowName,
        via: `%reana run`,
        endpoint: client.settings.serverUrl,
        checksums: { sha256: specDigest(loaded.specification) },
        details: {
          name,
          type: loaded.specification.workflow.type,
          baseDir: loaded.baseDir,
          specFile: { path: displayPath(ctx, loaded.file), sha256: specFileSha256 },
          parameters: { ...(loaded.specification.inputs?.parameters ?? {}), ...(parameterValues(call).parameters ?? {}) },
          inputs,
          outputs: loaded.specification.outputs ?? {},
          status: result.status,
        },
      });
      progress.update({ status: result.status, current: undefined, files: undefined, totalFiles: undefined });
      if (call.flag("follow")) return follow(client, ctx, result.workflowName, progress, env);
      progress.handOff(`follow it with %reana monitor -w ${result.workflowName} (a live widget) or %reana status -w ${result.workflowName}`);
      return withDisplay(result, () =>
        recordBundle(
          [
            ["workflow", result.workflowName],
            ["id", result.workflowId],
            ["status", result.status],
            ["inputs uploaded", result.uploaded.map((u) => u.name).join(", ") || "none"],
            ["specification sha256", specDigest(loaded.specification)],
          ],
          { title: "Workflow started" },
        ),
      );
    },
  },
  {
    name: "status",
    summary: "Show a workflow's status and progress.",
    options: { ...wfOption, follow: { type: "boolean", description: "keep following until it ends" } },
    examples: ["%reana status -w dimuon", "%reana status -w dimuon.2 --follow"],
    typescript: "await reana.status(wf)  /  await reana.follow(wf, { onUpdate })",
    async run(call, ctx, env) {
      const client = await env.reana();
      const wf = call.str("workflow");
      if (call.flag("follow")) return follow(client, ctx, wf, undefined, env);
      return stateValue(await client.status(wf, { signal: ctx.signal }));
    },
  },
  {
    name: "monitor",
    summary: "Follow a workflow in a live widget while you go on working: progress, steps, logs; stop it from there.",
    options: {
      ...wfOption,
      // At least the 200 ms the poll loop allows; at most an hour (a longer timer would overflow Node's 2^31 ms).
      every: { type: "number", placeholder: "SECONDS", min: MIN_POLL_S, max: MAX_POLL_S, unit: "seconds", description: "seconds between polls (default 5; 0.5 on the sandbox)" },
    },
    examples: ["%reana monitor -w dimuon", "%reana monitor -w dimuon.2 --every 10"],
    typescript: 'runMonitor(reana, wf)  // import { reana, runMonitor } from "vre-ts"',
    async run(call, ctx, env) {
      const client = await env.reana();
      const wf = call.str("workflow");
      const every = call.num("every"); // within MIN_POLL_S..MAX_POLL_S: the parser checks the option's bounds
      // An unknown workflow is a clear error here rather than a widget that shows one.
      await client.status(wf, { signal: ctx.signal });
      return runMonitor(client, wf, { intervalMs: every !== undefined ? every * 1000 : pollInterval(client) });
    },
  },
  {
    name: "logs",
    summary: "Show a workflow's logs: the engine log and one section per job (optionally only some steps).",
    options: { ...wfOption, step: { type: "string", short: "s", multiple: true, placeholder: "STEP", description: "only this step" } },
    examples: ["%reana logs -w dimuon", "%reana logs -w dimuon --step fit"],
    typescript: "await reana.logs(wf, { steps })",
    async run(call, ctx, env) {
      const client = await env.reana();
      const steps = call.list("step");
      const logs = await client.logs(call.str("workflow"), { steps: steps.length ? steps : undefined, signal: ctx.signal });
      return withDisplay(logs, () => {
        const sections: Array<[string, string]> = [];
        if (logs.workflowLogs.trim() && !steps.length) sections.push([`workflow engine`, logs.workflowLogs]);
        for (const j of logs.jobs) sections.push([`step ${j.step} (${j.status ?? "?"}${j.image ? `, ${j.image}` : ""})${j.command ? `: ${j.command}` : ""}`, j.logs]);
        const text = [`Logs of ${logs.workflowName}`, ...sections.map(([h, l]) => `==> ${h}\n${l.trimEnd()}`)].join("\n\n");
        const html =
          `<div class="vre-result"><div><strong>Logs of ${escapeHtml(logs.workflowName)}</strong></div>` +
          sections.map(([h, l]) => `<details open><summary>${escapeHtml(h)}</summary><pre style="max-height:30em;overflow:auto">${escapeHtml(l.trimEnd())}</pre></details>`).join("") +
          `</div>`;
        return { "text/plain": text, "text/html": html };
      });
    },
  },
  {
    name: "ls",
    summary: "List the files of a workflow's workspace (optionally matching a glob).",
    positionals: [{ name: "GLOB", required: false, description: "e.g. 'results/*.csv'" }],
    options: { ...wfOption },
    examples: ["%reana ls -w dimuon", "%reana ls -w dimuon 'results/*'"],
    typescript: "await reana.listWorkspace(wf, { glob })",
    async run(call, ctx, env) {
      const client = await env.reana();
      const r = await client.listWorkspace(call.str("workflow"), { glob: call.optStr("GLOB"), signal: ctx.signal });
      const rows = r.items;
      return withDisplay(rows, () =>
        tableBundle(rows, [
          { label: "name", get: (f) => f.name },
          { label: "size", get: (f) => f.size?.human_readable ?? formatBytes(f.size?.raw ?? undefined), align: "right" },
          { label: "modified", get: (f) => formatDate(f["last-modified"]) },
        ], { title: `Workspace of ${call.str("workflow")}` }),
      );
    },
  },
  {
    name: "download",
    summary: "Download files from a workflow's workspace (default: the outputs listed in its reana.yaml) into the notebook's folder.",
    positionals: [{ name: "PATHS", variadic: true, required: false, description: "workspace paths or globs (default: outputs.files)" }],
    options: { ...wfOption, dir: { type: "string", short: "d", placeholder: "D", description: "target folder (default: the notebook's folder)" } },
    examples: ["%reana download -w dimuon", "%reana download -w dimuon results/mass.csv --dir outputs"],
    typescript: "await reana.download(wf, path, { dest })",
    async run(call, ctx, env) {
      const client = await env.reana();
      const wf = call.str("workflow");
      const dir = resolvePath(ctx, call.optStr("dir") ?? ".");
      let paths = call.list("PATHS");
      if (paths.length === 0) {
        const spec = await client.specification(wf, { signal: ctx.signal });
        const outputs = ((spec as { specification?: { outputs?: { files?: string[]; directories?: string[] } } }).specification?.outputs ?? {}) as { files?: string[]; directories?: string[] };
        paths = [...(outputs.files ?? []), ...(outputs.directories ?? []).map((d) => `${d.replace(/\/+$/, "")}/*`)];
        if (paths.length === 0) throw new UsageError(`${call.prefix()}: ${wf} lists no outputs in its reana.yaml; name the files to download.\nUsage: ${call.usage()}`);
      }
      const progress = new Progress(ctx, { title: `Downloading from ${wf}` });
      const files = await withProgress(progress, ctx.signal, async () => {
        const out: Array<{ name: string; path: string; size: number; md5: string }> = [];
        for (const [i, p] of paths.entries()) {
          progress.update({ current: p, files: i, totalFiles: paths.length, bytes: 0 });
          const glob = /[*?[\]]/.test(p);
          // No folder is made here: the client checks the path first (a `../` one is refused with nothing created).
          const dest = glob ? dir : path.join(dir, ...p.split("/"));
          const r = await client.download(wf, p, { dest, overwrite: true, signal: ctx.signal, onProgress: (pr) => progress.update({ bytes: pr.bytes, totalBytes: pr.total }) });
          for (const f of r.files) {
            const sums = await checksumFile(f.path, { signal: ctx.signal, md5: true });
            out.push({ name: f.name, path: f.path, size: f.size, md5: sums.md5 });
          }
        }
        progress.update({ files: paths.length, current: undefined });
        return out;
      });
      for (const f of files) {
        env.provenance.record({ action: "read", kind: "file", service: "reana", id: `${wf}:${f.name}`, label: f.name, via: "%reana download", endpoint: client.settings.serverUrl, checksums: { md5: f.md5 }, bytes: f.size, paths: [f.path] });
      }
      return withDisplay(files, () =>
        tableBundle(files, [
          { label: "file", get: (f) => f.name },
          { label: "saved as", get: (f) => displayPath(ctx, f.path) },
          { label: "size", get: (f) => formatBytes(f.size), align: "right" },
          { label: "md5", get: (f) => f.md5 },
        ], { title: `Downloaded ${plural(files.length, "file")} from ${wf}` }),
      );
    },
  },
  {
    name: "restart",
    summary: "Restart a finished or failed workflow in its workspace (a new run name.N.M), optionally with new parameters, options or reana.yaml.",
    options: {
      ...wfOption,
      ...paramOptions,
      file: { type: "string", short: "f", placeholder: "FILE", description: "a changed reana.yaml to restart with (default: the run's own)" },
      follow: { type: "boolean", description: "follow the new run live until it ends" },
    },
    examples: ["%reana restart -w dimuon.1", "%reana restart -w dimuon.1 -p bins=80 --follow"],
    typescript: "await reana.restartWorkflow(wf, { parameters, options, specification })",
    async run(call, ctx, env) {
      const client = await env.reana();
      const wf = call.str("workflow");
      const specification = call.optStr("file") ? loadSpec(call, ctx, undefined).specification : undefined;
      const started = await client.restartWorkflow(wf, { ...parameterValues(call), specification, signal: ctx.signal });
      if (call.flag("follow")) return follow(client, ctx, started.workflow_name, undefined, env);
      return withDisplay(started, () =>
        recordBundle([["workflow", started.workflow_name], ["id", started.workflow_id], ["status", started.status], ["restarts", wf]], {
          title: "Workflow restarted",
          footer: `Follow it with %reana status -w ${started.workflow_name}`,
        }),
      );
    },
  },
  {
    name: "diff",
    summary: "Compare two runs: their specifications (parameters included) and the files of their workspaces.",
    positionals: [
      { name: "A", required: true, description: "first workflow (name.run or id)" },
      { name: "B", required: true, description: "second workflow" },
    ],
    options: {
      brief: { type: "boolean", description: "only say which workspace files differ, not how" },
      context: { type: "integer", placeholder: "N", min: 0, max: 10_000, description: "context lines around differences (default 5)" },
    },
    examples: ["%reana diff dimuon.1 dimuon.2", "%reana diff dimuon.1 dimuon.1.1 --brief"],
    typescript: "await reana.diff(a, b, { brief, contextLines })",
    async run(call, ctx, env) {
      const client = await env.reana();
      const a = call.str("A");
      const b = call.str("B");
      const d = await client.diff(a, b, { brief: call.flag("brief"), contextLines: call.num("context"), signal: ctx.signal });
      return withDisplay(d, () => {
        const changed = Object.entries(d.specification).filter(([, lines]) => lines.length > 0);
        const parts: Array<[string, string]> = changed.map(([section, lines]) => [`specification: ${section}`, lines.join("\n")]);
        parts.push(["workspace", d.workspace.trim() || "no differences"]);
        const head = `Differences between ${a} and ${b}${changed.length ? "" : " (same specification)"}`;
        const text = [head, ...parts.map(([h, body]) => `==> ${h}\n${body}`)].join("\n\n");
        const colour = (line: string) =>
          /^\+(?!\+\+)/.test(line) ? `<span style="color:var(--jp-success-color1, green)">${escapeHtml(line)}</span>`
          : /^-(?!--)/.test(line) ? `<span style="color:var(--jp-error-color1, red)">${escapeHtml(line)}</span>`
          : escapeHtml(line);
        const html =
          `<div class="vre-result"><div><strong>${escapeHtml(head)}</strong></div>` +
          parts.map(([h, body]) => `<details open><summary>${escapeHtml(h)}</summary><pre>${body.split("\n").map(colour).join("\n")}</pre></details>`).join("") +
          `</div>`;
        return { "text/plain": text, "text/html": html };
      });
    },
  },
  {
    name: "stop",
    summary: "Stop a running workflow.",
    options: { ...wfOption, force: { type: "boolean", description: "kill the jobs immediately" } },
    examples: ["%reana stop -w dimuon"],
    typescript: "await reana.stopWorkflow(wf)",
    async run(call, ctx, env) {
      const client = await env.reana();
      const r = await client.stopWorkflow(call.str("workflow"), { force: call.flag("force"), signal: ctx.signal });
      return withDisplay(r, () => recordBundle([["workflow", r.workflow_name], ["status", r.status], ["message", r.message]], { title: "Workflow stopped" }));
    },
  },
  {
    name: "delete",
    summary: "Delete a workflow (its workspace too with --workspace).",
    options: { ...wfOption, workspace: { type: "boolean", description: "also delete the workspace files" }, "all-runs": { type: "boolean", description: "delete every run of this workflow name" } },
    examples: ["%reana delete -w dimuon.1", "%reana delete -w dimuon --all-runs --workspace"],
    typescript: "await reana.deleteWorkflow(wf, { workspace, allRuns })",
    async run(call, ctx, env) {
      const client = await env.reana();
      const r = await client.deleteWorkflow(call.str("workflow"), { workspace: call.flag("workspace"), allRuns: call.flag("all-runs"), signal: ctx.signal });
      return withDisplay(r, () => recordBundle([["workflow", r.workflow_name], ["status", r.status], ["message", r.message]], { title: "Workflow deleted" }));
    },
  },
  {
    name: "secrets",
    summary: "List your REANA secrets; `secrets add NAME...` asks for each value with a hidden prompt; `secrets delete NAME...`.",
    positionals: [
      { name: "ACTION", required: false, description: "list (default), add or delete" },
      { name: "NAMES", variadic: true, required: false, description: "secret names (add, delete)" },
    ],
    options: {
      "from-env": { type: "boolean", description: "add: take each value from the kernel's environment variable of the same name" },
      "as-file": { type: "boolean", description: "add: mount the secret as a file (/etc/reana/secrets/NAME) instead of an environment variable" },
      overwrite: { type: "boolean", description: "add: replace existing secrets" },
    },
    examples: ["%reana secrets", "%reana secrets add CERN_USER CERN_KEYTAB --as-file", "%reana secrets delete CERN_USER"],
    typescript: "await reana.listSecrets()  /  reana.addSecrets({ NAME: value })  /  reana.deleteSecrets([NAME])",
    async run(call, ctx, env) {
      const action = call.optStr("ACTION") ?? "list";
      const names = call.list("NAMES");
      const client = await env.reana();
      if (action === "list") {
        if (names.length) throw new UsageError(`${call.prefix()} list takes no names.\nUsage: ${call.usage()}`);
        const list = await client.listSecrets({ signal: ctx.signal });
        return withDisplay(list, () => tableBundle(list, [{ label: "name", get: (s) => s.name }, { label: "type", get: (s) => s.type }], { title: "REANA secrets (values are never shown)" }));
      }
      if (names.length === 0) throw new UsageError(`${call.prefix()} ${action}: name at least one secret.\nUsage: ${call.usage()}`);
      if (action === "add") {
        const inline = names.find((n) => n.includes("="));
        if (inline) {
          throw new UsageError(
            `${call.prefix()} add: write only the name (${inline.split("=")[0]}); the value is asked with a hidden prompt (or taken from the environment with --from-env), so it never ends up in the notebook.`,
          );
        }
        const secrets: Record<string, { value: string; type: "env" | "file" }> = {};
        for (const n of names) {
          let value: string | undefined;
          if (call.flag("from-env")) {
            value = process.env[n];
            if (value === undefined) throw new UsageError(`${call.prefix()} add --from-env: the kernel has no environment variable ${n}.`);
          } else value = await ask(ctx, `Value of secret ${n}: `, { password: true }, "Use --from-env to take the value from the kernel's environment instead.");
          secrets[n] = { value, type: call.flag("as-file") ? "file" : "env" };
        }
        await client.addSecrets(secrets, { overwrite: call.flag("overwrite"), signal: ctx.signal });
        const added = Object.keys(secrets).map((name) => ({ name, type: secrets[name].type }));
        return withDisplay(added, () => tableBundle(added, [{ label: "name", get: (s) => s.name }, { label: "type", get: (s) => s.type }], { title: "Secrets added (values are never shown)" }));
      }
      if (action === "delete") {
        const deleted = await client.deleteSecrets(names, { signal: ctx.signal });
        return withDisplay(deleted, () => ({ "text/plain": `Deleted secret(s): ${deleted.join(", ")}` }));
      }
      throw new UsageError(`${call.prefix()}: unknown action ${JSON.stringify(action)}; use list, add or delete.\nUsage: ${call.usage()}`);
    },
  },
];

export function reanaMagic(env: () => Env): MagicSpec {
  return verbMagic({
    name: "reana",
    summary: "Run reproducible analyses on REANA: create, upload, start, follow, read logs and fetch outputs",
    verbs: reanaVerbs,
    env,
    footer: 'In TypeScript: import { reana } from "vre-ts" gives the same client the magic uses; each verb\'s help shows its call.',
  });
}
