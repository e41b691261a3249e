/**
 * The research record widget, kernel side: a real kernel started as Jupyter Server starts it (JPY_SESSION_NAME
 * names the notebook) on the embedded sandbox, `%vre record` shown first, then a Rucio download and a published
 * Zenodo deposit; the widget's state as the frontend holds it follows, in the shape `vre-ts run` saves into the
 * notebook's metadata. (Needs `npm run build`; the view is exercised in JupyterLab by ui-tests/tests/record.spec.ts.)
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestKernelClient } from "../kernel/testing/client";
import type { ResearchRecord } from "../session/record";
import { readRecordFile, savedRecord } from "../session/record";
import { recordSummary } from "./record";
import { frontendSawNoSecret, untilState, widgetState } from "./testing";

const MAIN = resolve(__dirname, "..", "..", "dist", "cli", "main.js");
const home = mkdtempSync(join(tmpdir(), "vre-ts-record-widget-"));
const sandboxDir = join(home, "sandbox");
const cwd = join(home, "work");
const notebook = join(cwd, "fit.ipynb");
const recordFile = join(cwd, "fit.provenance.jsonl");
let k: TestKernelClient;
let commId: string;

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  mkdirSync(join(cwd, "results"), { recursive: true });
  writeFileSync(join(cwd, "results", "mass.csv"), "mass,count\n3.1,42\n");
  writeFileSync(notebook, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", source: "%vre record", metadata: {}, outputs: [], execution_count: null }] }));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, VRE_TS_CONFIG: join(home, "config.json"), VRE_SANDBOX_DIR: sandboxDir, VRE_SANDBOX_CONTAINER_RUNTIME: "none", JPY_SESSION_NAME: notebook };
  for (const name of Object.keys(env)) if (/^(REANA|RUCIO|ZENODO|BEARER|VRE_TS_NOTEBOOK|VRE_TS_PROVENANCE)/.test(name)) delete env[name];
  k = await TestKernelClient.start({ main: MAIN, env, cwd });
}, 120_000);

afterAll(async () => {
  await k?.close();
});

const record = (s: Record<string, unknown>) => s.record as ResearchRecord;

describe("%vre record (research record widget)", () => {
  it("opens on the record as it is, with a static summary beside the live view", async () => {
    const r = await k.execute("%vre record");
    expect(r.reply.content.status).toBe("ok");
    const open = r.outputs.find((m) => m.header.msg_type === "comm_open")!;
    commId = open.content.comm_id as string;
    const state = (open.content.data as { state: Record<string, unknown> }).state;
    expect(state).toMatchObject({ _anywidget_id: "vre-ts.record", provenance_file: "fit.provenance.jsonl", record: { version: 1, sessions: [], entries: [] } });
    const view = r.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data as Record<string, unknown>;
    expect(view["application/vnd.jupyter.widget-view+json"]).toMatchObject({ model_id: commId });
    expect(view["text/html"]).toBe('<div class="vre-snapshot"><strong>Research record</strong>: nothing recorded yet</div>');
  }, 60_000);

  it("follows every entry the notebook records: a download, then a published deposit with its DOI", async () => {
    const dl = await k.execute("%rucio download open:dimuon_run001.csv");
    expect(dl.reply.content.status).toBe("ok");
    const afterDownload = await untilState(k, commId, (s) => record(s).entries.length === 1);
    const read = record(afterDownload).entries[0]!;
    expect(read).toMatchObject({ seq: 1, action: "read", kind: "did", service: "rucio", id: "open:dimuon_run001.csv" });
    // Paths relative to the notebook's folder, as vre-ts run saves them: no author's home folder in the notebook.
    expect(read.paths).toEqual([expect.not.stringMatching(/^\//)]);
    expect(existsSync(join(cwd, read.paths![0]!))).toBe(true);
    expect(record(afterDownload).sessions).toHaveLength(1);
    expect(record(afterDownload).notebook).toBe("fit.ipynb");

    const dep = await k.execute(
      "%%zenodo deposit --publish --yes --no-record\ntitle: Mass fit\nupload_type: dataset\ndescription: A fit.\ncreators:\n  - name: Doe, Jane\nlicense: cc-by-4.0\nfiles: [results/mass.csv]",
    );
    expect(dep.reply.content.status).toBe("ok");
    const published = await untilState(k, commId, (s) => record(s).entries.some((e) => e.action === "publish" && e.doi));
    const sum = recordSummary(record(published));
    expect(sum.lastDoi).toMatch(/^10\.5072\//);
    expect(sum.services.map(([name]) => name)).toEqual(["rucio", "zenodo"]);
    expect(JSON.stringify(published.record)).not.toContain(home);
  }, 120_000);

  it("holds what vre-ts run saves into metadata[\"vre-ts\"].record: the record file, paths relative to the notebook", async () => {
    await new Promise((r) => setTimeout(r, 500)); // the last coalesced update
    const expected = savedRecord(readRecordFile(recordFile), notebook, recordFile);
    expect(expected.record.entries.length).toBeGreaterThanOrEqual(3);
    expect(widgetState(k, commId).record).toEqual(expected.record);
    expect(expected.provenanceFile).toBe(widgetState(k, commId).provenance_file);
  });

  it("is one widget per notebook: asking again shows the same model", async () => {
    const again = await k.execute("%vre record");
    expect(again.outputs.some((m) => m.header.msg_type === "comm_open")).toBe(false);
    const view = again.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data as Record<string, unknown>;
    expect(view["application/vnd.jupyter.widget-view+json"]).toMatchObject({ model_id: commId });
    expect(view["text/html"]).toMatch(/entries \(rucio 1 · zenodo \d+\); last DOI 10\.5072\//);
  });

  it("sends the frontend no secret: no password or token in any message, the record's state included", () => {
    const { checked } = frontendSawNoSecret(k, sandboxDir);
    expect(checked).toBeGreaterThanOrEqual(3);
  });
});
