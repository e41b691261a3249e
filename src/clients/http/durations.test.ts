/**
 * Time options and long waits of the HTTP core: values Node's setTimeout would turn into a 1 ms timer (NaN, Infinity,
 * over 2^31-1 ms) are refused where they enter the API, and legitimate long waits are split instead of cut short.
 * Real timers and a real loopback server throughout.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClientError, HttpError } from "../errors";
import { startLoopback, type Loopback } from "./__tests__/loopback";
import { HttpClient, submitOnce } from "./client";
import { checkOption, formatDuration, longTimeout, MAX_TIMER_MS } from "./durations";
import { sleep } from "./retry";
import { copyLocalFile, downloadToFile } from "./transfer";

const waitMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("longTimeout and sleep", () => {
  it("do not fire early for a wait over 2^31-1 ms (Node would fire after 1 ms)", async () => {
    let fired = 0;
    const t = longTimeout(() => fired++, MAX_TIMER_MS + 1);
    const ac = new AbortController();
    let slept = false;
    const s = sleep(2 ** 31, ac.signal).then(() => (slept = true));
    const s2 = sleep(1e99, ac.signal).then(() => (slept = true));
    await waitMs(60);
    expect(fired).toBe(0);
    expect(slept).toBe(false);
    t.clear();
    ac.abort(new Error("stop"));
    await expect(s).rejects.toThrow("stop");
    await expect(s2).rejects.toThrow("stop");
  });

  it("still fire on time for ordinary waits, and refuse NaN", async () => {
    const started = performance.now();
    await sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    let fired = false;
    longTimeout(() => (fired = true), 10);
    for (let i = 0; i < 100 && !fired; i++) await waitMs(20);
    expect(fired).toBe(true);
    await expect(sleep(Number.NaN)).rejects.toBeInstanceOf(RangeError);
    expect(() => longTimeout(() => undefined, Number.NaN)).toThrow(RangeError);
  });
});

describe("checkOption", () => {
  const range = { min: 200, max: 3_600_000 };
  it("passes undefined and in-range values, refuses the rest naming the option, range and value", () => {
    expect(checkOption(undefined, "intervalMs", range)).toBeUndefined();
    expect(checkOption(200, "intervalMs", range)).toBe(200);
    expect(checkOption(3_600_000, "intervalMs", range)).toBe(3_600_000);
    for (const bad of [1e99, Number.NaN, Infinity, -Infinity, -1, 0, 199, 3_600_001, "5000", null]) {
      let err: unknown;
      try {
        checkOption(bad, "intervalMs", range);
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).toBeInstanceOf(HttpError);
      const e = err as ClientError;
      expect(e.code).toBe("HTTP_INVALID_ARGUMENT");
      expect(e.message).toContain("intervalMs");
      expect(e.message).toContain("200 (200 ms) to 3600000 (1 h)");
      expect(e.message).toContain(typeof bad === "string" ? '"5000" (a string)' : String(bad));
      expect(e.details).toMatchObject({ option: "intervalMs", min: 200, max: 3_600_000 });
    }
    expect(() => checkOption(2.5, "retries", { min: 0, max: 100, unit: "count" })).toThrow(/whole number from 0 to 100; got 2.5/);
  });

  it("formats durations for messages", () => {
    expect(formatDuration(200)).toBe("200 ms");
    expect(formatDuration(1500)).toBe("1.5 s");
    expect(formatDuration(3_600_000)).toBe("1 h");
    expect(formatDuration(86_400_000)).toBe("1 day");
    expect(formatDuration(30 * 86_400_000)).toBe("30 days");
  });
});

describe("HttpClient time options", () => {
  let lb: Loopback;
  let dir: string;
  beforeAll(async () => {
    lb = await startLoopback((_req, res) => res.end("ok"));
    dir = mkdtempSync(path.join(tmpdir(), "durations-"));
  });
  afterAll(async () => {
    await lb.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let clients: HttpClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
  });
  const make = (extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) => {
    const c = new HttpClient({ service: "test", baseUrl: lb.url, ...extra });
    clients.push(c);
    return c;
  };

  it("refuses non-finite or out-of-range client options at construction", () => {
    const cases: [Partial<ConstructorParameters<typeof HttpClient>[0]>, string][] = [
      [{ timeouts: { headersMs: Infinity } }, "timeouts.headersMs"],
      [{ timeouts: { bodyMs: Number.NaN } }, "timeouts.bodyMs"],
      [{ timeouts: { connectMs: -5 } }, "timeouts.connectMs"],
      [{ keepAliveMs: 1e99 }, "keepAliveMs"],
      [{ deadlineMs: 1e99 }, "deadlineMs"],
      [{ deadlineMs: Number.NaN }, "deadlineMs"],
      [{ retry: { baseDelayMs: Number.NaN } }, "retry.baseDelayMs"],
      [{ retry: { maxDelayMs: 1e99 } }, "retry.maxDelayMs"],
      [{ retry: { maxWaitMs: -1 } }, "retry.maxWaitMs"],
      [{ retry: { retries: Infinity } }, "retry.retries"],
    ];
    for (const [opts, option] of cases) {
      expect(() => make(opts), option).toThrow(expect.objectContaining({ code: "HTTP_INVALID_ARGUMENT", service: "test", details: expect.objectContaining({ option }) }));
    }
  });

  it("refuses a request's bad deadline or timeout before sending anything", async () => {
    const c = make();
    const before = lb.requests.length;
    // 2^31 ms was cut to a 1 ms deadline timer by Node: the request failed at once as timed out.
    await expect(c.send({ method: "GET", path: "x", what: "read x", timeouts: { headersMs: 2 ** 31 } })).rejects.toMatchObject({ code: "HTTP_INVALID_ARGUMENT" });
    await expect(c.send({ method: "GET", path: "x", what: "read x", deadlineMs: Number.NaN })).rejects.toMatchObject({ code: "HTTP_INVALID_ARGUMENT" });
    await expect(c.send({ method: "GET", path: "x", what: "read x", retry: { maxDelayMs: -1 } })).rejects.toMatchObject({ code: "HTTP_INVALID_ARGUMENT" });
    expect(lb.requests.length).toBe(before);
  });

  it("accepts a total deadline of days and a headers timeout of a day: the request is answered, not cut short", async () => {
    const c = make({ deadlineMs: 30 * 86_400_000, timeouts: { headersMs: 86_400_000 } });
    const res = await c.send({ method: "GET", path: "x", what: "read x" });
    expect(await res.text()).toBe("ok");
    const r2 = await c.send({ method: "GET", path: "x", what: "read x", deadlineMs: 29 * 86_400_000 });
    expect(await r2.text()).toBe("ok");
  });

  it("refuses a bad progress interval or retry count of a transfer before touching any file", async () => {
    const c = make();
    const dest = path.join(dir, "out.bin");
    const before = lb.requests.length;
    await expect(downloadToFile(c, { path: "x", what: "download x" }, dest, { progressIntervalMs: Number.NaN })).rejects.toMatchObject({ code: "HTTP_INVALID_ARGUMENT", service: "test" });
    await expect(downloadToFile(c, { path: "x", what: "download x" }, dest, { retries: Infinity })).rejects.toMatchObject({ code: "HTTP_INVALID_ARGUMENT" });
    await expect(copyLocalFile(__filename, dest, { progressIntervalMs: -1 })).rejects.toMatchObject({ code: "HTTP_INVALID_ARGUMENT" });
    expect(lb.requests.length).toBe(before);
    await expect(downloadToFile(c, { path: "x", what: "download x" }, dest, { progressIntervalMs: 0 })).resolves.toMatchObject({ path: dest });
  });

  it("submitOnce refuses a bad policy before the first attempt", async () => {
    let attempts = 0;
    const attempt = async () => void attempts++;
    await expect(submitOnce(attempt, async () => undefined, { policy: { baseDelayMs: Number.NaN } })).rejects.toMatchObject({ code: "HTTP_INVALID_ARGUMENT" });
    await expect(submitOnce(attempt, async () => undefined, { retries: -1 })).rejects.toMatchObject({ code: "HTTP_INVALID_ARGUMENT" });
    expect(attempts).toBe(0);
  });
});
