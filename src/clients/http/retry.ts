/**
 * Retry policy: exponential back-off with jitter, Retry-After and X-RateLimit-* handling.
 * Which requests may be repeated is decided in client.ts (idempotency); this module only computes delays.
 */
import { checkOption, DAY_MS, HOUR_MS, longTimeout, RETRIES_RANGE } from "./durations";
import type { ClientError, ClientErrorInit } from "../errors";

export interface RetryPolicy {
  /** Extra attempts after the first one (0 disables retries). */
  retries: number;
  /** First back-off delay; doubles each attempt. */
  baseDelayMs: number;
  /** Cap of one back-off delay. */
  maxDelayMs: number;
  /** Statuses that are retried for idempotent requests. */
  statuses: number[];
  /** Longest Retry-After / rate-limit reset we agree to wait; beyond it the error is reported at once. */
  maxWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 4,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  statuses: [429, 502, 503, 504],
  maxWaitMs: 60_000,
};

/** Allowed values of the policy's numbers (a retry wait of days is allowed; sleep splits it). */
export const RETRY_POLICY_RANGES = {
  retries: RETRIES_RANGE,
  baseDelayMs: { min: 0, max: HOUR_MS },
  maxDelayMs: { min: 0, max: HOUR_MS },
  maxWaitMs: { min: 0, max: 30 * DAY_MS },
} as const;

/** Refuses a policy (or override) whose numbers are not finite or out of range: HTTP_INVALID_ARGUMENT via `make`. */
export function checkRetryPolicy(policy: Partial<RetryPolicy> | false | undefined, option: string, make?: (init: Omit<ClientErrorInit, "service">) => ClientError): void {
  if (!policy) return;
  for (const [key, range] of Object.entries(RETRY_POLICY_RANGES)) {
    checkOption(policy[key as keyof typeof RETRY_POLICY_RANGES], `${option}.${key}`, range, make);
  }
}

/** Back-off for attempt n (0-based): base·2^n capped, with "equal jitter" (between half and all of it). */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Parses Retry-After (delta seconds or HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/**
 * Reads X-RateLimit-Remaining / X-RateLimit-Reset (Zenodo, GitHub style). Returns the epoch ms until
 * which no request should be sent, or undefined when there is budget left. Reset may be epoch seconds
 * or (small values) seconds from now.
 */
export function rateLimitUntil(
  headers: Record<string, string | string[] | undefined>,
  now: number = Date.now(),
): number | undefined {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const remaining = first(headers["x-ratelimit-remaining"]);
  if (remaining === undefined || Number(remaining) > 0) return undefined;
  const reset = Number(first(headers["x-ratelimit-reset"]));
  if (!Number.isFinite(reset) || reset <= 0) return now + 1000;
  // Epoch seconds are ~1.7e9; anything below a year of seconds is a relative delay.
  return reset > 1e9 ? reset * 1000 : now + reset * 1000;
}

/**
 * Sleeps, waking early with the signal's reason when it aborts. Waits longer than a single Node timer holds
 * (2^31-1 ms) are split rather than cut to 1 ms; NaN is refused (it would be a 1 ms wait).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (Number.isNaN(ms)) return Promise.reject(new RangeError("sleep: the delay is NaN"));
  if (ms <= 0) return signal?.aborted ? Promise.reject(signal.reason) : Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = longTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      t.clear();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
