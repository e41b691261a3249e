/**
 * Live progress for long operations (transfers, workflow runs, replication, deposits): one output in the cell,
 * updated in place through a display id, at most `maxRate` times per second. The last state is always shown,
 * whatever the throttle dropped, once the operation finishes, fails or is interrupted.
 */
import { randomUUID } from "node:crypto";
import type { MagicContext, MimeBundle } from "./types";
import { escapeHtml, formatBytes, formatDuration, formatRate } from "./vre-format";
import { redact } from "../clients/http/redact";

export type ProgressPhase = "running" | "done" | "failed" | "interrupted" | "handed-off";

export interface ProgressState {
  /** Free-form status, e.g. "running", "REPLICATING", "uploading results.csv". */
  status?: string;
  bytes?: number;
  totalBytes?: number;
  files?: number;
  totalFiles?: number;
  /** Generic steps (workflow jobs, rule locks) when there are no bytes. */
  steps?: number;
  totalSteps?: number;
  /** The current item (file name, step name). */
  current?: string;
  /** Extra lines (e.g. the latest log line). */
  detail?: string;
}

export interface ProgressOptions {
  /** Heading, e.g. "Downloading user.jdoe:dataset1". */
  title: string;
  /** Maximum updates per second (default 4). */
  maxRate?: number;
  /** Shown when the operation is interrupted: what state it leaves behind and how to go on. */
  interruptNote?: string;
  /** What `steps` counts, e.g. "jobs" (default "steps"). */
  stepUnit?: string;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

type Sink = Pick<MagicContext, "display">;

/** Final statuses of the services that mean the operation did not succeed (REANA runs, Rucio rules, uploads). */
const FAILED_OUTCOME = /^(failed|failure|error|stuck|suspended|stopped|deleted|aborted|cancel+ed|rejected)$/i;

/** A throttled, in-place progress display. */
export class Progress {
  readonly displayId = `vre-progress-${randomUUID()}`;
  private readonly state: ProgressState = {};
  private readonly start: number;
  private readonly interval: number;
  private readonly now: () => number;
  private lastEmit = -Infinity;
  private timer?: ReturnType<typeof setTimeout>;
  private shown = false;
  private phase: ProgressPhase = "running";
  private message?: string;
  private emits = 0;
  /** Samples (time, bytes) for the rate over the last few seconds. */
  private samples: Array<[number, number]> = [];

  constructor(
    private readonly sink: Sink,
    private readonly options: ProgressOptions,
  ) {
    this.now = options.now ?? (() => Date.now());
    this.start = this.now();
    this.interval = 1000 / (options.maxRate ?? 4);
  }

  /** Number of display calls made so far (for tests and benchmarks). */
  get updates(): number {
    return this.emits;
  }

  /** Merges new state; shows it now or at the next allowed moment. */
  update(patch: ProgressState): void {
    if (this.phase !== "running") return;
    Object.assign(this.state, patch);
    if (patch.bytes !== undefined) {
      const t = this.now();
      this.samples.push([t, patch.bytes]);
      while (this.samples.length > 2 && t - this.samples[0][0] > 5000) this.samples.shift();
    }
    const wait = this.lastEmit + this.interval - this.now();
    if (wait <= 0) {
      this.emit();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.phase === "running") this.emit();
      }, wait);
      this.timer.unref?.();
    }
  }

  /**
   * Final state: the operation ran to its end. When that end is itself a failure (a workflow that ended "failed",
   * a rule that is STUCK), the line says so with the failure mark rather than a tick next to the word "failed".
   */
  done(message?: string, patch: ProgressState = {}): void {
    const status = patch.status ?? this.state.status;
    this.finish(status !== undefined && FAILED_OUTCOME.test(status.trim()) ? "failed" : "done", message, patch);
  }

  /** Final state: failure (the message is shown in the progress line; the error itself is reported elsewhere). */
  fail(message?: string): void {
    this.finish("failed", message);
  }

  /** Final state: interrupted by the user. */
  interrupted(message?: string): void {
    this.finish("interrupted", message ?? this.options.interruptNote);
  }

  /**
   * Final state of this display while the work goes on elsewhere (a workflow submitted and not followed): a
   * neutral "submitted", never a finished success, with `message` saying how to follow it.
   */
  handOff(message?: string, patch: ProgressState = {}): void {
    this.finish("handed-off", message, patch);
  }

  /** Ends with "interrupted" when `signal` aborted, "failed" otherwise. */
  end(err: unknown, signal?: AbortSignal): void {
    if (signal?.aborted) this.interrupted();
    else this.fail(err instanceof Error ? err.message : err === undefined ? undefined : String(err));
  }

  private finish(phase: ProgressPhase, message: string | undefined, patch: ProgressState = {}): void {
    if (this.phase !== "running") return;
    if (phase === "done" || phase === "handed-off") this.state.current = undefined; // the last item is no longer "current"
    Object.assign(this.state, patch);
    this.phase = phase;
    this.message = message === undefined ? undefined : redact(message);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.emit();
  }

  private emit(): void {
    this.lastEmit = this.now();
    this.emits++;
    const bundle = this.bundle();
    this.sink.display(bundle, { display_id: this.displayId, update: this.shown, raw: true });
    this.shown = true;
  }

  /** Bytes per second over the recent window (or since start). */
  rate(): number | undefined {
    if (this.samples.length < 2) {
      const elapsed = (this.now() - this.start) / 1000;
      return this.state.bytes && elapsed > 0 ? this.state.bytes / elapsed : undefined;
    }
    const [t0, b0] = this.samples[0];
    const [t1, b1] = this.samples[this.samples.length - 1];
    return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : undefined;
  }

  /** The current mimebundle (text/plain line and an HTML bar). */
  bundle(): MimeBundle {
    const s = this.state;
    const elapsed = (this.now() - this.start) / 1000;
    const parts: string[] = [];
    let fraction: number | undefined;
    if (s.totalFiles !== undefined || s.files !== undefined) parts.push(`${s.files ?? 0}${s.totalFiles !== undefined ? `/${s.totalFiles}` : ""} files`);
    if (s.totalSteps !== undefined || s.steps !== undefined) parts.push(`${s.steps ?? 0}${s.totalSteps !== undefined ? `/${s.totalSteps}` : ""} ${this.options.stepUnit ?? "steps"}`);
    if (s.bytes !== undefined) parts.push(`${formatBytes(s.bytes)}${s.totalBytes ? ` / ${formatBytes(s.totalBytes)}` : ""}`);
    const rate = this.phase === "running" ? this.rate() : s.bytes && elapsed > 0 ? s.bytes / elapsed : undefined;
    if (rate !== undefined && s.bytes !== undefined) parts.push(formatRate(rate));
    if (s.totalBytes && s.bytes !== undefined) fraction = s.bytes / s.totalBytes;
    else if (s.totalSteps && s.steps !== undefined) fraction = s.steps / s.totalSteps;
    else if (s.totalFiles && s.files !== undefined) fraction = s.files / s.totalFiles;
    if (this.phase === "running" && rate && s.totalBytes && s.bytes !== undefined && s.bytes < s.totalBytes) {
      parts.push(`ETA ${formatDuration((s.totalBytes - s.bytes) / rate)}`);
    }
    parts.push(`${formatDuration(elapsed)} elapsed`);
    const status =
      this.phase === "handed-off"
        ? `submitted${s.status ? ` (${s.status} at submission; not followed here)` : ""}`
        : this.phase === "running" ? s.status ?? "running" : this.phase === "done" ? s.status ?? "done" : this.phase === "failed" && s.status && FAILED_OUTCOME.test(s.status.trim()) ? s.status : this.phase;
    const mark = { running: "…", done: "✔", failed: "✘", interrupted: "■", "handed-off": "→" }[this.phase];
    const head = `${mark} ${this.options.title}: ${status}`;
    const lines = [`${head}${s.current ? ` (${s.current})` : ""}`, `  ${parts.join(" · ")}`];
    if (this.message) lines.push(`  ${this.message}`);
    if (s.detail) lines.push(`  ${s.detail}`);
    const text = redact(lines.join("\n"));

    const pct = fraction === undefined ? undefined : Math.max(0, Math.min(1, fraction));
    // JupyterLab's theme colours (readable in light and dark themes) and the widgets' bar: 6 px, rounded.
    const colour = {
      running: "var(--jp-brand-color1,#1976d2)",
      done: "var(--jp-success-color1,#388e3c)",
      failed: "var(--jp-error-color1,#d32f2f)",
      interrupted: "var(--jp-warn-color1,#f57c00)",
      "handed-off": "var(--jp-ui-font-color2,#616161)",
    }[this.phase];
    const bar =
      pct === undefined
        ? ""
        : `<div style="width:24em;max-width:100%;height:6px;background:var(--jp-layout-color3,#e0e0e0);border-radius:3px;overflow:hidden;margin:4px 0">` +
          `<div style="width:${(pct * 100).toFixed(1)}%;height:100%;background:${colour}"></div></div>`;
    const html =
      `<div class="vre-progress" data-phase="${this.phase}">` +
      `<div><strong>${escapeHtml(this.options.title)}</strong>: <span style="color:${colour}">${escapeHtml(status)}</span>` +
      `${s.current ? ` <code>${escapeHtml(s.current)}</code>` : ""}</div>${bar}` +
      `<div style="opacity:0.8;font-size:0.9em">${escapeHtml(parts.join(" · "))}</div>` +
      (this.message ? `<div style="font-size:0.9em">${escapeHtml(this.message)}</div>` : "") +
      (s.detail ? `<pre style="margin:0.2em 0;font-size:0.85em">${escapeHtml(s.detail)}</pre>` : "") +
      `</div>`;
    return { "text/plain": text, "text/html": redact(html) };
  }
}
