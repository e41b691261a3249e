import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Progress } from "./progress";
import type { DisplayOptions, MimeBundle } from "./types";

type Call = { bundle: MimeBundle; options: DisplayOptions };

function sink() {
  const calls: Call[] = [];
  return { calls, display: (bundle: unknown, options: DisplayOptions = {}) => calls.push({ bundle: bundle as MimeBundle, options }) };
}

describe("Progress", () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it("shows first, then updates in place under one display id", () => {
    const s = sink();
    const p = new Progress(s, { title: "Downloading s:d", now: () => Date.now() });
    p.update({ bytes: 0, totalBytes: 1000, files: 0, totalFiles: 2 });
    vi.advanceTimersByTime(300);
    p.update({ bytes: 500 });
    p.done();
    expect(s.calls.length).toBe(3);
    expect(s.calls[0].options).toMatchObject({ display_id: p.displayId, update: false, raw: true });
    expect(s.calls.slice(1).every((c) => c.options.update === true && c.options.display_id === p.displayId)).toBe(true);
    expect(String(s.calls[2].bundle["text/plain"])).toMatch(/^✔ Downloading s:d: done/);
  });

  it("throttles to at most 4 updates per second and always shows the last state", () => {
    const s = sink();
    const p = new Progress(s, { title: "t", now: () => Date.now() });
    // 1000 updates over 2 seconds
    for (let i = 1; i <= 1000; i++) {
      p.update({ bytes: i * 1000, totalBytes: 1_000_000 });
      vi.advanceTimersByTime(2);
    }
    expect(s.calls.length).toBeLessThanOrEqual(2 * 4 + 1);
    expect(s.calls.length).toBeGreaterThanOrEqual(7);
    vi.advanceTimersByTime(1000); // the trailing update fires
    const last = String(s.calls[s.calls.length - 1].bundle["text/plain"]);
    expect(last).toContain("1.0 MB / 1.0 MB");
    const before = s.calls.length;
    p.done();
    expect(s.calls.length).toBe(before + 1);
    p.update({ bytes: 1 }); // ignored after the end
    vi.advanceTimersByTime(1000);
    expect(s.calls.length).toBe(before + 1);
  });

  it("computes rate and ETA from recent samples", () => {
    const s = sink();
    const p = new Progress(s, { title: "t", now: () => Date.now() });
    p.update({ bytes: 0, totalBytes: 10_000_000 });
    vi.advanceTimersByTime(1000);
    p.update({ bytes: 1_000_000 });
    vi.advanceTimersByTime(1000);
    p.update({ bytes: 2_000_000 });
    const text = String(p.bundle()["text/plain"]);
    expect(text).toContain("2.0 MB / 10.0 MB");
    expect(text).toContain("1.0 MB/s");
    expect(text).toContain("ETA 8s");
    expect(String(p.bundle()["text/html"])).toContain('width:20.0%');
  });

  it("ends as interrupted when the signal aborted, failed otherwise, with secrets masked", () => {
    const s = sink();
    const ac = new AbortController();
    const p = new Progress(s, { title: "t", now: () => Date.now() });
    ac.abort();
    p.end(new Error("x"), ac.signal);
    expect(String(s.calls.at(-1)!.bundle["text/plain"])).toMatch(/^■ t: interrupted/);
    const q = new Progress(s, { title: "t", now: () => Date.now() });
    q.end(new Error("GET https://h/api?access_token=abcdef123456 failed"));
    const text = String(s.calls.at(-1)!.bundle["text/plain"]);
    expect(text).toMatch(/^✘ t: failed/);
    expect(text).not.toContain("abcdef123456");
  });

  it("shows steps for workflows", () => {
    const s = sink();
    const p = new Progress(s, { title: "Workflow demo.1", now: () => Date.now() });
    p.update({ status: "running", steps: 1, totalSteps: 3, current: "fit" });
    expect(String(s.calls[0].bundle["text/plain"])).toContain("… Workflow demo.1: running (fit)\n  1/3 steps");
  });

  it("shows rates in human units, without raw floats", () => {
    const s = sink();
    const p = new Progress(s, { title: "Uploading", now: () => Date.now() });
    p.update({ bytes: 0, totalBytes: 5000 });
    vi.advanceTimersByTime(6300);
    p.update({ bytes: 1250 });
    const text = String(p.bundle()["text/plain"]);
    expect(text).toContain("198 B/s");
    expect(text).not.toMatch(/\d\.\d{2,}/);
  });

  it("the mark matches the outcome: an operation that ends in a failed state is not ticked", () => {
    const s = sink();
    const p = new Progress(s, { title: "Workflow demo.1", now: () => Date.now() });
    p.update({ status: "running", steps: 1, totalSteps: 2 });
    p.update({ status: "failed", steps: 1, totalSteps: 2 });
    p.done();
    const text = String(s.calls.at(-1)!.bundle["text/plain"]);
    expect(text).toMatch(/^✘ Workflow demo.1: failed/);
    expect(text).not.toContain("✔");
    expect(String(s.calls.at(-1)!.bundle["text/html"])).toContain('data-phase="failed"');
    const q = new Progress(s, { title: "Rule", now: () => Date.now() });
    q.done(undefined, { status: "STUCK" });
    expect(String(s.calls.at(-1)!.bundle["text/plain"])).toMatch(/^✘ Rule: STUCK/);
    const r = new Progress(s, { title: "Workflow demo.2", now: () => Date.now() });
    r.update({ status: "finished" });
    r.done();
    expect(String(s.calls.at(-1)!.bundle["text/plain"])).toMatch(/^✔ Workflow demo.2: finished/);
  });

  it("a workflow submitted and not followed ends as a neutral 'submitted', not a green 'queued' for ever", () => {
    const s = sink();
    const p = new Progress(s, { title: "Workflow demo", now: () => Date.now() });
    p.update({ status: "queued" });
    p.handOff("follow it with %reana monitor -w demo.1");
    const last = s.calls.at(-1)!.bundle;
    expect(String(last["text/plain"])).toMatch(/^→ Workflow demo: submitted \(queued at submission; not followed here\)/);
    expect(String(last["text/plain"])).toContain("%reana monitor -w demo.1");
    const html = String(last["text/html"]);
    expect(html).toContain('data-phase="handed-off"');
    expect(html).not.toMatch(/success-color|#388e3c/);
    p.update({ status: "running" }); // the display is final
    expect(s.calls.at(-1)!.bundle).toBe(last);
  });

  it("uses JupyterLab's theme colours, so the line and bar read in light and dark themes", () => {
    const s = sink();
    const p = new Progress(s, { title: "Downloading s:d", now: () => Date.now() });
    p.update({ bytes: 10, totalBytes: 100 });
    p.done();
    const html = String(s.calls.at(-1)!.bundle["text/html"]);
    expect(html).toContain("var(--jp-success-color1");
    expect(html).not.toMatch(/(?<!,)#[0-9a-f]{6}/i); // hex only as a fallback inside var()
  });
});
