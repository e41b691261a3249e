/**
 * zod schemas of the REANA 0.9.x answers the client reads. Tolerant of fields added by newer servers
 * (objects are loose), strict on the fields the client uses.
 */
import { z } from "zod";

export const RUN_STATUSES = ["created", "queued", "pending", "running", "finished", "failed", "stopped", "deleted"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** Statuses after which a workflow does not change by itself. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["finished", "failed", "stopped", "deleted"]);

const size = z.looseObject({ raw: z.number().nullable().optional(), human_readable: z.string().nullable().optional() });

/** `{total, running, finished, failed}` entries are `{total, job_ids}` objects; some servers send bare numbers. */
const jobCount = z
  .union([z.number(), z.looseObject({ total: z.number().nullable().optional(), job_ids: z.array(z.string()).nullable().optional() })])
  .nullable()
  .optional();

export const Progress = z.looseObject({
  total: jobCount,
  running: jobCount,
  finished: jobCount,
  failed: jobCount,
  current_command: z.string().nullable().optional(),
  current_step_name: z.string().nullable().optional(),
  run_started_at: z.string().nullable().optional(),
  run_finished_at: z.string().nullable().optional(),
  run_stopped_at: z.string().nullable().optional(),
});
export type Progress = z.infer<typeof Progress>;

export const Ping = z.looseObject({ message: z.string(), status: z.union([z.string(), z.number()]).optional() });

export const You = z.looseObject({
  email: z.string().nullable().optional(),
  full_name: z.string().nullable().optional(),
  username: z.string().nullable().optional(),
  reana_server_version: z.string().optional(),
  reana_token: z.looseObject({ value: z.string().nullable().optional(), status: z.string().nullable().optional(), requested_at: z.string().nullable().optional() }).nullable().optional(),
  quota: z
    .looseObject({
      cpu: z.looseObject({ usage: size.optional(), limit: size.optional(), health: z.string().optional() }).optional(),
      disk: z.looseObject({ usage: size.optional(), limit: size.optional(), health: z.string().optional() }).optional(),
    })
    .nullable()
    .optional(),
});

export const Info = z.record(z.string(), z.looseObject({ title: z.string().optional(), value: z.unknown() }));

export const WorkflowSummary = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  created: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  size: size.nullable().optional(),
  progress: Progress.nullable().optional(),
  launcher_url: z.string().nullable().optional(),
  session_type: z.string().nullable().optional(),
  session_uri: z.string().nullable().optional(),
  session_status: z.string().nullable().optional(),
});
export type WorkflowSummary = z.infer<typeof WorkflowSummary>;

export const WorkflowList = z.looseObject({ items: z.array(WorkflowSummary), total: z.number().optional() });

export const Created = z.looseObject({ message: z.string().optional(), workflow_id: z.string(), workflow_name: z.string() });

export const Started = z.looseObject({
  message: z.string().optional(),
  workflow_id: z.string(),
  workflow_name: z.string(),
  status: z.string(),
  run_number: z.union([z.string(), z.number()]).optional(),
  user: z.string().optional(),
});

export const StatusChanged = z.looseObject({
  message: z.string().optional(),
  workflow_id: z.string(),
  workflow_name: z.string(),
  status: z.string(),
  user: z.string().optional(),
});

export const WorkflowStatus = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  created: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  logs: z.string().nullable().optional(),
  progress: Progress.nullable().optional(),
});
export type WorkflowStatusAnswer = z.infer<typeof WorkflowStatus>;

export const LogsAnswer = z.looseObject({
  workflow_id: z.string(),
  workflow_name: z.string(),
  user: z.string().optional(),
  logs: z.string(),
  live_logs_enabled: z.boolean().optional(),
});

/** The JSON document inside `logs`. */
export const LogsDocument = z.looseObject({
  workflow_logs: z.string().nullable().optional(),
  engine_specific: z.string().nullable().optional(),
  job_logs: z
    .record(
      z.string(),
      z.looseObject({
        workflow_uuid: z.string().nullable().optional(),
        job_name: z.string().nullable().optional(),
        compute_backend: z.string().nullable().optional(),
        backend_job_id: z.string().nullable().optional(),
        docker_img: z.string().nullable().optional(),
        cmd: z.string().nullable().optional(),
        status: z.string().nullable().optional(),
        logs: z.string().nullable().optional(),
        started_at: z.string().nullable().optional(),
        finished_at: z.string().nullable().optional(),
      }),
    )
    .nullable()
    .optional(),
});

export const WorkspaceFile = z.looseObject({
  name: z.string(),
  size: size.nullable().optional(),
  "last-modified": z.string().nullable().optional(),
});
export const WorkspaceListing = z.looseObject({ items: z.array(WorkspaceFile), total: z.number().optional() });

export const Message = z.looseObject({ message: z.string() });

export const DeletedFiles = z.looseObject({
  deleted: z.record(z.string(), z.looseObject({ size: z.number().nullable().optional() })).optional(),
  failed: z.record(z.string(), z.looseObject({ error: z.string().nullable().optional() })).optional(),
});

export const Specification = z.looseObject({
  specification: z.looseObject({
    version: z.string().nullable().optional(),
    inputs: z.looseObject({}).nullable().optional(),
    workflow: z.looseObject({ type: z.string().optional() }),
    outputs: z.looseObject({}).nullable().optional(),
  }),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
});

export const Parameters = z.looseObject({
  id: z.string(),
  name: z.string(),
  type: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable(),
});

export const SecretList = z.array(z.looseObject({ name: z.string(), type: z.string() }));
export const SecretNames = z.array(z.string());
