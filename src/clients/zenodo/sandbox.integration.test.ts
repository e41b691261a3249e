/**
 * The Zenodo client against the embedded sandbox (an independent implementation of the legacy deposit API that
 * shares no code with the client), over real HTTP: deposit, upload, publish (once), new version, search.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox } from "../../sandbox";
import { ZenodoClient } from "./client";

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
let sandbox: Sandbox;
let dataDir: string;
let work: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "zenodo-sandbox-data-"));
  work = mkdtempSync(path.join(tmpdir(), "zenodo-sandbox-work-"));
  sandbox = await startSandbox({ port: 0, dataDir, seed: true });
});
afterAll(async () => {
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe("ZenodoClient ↔ embedded Zenodo sandbox", () => {
  it("deposits, publishes once, and makes a new version", async () => {
    const zenodo = new ZenodoClient(sandbox.profiles.zenodo);
    expect(zenodo.isSandbox).toBe(true);
    const dep = await zenodo.createDeposition({
      upload_type: "dataset",
      title: "Integration deposit",
      creators: [{ name: "Curie, Marie", affiliation: "Sorbonne Université" }],
      description: "Uploaded by the client integration test.",
      access_right: "open",
      license: "cc-by-4.0",
    });
    const f = path.join(work, "histo.csv");
    writeFileSync(f, "mass,count\n91.2,1234\n");
    const up = await zenodo.uploadFile(dep, f);
    expect(up.key).toBe("histo.csv");
    expect((await zenodo.listFiles(dep.id)).map((x) => x.filename)).toEqual(["histo.csv"]);
    const meta = await zenodo.updateMetadata(dep.id, { version: "1.0.0" }, { merge: true });
    expect(meta.metadata).toMatchObject({ title: "Integration deposit", version: "1.0.0" });

    const pub = await zenodo.publish(dep.id);
    expect(pub.alreadyPublished).toBe(false);
    expect(pub.doi).toBeTruthy();
    expect((await zenodo.publish(dep.id)).alreadyPublished).toBe(true);

    const draft = await zenodo.newVersion(dep.id);
    expect(draft.id).not.toBe(dep.id);
    expect(draft.submitted).toBe(false);
    expect((await zenodo.newVersion(dep.id)).id).toBe(draft.id);

    expect((await zenodo.searchRecords({ q: "Integration" })).total).toBeGreaterThanOrEqual(1);
    expect((await zenodo.licenses()).hits.length).toBeGreaterThan(0);
    expect((await zenodo.communities()).hits.length).toBeGreaterThan(0);
    await zenodo.close();
  });

  it("gets Zenodo's errors from the sandbox as typed errors", async () => {
    const bad = new ZenodoClient({ ...sandbox.profiles.zenodo, token: "not-the-sandbox-token" });
    await expect(bad.listDepositions()).rejects.toMatchObject({ code: "ZENODO_AUTH" });
    const zenodo = new ZenodoClient(sandbox.profiles.zenodo);
    await expect(zenodo.getDeposition(987654321)).rejects.toMatchObject({ code: "ZENODO_NOT_FOUND" });
    const dep = await zenodo.createDeposition();
    await expect(zenodo.publish(dep.id)).rejects.toMatchObject({ code: "ZENODO_VALIDATION" });
  });
});
