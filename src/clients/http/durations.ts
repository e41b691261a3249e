/**
 * Time options of the public client and widget APIs (poll intervals, timeouts, deadlines, retry delays): their
 * checks, and a timer that holds waits longer than Node's own can.
 *
 * Node's setTimeout fires after 1 ms when given NaN or more than 2^31-1 ms (about 24.8 days), so an unchecked
 * `intervalMs: 1e99` or `NaN` turns a poll into a loop hammering the server, and a long deadline into an immediate
 * one. Every such option is checked where it enters the API: a value that is not a finite number in its range is
 * refused with HTTP_INVALID_ARGUMENT (in the service's error class) naming the option, the range and the value.
 * Waits that may legitimately be long (a deadline of days) go through `longTimeout`, which splits them.
 */
import { HttpError, type ClientError, type ClientErrorInit } from "../errors";

/** The longest delay Node's setTimeout holds (2^31-1 ms, about 24.8 days); beyond it, it fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Allowed intervals (ms) between two readings of a poll: 200 ms (what a service tolerates) to 1 h. */
export const POLL_INTERVAL_RANGE = { min: 200, max: HOUR_MS } as const;

/** Allowed retry counts, wherever a caller may set one. */
export const RETRIES_RANGE = { min: 0, max: 100, unit: "count" } as const;

export interface OptionRange {
  min: number;
  max: number;
  /** "ms" (default) for durations in milliseconds, "count" for whole numbers (retries, error budgets). */
  unit?: "ms" | "count";
}

/** A duration for messages: "200 ms", "1.5 s", "1 h", "30 days". */
export function formatDuration(ms: number): string {
  const units: [number, string][] = [
    [DAY_MS, " days"],
    [HOUR_MS, " h"],
    [MINUTE_MS, " min"],
    [SECOND_MS, " s"],
  ];
  for (const [size, name] of units) {
    if (ms >= size) {
      const n = Math.round((ms / size) * 100) / 100;
      return `${n}${n === 1 && name === " days" ? " day" : name}`;
    }
  }
  return `${ms} ms`;
}

function shown(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}" (a string)`;
  if (value === null) return "null";
  return `a value of type ${typeof value}`;
}

/** Builds the error (code HTTP_INVALID_ARGUMENT) for an option outside its range. */
export function optionRangeError(option: string, range: OptionRange, value: unknown): Omit<ClientErrorInit, "service"> {
  const count = range.unit === "count";
  const what = count ? `a whole number from ${range.min} to ${range.max}` : `a number of milliseconds from ${range.min} (${formatDuration(range.min)}) to ${range.max} (${formatDuration(range.max)})`;
  return {
    code: "HTTP_INVALID_ARGUMENT",
    message: `Option ${option} must be ${what}; got ${shown(value)}.`,
    hint: count ? `Pass ${option} as a whole number in that range, or leave it out for the default.` : `Pass ${option} in milliseconds within that range (e.g. 5000 for 5 s), or leave it out for the default.`,
    details: { option, min: range.min, max: range.max, value: shown(value) },
  };
}

/**
 * Returns `value` when it is undefined (the caller's default applies) or a finite number in `range` (a whole one for
 * counts); otherwise throws HTTP_INVALID_ARGUMENT built by `make` (the service's error class; HttpError by default).
 */
export function checkOption(value: unknown, option: string, range: OptionRange, make: (init: Omit<ClientErrorInit, "service">) => ClientError = (i) => new HttpError(i)): number | undefined {
  if (value === undefined) return undefined;
  const ok =
    typeof value === "number" && Number.isFinite(value) && value >= range.min && value <= range.max && (range.unit !== "count" || Number.isInteger(value));
  if (ok) return value;
  throw make(optionRangeError(option, range, value));
}

/**
 * Like setTimeout, for any delay: waits over MAX_TIMER_MS are made of several timers, so they neither fire early
 * nor hold a timer Node cannot. `Infinity` never fires. Negative delays fire at once (as setTimeout's do).
 */
export function longTimeout(fn: () => void, ms: number): { clear: () => void } {
  if (Number.isNaN(ms)) throw new RangeError("longTimeout: the delay is NaN");
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (ms === Infinity) return { clear: () => undefined };
  const end = performance.now() + Math.max(0, ms);
  const arm = (left: number) => {
    timer = setTimeout(() => {
      const rest = end - performance.now();
      if (rest > 1) arm(rest);
      else fn();
    }, Math.min(Math.max(0, left), MAX_TIMER_MS));
  };
  arm(Math.max(0, ms));
  return { clear: () => clearTimeout(timer) };
}
