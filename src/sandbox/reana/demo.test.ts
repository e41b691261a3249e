import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSeedFiles } from "../seed/generate";
import { testSandbox, waitFor, type TestSandbox } from "./__tests__/client";

/**
 * The demo workflow shipped in ./demo runs on the seed dataset exactly as a user would submit it: the reana.yaml is
 * sent with its workflow inlined, `inputs.files` and the CSV files are uploaded, the run is started and its outputs
 * are read back. Python's standard library is all it needs.
 */

const DEMO = path.resolve(__dirname, "..", "..", "..", "notebooks", "examples", "dimuon");
let sbx: TestSandbox;
const previousRuntime = process.env.VRE_SANDBOX_CONTAINER_RUNTIME;

beforeAll(async () => {
  process.env.VRE_SANDBOX_CONTAINER_RUNTIME = "none";
  sbx = await testSandbox();
});
afterAll(async () => {
  await sbx.dispose();
  if (previousRuntime === undefined) delete process.env.VRE_SANDBOX_CONTAINER_RUNTIME;
  else process.env.VRE_SANDBOX_CONTAINER_RUNTIME = previousRuntime;
});

async function upload(id: string, name: string, content: Buffer): Promise<void> {
  const r = await sbx.reana("POST", `/api/workflows/${id}/workspace`, {
    query: { file_name: name },
    body: content,
    headers: { "Content-Type": "application/octet-stream" },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function submit(name: string, start: Record<string, unknown>): Promise<string> {
  const spec = parse(readFileSync(path.join(DEMO, "reana.yaml"), "utf8")) as {
    inputs: { files: string[] };
    outputs: { files: string[] };
  };
  const created = await sbx.reana("POST", "/api/workflows", { query: { workflow_name: name }, json: spec });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = (created.body as { workflow_id: string }).workflow_id;
  await upload(id, "reana.yaml", readFileSync(path.join(DEMO, "reana.yaml")));
  for (const file of spec.inputs.files) await upload(id, file, readFileSync(path.join(DEMO, file)));
  for (const f of generateSeedFiles().filter((g) => g.name.endsWith(".csv"))) await upload(id, `data/${f.name}`, f.content);
  expect((await sbx.reana("POST", `/api/workflows/${id}/start`, { json: start })).status).toBe(200);
  return id;
}

async function ended(id: string): Promise<{ status: string; logs: string }> {
  return waitFor(async () => {
    const s = (await sbx.reana("GET", `/api/workflows/${id}/status`)).body as { status: string; logs: string };
    return ["finished", "failed", "stopped"].includes(s.status) ? s : undefined;
  }, 60000, "demo workflow");
}

describe("demo dimuon workflow", () => {
  it("selects events, measures J/psi, Upsilon and Z, and plots the spectrum", async () => {
    const id = await submit("dimuon", {});
    const s = await ended(id);
    expect(s.status, s.logs).toBe("finished");
    const results = JSON.parse(
      Buffer.from((await sbx.reana("GET", `/api/workflows/${id}/workspace/results/results.json`)).bytes).toString(),
    ) as { events: number; resonances: { name: string; observed: boolean; mass_gev: number; pdg_mass_gev: number }[] };
    expect(results.events).toBeGreaterThan(1000);
    for (const r of results.resonances) {
      expect(r.observed, r.name).toBe(true);
      expect(Math.abs(r.mass_gev - r.pdg_mass_gev) / r.pdg_mass_gev, r.name).toBeLessThan(0.01);
    }
    const table = Buffer.from((await sbx.reana("GET", `/api/workflows/${id}/workspace/results/summary.md`)).bytes).toString();
    expect(table).toContain("| J/psi |");
    const svg = await sbx.reana("GET", `/api/workflows/${id}/workspace/results/mass_spectrum.svg`);
    expect(svg.headers.get("content-type")).toBe("image/svg+xml");
    expect(Buffer.from(svg.bytes).toString()).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    const logs = JSON.parse(((await sbx.reana("GET", `/api/workflows/${id}/logs`)).body as { logs: string }).logs) as {
      job_logs: Record<string, { job_name: string }>;
    };
    expect(Object.values(logs.job_logs).map((j) => j.job_name)).toEqual(["select", "select", "spectrum", "plot"]);
  });

  it("takes parameter overrides and TARGET, like on a REANA server", async () => {
    const id = await submit("dimuon", { input_parameters: { min_pt: 20 }, operational_options: { TARGET: "select" } });
    const s = await ended(id);
    // Only the first step ran; the outputs of the later steps are not expected then.
    expect(s.status, s.logs).toBe("finished");
    expect(s.logs).toContain("Declared outputs were not checked");
    const cutflow = JSON.parse(
      Buffer.from((await sbx.reana("GET", `/api/workflows/${id}/workspace/results/cutflow.json`)).bytes).toString(),
    ) as { cuts: { min_pt: number }; selected: number };
    expect(cutflow.cuts.min_pt).toBe(20);
    expect(cutflow.selected).toBeGreaterThan(0);
    const ws = path.join(sbx.dataDir, "reana", "workspaces", id, "results");
    expect(readdirSync(ws).sort()).toEqual(["cutflow.json", "selected.csv"]);
    expect(statSync(path.join(ws, "selected.csv")).size).toBeGreaterThan(0);
  });
});

describe("demoWorkflowDir", () => {
  it("finds the shipped assets", async () => {
    const { demoWorkflowDir } = await import("./demo-assets");
    expect(readdirSync(demoWorkflowDir()).sort()).toEqual(["README.md", "code", "reana-cwl.yaml", "reana-snakemake.yaml", "reana.yaml", "workflow"]);
    expect(readdirSync(path.join(demoWorkflowDir(), "workflow")).sort()).toEqual(["cwl", "snakemake"]);
  });
});
