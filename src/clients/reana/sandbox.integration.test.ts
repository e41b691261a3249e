/**
 * The REANA client against the embedded sandbox (an independent implementation of REANA 0.9.x that shares no code
 * with the client), over real HTTP: a serial workflow is created, its inputs uploaded, run, followed to the end,
 * and its outputs read back.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../../sandbox";
import { ReanaClient } from "./client";
import { loadReanaSpec } from "./spec";

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
let sandbox: Sandbox;
let dataDir: string;
let work: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "reana-sandbox-data-"));
  work = mkdtempSync(path.join(tmpdir(), "reana-sandbox-work-"));
  sandbox = await startSandbox({ port: 0, dataDir, seed: true });
});
afterAll(async () => {
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe("ReanaClient ↔ embedded REANA sandbox", () => {
  it("runs a serial workflow end to end", async () => {
    const reana = new ReanaClient(sandbox.profiles.reana);
    expect((await reana.ping()).message).toBe("OK");
    expect((await reana.you()).serverVersion).toMatch(/^0\.9/);

    mkdirSync(path.join(work, "code"));
    writeFileSync(path.join(work, "code/count.py"), "import sys\nprint(len(sys.argv))\n");
    writeFileSync(
      path.join(work, "reana.yaml"),
      `inputs:
  files: [code/count.py]
  parameters:
    greeting: hello
workflow:
  type: serial
  specification:
    steps:
      - name: greet
        environment: docker.io/library/python:3.10
        commands:
          - mkdir -p results && echo "\${greeting} from $$PWD" > results/out.txt
outputs:
  files: [results/out.txt]
`,
    );
    const loaded = loadReanaSpec(path.join(work, "reana.yaml"));
    const run = await reana.run(loaded, "integration");
    expect(run.uploaded.map((u) => u.name).sort()).toEqual(["code/count.py", "reana.yaml"]);
    const states: string[] = [];
    const final = await reana.follow(run.workflowName, { intervalMs: 250, onUpdate: (s) => states.push(s.status) });
    expect(final.status).toBe("finished");
    expect(final.progress.finished).toBe(final.progress.total);
    expect(states[states.length - 1]).toBe("finished");

    const logs = await reana.logs(run.workflowName);
    expect(logs.jobs.length).toBeGreaterThan(0);
    expect(logs.jobs.every((j) => j.step === "greet")).toBe(true);
    expect((await reana.listWorkspace(run.workflowName)).items.map((i) => i.name)).toContain("results/out.txt");
    const dl = await reana.download(run.workflowName, "results/out.txt", { dest: path.join(work, "out") + "/" });
    expect(readFileSync(dl.files[0].path, "utf8")).toMatch(/^hello from \//);
    expect((await reana.parameters(run.workflowName)).parameters).toEqual({ greeting: "hello" });
    expect((await reana.listWorkflows({ search: "integration" })).items.map((w) => w.name)).toContain(run.workflowName);
    expect((await reana.deleteWorkflow(run.workflowName)).status).toBe("deleted");
    await reana.close();
  });

  it("gets REANA's errors from the sandbox as typed errors", async () => {
    const bad = new ReanaClient({ ...sandbox.profiles.reana, accessToken: "not-the-sandbox-token" });
    await expect(bad.listWorkflows()).rejects.toMatchObject({ code: "REANA_AUTH" });
    const reana = new ReanaClient(sandbox.profiles.reana);
    await expect(reana.status("no-such-workflow")).rejects.toMatchObject({ code: "REANA_NOT_FOUND" });
  });
});
