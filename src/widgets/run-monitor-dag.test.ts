/**
 * The run monitor's model with a multi-step DAG run by a real engine: the real kernel over ZeroMQ, `%reana run`
 * of a Snakemake workflow on the embedded sandbox (snakemake runs the rules on the host), and the widget state a
 * frontend receives: every rule in DAG order from the start, not-yet-started ones pending. Needs `npm run build`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestKernelClient } from "../kernel/testing/client";
import { startSandboxKernel, untilState } from "./testing";

let k: TestKernelClient;
let dir: string;

beforeAll(async () => {
  ({ kernel: k } = await startSandboxKernel("vre-ts-run-monitor-dag-"));
  dir = mkdtempSync(path.join(tmpdir(), "vre-ts-dag-"));
  // Written out of document order: the monitor orders rules by their dependencies.
  writeFileSync(
    path.join(dir, "Snakefile"),
    `rule all:
    input: "plot.txt"

rule plot:
    input: "fit.txt"
    output: "plot.txt"
    shell: "cat {input} > {output}"

rule fit:
    input: "skim.txt"
    output: "fit.txt"
    shell: "sleep 3; cat {input} > {output}"

rule skim:
    output: "skim.txt"
    shell: "echo skimmed > {output}"
`,
  );
  writeFileSync(path.join(dir, "reana.yaml"), "inputs:\n  parameters: {}\nworkflow:\n  type: snakemake\n  file: Snakefile\noutputs:\n  files: [plot.txt]\n");
}, 120_000);

afterAll(async () => {
  await k?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("run monitor with a Snakemake DAG", () => {
  it("shows every rule in dependency order with its state, pending before it starts", async () => {
    const run = await k.execute(`%reana run -n dag -f ${path.join(dir, "reana.yaml")}`, {}, 120_000);
    expect(run.reply.content.status).toBe("ok");
    const r = await k.execute("%reana monitor -w dag --every 0.2");
    const commId = r.outputs.find((m) => m.header.msg_type === "comm_open")!.content.comm_id as string;
    const steps = (s: Record<string, unknown>) => (s.steps as { name: string; status: string; needs: string[] }[]) ?? [];
    const during = await untilState(k, commId, (s) => steps(s).some((st) => st.name === "fit" && st.status === "running"), 150_000);
    expect(steps(during).map((st) => [st.name, st.status])).toEqual([
      ["skim", "finished"],
      ["fit", "running"],
      ["plot", "pending"],
    ]);
    expect(steps(during)[2]!.needs).toEqual(["fit"]);
    const end = await untilState(k, commId, (s) => s.status === "finished" && s.polling === false, 150_000);
    expect(steps(end).map((st) => [st.name, st.status])).toEqual([
      ["skim", "finished"],
      ["fit", "finished"],
      ["plot", "finished"],
    ]);
    expect(end).toMatchObject({ total: 3, finished: 3 });
  }, 300_000);
});
