import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { promises as fs } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as path from "node:path";
import type { ServiceContext, ServiceHandler } from "../service";
import { diffWorkflows } from "./diff";
import { findEngine, missingEngineMessage } from "./engines";
import { engineLine, isTerminal, recoverInterruptedRuns, SerialExecutor } from "./executor";
import {
  answerError,
  decodeSegment,
  HttpError,
  humanSize,
  isPlainObject,
  queryFlag,
  readBody,
  readJson,
  sendJson,
  streamToFile,
  sweepStaging,
  tokenMatches,
} from "./http";
import { detectContainerRuntime, type ContainerRuntime } from "./runtime";
import { newRunRecord, ReanaStateStore, type RunStatus, type WorkflowRecord } from "./state";
import { isUuidV4, validateOperationalOptions, validateSpecification, validateWorkflowName, type WorkflowEngine } from "./validation";
import {
  applySearch,
  assertRealInside,
  diskUsage,
  hasGlob,
  listFiles,
  matchFiles,
  resolveInside,
  sendFile,
  sendZip,
} from "./workspace";

/**
 * The sandbox's REANA 0.9.x server: the REST endpoints reana-client and vre-ts use, answered in the shapes of the
 * REANA OpenAPI document, with runs executed by a local serial engine. The access token travels only as the
 * `?access_token=` query parameter, as on a real REANA server.
 */

export const REANA_SERVER_VERSION = "0.9.4";
const RUN_STATUSES: RunStatus[] = ["created", "queued", "pending", "running", "finished", "failed", "stopped", "deleted"];

export interface ReanaService extends ServiceHandler {
  /** The sandbox user's access token (random per data folder, stored there with mode 0600). */
  readonly accessToken: string;
  /** Resolves once state is loaded and interrupted runs of a previous process are recorded. */
  readonly ready: Promise<void>;
}

/** Reads `<dir>/token`, creating it with a random value (mode 0600) on first use. */
export function readOrCreateToken(dir: string, file = "token"): string {
  mkdirSync(dir, { recursive: true });
  const full = path.join(dir, file);
  try {
    const value = readFileSync(full, "utf8").trim();
    if (value) return value;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const value = randomBytes(24).toString("base64url");
  const tmp = `${full}.${process.pid}.tmp`;
  writeFileSync(tmp, `${value}\n`, { mode: 0o600 });
  renameSync(tmp, full);
  return value;
}

export function createReanaService(ctx: ServiceContext): ReanaService {
  const dataDir = path.resolve(ctx.dataDir);
  const token = readOrCreateToken(dataDir);
  const tokenIssued = statSync(path.join(dataDir, "token")).mtime.toUTCString();
  const stagingDir = path.join(dataDir, "staging");
  const workspacesDir = path.join(dataDir, "workspaces");
  const store = new ReanaStateStore(path.join(dataDir, "state.json"), () => randomUUID());
  let runtimePromise: Promise<ContainerRuntime | undefined> | undefined;
  const runtime = () => (runtimePromise ??= detectContainerRuntime());
  // A restarted run (name.N.M) works in the workspace of the run it restarts.
  const workspaceOf = (id: string) => path.join(workspacesDir, store.state?.workflows[id]?.workspace_id ?? id);

  const executor = new SerialExecutor({
    store,
    dataDir,
    workspaceOf,
    runtime,
    log: ctx.log,
    secretFiles() {
      const files: Record<string, Buffer> = {};
      for (const [name, secret] of Object.entries(store.state.secrets)) {
        if (secret.type === "file") files[name] = Buffer.from(secret.value, "base64");
      }
      return files;
    },
    secretEnv() {
      const env: Record<string, string> = {};
      for (const [name, secret] of Object.entries(store.state.secrets)) {
        if (secret.type === "env") env[name] = Buffer.from(secret.value, "base64").toString("utf8");
      }
      return env;
    },
  });

  const ready = (async () => {
    await fs.mkdir(workspacesDir, { recursive: true });
    await fs.rm(path.join(dataDir, "run-secrets"), { recursive: true, force: true });
    const partial = await sweepStaging(stagingDir);
    if (partial > 0) ctx.log(`reana: dropped ${partial} workspace upload(s) cut off by a previous stop (never acknowledged)`);
    await store.load();
    const recovered = await recoverInterruptedRuns(store, dataDir, workspaceOf);
    if (recovered > 0) ctx.log(`reana: ${recovered} run(s) interrupted by a previous stop are now reported as failed`);
  })();

  // ---------------------------------------------------------------------------------------------- helpers
  const user = () => store.state.user_id;
  const fullName = (wf: WorkflowRecord) => `${wf.name}.${wf.run_number}${wf.run_minor ? `.${wf.run_minor}` : ""}`;

  function findWorkflow(ref: string): WorkflowRecord {
    const all = Object.values(store.state.workflows);
    let found: WorkflowRecord | undefined;
    if (isUuidV4(ref)) found = store.state.workflows[ref];
    else {
      const restart = /^(.*)\.(\d+)\.(\d+)$/.exec(ref);
      const m = /^(.*)\.(\d+)$/.exec(ref);
      if (restart) {
        found = all.find((wf) => wf.name === restart[1] && wf.run_number === Number(restart[2]) && (wf.run_minor ?? 0) === Number(restart[3]));
      }
      if (!found && m) found = all.find((wf) => wf.name === m[1] && wf.run_number === Number(m[2]) && !wf.run_minor);
      if (!found) {
        const runs = all
          .filter((wf) => wf.name === ref)
          .sort((a, b) => b.run_number - a.run_number || (b.run_minor ?? 0) - (a.run_minor ?? 0));
        found = runs[0];
      }
    }
    if (!found) throw new HttpError(404, { message: `Workflow ${ref} does not exist.` });
    return found;
  }

  function liveWorkspace(wf: WorkflowRecord): string {
    if (wf.workspace_deleted) {
      throw new HttpError(404, { message: `The workspace of workflow ${fullName(wf)} has been deleted.` });
    }
    return workspaceOf(wf.id);
  }

  function intParam(url: URL, name: string): number | undefined {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === "") return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value)) throw new HttpError(400, { message: `Field '${name}': Not a valid integer.` });
    if (value < 1) throw new HttpError(400, { message: `Field '${name}': Must be at least 1.` });
    return value;
  }

  function paginate<T>(items: T[], url: URL): T[] {
    const page = intParam(url, "page");
    const size = intParam(url, "size");
    if (size === undefined) return items;
    const start = ((page ?? 1) - 1) * size;
    return items.slice(start, start + size);
  }

  function parseSearch(url: URL): Record<string, unknown> | undefined {
    const raw = url.searchParams.get("search");
    if (raw === null || raw === "") return undefined;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (isPlainObject(parsed)) return parsed;
    } catch {
      // fall through
    }
    throw new HttpError(400, { message: "Your request contains not valid JSON." });
  }

  function progressFor(wf: WorkflowRecord, full: boolean): Record<string, unknown> {
    const p = wf.progress;
    const stamps = { run_started_at: p.run_started_at, run_finished_at: p.run_finished_at, run_stopped_at: p.run_stopped_at };
    if (!full) return stamps;
    return {
      total: p.total,
      running: p.running,
      finished: p.finished,
      failed: p.failed,
      current_command: p.current_command,
      current_step_name: p.current_step_name,
      ...stamps,
    };
  }

  async function readJobLog(file: string): Promise<string> {
    const full = path.join(dataDir, file);
    const limit = 4 * 1024 * 1024;
    try {
      const stat = await fs.stat(full);
      const handle = await fs.open(full, "r");
      try {
        const start = Math.max(0, stat.size - limit);
        const buf = Buffer.alloc(stat.size - start);
        await handle.read(buf as unknown as Uint8Array, 0, buf.length, start);
        const text = buf.toString("utf8");
        return start > 0 ? `[... ${start} earlier bytes omitted ...]\n${text}` : text;
      } finally {
        await handle.close();
      }
    } catch {
      return "";
    }
  }

  // ---------------------------------------------------------------------------------------------- handlers
  async function listWorkflows(url: URL, res: ServerResponse): Promise<void> {
    const type = url.searchParams.get("type");
    if (type === null) throw new HttpError(400, { message: "Field 'type': Missing data for required field." });
    if (type !== "batch" && type !== "interactive") {
      throw new HttpError(400, { message: "Field 'type': Must be one of: batch, interactive." });
    }
    const statuses = url.searchParams.getAll("status").flatMap((s) => s.split(",")).filter(Boolean);
    for (const s of statuses) {
      if (!RUN_STATUSES.includes(s as RunStatus)) {
        throw new HttpError(400, { message: `Field 'status': Must be one of: ${RUN_STATUSES.join(", ")}.` });
      }
    }
    const sort = url.searchParams.get("sort") ?? "desc";
    if (sort !== "asc" && sort !== "desc") throw new HttpError(400, { message: "Field 'sort': Must be one of: asc, desc." });
    const search = parseSearch(url);
    const idOrName = url.searchParams.get("workflow_id_or_name");
    const includeProgress = queryFlag(url.searchParams.get("include_progress"));
    const verbose = queryFlag(url.searchParams.get("verbose"));
    const includeSize = queryFlag(url.searchParams.get("include_workspace_size")) || verbose;

    let workflows = type === "interactive" ? [] : Object.values(store.state.workflows);
    if (statuses.length > 0) workflows = workflows.filter((wf) => statuses.includes(wf.status));
    if (idOrName) {
      const match = /^(.*)\.(\d+)$/.exec(idOrName);
      workflows = workflows.filter(
        (wf) => wf.id === idOrName || wf.name === idOrName || (match !== null && wf.name === match[1] && wf.run_number === Number(match[2])),
      );
    }
    const names = search?.name;
    if (names !== undefined) {
      const wanted = (Array.isArray(names) ? names : [names]).map((n) => String(n).toLowerCase());
      workflows = workflows.filter((wf) => wanted.some((n) => fullName(wf).toLowerCase().includes(n)));
    }
    workflows.sort((a, b) => (a.created === b.created ? a.run_number - b.run_number : a.created < b.created ? -1 : 1));
    if (sort === "desc") workflows.reverse();
    const total = workflows.length;
    const page = paginate(workflows, url);
    const items = [];
    for (const wf of page) {
      const size = includeSize && !wf.workspace_deleted ? await diskUsage(workspaceOf(wf.id)) : -1;
      const item: Record<string, unknown> = {
        id: wf.id,
        name: fullName(wf),
        status: wf.status,
        user: user(),
        created: wf.created,
        launcher_url: null,
        size: { raw: size, human_readable: size >= 0 ? humanSize(size) : "" },
        progress: progressFor(wf, includeProgress || verbose),
      };
      if (verbose) Object.assign(item, { session_type: null, session_uri: null, session_status: null });
      items.push(item);
    }
    sendJson(res, 200, { items, total });
  }

  async function createWorkflow(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    const name = url.searchParams.get("workflow_name") || "workflow";
    validateWorkflowName(name);
    if (url.searchParams.get("spec")) throw new HttpError(501, { message: "Creating workflows from a remote repository is not implemented." });
    const spec = await readJson(req, () => new HttpError(400, { message: "Your request contains not valid JSON." }));
    const check = validateSpecification(spec);
    const specification = spec as Record<string, unknown>;
    const id = randomUUID();
    await fs.mkdir(workspaceOf(id), { recursive: true });
    const record = await store.update((s) => {
      const runNumber = Math.max(0, ...Object.values(s.workflows).filter((w) => w.name === name).map((w) => w.run_number)) + 1;
      const wf = newRunRecord({ id, name, run_number: runNumber, status: "created", type: check.engine, specification });
      for (const w of check.warnings) {
        wf.workflow_logs += engineLine(`Unknown property '${w.property}' in ${w.path} of the specification was ignored.`, "WARNING");
      }
      s.workflows[id] = wf;
      return wf;
    });
    sendJson(res, 201, {
      message: "The workflow has been successfully created.",
      workflow_id: record.id,
      workflow_name: fullName(record),
    });
  }

  async function startWorkflow(wf: WorkflowRecord, body: unknown, res: ServerResponse): Promise<void> {
    const params = body === undefined ? {} : body;
    if (!isPlainObject(params)) throw new HttpError(400, { message: "Malformed request." });
    if (params.restart === true) return restartWorkflow(wf, params, res);
    if (wf.status !== "created") {
      throw new HttpError(403, { message: `Workflow ${fullName(wf)} is already ${wf.status} and cannot be started again.` });
    }
    assertRunnable(wf.type, fullName(wf));
    const inputParameters = params.input_parameters ?? {};
    if (!isPlainObject(inputParameters)) throw new HttpError(400, { message: "input_parameters must be an object." });
    const options = validateOperationalOptions(wf.type as WorkflowEngine, params.operational_options);
    await store.update((s) => {
      const rec = s.workflows[wf.id]!;
      rec.status = "queued";
      rec.input_parameters = inputParameters;
      rec.operational_options = options;
      const declared = ((rec.specification.inputs ?? {}) as { parameters?: Record<string, unknown> }).parameters ?? {};
      const undeclared = Object.keys(inputParameters).filter((k) => !(k in declared));
      if (undeclared.length > 0) {
        rec.workflow_logs += engineLine(
          `Input parameter(s) ${undeclared.join(", ")} are not declared in inputs.parameters of the specification.`,
          "WARNING",
        );
      }
      rec.workflow_logs += engineLine(`Workflow ${rec.id} submitted to the local sandbox queue.`);
    });
    executor.start(wf.id);
    sendJson(res, 200, {
      message: "Workflow submitted.",
      workflow_id: wf.id,
      workflow_name: fullName(wf),
      status: "queued",
      run_number: wf.run_number,
      user: user(),
    });
  }

  /** 501 with the reason when this machine cannot run the workflow's engine. */
  function assertRunnable(type: string, name: string): void {
    if (type === "yadage") {
      throw new HttpError(501, {
        message:
          `The local sandbox cannot run Yadage workflows: no packaged Yadage engine exists for it (Debian has none). ` +
          `Workflow ${name} was created and its files can be uploaded; run it on a REANA server.`,
      });
    }
    if ((type === "cwl" || type === "snakemake") && !findEngine(type)) {
      throw new HttpError(501, { message: missingEngineMessage(type) });
    }
  }

  /**
   * REANA's restart: a finished or failed run starts again as a new run `name.N.M` in the same workspace, with the
   * same specification (or `reana_specification` if given) and the new parameters/options.
   */
  async function restartWorkflow(wf: WorkflowRecord, params: Record<string, unknown>, res: ServerResponse): Promise<void> {
    if (wf.status !== "finished" && wf.status !== "failed") {
      throw new HttpError(403, { message: `Only finished or failed workflows can be restarted; ${fullName(wf)} is ${wf.status}.` });
    }
    if (wf.workspace_deleted) throw new HttpError(404, { message: `The workspace of workflow ${fullName(wf)} has been deleted.` });
    let specification = wf.specification;
    let type = wf.type;
    if (params.reana_specification !== undefined) {
      type = validateSpecification(params.reana_specification).engine;
      specification = params.reana_specification as Record<string, unknown>;
    }
    assertRunnable(type, fullName(wf));
    const inputParameters = params.input_parameters ?? {};
    if (!isPlainObject(inputParameters)) throw new HttpError(400, { message: "input_parameters must be an object." });
    const options = validateOperationalOptions(type as WorkflowEngine, params.operational_options);
    const sharedWorkspace = wf.workspace_id ?? wf.id;
    const busy = Object.values(store.state.workflows).find(
      (w) => (w.workspace_id ?? w.id) === sharedWorkspace && !isTerminal(w.status) && w.status !== "created",
    );
    if (busy) throw new HttpError(409, { message: `Workflow ${fullName(busy)} is still ${busy.status} in this workspace.` });
    const id = randomUUID();
    const record = await store.update((s) => {
      const minor =
        Math.max(0, ...Object.values(s.workflows).filter((w) => w.name === wf.name && w.run_number === wf.run_number).map((w) => w.run_minor ?? 0)) + 1;
      const rec = newRunRecord({
        id,
        name: wf.name,
        run_number: wf.run_number,
        run_minor: minor,
        workspace_id: sharedWorkspace,
        status: "queued",
        type,
        specification,
        input_parameters: inputParameters,
        operational_options: options,
      });
      rec.workflow_logs += engineLine(`Workflow ${rec.id} restarts ${fullName(wf)} in its workspace; submitted to the local sandbox queue.`, "INFO", type);
      s.workflows[id] = rec;
      return rec;
    });
    executor.start(id);
    sendJson(res, 200, {
      message: "Workflow submitted.",
      workflow_id: id,
      workflow_name: fullName(record),
      status: "queued",
      run_number: `${record.run_number}.${record.run_minor}`,
      user: user(),
    });
  }

  async function setStatus(wf: WorkflowRecord, url: URL, body: unknown, res: ServerResponse): Promise<void> {
    const status = url.searchParams.get("status");
    const params = body === undefined ? {} : body;
    if (!isPlainObject(params)) throw new HttpError(400, { message: "Malformed request." });
    // reana-client's `stop --force` sends {"force_stop": true}: stop without waiting for the jobs to finish.
    if (params.force_stop !== undefined && typeof params.force_stop !== "boolean") {
      throw new HttpError(400, { message: "Field 'force_stop': Not a valid boolean." });
    }
    if (status === "start") return startWorkflow(wf, params, res);
    if (status === "resume") throw new HttpError(501, { message: "Status resume is not supported yet." });
    if (status === "stop") {
      if (!["queued", "pending", "running"].includes(wf.status)) {
        throw new HttpError(409, { message: `Workflow ${fullName(wf)} is not running.` });
      }
      await executor.stop(wf.id, { force: params.force_stop === true });
      const rec = store.state.workflows[wf.id]!;
      sendJson(res, 200, {
        message: "Workflow successfully stopped.",
        workflow_id: rec.id,
        workflow_name: fullName(rec),
        status: rec.status,
        user: user(),
      });
      return;
    }
    if (status === "deleted") {
      if (params.workspace === false) throw new HttpError(400, { message: "Workspace must be deleted together with the workflow." });
      const runs = params.all_runs === true ? Object.values(store.state.workflows).filter((w) => w.name === wf.name) : [wf];
      const busy = runs.find((w) => ["queued", "pending", "running"].includes(w.status));
      if (busy) {
        throw new HttpError(403, { message: `Workflow ${fullName(busy)} cannot be deleted as it is currently ${busy.status}; stop it first.` });
      }
      const deleting = new Set(runs.map((w) => w.id));
      for (const w of runs) {
        const owner = w.workspace_id ?? w.id;
        const sharedByOthers = Object.values(store.state.workflows).some(
          (o) => !deleting.has(o.id) && !o.workspace_deleted && (o.workspace_id ?? o.id) === owner,
        );
        if (!sharedByOthers) await fs.rm(workspaceOf(w.id), { recursive: true, force: true });
        // The engine's private inputs (CWL job order, Snakemake config) of the run.
        await fs.rm(path.join(dataDir, "engine", w.id), { recursive: true, force: true });
      }
      await store.update((s) => {
        for (const w of runs) {
          const rec = s.workflows[w.id]!;
          rec.status = "deleted";
          rec.workspace_deleted = true;
        }
      });
      sendJson(res, 200, {
        message: "Workflow successfully deleted",
        workflow_id: wf.id,
        workflow_name: fullName(wf),
        status: "deleted",
        user: user(),
      });
      return;
    }
    if (status === null) throw new HttpError(400, { message: "Field 'status': Missing data for required field." });
    throw new HttpError(400, { message: `Status ${status} is not supported. Use start, stop or deleted.` });
  }

  async function logs(wf: WorkflowRecord, req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    let steps: string[] | undefined;
    const raw = await readBody(req, 1024 * 1024);
    if (raw.length > 0) {
      try {
        const parsed: unknown = JSON.parse(raw.toString("utf8"));
        if (Array.isArray(parsed)) steps = parsed.map(String);
      } catch {
        throw new HttpError(400, { message: "Your request contains not valid JSON." });
      }
    }
    let jobs = wf.jobs;
    if (steps && steps.length > 0) jobs = jobs.filter((j) => steps!.includes(j.job_name));
    jobs = paginate(jobs, url);
    const jobLogs: Record<string, unknown> = {};
    for (const job of jobs) {
      jobLogs[job.id] = {
        workflow_uuid: wf.id,
        job_name: job.job_name,
        compute_backend: job.compute_backend,
        backend_job_id: job.backend_job_id,
        docker_img: job.docker_img,
        cmd: job.cmd,
        status: job.status,
        logs: await readJobLog(job.log_file),
        started_at: job.started_at,
        finished_at: job.finished_at,
      };
    }
    sendJson(res, 200, {
      workflow_id: wf.id,
      workflow_name: fullName(wf),
      user: user(),
      logs: JSON.stringify({ workflow_logs: wf.workflow_logs, job_logs: jobLogs, engine_specific: wf.engine_specific }),
    });
  }

  async function upload(wf: WorkflowRecord, req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (contentType !== "application/octet-stream") {
      req.resume();
      throw new HttpError(400, { message: `Wrong Content-Type ${contentType || "(none)"}, use application/octet-stream.` });
    }
    const fileName = url.searchParams.get("file_name");
    if (!fileName) {
      req.resume();
      throw new HttpError(400, { message: "No file_name provided" });
    }
    const root = liveWorkspace(wf);
    const target = resolveInside(root, fileName);
    await assertRealInside(root, target);
    const existing = await fs.stat(target).catch(() => undefined);
    if (existing?.isDirectory()) throw new HttpError(400, { message: `${fileName} is a directory in the workspace.` });
    await streamToFile(req, target, stagingDir);
    if (store.state.workflows[wf.id]?.workspace_deleted) {
      // The workflow was deleted while the bytes were streaming: do not resurrect its workspace.
      await fs.rm(workspaceOf(wf.id), { recursive: true, force: true });
      throw new HttpError(404, { message: `The workspace of workflow ${fullName(wf)} has been deleted.` });
    }
    sendJson(res, 200, { message: `${fileName} has been successfully uploaded.` });
  }

  async function listWorkspace(wf: WorkflowRecord, url: URL, res: ServerResponse): Promise<void> {
    const root = liveWorkspace(wf);
    let files = await listFiles(root);
    const glob = url.searchParams.get("file_name");
    if (glob) files = matchFiles(files, glob);
    const search = parseSearch(url);
    if (search) files = applySearch(files, search);
    const total = files.length;
    sendJson(res, 200, { items: paginate(files, url), total });
  }

  async function download(wf: WorkflowRecord, rel: string, url: URL, res: ServerResponse): Promise<void> {
    const root = liveWorkspace(wf);
    const preview = queryFlag(url.searchParams.get("preview"));
    if (!hasGlob(rel)) {
      const full = resolveInside(root, rel);
      await assertRealInside(root, full);
      const stat = await fs.stat(full).catch(() => undefined);
      if (stat?.isFile()) return sendFile(res, full, rel, preview);
      if (!stat?.isDirectory()) throw new HttpError(404, { message: `${rel} does not exist.` });
    } else if (rel.split("/").includes("..") || rel.startsWith("/")) {
      throw new HttpError(400, { message: `Path ${rel} is outside the workflow workspace.` });
    }
    const matches = matchFiles(await listFiles(root), rel);
    if (matches.length === 0) throw new HttpError(404, { message: `${rel} does not exist.` });
    if (matches.length === 1 && hasGlob(rel)) return sendFile(res, path.join(root, matches[0]!.name), matches[0]!.name, preview);
    await sendZip(res, root, matches, `${fullName(wf)}.zip`);
  }

  async function deleteFiles(wf: WorkflowRecord, rel: string, res: ServerResponse): Promise<void> {
    const root = liveWorkspace(wf);
    if (rel.split("/").includes("..") || rel.startsWith("/")) {
      throw new HttpError(400, { message: `Path ${rel} is outside the workflow workspace.` });
    }
    const matches = matchFiles(await listFiles(root), rel);
    if (matches.length === 0) throw new HttpError(404, { message: `${rel} does not exist.` });
    const deleted: Record<string, { size: number }> = {};
    const failed: Record<string, { error: string }> = {};
    for (const file of matches) {
      try {
        await fs.unlink(path.join(root, file.name));
        deleted[file.name] = { size: file.size.raw };
      } catch (err) {
        failed[file.name] = { error: (err as Error).message };
      }
    }
    sendJson(res, 200, { deleted, failed });
  }

  async function moveFiles(wf: WorkflowRecord, url: URL, res: ServerResponse): Promise<void> {
    const source = url.searchParams.get("source");
    const target = url.searchParams.get("target");
    if (!source || !target) throw new HttpError(400, { message: "Both source and target are required." });
    if (["queued", "pending", "running"].includes(wf.status)) {
      throw new HttpError(409, { message: `Workflow ${fullName(wf)} is running, files cannot be moved.` });
    }
    const root = liveWorkspace(wf);
    const from = resolveInside(root, source);
    const to = resolveInside(root, target);
    await assertRealInside(root, from);
    await assertRealInside(root, to);
    if (!(await fs.stat(from).catch(() => undefined))) throw new HttpError(409, { message: `Path ${source} does not exist` });
    await fs.mkdir(path.dirname(to), { recursive: true });
    await fs.rename(from, to);
    sendJson(res, 200, { message: `${source} moved to ${target}.`, workflow_id: wf.id, workflow_name: fullName(wf) });
  }

  /** `workspace.retention_days` of the specification as REANA lists it (sandbox rules are never applied). */
  function retentionRules(wf: WorkflowRecord): Record<string, unknown>[] {
    const days = ((wf.specification.workspace ?? {}) as { retention_days?: Record<string, number> }).retention_days ?? {};
    return Object.entries(days).map(([pattern, n]) => ({
      workspace_files: pattern,
      retention_days: n,
      apply_on: null,
      status: "created",
    }));
  }

  /** Deletes workspace files that are neither inputs nor outputs (unless asked to include them). */
  async function prune(wf: WorkflowRecord, url: URL, res: ServerResponse): Promise<void> {
    if (["queued", "pending", "running"].includes(wf.status)) {
      throw new HttpError(409, { message: `Workflow ${fullName(wf)} is running; prune it once it has ended.` });
    }
    const root = liveWorkspace(wf);
    const spec = wf.specification as { inputs?: { files?: string[]; directories?: string[] }; outputs?: { files?: string[]; directories?: string[] } };
    const keep: string[] = [];
    if (!queryFlag(url.searchParams.get("include_inputs"))) keep.push(...(spec.inputs?.files ?? []), ...(spec.inputs?.directories ?? []).map((d) => `${d}/`));
    if (!queryFlag(url.searchParams.get("include_outputs"))) keep.push(...(spec.outputs?.files ?? []), ...(spec.outputs?.directories ?? []).map((d) => `${d}/`));
    keep.push("reana.yaml", "reana.yml");
    for (const file of await listFiles(root)) {
      if (keep.some((k) => file.name === k || (k.endsWith("/") && file.name.startsWith(k)))) continue;
      await fs.unlink(path.join(root, file.name));
    }
    sendJson(res, 200, { message: "The workspace has been correctly pruned.", workflow_id: wf.id, workflow_name: fullName(wf) });
  }

  async function you(res: ServerResponse): Promise<void> {
    let disk = 0;
    let cpu = 0;
    const counted = new Set<string>();
    for (const wf of Object.values(store.state.workflows)) {
      cpu += wf.cpu_ms;
      // Restarts share their run's workspace: count each workspace once.
      const ws = workspaceOf(wf.id);
      if (!wf.workspace_deleted && !counted.has(ws)) {
        counted.add(ws);
        disk += await diskUsage(ws);
      }
    }
    sendJson(res, 200, {
      email: "demo@sandbox.local",
      full_name: "Sandbox User",
      username: "demo",
      reana_server_version: REANA_SERVER_VERSION,
      reana_token: { value: token, status: "active", requested_at: tokenIssued },
      quota: {
        cpu: { usage: { raw: cpu, human_readable: humanDuration(cpu) }, health: "healthy" },
        disk: { usage: { raw: disk, human_readable: humanSize(disk) }, health: "healthy" },
      },
    });
  }

  function info(res: ServerResponse): void {
    const entry = (title: string, value: unknown) => ({ title, value });
    sendJson(res, 200, {
      compute_backends: entry("List of supported compute backends", ["kubernetes"]),
      default_workspace: entry("Default workspace", workspacesDir),
      workspaces_available: entry("List of available workspaces", [workspacesDir]),
      default_kubernetes_cpu_request: entry("Default CPU request for Kubernetes jobs", null),
      default_kubernetes_cpu_limit: entry("Default CPU limit for Kubernetes jobs", null),
      default_kubernetes_memory_request: entry("Default memory request for Kubernetes jobs", null),
      default_kubernetes_memory_limit: entry("Default memory limit for Kubernetes jobs", null),
      kubernetes_max_cpu_request: entry("Maximum allowed CPU request for Kubernetes jobs", null),
      kubernetes_max_cpu_limit: entry("Maximum allowed CPU limit for Kubernetes jobs", null),
      kubernetes_max_memory_request: entry("Maximum allowed memory request for Kubernetes jobs", null),
      kubernetes_max_memory_limit: entry("Maximum allowed memory limit for Kubernetes jobs", null),
      default_kubernetes_jobs_timeout: entry("Default timeout for Kubernetes jobs", "604800"),
      maximum_kubernetes_jobs_timeout: entry("Maximum timeout for Kubernetes jobs", "1209600"),
      maximum_workspace_retention_period: entry("Maximum retention period in days for workspace files", "forever"),
      maximum_interactive_session_inactivity_period: entry("Maximum inactivity period in days before automatic closure of interactive sessions", "forever"),
    });
  }

  async function addSecrets(req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> {
    const body = await readJson(req, () => new HttpError(400, { message: "Your request contains not valid JSON." }));
    if (!isPlainObject(body)) throw new HttpError(400, { message: "Secrets must be a JSON object of {name: {name, value, type}}." });
    const overwrite = queryFlag(url.searchParams.get("overwrite"));
    const incoming: Record<string, { type: "env" | "file"; value: string }> = {};
    for (const [key, raw] of Object.entries(body)) {
      if (!isPlainObject(raw)) throw new HttpError(400, { message: `Secret ${key} must be an object.` });
      const name = typeof raw.name === "string" && raw.name ? raw.name : key;
      const type = raw.type ?? "env";
      if (type !== "env" && type !== "file") throw new HttpError(400, { message: `Secret ${name}: type must be env or file.` });
      if (typeof raw.value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(raw.value)) {
        throw new HttpError(400, { message: `Secret ${name}: value must be base64-encoded.` });
      }
      if (type === "env" && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new HttpError(400, { message: `Secret ${name}: environment secret names must be valid variable names.` });
      }
      if (type === "file" && (name.includes("/") || name === "." || name === "..")) {
        throw new HttpError(400, { message: `Secret ${name}: file secret names must be plain file names.` });
      }
      incoming[name] = { type, value: raw.value };
    }
    const clashes = Object.keys(incoming).filter((n) => store.state.secrets[n] !== undefined);
    if (clashes.length > 0 && !overwrite) {
      throw new HttpError(409, { message: `The submitted secrets ${clashes.join(", ")} already exist.` });
    }
    await store.update((s) => Object.assign(s.secrets, incoming));
    sendJson(res, 201, { message: "Secret(s) successfully added." });
  }

  async function deleteSecrets(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req, () => new HttpError(400, { message: "Your request contains not valid JSON." }));
    if (!Array.isArray(body)) throw new HttpError(400, { message: "Send the names of the secrets to delete as a JSON array." });
    const names = body.map(String);
    const missing = names.filter((n) => store.state.secrets[n] === undefined);
    if (missing.length > 0) {
      sendJson(res, 404, missing);
      return;
    }
    await store.update((s) => {
      for (const n of names) delete s.secrets[n];
    });
    sendJson(res, 200, names);
  }

  // ---------------------------------------------------------------------------------------------- routing
  function authenticate(url: URL): void {
    const given = url.searchParams.get("access_token");
    if (given === null || given === "") throw new HttpError(401, { message: "User not signed in" });
    if (!tokenMatches(given, token)) throw new HttpError(403, { message: "Token not valid." });
  }

  async function route(req: IncomingMessage, res: ServerResponse, rawPath: string, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    // "/api/secrets/" → ["api", "secrets", ""]: a trailing slash is kept as an empty last segment.
    const segments = rawPath.replace(/^\/+/, "").split("/");
    if (segments[0] !== "api") throw new HttpError(404, { message: "Not Found" });
    const rest = segments.slice(1);
    const notAllowed = () => new HttpError(405, { message: `The method ${method} is not allowed for the requested URL.` });

    if (rest.length === 1 && rest[0] === "ping") {
      if (method !== "GET") throw notAllowed();
      return sendJson(res, 200, { message: "OK", status: "200" });
    }
    authenticate(url);
    await ready;
    const body = async () => {
      if (method === "GET") return undefined;
      return readJson(req, () => new HttpError(400, { message: "Your request contains not valid JSON." }));
    };
    const head = rest[0];
    if (rest.length === 1 && head === "you") {
      if (method !== "GET") throw notAllowed();
      return you(res);
    }
    if (rest.length === 1 && head === "info") {
      if (method !== "GET") throw notAllowed();
      return info(res);
    }
    if (head === "secrets" && (rest.length === 1 || (rest.length === 2 && rest[1] === ""))) {
      if (method === "GET") {
        return sendJson(
          res,
          200,
          Object.entries(store.state.secrets).map(([name, s]) => ({ name, type: s.type })),
        );
      }
      if (method === "POST") return addSecrets(req, url, res);
      if (method === "DELETE") return deleteSecrets(req, res);
      throw notAllowed();
    }
    if (head !== "workflows") throw new HttpError(404, { message: "Not Found" });
    if (rest.length === 1 || (rest.length === 2 && rest[1] === "")) {
      if (method === "GET") return listWorkflows(url, res);
      if (method === "POST") return createWorkflow(req, url, res);
      throw notAllowed();
    }
    if (rest[1] === "move_files" && rest.length === 3) {
      if (method !== "PUT") throw notAllowed();
      return moveFiles(findWorkflow(decodeSegment(rest[2]!)), url, res);
    }
    const wf = findWorkflow(decodeSegment(rest[1]!));
    const action = rest[2];
    if (rest.length === 4 && action === "diff") {
      if (method !== "GET") throw notAllowed();
      const other = findWorkflow(decodeSegment(rest[3]!));
      const contextRaw = url.searchParams.get("context_lines");
      const context = contextRaw === null || contextRaw === "" ? 5 : Number(contextRaw);
      if (!Number.isInteger(context) || context < 0) throw new HttpError(400, { message: "Field 'context_lines': Not a valid integer." });
      return sendJson(
        res,
        200,
        await diffWorkflows(
          { name: fullName(wf), record: wf, workspace: wf.workspace_deleted ? undefined : workspaceOf(wf.id) },
          { name: fullName(other), record: other, workspace: other.workspace_deleted ? undefined : workspaceOf(other.id) },
          { brief: queryFlag(url.searchParams.get("brief")), context },
        ),
      );
    }
    if (rest.length === 3 && action === "start") {
      if (method !== "POST") throw notAllowed();
      return startWorkflow(wf, await body(), res);
    }
    if (rest.length === 3 && action === "status") {
      if (method === "GET") {
        return sendJson(res, 200, {
          id: wf.id,
          name: fullName(wf),
          created: wf.created,
          status: wf.status,
          user: user(),
          logs: wf.workflow_logs,
          progress: progressFor(wf, true),
        });
      }
      if (method === "PUT") return setStatus(wf, url, await body(), res);
      throw notAllowed();
    }
    if (rest.length === 3 && action === "logs") {
      if (method !== "GET") throw notAllowed();
      return logs(wf, req, url, res);
    }
    if (rest.length === 3 && action === "parameters") {
      if (method !== "GET") throw notAllowed();
      const inputs = (wf.specification.inputs ?? {}) as Record<string, unknown>;
      return sendJson(res, 200, { id: wf.id, name: fullName(wf), type: wf.type, parameters: inputs.parameters ?? {} });
    }
    if (rest.length === 3 && action === "specification") {
      if (method !== "GET") throw notAllowed();
      return sendJson(res, 200, { specification: wf.specification, parameters: wf.input_parameters });
    }
    if (rest.length === 3 && action === "disk_usage") {
      if (method !== "GET") throw notAllowed();
      const size = wf.workspace_deleted ? 0 : await diskUsage(workspaceOf(wf.id));
      return sendJson(res, 200, {
        workflow_id: wf.id,
        workflow_name: fullName(wf),
        user: user(),
        disk_usage_info: [{ name: "", size: { raw: size, human_readable: humanSize(size) } }],
      });
    }
    if (rest.length === 3 && action === "retention_rules") {
      if (method !== "GET") throw notAllowed();
      return sendJson(res, 200, { workflow_id: wf.id, workflow_name: fullName(wf), retention_rules: retentionRules(wf) });
    }
    if (rest.length === 3 && action === "prune") {
      if (method !== "POST") throw notAllowed();
      return prune(wf, url, res);
    }
    if (action === "workspace") {
      if (rest.length === 3 || (rest.length === 4 && rest[3] === "")) {
        if (method === "GET") return listWorkspace(wf, url, res);
        if (method === "POST") return upload(wf, req, url, res);
        throw notAllowed();
      }
      const rel = rest.slice(3).map(decodeSegment).join("/");
      if (method === "GET") return download(wf, rel, url, res);
      if (method === "DELETE") return deleteFiles(wf, rel, res);
      throw notAllowed();
    }
    throw new HttpError(404, { message: "Not Found" });
  }

  return {
    accessToken: token,
    ready,
    async handle(req, res, rawPath, url) {
      try {
        await route(req, res, rawPath, url);
      } catch (err) {
        answerError(err, req, res, { service: "reana", path: rawPath, log: ctx.log, internalBody: { message: "Internal server error." } });
      }
    },
    async close() {
      await ready.catch(() => undefined);
      await executor.shutdown();
    },
  };
}


/** CPU quota as REANA prints it ("1m 10s"). */
function humanDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [h ? `${h}h` : "", m ? `${m}m` : "", `${s}s`].filter(Boolean).join(" ");
}

