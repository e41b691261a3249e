/**
 * Telling the user that a request is being retried. The HTTP core emits a RetryEvent before each wait; it goes to
 * the client's `onRetry` option, the request's own `onRetry`, and the listener of the surrounding async context
 * (`withRetryListener`), which is how a notebook magic shows "no answer yet, retrying" without the clients knowing
 * anything of the kernel.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface RetryEvent {
  service: string;
  /** "read the status of dimuon.1" */
  what: string;
  /** What went wrong with the attempt that just failed (already redacted). */
  reason: string;
  /** Stable code of that failure (HTTP_TIMEOUT, HTTP_CONNECTION, HTTP_UNAVAILABLE, …). */
  code: string;
  status?: number;
  /** Number of the attempt about to start (2 for the first retry). */
  attempt: number;
  /** Attempts allowed in all. */
  maxAttempts: number;
  /** Wait before that attempt. */
  delayMs: number;
  /** Epoch ms after which the request gives up, when it has a deadline. */
  deadline?: number;
}

export type RetryListener = (event: RetryEvent) => void;

const context = new AsyncLocalStorage<RetryListener>();

/** Runs `fn` with `listener` receiving the retry events of every request made inside it (at any depth). */
export function withRetryListener<T>(listener: RetryListener, fn: () => T): T {
  return context.run(listener, fn);
}

/** The listener of the current async context, if any. */
export function currentRetryListener(): RetryListener | undefined {
  return context.getStore();
}

/** One line for people: "REANA: timed out waiting for … ; retrying in 2 s (attempt 2 of 5, giving up at 10:42:07)." */
export function describeRetry(e: RetryEvent): string {
  const secs = e.delayMs >= 1000 ? `${Math.round(e.delayMs / 1000)} s` : `${e.delayMs} ms`;
  const until = e.deadline !== undefined && Number.isFinite(e.deadline) ? `, giving up at ${new Date(e.deadline).toISOString().slice(11, 19)} UTC` : "";
  const reason = e.reason.replace(/\.\s*$/, "");
  return `${e.service}: ${reason}; retrying in ${secs} (attempt ${e.attempt} of ${e.maxAttempts}${until}).`;
}
