import { JsonStore } from "../store";

/** Durable REANA state: workflows (runs), their jobs and the user's secrets, in one atomic JSON document. */

export type RunStatus = "created" | "queued" | "pending" | "running" | "finished" | "failed" | "stopped" | "deleted";
export type JobStatus = "created" | "queued" | "running" | "finished" | "failed" | "stopped";

export interface JobRecord {
  id: string;
  job_name: string;
  compute_backend: string;
  backend_job_id: string;
  docker_img: string;
  cmd: string;
  status: JobStatus;
  started_at: string | null;
  finished_at: string | null;
  /** Log file of the job, relative to the service data folder. */
  log_file: string;
}

export interface JobIds {
  total: number;
  job_ids: string[];
}

export interface Progress {
  total: JobIds;
  running: JobIds;
  finished: JobIds;
  failed: JobIds;
  current_command: string | null;
  current_step_name: string | null;
  run_started_at: string | null;
  run_finished_at: string | null;
  run_stopped_at: string | null;
}

export interface WorkflowRecord {
  id: string;
  /** Name without the run number. */
  name: string;
  run_number: number;
  created: string;
  status: RunStatus;
  type: string;
  specification: Record<string, unknown>;
  input_parameters: Record<string, unknown>;
  operational_options: Record<string, unknown>;
  progress: Progress;
  workflow_logs: string;
  engine_specific: string | null;
  jobs: JobRecord[];
  workspace_deleted: boolean;
  /** CPU time consumed by the run's jobs in milliseconds (for the quota shown by /api/you). */
  cpu_ms: number;
  /** Restarts: the run number's minor part (`name.3.1`), REANA's `run_number_minor`. */
  run_minor?: number;
  /** Restarts share the original run's workspace: the id of the run that owns it. */
  workspace_id?: string;
  /** Process group of the running workflow engine (CWL/Snakemake), for killing leftovers after a crash. */
  engine_pid?: number;
}

export interface SecretRecord {
  type: "env" | "file";
  /** Base64 value as submitted. */
  value: string;
}

export interface ReanaState {
  version: 1;
  user_id: string;
  workflows: Record<string, WorkflowRecord>;
  secrets: Record<string, SecretRecord>;
}

export function emptyProgress(): Progress {
  const none = (): JobIds => ({ total: 0, job_ids: [] });
  return {
    total: none(),
    running: none(),
    finished: none(),
    failed: none(),
    current_command: null,
    current_step_name: null,
    run_started_at: null,
    run_finished_at: null,
    run_stopped_at: null,
  };
}

/** What a new run is made of; everything else starts empty (no jobs, logs, progress or CPU time). */
export type NewRun = Pick<WorkflowRecord, "id" | "name" | "run_number" | "status" | "type" | "specification"> &
  Partial<Pick<WorkflowRecord, "input_parameters" | "operational_options" | "run_minor" | "workspace_id">>;

/** A fresh run record, created now: a new workflow (`created`) or a restart (`queued`, with `run_minor`). */
export function newRunRecord(run: NewRun): WorkflowRecord {
  const { input_parameters = {}, operational_options = {}, ...identity } = run;
  return {
    ...identity,
    created: reanaTime(),
    input_parameters,
    operational_options,
    progress: emptyProgress(),
    workflow_logs: "",
    engine_specific: null,
    jobs: [],
    workspace_deleted: false,
    cpu_ms: 0,
  };
}

/** REANA's WORKFLOW_TIME_FORMAT: `%Y-%m-%dT%H:%M:%S` (UTC, no zone suffix). */
export function reanaTime(date = new Date()): string {
  return date.toISOString().slice(0, 19);
}

/**
 * Holds the state in memory and persists a snapshot after every change. Changes are applied synchronously, so
 * two requests never interleave inside one change; the returned promise resolves once the snapshot is durable.
 */
export class ReanaStateStore {
  private readonly store: JsonStore<ReanaState>;
  private current!: ReanaState;

  constructor(file: string, userId: () => string) {
    this.store = new JsonStore<ReanaState>(file, () => ({ version: 1, user_id: userId(), workflows: {}, secrets: {} }));
  }

  async load(): Promise<ReanaState> {
    this.current = await this.store.read();
    return this.current;
  }

  get state(): ReanaState {
    return this.current;
  }

  /** Applies `change` to the live state and persists it; resolves with `change`'s result once durable. */
  async update<T>(change: (state: ReanaState) => T): Promise<T> {
    const result = change(this.current);
    await this.store.write(this.current);
    return result;
  }
}
