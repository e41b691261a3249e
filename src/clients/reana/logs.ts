/** REANA logs: the `logs` field is a JSON *string* holding the engine log and one entry per job. */
import { malformed, parseJsonText, parse } from "../http/validate";
import { createReanaError } from "./errors";
import { LogsDocument } from "./responses";

export interface JobLog {
  /** Job id (the key of `job_logs`). */
  id: string;
  /** Step name (`job_name`): serial steps run one job per command. */
  step: string;
  status?: string;
  computeBackend?: string;
  backendJobId?: string;
  image?: string;
  command?: string;
  logs: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface WorkflowLogs {
  workflowId: string;
  workflowName: string;
  /** The workflow engine's own log. */
  workflowLogs: string;
  engineSpecific?: string;
  jobs: JobLog[];
  liveLogsEnabled?: boolean;
}

export function parseLogs(answer: { workflow_id: string; workflow_name: string; logs: string; live_logs_enabled?: boolean }, steps?: string[]): WorkflowLogs {
  const ctx = { what: `logs of ${answer.workflow_name}`, service: "reana", createError: createReanaError };
  const raw = answer.logs.trim() === "" ? {} : parseJsonText(answer.logs, ctx);
  if (typeof raw !== "object" || raw === null) throw malformed(ctx, "the logs field is not a JSON object");
  const doc = parse(LogsDocument, raw, ctx);
  let jobs: JobLog[] = Object.entries(doc.job_logs ?? {}).map(([id, j]) => ({
    id,
    step: j.job_name ?? "",
    status: j.status ?? undefined,
    computeBackend: j.compute_backend ?? undefined,
    backendJobId: j.backend_job_id ?? undefined,
    image: j.docker_img ?? undefined,
    command: j.cmd ?? undefined,
    logs: j.logs ?? "",
    startedAt: j.started_at ?? undefined,
    finishedAt: j.finished_at ?? undefined,
  }));
  jobs.sort((a, b) => (a.startedAt ?? "\uffff").localeCompare(b.startedAt ?? "\uffff"));
  if (steps && steps.length) {
    const wanted = new Set(steps.map((s) => s.toLowerCase()));
    jobs = jobs.filter((j) => wanted.has(j.step.toLowerCase()));
  }
  return {
    workflowId: answer.workflow_id,
    workflowName: answer.workflow_name,
    workflowLogs: doc.workflow_logs ?? "",
    engineSpecific: doc.engine_specific ?? undefined,
    jobs,
    liveLogsEnabled: answer.live_logs_enabled,
  };
}
