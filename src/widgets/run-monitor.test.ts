/**
 * The run monitor end to end, kernel side: the real kernel process over ZeroMQ, `%reana` against the embedded
 * sandbox's REANA over HTTP (steps run on the host), and the widget's comm as a frontend sees it. Needs the
 * compiled package (`npm run build`). The view itself is exercised in Chromium by ui-tests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WireMessage } from "../kernel/wire";
import type { TestKernelClient } from "../kernel/testing/client";
import { frontendSawNoSecret, sendCustom, startSandboxKernel, untilState } from "./testing";
import { tail } from "./run-monitor";

let k: TestKernelClient;
let sandboxDir: string;

beforeAll(async () => {
  ({ kernel: k, sandboxDir } = await startSandboxKernel("vre-ts-run-monitor-"));
}, 120_000);

afterAll(async () => {
  await k?.close();
});

const workflow = (steps: [string, string][]) =>
  "workflow:\n  type: serial\n  specification:\n    steps:\n" +
  steps.map(([name, cmd]) => `      - name: ${name}\n        environment: docker.io/library/bash:5.2\n        commands: [${JSON.stringify(cmd)}]\n`).join("");

async function monitor(name: string): Promise<{ commId: string; open: WireMessage }> {
  const r = await k.execute(`%reana monitor -w ${name} --every 0.2`);
  expect(r.reply.content.status).toBe("ok");
  const open = r.outputs.find((m) => m.header.msg_type === "comm_open")!;
  expect(open.content.target_name).toBe("jupyter.widget");
  const view = r.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data as Record<string, unknown>;
  expect(view["application/vnd.jupyter.widget-view+json"]).toMatchObject({ model_id: open.content.comm_id });
  return { commId: open.content.comm_id as string, open };
}

const custom = (commId: string, content: Record<string, unknown>) => sendCustom(k, commId, content);
const until = (commId: string, pred: (s: Record<string, unknown>) => boolean) => untilState(k, commId, pred);

describe("%reana monitor (run monitor widget)", () => {
  it("follows a run to its end while the notebook goes on, then shows the steps and their logs", async () => {
    const run = await k.execute(`%%reana run -n mon\n${workflow([["prepare", "echo preparing && sleep 1"], ["analyse", "echo analysing && sleep 1 && echo done-analysing && mkdir -p results && echo 42 > results/out.txt"]])}`, {}, 120_000);
    expect(run.reply.content.status).toBe("ok");
    const { commId, open } = await monitor("mon");
    const initial = (open.content.data as { state: Record<string, unknown> }).state;
    expect(initial).toMatchObject({ _anywidget_id: "vre-ts.run-monitor", workflow: "mon" });
    // The cell is done at once; the next one runs while the monitor polls.
    expect((await k.execute("1 + 1")).reply.content.status).toBe("ok");
    const running = await until(commId, (s) => s.status === "running");
    expect(running.polling).toBe(true);
    const end = await until(commId, (s) => s.status === "finished" && s.polling === false && (s.jobs as unknown[]).length === 2);
    expect(end).toMatchObject({ total: 2, finished: 2, failed: 0, step: "", selected: "analyse", error: "" });
    expect((end.jobs as { step: string; status: string }[]).map((j) => [j.step, j.status])).toEqual([
      ["prepare", "finished"],
      ["analyse", "finished"],
    ]);
    expect(end.log).toContain("done-analysing");
    expect(end.started).toMatch(/^\d{4}-/);
    // Once ended: the run's workspace files; no REANA web UI link for the local sandbox.
    const withFiles = await until(commId, (s) => (s.files as unknown[]).length > 0);
    expect((withFiles.files as { name: string; bytes: number | null }[]).find((f) => f.name === "results/out.txt")).toMatchObject({ bytes: 3 });
    expect(withFiles.files_total).toBeGreaterThanOrEqual(1);
    expect(withFiles.ui_url).toBe("");

    await custom(commId, { action: "select", step: "prepare" });
    const picked = await until(commId, (s) => s.selected === "prepare");
    expect(picked.log).toContain("preparing");
    expect(picked.log).not.toContain("analysing");
  }, 120_000);

  it("tails the running step's log live, while its status and progress stay the same", async () => {
    const run = await k.execute(`%%reana run -n ticking\n${workflow([["tick", "for i in 1 2 3 4 5 6 7 8; do echo tick-$$i; sleep 0.4; done"]])}`, {}, 120_000);
    expect(run.reply.content.status, JSON.stringify(run.reply.content)).toBe("ok");
    const { commId } = await monitor("ticking");
    // Seen while the one step still runs: the log was re-read without any status or progress change.
    const live = await until(commId, (s) => s.status === "running" && String(s.log).includes("tick-2"));
    expect(live.log).not.toContain("tick-8");
    const later = await until(commId, (s) => s.status === "running" && String(s.log).includes("tick-5"));
    expect(later.finished).toBe(live.finished);
    await until(commId, (s) => s.status === "finished" && String(s.log).includes("tick-8"));
  }, 120_000);

  it("stops a run on request (once), and shows it stopped", async () => {
    const run = await k.execute(`%%reana run -n long\n${workflow([["wait", "sleep 60"]])}`, {}, 120_000);
    expect(run.reply.content.status).toBe("ok");
    const { commId } = await monitor("long");
    await until(commId, (s) => s.status === "running");
    await custom(commId, { action: "stop" });
    await custom(commId, { action: "stop" }); // a second request while stopping is ignored
    const stopped = await until(commId, (s) => s.status === "stopped" && s.polling === false && s.busy === "");
    expect(stopped.error).toBe("");
    const status = await k.execute("%reana status -w long --json");
    expect(JSON.stringify(status.outputs.map((m) => m.content))).toContain("stopped");
  }, 120_000);

  it("stops polling when the frontend closes the widget; an unknown workflow is a clear error", async () => {
    const run = await k.execute(`%%reana run -n closing\n${workflow([["wait", "sleep 30"]])}`, {}, 120_000);
    expect(run.reply.content.status).toBe("ok");
    const { commId } = await monitor("closing");
    await until(commId, (s) => s.status === "running");
    await k.send("shell", k.message("comm_close", { comm_id: commId, data: {} }));
    await new Promise((r) => setTimeout(r, 300));
    const count = () => k.iopubLog.filter((m) => m.content.comm_id === commId).length;
    const before = count();
    await new Promise((r) => setTimeout(r, 1500)); // seven poll intervals
    expect(count()).toBe(before);
    await k.execute("%reana stop -w closing");

    const unknown = await k.execute("%reana monitor -w no-such-workflow");
    expect(unknown.reply.content.status).toBe("error");
    expect(unknown.outputs.some((m) => m.header.msg_type === "comm_open")).toBe(false);
  }, 120_000);

  it("from TypeScript, an interval setTimeout cannot hold is the cell's error, not a widget polling every millisecond", async () => {
    for (const interval of ["1e99", "NaN", "-1"]) {
      const r = await k.execute(`import { reana, runMonitor } from "vre-ts";\nrunMonitor(reana, "mon", { intervalMs: ${interval} })`);
      expect(r.reply.content.status, interval).toBe("error");
      expect(String(r.reply.content.evalue)).toMatch(/intervalMs must be a number of milliseconds from 200 \(200 ms\) to 3600000 \(1 h\); got /);
      expect(r.outputs.some((m) => m.header.msg_type === "comm_open")).toBe(false);
    }
  }, 60_000);

  it("sends the frontend no secret: no password or token in any message, widget states included", () => {
    const { checked, bytes } = frontendSawNoSecret(k, sandboxDir);
    expect(checked).toBeGreaterThanOrEqual(3);
    expect(bytes).toBeGreaterThan(10_000);
  });
});

describe("tail", () => {
  it("keeps short logs whole and cuts long ones at a line start, saying how much was left out", () => {
    expect(tail("a\nb\n", 10)).toBe("a\nb\n");
    const long = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
    const t = tail(long, 50);
    expect(t).toMatch(/^… \(\d+ earlier characters not shown\)\nline \d+\n/);
    expect(t.endsWith("line 99")).toBe(true);
    const shown = t.slice(t.indexOf("\n") + 1);
    expect(Number(/\((\d+) earlier/.exec(t)![1]) + shown.length).toBe(long.length);
  });
});
