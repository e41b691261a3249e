import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RucioClient } from "../clients/rucio";
import type { ZenodoClient } from "../clients/zenodo";
import { provenanceRecorder } from "./client-provenance";
import { Session } from "./index";
import { lazyClient } from "./lazy-client";

const dir = mkdtempSync(join(tmpdir(), "vre-client-prov-"));
const env = { HOME: join(dir, "home"), XDG_CONFIG_HOME: join(dir, "config") } as NodeJS.ProcessEnv;
const session = new Session({ env, sandboxDir: join(dir, "sandbox"), notice: () => undefined });

function hook(service: string) {
  return (client: object, method: string, args: unknown[], result: unknown) =>
    provenanceRecorder(service, method)?.(session.provenance, args, result, "http://endpoint");
}

afterAll(async () => {
  await session.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("provenance of typed client calls", () => {
  it("records downloads with checksums and publishes with DOIs, and nothing for plain reads", async () => {
    const rucio = lazyClient<RucioClient>(() => session.rucio(), hook("rucio"));
    const zenodo = lazyClient<ZenodoClient>(() => session.zenodo(), hook("zenodo"));
    await rucio.whoami();
    expect(session.provenance.size).toBe(0);

    const files = await rucio.download("open:dimuon_run001.csv", { dir: join(dir, "data") });
    const [read] = session.provenance.entries({ action: "read" });
    expect(read).toMatchObject({ service: "rucio", id: "open:dimuon_run001.csv", checksums: { adler32: files[0]!.adler32 }, via: "rucio.download()" });

    const result = await zenodo.deposit({
      files: [files[0]!.path],
      metadata: { title: "Run 1 dimuons", upload_type: "dataset", description: "One run of the sandbox sample.", creators: [{ name: "Doe, Jane" }], license: "cc-by-4.0" },
      publish: true,
    });
    const [published] = session.provenance.entries({ action: "publish" });
    expect(published).toMatchObject({ service: "zenodo", kind: "deposit", doi: result.published!.doi });
    expect(published!.doi).toMatch(/^10\.5072\//);
  });

  it("records an upload with the rule that protects it, and rule updates", async () => {
    const { writeFileSync } = await import("node:fs");
    const rucio = lazyClient<RucioClient>(() => session.rucio(), hook("rucio"));
    const file = join(dir, "prov-upload.txt");
    writeFileSync(file, "provenance\n");
    const up = await rucio.upload(file, { rse: "SANDBOX-DISK1" });
    const write = session.provenance.entries({ action: "write" }).find((e) => e.id === up.did)!;
    expect(write.details).toMatchObject({ rse: "SANDBOX-DISK1", rules: up.ruleIds });
    await rucio.rules.update(up.ruleIds![0]!, { lifetime: 3600 });
    const update = session.provenance.entries({ action: "write" }).find((e) => e.via === "rucio.rules.update()")!;
    expect(update).toMatchObject({ kind: "rule", id: up.ruleIds![0], label: up.did, details: { changes: { lifetime: 3600 } } });
  });
});

