/**
 * DIDs attached to a notebook (metadata "vre-ts" → attachments), declared by a real kernel started for that
 * notebook as Jupyter Server starts it (JPY_SESSION_NAME) on the embedded sandbox: a downloaded copy is used when
 * the destination RSE does not hold the data, the mounted RSE's paths once it does, and an attachment that is not
 * here is one stderr line in the first cell's output while the cell itself runs. (Needs `npm run build`.)
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestKernelClient } from "../kernel/testing/client";
import type { WireMessage } from "../kernel/wire";
import { defaultVariableName, readAttachments, variableProblem } from "./attachments";

const MAIN = resolve(__dirname, "..", "..", "dist", "cli", "main.js");
const home = mkdtempSync(join(tmpdir(), "vre-ts-attachments-"));
const cwd = join(home, "work");
const notebook = join(cwd, "fit.ipynb");
const kernels: TestKernelClient[] = [];

function kernelEnv(withNotebook: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, VRE_TS_CONFIG: join(home, "config.json"), VRE_SANDBOX_DIR: join(home, "sandbox"), VRE_SANDBOX_CONTAINER_RUNTIME: "none" };
  for (const name of Object.keys(env)) if (/^(REANA|RUCIO|ZENODO|BEARER|VRE_TS_NOTEBOOK|VRE_TS_PROVENANCE|JPY_SESSION_NAME)/.test(name)) delete env[name];
  if (withNotebook) env.JPY_SESSION_NAME = notebook;
  return env;
}

async function startKernel(withNotebook: boolean): Promise<TestKernelClient> {
  const k = await TestKernelClient.start({ main: MAIN, env: kernelEnv(withNotebook), cwd });
  kernels.push(k);
  return k;
}

const stderrOf = (outputs: WireMessage[]) =>
  outputs
    .filter((m) => m.header.msg_type === "stream" && m.content.name === "stderr")
    .map((m) => String(m.content.text))
    .join("");
/** What a cell printed with console.log("=>", JSON.stringify(value)). */
const valueOf = (outputs: WireMessage[]): unknown => {
  const out = outputs.filter((m) => m.header.msg_type === "stream" && m.content.name === "stdout").map((m) => String(m.content.text)).join("");
  const line = out.split("\n").find((l) => l.startsWith("=> "));
  return line === undefined ? undefined : JSON.parse(line.slice(3));
};

let helper: TestKernelClient;

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  mkdirSync(cwd, { recursive: true });
  writeFileSync(
    notebook,
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        "vre-ts": {
          attachments: [
            { did: "open:dimuon-sim.v1", variable: "sim" },
            { did: "open:dimuon_run002.csv", variable: "run2" },
            { did: "open:dimuon_run003.csv", variable: "3rd" },
          ],
        },
      },
      cells: [],
    }),
  );
  // Another kernel in the same folder (no notebook) downloads one file, as `%rucio download` in a notebook would.
  helper = await startKernel(false);
  const dl = await helper.execute("%rucio download open:dimuon_run002.csv");
  expect(dl.reply.content.status).toBe("ok");
}, 120_000);

afterAll(async () => {
  for (const k of kernels.reverse()) await k.close();
});

describe("attachments in the notebook's metadata", () => {
  it("keeps entries that can be declared, with a reason for each other one", () => {
    expect(readAttachments(notebook)).toEqual({
      attachments: [
        { did: "open:dimuon-sim.v1", variable: "sim" },
        { did: "open:dimuon_run002.csv", variable: "run2" },
      ],
      problems: ['attachment open:dimuon_run003.csv: "3rd" is not a TypeScript identifier (letters, digits, _ and $, not starting with a digit); skipped'],
    });
    expect(readAttachments(join(cwd, "none.ipynb"))).toEqual({ attachments: [], problems: [] });
  });

  it("derives a valid variable name from a DID", () => {
    expect(defaultVariableName("open:dimuon-sim.v1")).toBe("dimuon_sim_v1");
    expect(defaultVariableName("user.jdoe:2026.run")).toBe("_2026_run");
    expect(defaultVariableName("s:class")).toBe("class_");
    expect(variableProblem("let")).toMatch(/reserved/);
    expect(variableProblem("$files_1")).toBeUndefined();
  });
});

describe("a kernel started for a notebook with attached DIDs", () => {
  it("%rucio attachments in a kernel that does not know its notebook says so and how to attach", async () => {
    const r = await helper.execute("%rucio attachments");
    expect(r.reply.content.status).toBe("error");
    expect(String(r.reply.content.evalue)).toMatch(/does not know its notebook .*JPY_SESSION_NAME.*%rucio browse/);
  }, 60_000);

  it("declares a downloaded file's path as string[]; a DID that is not here is one stderr line and the cell runs", async () => {
    const k = await startKernel(true);
    const first = await k.execute('const files: string[] = run2;\nconsole.log("=>", JSON.stringify(files));');
    expect(first.reply.content.status).toBe("ok");
    expect(valueOf(first.outputs)).toEqual([join(cwd, "open", "dimuon_run002.csv")]);
    const err = stderrOf(first.outputs);
    expect(err).toMatch(/vre-ts: attached DID open:dimuon-sim\.v1 is not declared as sim: .*not available on SANDBOX-DISK2 and not downloaded here; run %rucio make-available open:dimuon-sim\.v1 --wait/);
    expect(err).toContain('"3rd" is not a TypeScript identifier');
    // Only the first cell carries the lines.
    const second = await k.execute("run2.length");
    expect(stderrOf(second.outputs)).toBe("");
    // The declared type is string[]: the checker knows it.
    const wrong = await k.execute("const n: number = run2;");
    expect(wrong.reply.content.status).toBe("error");
    expect(String(wrong.reply.content.evalue)).toMatch(/string\[\]/);
    const missing = await k.execute("sim");
    expect(missing.reply.content.status).toBe("error");
    // %rucio attachments lists the notebook's attachments as saved, with what this kernel made of each.
    const list = await k.execute("%rucio attachments");
    expect(list.reply.content.status).toBe("ok");
    const text = String((list.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data as Record<string, unknown>)["text/plain"]);
    expect(text).toContain("DIDs attached to fit.ipynb (as saved)");
    expect(text).toMatch(/run2\s+open:dimuon_run002\.csv\s+declared: 1 file downloaded here/);
    expect(text).toMatch(/sim\s+open:dimuon-sim\.v1\s+not declared: not available on SANDBOX-DISK2/);
    expect(text).toContain('"3rd" is not a TypeScript identifier');
  }, 120_000);

  it("after a restart, declares the mounted RSE's paths of a dataset made available meanwhile", async () => {
    const made = await helper.execute("%rucio make-available open:dimuon-sim.v1 --wait", {}, 120_000);
    expect(made.reply.content.status).toBe("ok");
    const expected = valueOf((await helper.execute('const p = %rucio paths open:dimuon-sim.v1\nconsole.log("=>", JSON.stringify([...p]));')).outputs) as string[];
    expect(expected).toHaveLength(4);
    const k = await startKernel(true);
    const first = await k.execute("%rucio whoami");
    expect(first.reply.content.status).toBe("ok");
    expect(stderrOf(first.outputs)).not.toContain("is not declared as sim");
    const sim = await k.execute('const csv: number = sim.filter((p) => p.endsWith(".csv")).length;\nconsole.log("=>", JSON.stringify({ csv, sim }));');
    expect(valueOf(sim.outputs)).toEqual({ csv: 3, sim: expected });
    for (const p of expected) expect(existsSync(p)).toBe(true);
    // The notebook's provenance log records the attached files it was given.
    const log = readFileSync(join(cwd, "fit.provenance.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.filter((e) => e.via === "notebook attachment").map((e) => e.id)).toEqual(expect.arrayContaining(["open:dimuon-sim.v1", "open:dimuon_run002.csv"]));
  }, 240_000);
});
