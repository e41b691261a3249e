/**
 * The dataset browser end to end, kernel side: the real kernel process over ZeroMQ, `%rucio browse` against
 * the embedded sandbox's Rucio over HTTP, and the widget's comm as a frontend sees it. Needs the compiled
 * package (`npm run build`). The view itself is exercised in Chromium by ui-tests.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestKernelClient } from "../kernel/testing/client";
import { frontendSawNoSecret, sendCustom, startSandboxKernel, untilState, widgetState } from "./testing";
import type { BrowserDetails, BrowserTask } from "./dataset-browser";

const DATASET = "open:dimuon-sim.v1";
let k: TestKernelClient;
let sandboxDir: string;
let commId: string;

beforeAll(async () => {
  ({ kernel: k, sandboxDir } = await startSandboxKernel("vre-ts-dataset-browser-"));
}, 120_000);

afterAll(async () => {
  await k?.close();
});

const send = (content: Record<string, unknown>) => sendCustom(k, commId, content);
const state = () => widgetState(k, commId);
const until = (pred: (s: Record<string, unknown>) => boolean) => untilState(k, commId, pred);
const task = (s: Record<string, unknown>) => s.task as BrowserTask | null;

describe("%rucio browse (dataset browser widget)", () => {
  it("opens with the scopes and a first search, and finds by name and metadata", async () => {
    const r = await k.execute("%rucio browse open:dimuon*");
    expect(r.reply.content.status).toBe("ok");
    const open = r.outputs.find((m) => m.header.msg_type === "comm_open")!;
    commId = open.content.comm_id as string;
    expect((open.content.data as { state: Record<string, unknown> }).state).toMatchObject({ _anywidget_id: "vre-ts.dataset-browser", scope: "open", pattern: "dimuon*" });
    // Beside the live view, a static HTML copy for places without the widget; the model id lets the view find its output.
    const view = r.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data as Record<string, unknown>;
    expect((open.content.data as { state: Record<string, unknown> }).state._vre_model_id).toBe(commId);
    expect(view["text/html"]).toContain("<strong>Rucio dataset browser</strong>: open:dimuon*");
    const found = await until((s) => (s.results as unknown[]).length > 0 && s.searching === false);
    expect(found.scopes).toContain("open");
    expect(found.destination).not.toBe("");
    expect((found.results as { did: string }[]).map((x) => x.did)).toContain(DATASET);

    await send({ action: "search", scope: "open", pattern: "*", type: "file", filter: "run_number=1" });
    const files = await until((s) => s.did_type === "file" && s.searching === false);
    expect(files.error).toBe("");
    expect((files.results as { did: string; type: string }[]).every((x) => x.type === "file")).toBe(true);

    await send({ action: "search", scope: "open", pattern: "*", type: "file", filter: "run_number" });
    const bad = await until((s) => s.filter === "run_number" && s.searching === false);
    expect(bad.error).toMatch(/^Search failed: The filter term "run_number" has no operator\. .+/);
    expect(bad.error_field).toBe("filter"); // shown next to the filter field

    // A search that finds nothing says so (the view shows "No match" for it, not an invitation to search).
    await send({ action: "search", scope: "open", pattern: "no-such-name*", type: "all", filter: "" });
    const none = await until((s) => s.pattern === "no-such-name*" && s.searching === false);
    expect(none).toMatchObject({ results: [], searched: "open:no-such-name*", error: "", error_field: "" });
  }, 120_000);

  it("shows a dataset's size, metadata, replicas per RSE and rules", async () => {
    await send({ action: "select", did: DATASET });
    const s = await until((x) => x.selected === DATASET && x.loading === false && x.details !== null);
    const d = s.details as BrowserDetails;
    expect(d).toMatchObject({ did: DATASET, type: "dataset", length: 4 });
    expect(d.bytes).toBeGreaterThan(0);
    expect(d.rses.length).toBeGreaterThan(0);
    expect(d.rses[0]!.available).toBeGreaterThan(0);
    expect(Array.isArray(d.rules)).toBe(true);
  });

  it("downloads a dataset, verified, into the notebook's folder; the provenance log has it", async () => {
    await send({ action: "download", did: DATASET });
    const s = await until((x) => task(x)?.kind === "download" && task(x)?.state !== "running");
    const t = task(s)!;
    expect(t.state, t.message).toBe("done");
    expect(t.paths).toHaveLength(4);
    expect(t.done).toBe(t.total);
    for (const p of t.paths) expect(existsSync(join(k.cwd, p))).toBe(true);
    const csv = t.paths.find((p) => p.endsWith("run001.csv"))!;
    expect(readFileSync(join(k.cwd, csv), "utf8").split("\n")[0]).toMatch(/^Run,Event/);
    const prov = await k.execute('import { session } from "vre-ts";\nsession().provenance.entries({ service: "rucio" }).filter((e) => e.via === "%rucio browse").length');
    expect(prov.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data).toEqual({ "text/plain": "4" });
  }, 60_000);

  it("makes a dataset available with one rule, reused when asked again", async () => {
    await send({ action: "make-available", did: DATASET });
    const s = await until((x) => task(x)?.kind === "make-available" && task(x)?.state !== "running");
    expect(task(s)!.state, task(s)!.message).toBe("done");
    expect(task(s)!.message).toMatch(/^Available on /);
    const finished = () =>
      k.iopubLog.filter((m) => {
        const t = (m.content.data as { state?: { task?: BrowserTask } } | undefined)?.state?.task;
        return m.content.comm_id === commId && t?.kind === "make-available" && t.state === "done";
      }).length;
    expect(finished()).toBe(1);
    await send({ action: "make-available", did: DATASET });
    const start = Date.now();
    while (finished() < 2 && Date.now() - start < 30_000) await new Promise((r) => setTimeout(r, 50));
    expect(finished()).toBe(2);
    const dest = state().destination as string;
    const details = await until((x) => x.loading === false && (x.details as BrowserDetails).rules.some((r) => r.rse === dest));
    expect((details.details as BrowserDetails).rules.filter((r) => r.rse === dest)).toHaveLength(1);
  }, 60_000);
  it("sends the frontend no secret: no password or token in any message, widget states included", () => {
    const { checked, bytes } = frontendSawNoSecret(k, sandboxDir);
    expect(checked).toBeGreaterThanOrEqual(3);
    expect(bytes).toBeGreaterThan(10_000);
  });
});
