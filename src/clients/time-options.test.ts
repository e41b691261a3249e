/**
 * Poll intervals, waits and timeouts of the typed client APIs against the embedded sandbox over real HTTP: a value
 * Node's setTimeout would turn into a 1 ms timer (NaN, Infinity, over 2^31-1 ms) or one out of range is refused with
 * the service's error (code HTTP_INVALID_ARGUMENT) before anything is polled, instead of hammering the server.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../sandbox";
import { runMonitor } from "../widgets/run-monitor";
import { ReanaClient } from "./reana/client";
import { ReanaError } from "./reana/errors";
import { followWorkflow, type WorkflowState } from "./reana/follow";
import { RucioClient } from "./rucio/client";
import { RucioError } from "./rucio/errors";
import type { Rule } from "./rucio/schemas";
import { ZenodoClient } from "./zenodo/client";
import { ZenodoError } from "./zenodo/errors";

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
let sandbox: Sandbox;
let dataDir: string;
let reana: ReanaClient;
let rucio: RucioClient;
/** A workflow that is created and never started: it stays "created", so following it never ends by itself. */
let idle: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "time-options-"));
  sandbox = await startSandbox({ port: 0, dataDir, seed: true });
  reana = new ReanaClient(sandbox.profiles.reana);
  rucio = new RucioClient(sandbox.profiles.rucio);
  const spec = { workflow: { type: "serial", specification: { steps: [{ name: "s", environment: "docker.io/library/bash:5.2", commands: ["true"] }] } } };
  idle = (await reana.createWorkflow(spec, "idle-follow")).workflowName;
}, 120_000);

afterAll(async () => {
  await reana?.close();
  await rucio?.close();
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const BAD_INTERVALS: unknown[] = [1e99, Number.NaN, Infinity, -1, 0, 199, 3_600_001, "5000"];

describe("REANA follow", () => {
  it("refuses a bad intervalMs at the first call, before any status request (it used to busy-poll)", async () => {
    for (const intervalMs of BAD_INTERVALS) {
      let polls = 0;
      const fetch = async (signal?: AbortSignal): Promise<WorkflowState> => {
        // A busy poll shows as many status requests in a few ms; stop it so the test fails fast instead of hanging.
        if (++polls > 3) throw new Error(`busy poll with intervalMs ${String(intervalMs)}`);
        const { toState } = await import("./reana/follow");
        return toState(await reana.status(idle, { signal }));
      };
      const err = await followWorkflow(fetch, idle, { intervalMs: intervalMs as number }).catch((e: unknown) => e);
      expect(err, String(intervalMs)).toBeInstanceOf(ReanaError);
      expect(err).toMatchObject({ code: "HTTP_INVALID_ARGUMENT", details: { option: "intervalMs", min: 200, max: 3_600_000 } });
      expect((err as Error).message).toMatch(/intervalMs must be a number of milliseconds from 200 \(200 ms\) to 3600000 \(1 h\); got /);
      expect(polls).toBe(0);
    }
    await expect(reana.follow(idle, { intervalMs: 1e99 })).rejects.toMatchObject({ code: "HTTP_INVALID_ARGUMENT", service: "reana" });
    await expect(reana.follow(idle, { maxTransientErrors: Number.NaN })).rejects.toMatchObject({ code: "HTTP_INVALID_ARGUMENT", details: { option: "maxTransientErrors" } });
  });

  it("takes an interval at the upper bound: one status read, then a wait (no second read within 50 ms), ended by the signal", async () => {
    const updates: string[] = [];
    const ac = new AbortController();
    const following = reana.follow(idle, { intervalMs: 3_600_000, signal: ac.signal, onUpdate: (s) => updates.push(s.status) });
    const rejected = expect(following).rejects.toMatchObject({ code: "HTTP_ABORTED" });
    for (let i = 0; i < 100 && updates.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(updates).toEqual(["created"]);
    await new Promise((r) => setTimeout(r, 50));
    expect(updates).toEqual(["created"]);
    ac.abort();
    await rejected;
  });

  it("the run monitor widget refuses a bad interval when it is created (before a widget or a poll exists)", () => {
    for (const intervalMs of BAD_INTERVALS) {
      expect(() => runMonitor(reana, idle, { intervalMs: intervalMs as number }), String(intervalMs)).toThrow(
        expect.objectContaining({ name: "ReanaError", code: "HTTP_INVALID_ARGUMENT", details: expect.objectContaining({ option: "intervalMs" }) }),
      );
    }
  });

  it("refuses a client whose timeouts or retry delays are not finite", () => {
    expect(() => new ReanaClient(sandbox.profiles.reana, { timeouts: { headersMs: Infinity } })).toThrow(expect.objectContaining({ name: "ReanaError", code: "HTTP_INVALID_ARGUMENT" }));
    expect(() => new ReanaClient(sandbox.profiles.reana, { retry: { baseDelayMs: Number.NaN } })).toThrow(expect.objectContaining({ name: "ReanaError", code: "HTTP_INVALID_ARGUMENT" }));
  });
});

describe("Rucio rule follow", () => {
  it("refuses a bad maxDelayMs before reading the rule", async () => {
    let dataset: string | undefined;
    for await (const d of rucio.dids.search("open", { name: "*", type: "dataset" })) {
      dataset = `${d.scope}:${d.name}`;
      break;
    }
    expect(dataset).toBeDefined();
    const rule: Rule = (await rucio.rules.ensure(dataset!, { rseExpression: "SANDBOX-DISK2", comment: "time options test" })).rule;
    for (const maxDelayMs of [Number.NaN, 1e99, Infinity, -1, 100, 3_600_001]) {
      let reads = 0;
      const err = await rucio.rules.follow(rule!.id, { maxDelayMs, onUpdate: () => reads++ }).catch((e: unknown) => e);
      expect(err, String(maxDelayMs)).toBeInstanceOf(RucioError);
      expect(err).toMatchObject({ code: "HTTP_INVALID_ARGUMENT", details: { option: "maxDelayMs", min: 200, max: 3_600_000 } });
      expect(reads).toBe(0);
    }
    // In range it reads the rule as before.
    let reads = 0;
    const ok = await rucio.rules.follow(rule!.id, { maxDelayMs: 200, onUpdate: () => reads++ }).catch((e: unknown) => e);
    expect(reads).toBeGreaterThan(0);
    expect(ok).not.toMatchObject({ code: "HTTP_INVALID_ARGUMENT" });
  });

  it("refuses a bad token margin or timeout when the client is made", () => {
    expect(() => new RucioClient(sandbox.profiles.rucio, { tokenMarginMs: Number.NaN })).toThrow(expect.objectContaining({ name: "RucioError", code: "HTTP_INVALID_ARGUMENT" }));
    expect(() => new RucioClient(sandbox.profiles.rucio, { timeouts: { bodyMs: 1e99 } })).toThrow(expect.objectContaining({ code: "HTTP_INVALID_ARGUMENT", service: "rucio" }));
  });
});

describe("Zenodo publish confirmation", () => {
  it("refuses a bad confirmIntervalMs when the client is made", () => {
    for (const confirmIntervalMs of [Number.NaN, 1e99, -1, Infinity]) {
      expect(() => new ZenodoClient(sandbox.profiles.zenodo, { confirmIntervalMs }), String(confirmIntervalMs)).toThrow(ZenodoError);
    }
    expect(() => new ZenodoClient(sandbox.profiles.zenodo, { confirmIntervalMs: 1e99 })).toThrow(/confirmIntervalMs must be a number of milliseconds from 0 \(0 ms\) to 3600000 \(1 h\); got 1e\+99/);
    expect(new ZenodoClient(sandbox.profiles.zenodo, { confirmIntervalMs: 0 })).toBeInstanceOf(ZenodoClient);
  });
});
