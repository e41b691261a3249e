/** Polling a workflow until it reaches a terminal status, for the run monitor and `%reana follow`. */
import { sleep } from "../http/retry";
import { ClientError, type ClientErrorInit } from "../errors";
import { checkOption, POLL_INTERVAL_RANGE } from "../http/durations";
import { ReanaError } from "./errors";
import { TERMINAL_STATUSES, type Progress, type WorkflowStatusAnswer } from "./responses";

export interface ProgressSummary {
  total: number;
  running: number;
  finished: number;
  failed: number;
  failedJobIds: string[];
  currentStep?: string;
  currentCommand?: string;
  startedAt?: string;
  finishedAt?: string;
  stoppedAt?: string;
}

export interface WorkflowState {
  id: string;
  name: string;
  status: string;
  created?: string;
  user?: string;
  progress: ProgressSummary;
  /** True for finished, failed, stopped, deleted. */
  terminal: boolean;
}

function count(v: Progress["total"]): number {
  if (typeof v === "number") return v;
  return v?.total ?? 0;
}

export function summarizeProgress(p: Progress | null | undefined): ProgressSummary {
  const failed = p?.failed;
  return {
    total: count(p?.total),
    running: count(p?.running),
    finished: count(p?.finished),
    failed: count(failed),
    failedJobIds: typeof failed === "object" && failed ? (failed.job_ids ?? []) : [],
    currentStep: p?.current_step_name ?? undefined,
    currentCommand: p?.current_command ?? undefined,
    startedAt: p?.run_started_at ?? undefined,
    finishedAt: p?.run_finished_at ?? undefined,
    stoppedAt: p?.run_stopped_at ?? undefined,
  };
}

export function toState(s: WorkflowStatusAnswer): WorkflowState {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    created: s.created ?? undefined,
    user: s.user ?? undefined,
    progress: summarizeProgress(s.progress),
    terminal: TERMINAL_STATUSES.has(s.status),
  };
}

export interface FollowOptions {
  signal?: AbortSignal;
  /**
   * Poll interval; reana-client uses 5 s. Default 5000 ms; 200 ms to 1 h (the bounds of `%reana monitor --every`),
   * anything else (NaN, Infinity, negative, too short or too long) is refused with HTTP_INVALID_ARGUMENT.
   */
  intervalMs?: number;
  /** Called with every new state (status or progress changed), and once with the first state. */
  onUpdate?: (state: WorkflowState) => void;
  /** Throw REANA_WORKFLOW_FAILED when the run ends failed/stopped/deleted (default false: return the state). */
  throwOnFailure?: boolean;
  /** Consecutive transient failures tolerated before giving up (default 5; a whole number from 0 to 1000). */
  maxTransientErrors?: number;
}

/** Allowed poll intervals (ms): the bounds of `%reana monitor --every` (0.2–3600 s). */
export const FOLLOW_INTERVAL_RANGE = POLL_INTERVAL_RANGE;
export const MAX_TRANSIENT_ERRORS_RANGE = { min: 0, max: 1000, unit: "count" } as const;

/**
 * Refuses follow options that would make a busy poll (NaN, Infinity, or over 2^31-1 ms all become a 1 ms timer in
 * Node) or a wait without end; throws ReanaError HTTP_INVALID_ARGUMENT naming the option, its range and the value.
 */
export function checkFollowOptions(options: Pick<FollowOptions, "intervalMs" | "maxTransientErrors">): void {
  const make = (init: Omit<ClientErrorInit, "service">) => new ReanaError(init);
  checkOption(options.intervalMs, "intervalMs", FOLLOW_INTERVAL_RANGE, make);
  checkOption(options.maxTransientErrors, "maxTransientErrors", MAX_TRANSIENT_ERRORS_RANGE, make);
}

const TRANSIENT = new Set(["HTTP_CONNECTION", "HTTP_TIMEOUT", "HTTP_UNAVAILABLE", "HTTP_RATE_LIMITED", "REANA_SERVER"]);

/** Polls `fetch` until the workflow is terminal. Resolves with the final state. */
export async function followWorkflow(fetch: (signal?: AbortSignal) => Promise<WorkflowState>, workflow: string, options: FollowOptions = {}): Promise<WorkflowState> {
  checkFollowOptions(options);
  const interval = options.intervalMs ?? 5000;
  const maxErrors = options.maxTransientErrors ?? 5;
  let last: string | undefined;
  let errors = 0;
  for (;;) {
    let state: WorkflowState | undefined;
    try {
      state = await fetch(options.signal);
      errors = 0;
    } catch (e) {
      if (!(e instanceof ClientError) || !TRANSIENT.has(e.code) || ++errors > maxErrors) throw e;
    }
    if (state) {
      const key = JSON.stringify([state.status, state.progress]);
      if (key !== last) {
        last = key;
        options.onUpdate?.(state);
      }
      if (state.terminal) {
        if (options.throwOnFailure && state.status !== "finished") {
          throw new ReanaError({
            code: "REANA_WORKFLOW_FAILED",
            message: `Workflow ${state.name} ended ${state.status}${state.progress.failedJobIds.length ? ` (failed jobs: ${state.progress.failedJobIds.join(", ")})` : ""}.`,
            hint: "Read the job logs to see why.",
            details: { status: state.status },
          });
        }
        return state;
      }
    }
    try {
      await sleep(interval, options.signal);
    } catch (e) {
      throw new ReanaError({ code: "HTTP_ABORTED", message: `Stopped following ${workflow}.`, hint: "The workflow itself keeps running on REANA.", cause: e });
    }
  }
}
