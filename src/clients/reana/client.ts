/**
 * ReanaClient: the REANA 0.9.x REST API (`reana-server` 0.9.4 / `reana-commons` 0.9.11 OpenAPI), one short
 * method per endpoint, plus `run` (create → upload → start) and `follow` (poll until terminal).
 *
 * Start is never repeated automatically (a second start is refused). Create is made safe to repeat: when its answer
 * is lost (or REANA answers 502/503/504), the user's runs are searched for the one just created (same name, state
 * `created`, same specification, created moments ago) and that one is used, so no second run is made.
 * `run` checks everything it can locally (specification, options, parameter names, every input file exists and is
 * readable) before it creates anything.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { ProgressCallback } from "../http/transfer";
import { ClientError } from "../errors";
import { submitOnce } from "../http/client";
import { registerSecret } from "../http/redact";
import { encodePath, ReanaBase, type CallOptions, type ReanaClientOptions, type ReanaSettings } from "./base";
import { DiffAnswer, parseDiff, type WorkflowDiff } from "./diff";
import { ReanaError } from "./errors";
import { followWorkflow, toState, type FollowOptions, type WorkflowState } from "./follow";
import { collectInputs, type UploadItem } from "./inputs";
import { parseLogs, type WorkflowLogs } from "./logs";
import * as R from "./responses";
import type { LoadedReanaSpec, ReanaSpecification } from "./spec";
import { downloadFromWorkspace, uploadToWorkspace, type DownloadOptions, type DownloadResult, type UploadResult } from "./transfer";
import { assertValid, operationalOptionProblems, serverCompatibilityProblems, validateReanaSpec, type ValidationIssue, type ValidationReport } from "./validate";
import type { z } from "zod";

export type { ReanaSettings, ReanaClientOptions, CallOptions } from "./base";

export interface ListWorkflowsOptions extends CallOptions {
  /** Only these statuses. Default: every status except `deleted` (as reana-client does). */
  status?: R.RunStatus | R.RunStatus[];
  /** Workflow name contains this text (sent as REANA's JSON `search`). */
  search?: string;
  /** One workflow (name, name.run or id). */
  workflow?: string;
  sort?: "asc" | "desc";
  page?: number;
  size?: number;
  includeProgress?: boolean;
  includeWorkspaceSize?: boolean;
  type?: "batch" | "interactive";
  verbose?: boolean;
}

export interface CreateOptions extends CallOptions {
  /** Validate offline first (default true); errors abort, warnings are returned. */
  validate?: boolean;
}

export interface CreateResult {
  workflowId: string;
  workflowName: string;
  message?: string;
  warnings: ValidationReport["warnings"];
}

export interface StartOptions extends CallOptions {
  /** Overrides of `inputs.parameters`. */
  parameters?: Record<string, unknown>;
  /** Operational options (serial: CACHE, FROM, TARGET; cwl: TARGET; yadage: toplevel, …). */
  options?: Record<string, unknown>;
  /** Restart a finished/failed workflow (optionally with a changed specification). */
  restart?: boolean;
  /** Check `parameters` against the workflow's declared parameters first (default true). */
  checkParameters?: boolean;
  specification?: ReanaSpecification;
}

export interface UploadProgress {
  /** Workspace path of the file being sent. */
  file: string;
  index: number;
  count: number;
  bytes: number;
  total?: number;
  done: boolean;
}

export interface RunOptions extends StartOptions {
  onUpload?: (p: UploadProgress) => void;
}

export interface RunResult extends CreateResult {
  uploaded: UploadResult[];
  status: string;
  runNumber?: string | number;
}

export interface ReanaUser {
  email?: string;
  fullName?: string;
  username?: string;
  serverVersion?: string;
  /** Token status (`active`, …); the token value itself is never returned. */
  tokenStatus?: string;
  quota?: z.infer<typeof R.You>["quota"];
}

export interface SecretInput {
  value: string | Uint8Array;
  /** `env` (an environment variable in the jobs) or `file` (mounted under /etc/reana/secrets). Default env. */
  type?: "env" | "file";
}

/** How far the server's clock may be behind ours when recognising a run created moments ago. */
const CLOCK_MARGIN_MS = 10 * 60_000;

/** REANA's `created` ("2026-11-25T04:00:00", UTC without a zone) in epoch ms; 0 when unreadable. */
function createdAt(created: string | null | undefined): number {
  if (!created) return 0;
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(created) ? created : `${created}Z`);
  return Number.isNaN(t) ? 0 : t;
}

/** JSON with sorted keys, to compare a stored specification with the one sent. */
function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

/** Opens every input for reading (and closes it), so that an unreadable file fails before anything is created. */
async function assertReadable(items: UploadItem[], baseDir: string): Promise<void> {
  for (const item of items) {
    try {
      const fh = await fs.open(item.local, "r");
      await fh.close();
    } catch (e) {
      throw new ReanaError({
        code: "REANA_SPEC_INVALID",
        message: `Input file "${item.remote}" in ${baseDir} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was created.`,
        hint: "Fix its permissions, or remove it from the inputs of reana.yaml.",
        cause: e,
      });
    }
  }
}

function idOf(workflow: string): string {
  const w = workflow.trim();
  if (!w) throw new ReanaError({ code: "REANA_INVALID_REQUEST", message: "No workflow given.", hint: "Pass a workflow name (e.g. myanalysis or myanalysis.3) or its id." });
  return w;
}

export class ReanaClient extends ReanaBase {
  constructor(settings: ReanaSettings, options: ReanaClientOptions = {}) {
    super(settings, options);
  }

  /** GET /api/ping — is the server up? (no token needed) */
  async ping(o: CallOptions = {}): Promise<z.infer<typeof R.Ping>> {
    return this.http.json({ method: "GET", path: "ping", what: "ping REANA", signal: o.signal }, R.Ping);
  }

  /** GET /api/you — who the token belongs to, with the quota. The token value is dropped from the answer. */
  async you(o: CallOptions = {}): Promise<ReanaUser> {
    const r = await this.call({ method: "GET", path: "you", what: "read your REANA account", signal: o.signal }, R.You);
    if (r.reana_token?.value) registerSecret(r.reana_token.value);
    return {
      email: r.email ?? undefined,
      fullName: r.full_name ?? undefined,
      username: r.username ?? undefined,
      serverVersion: r.reana_server_version,
      tokenStatus: r.reana_token?.status ?? undefined,
      quota: r.quota,
    };
  }

  /** GET /api/info — cluster defaults and limits (compute backends, workspaces, Kubernetes limits). */
  async info(o: CallOptions = {}): Promise<z.infer<typeof R.Info>> {
    return this.call({ method: "GET", path: "info", what: "read the REANA server information", signal: o.signal }, R.Info);
  }

  /** GET /api/workflows — the user's workflows. */
  async listWorkflows(o: ListWorkflowsOptions = {}): Promise<{ items: R.WorkflowSummary[]; total: number }> {
    const statuses = o.status === undefined ? R.RUN_STATUSES.filter((s) => s !== "deleted") : Array.isArray(o.status) ? o.status : [o.status];
    const query: Record<string, unknown> = {
      type: o.type ?? "batch",
      status: statuses,
      search: o.search ? JSON.stringify({ name: [o.search] }) : undefined,
      sort: o.sort,
      page: o.page,
      size: o.size,
      include_progress: o.includeProgress,
      include_workspace_size: o.includeWorkspaceSize,
      workflow_id_or_name: o.workflow,
      verbose: o.verbose,
    };
    const r = await this.call({ method: "GET", path: "workflows", query, what: "list workflows", signal: o.signal }, R.WorkflowList);
    return { items: r.items, total: r.total ?? r.items.length };
  }

  /**
   * POST /api/workflows?workflow_name= with the whole reana.yaml (workflow specification inlined) as JSON.
   * Validates offline first. Never retried.
   */
  async createWorkflow(spec: LoadedReanaSpec | ReanaSpecification, name: string, o: CreateOptions = {}): Promise<CreateResult> {
    const loaded = "locate" in spec && "source" in spec ? (spec as LoadedReanaSpec) : undefined;
    const body = loaded ? loaded.specification : (spec as ReanaSpecification);
    let warnings: ValidationReport["warnings"] = [];
    if (o.validate !== false) {
      const report = validateReanaSpec(loaded ?? body, { workflowName: name });
      assertValid(report, loaded ? path.basename(loaded.file) : "reana.yaml");
      warnings = report.warnings;
    } else if (name.includes(".")) {
      throw new ReanaError({ code: "REANA_SPEC_INVALID", message: `Workflow name "${name}" contains a ".".`, hint: "Choose a name without dots." });
    }
    if (!body.workflow || typeof body.workflow !== "object" || !body.workflow.specification) {
      throw new ReanaError({
        code: "REANA_SPEC_INVALID",
        message: "The specification has no workflow.specification to send.",
        hint: "Load reana.yaml with loadReanaSpec() so that workflow.file is read and inlined.",
      });
    }
    const what = `create workflow ${name}`;
    const since = Date.now();
    try {
      const r = await submitOnce(
        () => this.call({ method: "POST", path: "workflows", query: { workflow_name: name }, json: body, what, retry: false, signal: o.signal }, R.Created),
        async () => {
          const lost = await this.findJustCreated(name, body, since, o.signal);
          return lost && { workflow_id: lost.id, workflow_name: lost.name, message: "The workflow had been created; its answer was lost." };
        },
        { signal: o.signal, what },
      );
      return { workflowId: r.workflow_id, workflowName: r.workflow_name, message: r.message, warnings };
    } catch (e) {
      throw this.unknownOutcome(e, `Check with listWorkflows({search: "${name}"}) whether the workflow was created before creating it again.`);
    }
  }

  /**
   * The run of `name` that a create whose answer was lost made: state `created`, created since `since` (minus a
   * margin for the server's clock), with the specification that was sent. Newest first; undefined when none.
   */
  private async findJustCreated(name: string, body: ReanaSpecification, since: number, signal?: AbortSignal): Promise<R.WorkflowSummary | undefined> {
    const { items } = await this.listWorkflows({ search: name, status: "created", sort: "desc", size: 20, signal });
    const recent = items.filter((w) => w.name.replace(/\.\d+$/, "") === name && createdAt(w.created) >= since - CLOCK_MARGIN_MS);
    // The engine's own specification is what identifies the run; other workflow keys may be normalised by the server.
    const key = (wf: { type?: unknown; specification?: unknown }) => canonicalJson({ type: wf.type, specification: wf.specification });
    const sent = key(body.workflow);
    for (const w of recent) {
      const stored = await this.specification(w.id, { signal });
      if (key(stored.specification.workflow) === sent) return w;
    }
    return undefined;
  }

  /** POST /api/workflows/{w}/workspace?file_name= — one file, streamed. */
  async uploadFile(workflow: string, localPath: string, remoteName?: string, o: CallOptions & { onProgress?: ProgressCallback } = {}): Promise<UploadResult> {
    return uploadToWorkspace(this, idOf(workflow), localPath, remoteName ?? path.basename(localPath), o);
  }

  /** Uploads reana.yaml, the workflow file(s), inputs.files and every file under inputs.directories. */
  async uploadInputs(workflow: string, loaded: LoadedReanaSpec, o: CallOptions & { onProgress?: (p: UploadProgress) => void } = {}): Promise<UploadResult[]> {
    return this.uploadItems(workflow, await collectInputs(loaded, { signal: o.signal }), o);
  }

  private async uploadItems(workflow: string, items: UploadItem[], o: CallOptions & { onProgress?: (p: UploadProgress) => void }): Promise<UploadResult[]> {
    const results: UploadResult[] = [];
    for (const [index, item] of items.entries()) {
      const report = (bytes: number, done: boolean) => o.onProgress?.({ file: item.remote, index, count: items.length, bytes, total: item.size, done });
      report(0, false);
      const r = await this.uploadFile(workflow, item.local, item.remote, { signal: o.signal, onProgress: (p) => p.bytes < item.size && report(p.bytes, false) });
      report(r.size, true);
      results.push(r);
    }
    return results;
  }

  /** POST /api/workflows/{w}/start. Never retried (a second start is refused by REANA anyway). */
  async startWorkflow(workflow: string, o: StartOptions = {}): Promise<z.infer<typeof R.Started>> {
    const w = idOf(workflow);
    if (o.parameters && Object.keys(o.parameters).length && o.checkParameters !== false) {
      // As reana-client does for `-p`: a parameter the workflow does not declare is a mistake (typo).
      const declared = (await this.parameters(w, o)).parameters ?? {};
      const unknown = Object.keys(o.parameters).filter((k) => !(k in declared));
      if (unknown.length) {
        throw new ReanaError({
          code: "REANA_INVALID_REQUEST",
          message: `Parameter(s) ${unknown.map((u) => `"${u}"`).join(", ")} are not in the workflow's reana.yaml; nothing was started.`,
          hint: `Declared parameters: ${Object.keys(declared).join(", ") || "none"}.`,
        });
      }
    }
    const json: Record<string, unknown> = {};
    if (o.parameters) json.input_parameters = o.parameters;
    if (o.options) json.operational_options = o.options;
    if (o.restart) json.restart = true;
    if (o.specification) json.reana_specification = o.specification;
    try {
      return await this.call({ method: "POST", path: `workflows/${encodePath(w)}/start`, json, what: `start ${w}`, retry: false, signal: o.signal }, R.Started);
    } catch (e) {
      throw this.unknownOutcome(e, `Check status("${w}") before starting it again.`);
    }
  }

  /**
   * Restarts a finished or failed run (REANA 0.9 `restart`): the server starts a new run `name.N.M` in the same
   * workspace, optionally with new parameters, operational options or a changed specification.
   */
  async restartWorkflow(workflow: string, o: Omit<StartOptions, "restart"> = {}): Promise<z.infer<typeof R.Started>> {
    return this.startWorkflow(workflow, { ...o, restart: true });
  }

  /** GET /api/workflows/{a}/diff/{b} — specification sections and workspaces of two runs compared. */
  async diff(a: string, b: string, o: CallOptions & { brief?: boolean; contextLines?: number } = {}): Promise<WorkflowDiff> {
    const wa = idOf(a);
    const wb = idOf(b);
    const query = { brief: o.brief ? "true" : undefined, context_lines: o.contextLines === undefined ? undefined : String(o.contextLines) };
    const r = await this.call({ method: "GET", path: `workflows/${encodePath(wa)}/diff/${encodePath(wb)}`, query, what: `compare ${wa} with ${wb}`, signal: o.signal }, DiffAnswer);
    return parseDiff(r);
  }

  /**
   * Offline validation plus reana-client's server checks (compute backends and workspace against `/api/info`).
   * Never throws for an invalid specification: the report lists every problem.
   */
  async validate(spec: LoadedReanaSpec | ReanaSpecification, o: CallOptions & { workflowName?: string } = {}): Promise<ValidationReport> {
    const report = validateReanaSpec(spec, { workflowName: o.workflowName });
    const body = "locate" in spec && "source" in spec ? (spec as LoadedReanaSpec).specification : (spec as ReanaSpecification);
    const extra: ValidationIssue[] = serverCompatibilityProblems(body, await this.info(o));
    const errors = [...report.errors, ...extra];
    return { valid: errors.length === 0, errors, warnings: report.warnings };
  }

  /**
   * create → upload inputs → start, the way `reana-client run` does. Everything that can be checked here is checked
   * before the workflow is created (a local mistake leaves no "created" run behind): the specification, the
   * operational options, the parameter names, and that every input exists and is readable.
   */
  async run(loaded: LoadedReanaSpec, name: string, o: RunOptions = {}): Promise<RunResult> {
    assertValid(validateReanaSpec(loaded, { workflowName: name }), path.basename(loaded.file));
    if (o.options) {
      const problems = operationalOptionProblems(loaded.specification.workflow?.type ?? "", o.options);
      if (problems.length) {
        throw new ReanaError({ code: "REANA_INVALID_REQUEST", message: problems.map((p) => p.message).join(" "), hint: "serial: CACHE, FROM, TARGET; cwl: TARGET; yadage: toplevel, initdir, initfiles, accept_metadir." });
      }
    }
    if (o.parameters && Object.keys(o.parameters).length && o.checkParameters !== false) {
      // What GET /parameters would answer once created: the declared inputs.parameters.
      const declared = loaded.specification.inputs?.parameters ?? {};
      const unknown = Object.keys(o.parameters).filter((k) => !(k in declared));
      if (unknown.length) {
        throw new ReanaError({
          code: "REANA_INVALID_REQUEST",
          message: `Parameter(s) ${unknown.map((u) => `"${u}"`).join(", ")} are not in the workflow's reana.yaml; nothing was created.`,
          hint: `Declared parameters: ${Object.keys(declared).join(", ") || "none"}.`,
        });
      }
    }
    const items = await collectInputs(loaded, { signal: o.signal });
    await assertReadable(items, loaded.baseDir);
    const created = await this.createWorkflow(loaded, name, { signal: o.signal });
    const uploaded = await this.uploadItems(created.workflowName, items, { signal: o.signal, onProgress: o.onUpload });
    const started = await this.startWorkflow(created.workflowName, { ...o, checkParameters: false });
    return { ...created, uploaded, status: started.status, runNumber: started.run_number };
  }

  /** GET /api/workflows/{w}/status — status with a progress summary. */
  async status(workflow: string, o: CallOptions = {}): Promise<WorkflowState> {
    const w = idOf(workflow);
    return toState(await this.call({ method: "GET", path: `workflows/${encodePath(w)}/status`, what: `read the status of ${w}`, signal: o.signal }, R.WorkflowStatus));
  }

  /** GET /api/workflows/{w}/logs — engine log and per-job logs (optionally only some steps). */
  async logs(workflow: string, o: CallOptions & { steps?: string[]; page?: number; size?: number } = {}): Promise<WorkflowLogs> {
    const w = idOf(workflow);
    const r = await this.call(
      { method: "GET", path: `workflows/${encodePath(w)}/logs`, query: { page: o.page, size: o.size }, what: `read the logs of ${w}`, signal: o.signal },
      R.LogsAnswer,
    );
    return parseLogs(r, o.steps);
  }

  /** PUT /api/workflows/{w}/status?status=stop */
  async stopWorkflow(workflow: string, o: CallOptions & { force?: boolean } = {}): Promise<z.infer<typeof R.StatusChanged>> {
    const w = idOf(workflow);
    return this.call(
      { method: "PUT", path: `workflows/${encodePath(w)}/status`, query: { status: "stop" }, json: o.force ? { force_stop: true } : {}, what: `stop ${w}`, signal: o.signal },
      R.StatusChanged,
    );
  }

  /** PUT /api/workflows/{w}/status?status=deleted — with its workspace unless `workspace: false`. */
  async deleteWorkflow(workflow: string, o: CallOptions & { allRuns?: boolean; workspace?: boolean } = {}): Promise<z.infer<typeof R.StatusChanged>> {
    const w = idOf(workflow);
    const json = { all_runs: o.allRuns ?? false, workspace: o.workspace ?? true };
    return this.call({ method: "PUT", path: `workflows/${encodePath(w)}/status`, query: { status: "deleted" }, json, what: `delete ${w}`, signal: o.signal }, R.StatusChanged);
  }

  /** GET /api/workflows/{w}/workspace — files of the workspace (optionally a glob and paging). */
  async listWorkspace(workflow: string, o: CallOptions & { glob?: string; page?: number; size?: number; search?: Record<string, string[]> } = {}): Promise<{ items: z.infer<typeof R.WorkspaceFile>[]; total: number }> {
    const w = idOf(workflow);
    const query = { file_name: o.glob, page: o.page, size: o.size, search: o.search ? JSON.stringify(o.search) : undefined };
    const r = await this.call({ method: "GET", path: `workflows/${encodePath(w)}/workspace`, query, what: `list the workspace of ${w}`, signal: o.signal }, R.WorkspaceListing);
    return { items: r.items, total: r.total ?? r.items.length };
  }

  /** GET /api/workflows/{w}/workspace/{path} — one file, or a glob/folder unpacked safely. */
  async download(workflow: string, remotePath: string, o: DownloadOptions = {}): Promise<DownloadResult> {
    return downloadFromWorkspace(this, idOf(workflow), remotePath, o);
  }

  /** DELETE /api/workflows/{w}/workspace/{path} (globs allowed). */
  async deleteFiles(workflow: string, remotePath: string, o: CallOptions = {}): Promise<z.infer<typeof R.DeletedFiles>> {
    const w = idOf(workflow);
    return this.call({ method: "DELETE", path: `workflows/${encodePath(w)}/workspace/${encodePath(remotePath)}`, what: `delete ${remotePath} in ${w}`, signal: o.signal }, R.DeletedFiles);
  }

  /** GET /api/workflows/{w}/specification */
  async specification(workflow: string, o: CallOptions = {}): Promise<z.infer<typeof R.Specification>> {
    const w = idOf(workflow);
    return this.call({ method: "GET", path: `workflows/${encodePath(w)}/specification`, what: `read the specification of ${w}`, signal: o.signal }, R.Specification);
  }

  /** GET /api/workflows/{w}/parameters */
  async parameters(workflow: string, o: CallOptions = {}): Promise<z.infer<typeof R.Parameters>> {
    const w = idOf(workflow);
    return this.call({ method: "GET", path: `workflows/${encodePath(w)}/parameters`, what: `read the parameters of ${w}`, signal: o.signal }, R.Parameters);
  }

  /** GET /api/secrets — names and types only (REANA never returns values). */
  async listSecrets(o: CallOptions = {}): Promise<z.infer<typeof R.SecretList>> {
    return this.call({ method: "GET", path: "secrets", what: "list secrets", signal: o.signal }, R.SecretList);
  }

  /** POST /api/secrets/ — values are sent base64-encoded and never appear in messages. */
  async addSecrets(secrets: Record<string, SecretInput | string>, o: CallOptions & { overwrite?: boolean } = {}): Promise<{ message: string }> {
    const body: Record<string, { name: string; value: string; type: string }> = {};
    for (const [name, input] of Object.entries(secrets)) {
      const s = typeof input === "string" ? { value: input } : input;
      if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) {
        throw new ReanaError({ code: "REANA_INVALID_REQUEST", message: `Secret name "${name}" is not valid.`, hint: "Use letters, digits and _ (an environment variable name)." });
      }
      const raw = typeof s.value === "string" ? Buffer.from(s.value, "utf8") : Buffer.from(s.value);
      if (typeof s.value === "string") registerSecret(s.value);
      const b64 = raw.toString("base64");
      registerSecret(b64);
      body[name] = { name, value: b64, type: s.type ?? "env" };
    }
    const names = Object.keys(body).join(", ");
    return this.call(
      { method: "POST", path: "secrets/", query: { overwrite: o.overwrite ?? false }, json: body, what: `add secret(s) ${names}`, idempotent: !!o.overwrite, signal: o.signal },
      R.Message,
    );
  }

  /** DELETE /api/secrets/ — returns the names deleted; unknown names give REANA_NOT_FOUND listing them. */
  async deleteSecrets(names: string[], o: CallOptions = {}): Promise<string[]> {
    try {
      return await this.call({ method: "DELETE", path: "secrets/", json: names, what: `delete secret(s) ${names.join(", ")}`, signal: o.signal }, R.SecretNames);
    } catch (e) {
      if (e instanceof ReanaError && e.code === "REANA_NOT_FOUND") {
        throw new ReanaError({ code: "REANA_NOT_FOUND", status: 404, message: `Secret(s) not found: ${names.join(", ")}.`, hint: "List them with listSecrets().", cause: e });
      }
      throw e;
    }
  }

  /** Polls the status (every 5 s by default) until finished/failed/stopped/deleted. */
  async follow(workflow: string, o: FollowOptions = {}): Promise<WorkflowState> {
    const w = idOf(workflow);
    return followWorkflow((signal) => this.status(w, { signal }), w, o);
  }

  private unknownOutcome(e: unknown, hint: string): unknown {
    if (e instanceof ClientError && e.outcomeUnknown) {
      return new ReanaError({ code: e.code, message: e.message, hint, status: e.status, method: e.method, url: e.url, outcomeUnknown: true, cause: e });
    }
    return e;
  }
}
