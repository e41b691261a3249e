/**
 * The deposit form attaches the notebook's research record by default, kernel side: a real kernel started as
 * Jupyter Server starts it (JPY_SESSION_NAME names the notebook), `%zenodo form` against the sandbox, the save
 * button pressed as a frontend does. (Needs `npm run build`.)
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestKernelClient } from "../kernel/testing/client";
import type { FormDeposition, FormTask } from "./deposit-form";
import { sendCustom, untilState } from "./testing";

const MAIN = resolve(__dirname, "..", "..", "dist", "cli", "main.js");
const home = mkdtempSync(join(tmpdir(), "vre-ts-form-record-"));
const cwd = join(home, "work");
const notebook = join(cwd, "fit.ipynb");
let k: TestKernelClient;

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  mkdirSync(join(cwd, "results"), { recursive: true });
  writeFileSync(join(cwd, "results", "mass.csv"), "mass,count\n3.1,42\n");
  writeFileSync(notebook, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "markdown", source: "# Mass fit", metadata: {} }] }));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, VRE_TS_CONFIG: join(home, "config.json"), VRE_SANDBOX_DIR: join(home, "sandbox"), VRE_SANDBOX_CONTAINER_RUNTIME: "none", JPY_SESSION_NAME: notebook };
  for (const name of Object.keys(env)) if (/^(REANA|RUCIO|ZENODO|BEARER|VRE_TS_NOTEBOOK|VRE_TS_PROVENANCE)/.test(name)) delete env[name];
  k = await TestKernelClient.start({ main: MAIN, env, cwd });
}, 120_000);

afterAll(async () => {
  await k?.close();
});

describe("%zenodo form with the notebook's record", () => {
  it("a saved draft holds the listed files, the notebook and its RO-Crate, and related identifiers", async () => {
    const r = await k.execute(
      "%%zenodo form fit-results\ntitle: Mass fit\nupload_type: dataset\ndescription: A fit.\ncreators:\n  - name: Doe, Jane\nlicense: cc-by-4.0\nfiles: [results/mass.csv]",
    );
    expect(r.reply.content.status).toBe("ok");
    const commId = r.outputs.find((m) => m.header.msg_type === "comm_open")!.content.comm_id as string;
    await sendCustom(k, commId, { action: "save" });
    const saved = await untilState(k, commId, (s) => (s.task as FormTask | null)?.kind === "save" && (s.task as FormTask).state !== "running", 60_000);
    expect((saved.task as FormTask).state, (saved.task as FormTask).message).toBe("done");
    const draft = saved.deposition as FormDeposition;
    expect(draft.files).toEqual(["mass.csv", "fit.ipynb", "ro-crate-metadata.json"]);

    const read = await k.execute(`import { zenodo } from "vre-ts";\nimport * as fs from "node:fs";\nfs.writeFileSync("related.json", JSON.stringify((await zenodo.getDeposition(${draft.id})).metadata?.related_identifiers));`);
    expect(read.reply.content.status).toBe("ok");
    const related = JSON.parse(readFileSync(join(cwd, "related.json"), "utf8")) as Array<Record<string, string>>;
    expect(related).toEqual([{ identifier: expect.stringMatching(new RegExp(`/records/${draft.id}/files/fit\\.ipynb$`)), relation: "isSupplementTo", scheme: "url", resource_type: "software" }]);
    const crate = JSON.parse(readFileSync(join(cwd, ".vre-ts", "deposits", "fit.ro-crate", "ro-crate-metadata.json"), "utf8"));
    const root = crate["@graph"].find((e: { "@id": string }) => e["@id"] === "./");
    expect(root).toMatchObject({ name: "Mass fit", mainEntity: { "@id": "fit.ipynb" }, license: { "@id": "https://spdx.org/licenses/CC-BY-4.0" } });
    expect(root.identifier).toMatch(/^https:\/\/doi\.org\/10\.5072\//);
  }, 120_000);
});
