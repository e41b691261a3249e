import { randomUUID } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import * as path from "node:path";
import type { EngineEvent, EngineLogParser } from "./engine-logs";
import type { EngineStep } from "./engines";
import { reanaTime, type JobRecord, type JobStatus, type ReanaStateStore } from "./state";

/**
 * Turns an engine's console output into REANA's records: the output is appended to the workflow log, each job the
 * engine starts becomes a job record (status, command, image, own log file) and the progress counters follow
 * (total/running/finished/failed with job ids), as REANA's CWL and Snakemake engines publish them. Changes are
 * batched (one state write per burst of output), job logs are streamed to their files as they come.
 */
export class EngineLogger {
  enginePid: number | undefined;
  /** Set before the engine is killed on request: jobs it reports as failed from then on were stopped. */
  stopping = false;
  private readonly jobs = new Map<string, { id: string; stream: WriteStream }>();
  private pending: EngineEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly o: {
      store: ReanaStateStore;
      dataDir: string;
      workflowId: string;
      type: string;
      steps: EngineStep[];
      logFile(jobId: string): string;
    },
  ) {}

  line(parser: EngineLogParser, text: string): void {
    for (const event of parser.line(text)) {
      if (event.kind === "job-log") {
        const job = this.jobs.get(event.key);
        if (job) job.stream.write(`${event.text}\n`);
        continue;
      }
      if (event.kind === "job-start" && !this.jobs.has(event.key)) {
        const id = randomUUID();
        const stream = createWriteStream(path.join(this.o.dataDir, this.o.logFile(id)), { flags: "a", mode: 0o600 });
        this.jobs.set(event.key, { id, stream });
      }
      this.pending.push(event);
    }
    if (this.pending.length > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, 150);
    }
  }

  /** Applies the queued events to the state in one write. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const events = this.pending;
      this.pending = [];
      if (events.length === 0) return;
      await this.o.store.update((s) => {
        const wf = s.workflows[this.o.workflowId];
        if (!wf) return;
        const p = wf.progress;
        const bump = (bucket: { total: number; job_ids: string[] }, jobId: string) => {
          if (!bucket.job_ids.includes(jobId)) bucket.job_ids.push(jobId);
          bucket.total = bucket.job_ids.length;
        };
        for (const event of events) {
          if (event.kind === "engine-log") {
            wf.workflow_logs += `${event.text}\n`;
          } else if (event.kind === "total") {
            const runnable = new Set(this.o.steps.map((st) => st.name));
            const total = Object.entries(event.counts)
              .filter(([rule]) => (runnable.size > 0 ? runnable.has(rule) : rule !== "all"))
              .reduce((sum, [, n]) => sum + n, 0);
            p.total.total = total;
          } else if (event.kind === "job-start") {
            const jobId = this.jobs.get(event.key)!.id;
            if (wf.jobs.some((j) => j.id === jobId)) continue;
            const step = this.o.steps.find((st) => st.name === event.name);
            const job: JobRecord = {
              id: jobId,
              job_name: event.name,
              compute_backend: "Kubernetes",
              backend_job_id: this.enginePid !== undefined ? `host-pid-${this.enginePid}` : "",
              docker_img: step?.image ?? "",
              cmd: "",
              status: "running",
              started_at: reanaTime(),
              finished_at: null,
              log_file: this.o.logFile(jobId),
            };
            wf.jobs.push(job);
            p.running = { total: 1, job_ids: [jobId] };
            p.current_step_name = event.name;
            p.current_command = null;
            // A scattered step runs more jobs than the specification has steps.
            p.total.total = Math.max(p.total.total, wf.jobs.length);
          } else if (event.kind === "job-command") {
            const jobId = this.jobs.get(event.key)?.id;
            const job = wf.jobs.find((j) => j.id === jobId);
            if (job) job.cmd = event.command;
            p.current_command = event.command;
          } else if (event.kind === "job-end") {
            const jobId = this.jobs.get(event.key)?.id;
            const job = wf.jobs.find((j) => j.id === jobId);
            if (!job || (job.status !== "running" && job.status !== "queued")) continue;
            job.finished_at = reanaTime();
            p.running = { total: 0, job_ids: [] };
            if (!event.ok && this.stopping) {
              job.status = "stopped";
              continue;
            }
            job.status = event.ok ? "finished" : "failed";
            bump(event.ok ? p.finished : p.failed, job.id);
            bump(p.total, job.id);
            p.total.total = Math.max(p.total.total, p.total.job_ids.length);
            p.running = { total: 0, job_ids: [] };
          }
        }
      });
    });
    return this.flushing;
  }

  /** Marks jobs the engine did not report as ended (killed, or the engine died) with `status`. */
  async endRunningJobs(status: JobStatus): Promise<void> {
    await this.flush();
    await this.o.store.update((s) => {
      const wf = s.workflows[this.o.workflowId];
      if (!wf) return;
      const p = wf.progress;
      for (const job of wf.jobs) {
        if (job.status !== "running" && job.status !== "queued" && job.status !== "created") continue;
        job.status = status;
        job.finished_at = reanaTime();
        const bucket = status === "finished" ? p.finished : status === "failed" ? p.failed : undefined;
        if (bucket && !bucket.job_ids.includes(job.id)) {
          bucket.job_ids.push(job.id);
          bucket.total = bucket.job_ids.length;
        }
        if (!p.total.job_ids.includes(job.id)) p.total.job_ids.push(job.id);
      }
      p.running = { total: 0, job_ids: [] };
      p.current_command = null;
      p.current_step_name = null;
    });
  }

  /** Flushes pending events and closes every job log. */
  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.flush();
    await Promise.all([...this.jobs.values()].map((j) => new Promise<void>((resolve) => j.stream.end(() => resolve()))));
  }
}
