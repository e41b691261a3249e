/**
 * The REANA run monitor: a widget that follows one workflow while the notebook goes on (`%reana monitor -w WF`,
 * or `runMonitor(reana, "WF")` from TypeScript). The kernel polls the workflow (followWorkflow, the loop of
 * `%reana status --follow`) and publishes what it finds; the view (run-monitor-view.ts) draws it and sends back
 * what the user asks: refresh, stop the run, show a step's log.
 *
 * Polling ends when the run ends, when the widget is closed (its view removed by the user, or `close()`), or
 * when `signal` aborts; an interrupted poll leaves the workflow running on REANA. The state holds no secret:
 * names, statuses, counts, times and the tail of one job's log (it is saved into the notebook).
 */
import { checkFollowOptions, followWorkflow, type WorkflowState } from "../clients/reana/follow";
import { anySignal } from "../clients/http/ambient-signal";
import type { JobLog, WorkflowLogs } from "../clients/reana/logs";
import { TERMINAL_STATUSES } from "../clients/reana/responses";
import { stepsInOrder, workflowSteps, type WorkflowStep } from "../clients/reana/steps";
import { RUN_MONITOR_CSS, RUN_MONITOR_ESM } from "./run-monitor-view";
import { errorText } from "./error-text";
import { escapeHtml, staticFields, staticTable, staticTime } from "./snapshot";
import { widget, type WidgetModel } from "./widget";

/** The part of ReanaClient the monitor uses. */
export interface RunMonitorSource {
  status(workflow: string, o?: { signal?: AbortSignal }): Promise<WorkflowState>;
  logs(workflow: string, o?: { signal?: AbortSignal }): Promise<WorkflowLogs>;
  stopWorkflow(workflow: string, o?: { signal?: AbortSignal }): Promise<unknown>;
  /** The run's specification, for the DAG of its steps (optional: without it, steps appear as their jobs start). */
  specification?(workflow: string, o?: { signal?: AbortSignal }): Promise<unknown>;
  /** Lists the run's workspace (shown once the run has ended). */
  listWorkspace?(workflow: string, o?: { signal?: AbortSignal; size?: number }): Promise<{ items: { name: string; size?: { raw?: number | null } | null; "last-modified"?: string | null }[]; total?: number }>;
  /** Where the REANA UI is (its page of the run is linked); the local sandbox has none. */
  settings?: { serverUrl: string; sandbox?: boolean };
}

export interface RunMonitorFile {
  name: string;
  bytes: number | null;
  modified: string;
}

/** One step of the workflow's DAG with the state of its jobs. */
export interface RunMonitorStep {
  name: string;
  /** pending (not started yet), running, finished, failed, stopped, or skipped (the run ended without it). */
  status: string;
  /** Steps it needs (DAG edges). */
  needs: string[];
  /** Jobs the step runs (serial: one per command) and how many have finished. */
  jobs: number;
  finished: number;
}

export interface RunMonitorJob {
  step: string;
  status: string;
  started: string;
  finished: string;
}

export type RunMonitorState = {
  /** As asked for (name, name.run or id); `name` is REANA's answer. */
  workflow: string;
  name: string;
  status: string;
  total: number;
  finished: number;
  running: number;
  failed: number;
  /** The step running now (empty once the run has ended). */
  step: string;
  started: string;
  ended: string;
  jobs: RunMonitorJob[];
  /** Every step of the workflow in DAG order (a step after those it needs), started or not, with its state. */
  steps: RunMonitorStep[];
  /** The step whose log is shown, and the end of that log. */
  selected: string;
  log: string;
  /** Whether the kernel is still polling. */
  polling: boolean;
  /** An action under way ("stopping"), for the view's buttons. */
  busy: string;
  /** The last failure, with what to do next. */
  error: string;
  /** When the last answer arrived (ISO time). */
  updated: string;
  /** The run's workspace files once it has ended (at most WORKSPACE_LIMIT), and how many there are. */
  files: RunMonitorFile[];
  files_total: number;
  /** The run's page in the REANA web UI ("" for the local sandbox). */
  ui_url: string;
};

/** Workspace files listed at most. */
export const WORKSPACE_LIMIT = 200;

export interface RunMonitorOptions {
  /** Poll interval. Default 5 s (as reana-client); 200 ms to 1 h, anything else throws ReanaError HTTP_INVALID_ARGUMENT. */
  intervalMs?: number;
  /** Ends the polling (the widget stays, showing the last state). */
  signal?: AbortSignal;
}

/** The end of a log shown in the widget: enough to see what went wrong, small enough for the notebook. */
export const LOG_TAIL_CHARS = 16 * 1024;

export function tail(text: string, max = LOG_TAIL_CHARS): string {
  if (text.length <= max) return text;
  const cut = text.slice(text.length - max);
  const nl = cut.indexOf("\n");
  return `… (${text.length - max + (nl >= 0 ? nl + 1 : 0)} earlier characters not shown)\n${nl >= 0 ? cut.slice(nl + 1) : cut}`;
}

/** The embedded sandbox (and any server on this machine) has no REANA web UI to link to. */
function isLocal(url: string): boolean {
  try {
    return ["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname);
  } catch {
    return true;
  }
}

/** The output's text/html until the view saves a copy of itself: the run, its steps and the shown log. */
function monitorSnapshot(s: RunMonitorState): string {
  const steps = s.steps.length ? s.steps.map((st) => [st.name, st.status, `${st.finished}/${st.jobs}`]) : s.jobs.map((j) => [j.step, j.status, ""]);
  return (
    `<div class="vre-snapshot"><div><strong>REANA run monitor</strong>: ${escapeHtml(s.name)}</div>` +
    staticFields([
      ["status", s.status],
      ["jobs", s.total ? `${s.finished} of ${s.total} finished${s.failed ? `, ${s.failed} failed` : ""}` : ""],
      ["started", staticTime(s.started)],
      ["ended", staticTime(s.ended)],
    ]) +
    staticTable(["step", "status", "jobs"], steps) +
    (s.log ? `<div><strong>Log of ${escapeHtml(s.selected)}</strong></div><pre>${escapeHtml(s.log)}</pre>` : "") +
    `</div>`
  );
}

/** The job whose log is worth showing first: a failed one, else the one running, else the last. */
function defaultStep(jobs: JobLog[]): string {
  const pick = jobs.find((j) => j.status === "failed") ?? jobs.find((j) => j.status === "running") ?? jobs[jobs.length - 1];
  return pick?.step ?? "";
}

/** The DAG's steps with the states of their jobs; steps only known from jobs (no specification) come last. */
export function stepStates(dag: WorkflowStep[], jobs: RunMonitorJob[], runStatus: string): RunMonitorStep[] {
  const ended = TERMINAL_STATUSES.has(runStatus);
  const known = stepsInOrder(dag);
  for (const j of jobs) {
    if (!known.some((s) => s.name === j.step)) known.push({ name: j.step, needs: [], jobs: 1 });
  }
  return known.map((step) => {
    const mine = jobs.filter((j) => j.step === step.name);
    const finished = mine.filter((j) => j.status === "finished").length;
    let status: string;
    if (mine.some((j) => j.status === "running" || j.status === "queued" || j.status === "created")) status = "running";
    else if (mine.some((j) => j.status === "failed")) status = "failed";
    else if (mine.some((j) => j.status === "stopped")) status = "stopped";
    else if (mine.length > 0 && finished >= step.jobs) status = "finished";
    else if (mine.length > 0) status = ended ? (runStatus === "stopped" ? "stopped" : "failed") : "running";
    else status = ended ? "skipped" : "pending";
    return { name: step.name, status, needs: step.needs, jobs: Math.max(step.jobs, mine.length), finished };
  });
}

export function runMonitor(client: RunMonitorSource, workflow: string, options: RunMonitorOptions = {}): WidgetModel<RunMonitorState> {
  // Refused here, before a widget exists, so a bad interval is the cell's error rather than a busy poll.
  checkFollowOptions(options);
  const model = widget<RunMonitorState>({
    esm: RUN_MONITOR_ESM,
    css: RUN_MONITOR_CSS,
    id: "vre-ts.run-monitor",
    state: {
      workflow,
      name: workflow,
      status: "",
      total: 0,
      finished: 0,
      running: 0,
      failed: 0,
      step: "",
      started: "",
      ended: "",
      jobs: [],
      steps: [],
      selected: "",
      log: "",
      polling: false,
      busy: "",
      error: "",
      updated: "",
      files: [],
      files_total: 0,
      ui_url: "",
    },
    snapshot: monitorSnapshot,
  });
  const signal = options.signal ? anySignal(model.signal, options.signal) : model.signal;
  let jobLogs: JobLog[] = [];
  let userSelected = false;
  let dag: WorkflowStep[] = [];
  const showSteps = () => model.set("steps", stepStates(dag, model.get("jobs"), model.get("status")));
  /** Reads the specification once for the DAG; a failure only means steps appear as they start. */
  const loadDag = async () => {
    if (!client.specification) return;
    try {
      const answer = (await client.specification(workflow, { signal })) as { specification?: { workflow?: { type?: unknown; specification?: unknown } } };
      const wf = answer?.specification?.workflow;
      dag = workflowSteps(String(wf?.type ?? ""), wf?.specification);
      showSteps();
    } catch {
      // Steps come from the jobs alone.
    }
  };

  const showState = (s: WorkflowState) =>
    model.set({
      ui_url: s.id && client.settings?.serverUrl && !client.settings.sandbox && !isLocal(client.settings.serverUrl) ? `${client.settings.serverUrl.replace(/\/+$/, "")}/details/${s.id}` : "",
      name: s.name,
      status: s.status,
      total: s.progress.total,
      finished: s.progress.finished,
      running: s.progress.running,
      failed: s.progress.failed,
      step: s.terminal ? "" : (s.progress.currentStep ?? ""),
      started: s.progress.startedAt ?? "",
      ended: s.progress.finishedAt ?? s.progress.stoppedAt ?? "",
      updated: new Date().toISOString(),
      error: "",
    });

  const showLog = () => {
    const job = jobLogs.filter((j) => j.step === model.get("selected")).pop();
    model.set("log", job ? tail(job.logs) : "");
  };

  /** Fetches the logs; a fetch asked for while one runs is made once it ends (the latest state wins). */
  let logsRunning: Promise<void> | undefined;
  let logsAgain = false;
  const refreshLogs = (): Promise<void> => {
    if (logsRunning) {
      logsAgain = true;
      return logsRunning;
    }
    logsRunning = (async () => {
      do {
        logsAgain = false;
        try {
          const logs = await client.logs(workflow, { signal });
          jobLogs = logs.jobs;
          model.set("jobs", jobLogs.map((j) => ({ step: j.step, status: j.status ?? "", started: j.startedAt ?? "", finished: j.finishedAt ?? "" })));
          showSteps();
          if (!userSelected || !jobLogs.some((j) => j.step === model.get("selected"))) model.set("selected", defaultStep(jobLogs));
          showLog();
        } catch (e) {
          if (!signal.aborted) model.set("error", `Could not read the logs: ${errorText(e)}`);
        }
      } while (logsAgain && !signal.aborted);
    })().finally(() => (logsRunning = undefined));
    return logsRunning;
  };

  const refreshFiles = async (): Promise<void> => {
    if (!client.listWorkspace) return;
    try {
      const { items, total } = await client.listWorkspace(workflow, { signal, size: WORKSPACE_LIMIT });
      model.set({
        files: items.slice(0, WORKSPACE_LIMIT).map((f) => ({ name: f.name, bytes: f.size?.raw ?? null, modified: f["last-modified"] ?? "" })),
        files_total: Math.max(total ?? 0, items.length),
      });
    } catch (e) {
      if (!signal.aborted) model.set("error", `Could not list the workspace: ${errorText(e)}`);
    }
  };

  let polling: Promise<void> | undefined;
  const poll = (): Promise<void> => {
    if (polling) return polling;
    model.set("polling", true);
    polling = followWorkflow(
      async (s) => {
        const state = await client.status(workflow, { signal: s });
        model.set("updated", new Date().toISOString());
        // A running step's log grows while status and progress stay the same: tail it at every poll.
        if (state.status === "running") void refreshLogs();
        return state;
      },
      workflow,
      {
        signal,
        intervalMs: options.intervalMs,
        onUpdate: (s) => {
          showState(s);
          showSteps();
          void refreshLogs();
        },
      },
    ).then(
      () => Promise.all([refreshLogs(), refreshFiles()]).then(() => undefined),
      (e) => {
        if (!signal.aborted) model.set("error", errorText(e));
      },
    );
    polling = polling.finally(() => {
      polling = undefined;
      if (!model.closed) model.set("polling", false);
    });
    return polling;
  };

  model.on("msg:custom", (content) => {
    const msg = (content ?? {}) as { action?: string; step?: string };
    if (signal.aborted) return;
    if (msg.action === "refresh") {
      if (polling) void refreshLogs();
      else void poll();
      if (TERMINAL_STATUSES.has(model.get("status"))) void refreshFiles();
    } else if (msg.action === "select" && typeof msg.step === "string") {
      userSelected = true;
      model.set("selected", msg.step);
      showLog();
    } else if (msg.action === "stop" && !model.get("busy") && !TERMINAL_STATUSES.has(model.get("status"))) {
      void (async () => {
        model.set({ busy: "stopping", error: "" });
        try {
          await client.stopWorkflow(workflow, { signal });
          try {
            // Show the new status at once rather than at the next poll.
            showState(await client.status(workflow, { signal }));
          } catch {
            // The poll below reads it again.
          }
          void poll();
        } catch (e) {
          if (!signal.aborted) model.set("error", `Could not stop the run: ${errorText(e)}`);
        } finally {
          if (!model.closed) model.set("busy", "");
        }
      })();
    }
  });

  void loadDag();
  void poll();
  return model;
}
