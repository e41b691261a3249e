/** The Rucio client against the embedded sandbox over real HTTP (search, replicas, rules, download, upload). */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearSecrets } from "../../src/clients/http/redact";
import { RucioClient, RucioError } from "../../src/clients/rucio";
import { startSandbox, type Sandbox } from "../../src/sandbox";

let sandbox: Sandbox;
let rucio: RucioClient;
let dataDir: string;
const logs: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "vre-ts-sbx-"));
  sandbox = await startSandbox({ port: 0, dataDir, seed: true });
  rucio = new RucioClient(sandbox.profiles.rucio, { logger: (l, m) => logs.push(`${l} ${m}`) });
});

afterAll(async () => {
  await rucio?.close();
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
  clearSecrets();
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("Rucio client ↔ sandbox", () => {
  it("pings, logs in with userpass and knows who it is", async () => {
    expect((await rucio.ping()).version).toMatch(/\d+\.\d+/);
    expect((await rucio.whoami()).account).toBe("demo");
  });

  it("searches with wildcards and metadata filters", async () => {
    const colls = await collect(rucio.dids.search("open", { name: "dimuon*" }));
    expect(colls.map((d) => d.name).sort()).toEqual(["dimuon-sim", "dimuon-sim.v1"]);
    const hot = await collect(rucio.dids.search("open", { type: "file", filters: "energy>7500" }));
    expect(hot.map((d) => d.name).sort()).toEqual(["dimuon_run002.csv", "dimuon_run003.csv"]);
    const run1 = await collect(rucio.dids.search("open", { type: "file", filters: "run_number=1" }));
    expect(run1.map((d) => d.name)).toEqual(["dimuon_run001.csv"]);
  });

  it("reads details, metadata, content and replicas", async () => {
    const ds = await rucio.dids.get("open:dimuon-sim.v1", { dynamicDepth: "FILE" });
    expect(ds.type).toBe("DATASET");
    expect(ds.length).toBe(4);
    const meta = await rucio.dids.meta("open:dimuon-sim.v1");
    expect(meta.campaign).toBe("sandbox-2026");
    expect((await collect(rucio.dids.content("open:dimuon-sim"))).map((c) => c.name)).toEqual(["dimuon-sim.v1"]);
    const reps = await collect(rucio.replicas.list("open:dimuon-sim.v1"));
    expect(reps).toHaveLength(4);
    for (const r of reps) {
      expect(r.states["SANDBOX-DISK1"]).toBe("AVAILABLE");
      expect(r.adler32).toMatch(/^[0-9a-f]{8}$/);
    }
  });

  it("downloads a dataset with verified checksums", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-sbx-dl-"));
    const files = await rucio.download("open:dimuon-sim.v1", { dir });
    expect(files).toHaveLength(4);
    for (const f of files) {
      expect(f.verified).toContain("adler32");
      expect(existsSync(f.path)).toBe(true);
      expect(existsSync(`${f.path}.part`)).toBe(false);
    }
    const csv = readFileSync(files.find((f) => f.did.endsWith("run001.csv"))!.path, "utf8");
    expect(csv.split("\n")[0]).toBe("Run,Event,pt1,eta1,phi1,Q1,pt2,eta2,phi2,Q2,M");
  });

  it("makes data available on the mounted destination RSE with a rule, then maps local paths", async () => {
    const [id] = await rucio.rules.create({ dids: "open:dimuon-sim.v1", rseExpression: sandbox.profiles.rucio.destinationRse });
    let state = "";
    for (let i = 0; i < 100 && state !== "OK"; i++) {
      state = (await rucio.rules.get(id)).state;
      if (state !== "OK") await new Promise((r) => setTimeout(r, 100));
    }
    expect(state).toBe("OK");
    // pathBeginsAt follows the Rucio JupyterLab extension: slashes are counted in the PFN's URL path (leading
    // slashes stripped), so for a file:// PFN under the mount it is the mount path's depth.
    const profile = sandbox.profiles.rucio;
    const mapped = new RucioClient({ ...profile, pathBeginsAt: profile.mountPath.split("/").filter(Boolean).length });
    const paths = await mapped.localPaths("open:dimuon-sim.v1");
    expect(paths).toHaveLength(4);
    for (const p of paths) {
      expect(p.path).not.toBeNull();
      expect(existsSync(p.path!)).toBe(true);
    }
    // A download now reads the files through the mount (a local copy), with the same checks.
    const files = await mapped.download("open:dimuon-sim.v1", { dir: mkdtempSync(join(tmpdir(), "vre-ts-sbx-mnt-")) });
    await mapped.close();
    expect(files.map((f) => f.source.via)).toEqual(["mount", "mount", "mount", "mount"]);
    for (const f of files) {
      expect(f.verified).toContain("adler32");
      expect(readFileSync(f.path).equals(readFileSync(paths.find((p) => p.did === f.did)!.path!))).toBe(true);
    }
    expect((await collect(rucio.rules.locks(id))).every((l) => l.state === "OK")).toBe(true);
  });

  it("uploads into the user scope, attaches to a dataset and adds a rule", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-sbx-up-"));
    const file = join(dir, "result.txt");
    writeFileSync(file, "mass peak at 3.097 GeV\n".repeat(1000));
    const up = await rucio.upload(file, { rse: "SANDBOX-DISK1", dataset: "results", rule: { rseExpression: "SANDBOX-DISK2" } });
    expect(up.did).toBe("user.demo:result.txt");
    expect(up.dataset).toBe("user.demo:results");
    // the new dataset's rule on the upload RSE (as rucio upload adds it), then the extra rule
    expect(up.ruleIds).toHaveLength(2);
    const rules = await collect(rucio.rules.forDid("user.demo:results"));
    expect(rules.map((r) => r.rse_expression).sort()).toEqual(["SANDBOX-DISK1", "SANDBOX-DISK2"]);
    expect(rules.find((r) => r.rse_expression === "SANDBOX-DISK1")).toMatchObject({ id: up.ruleIds![0], copies: 1, grouping: "DATASET" });
    const content = await collect(rucio.dids.content("user.demo:results"));
    expect(content.map((c) => c.name)).toEqual(["result.txt"]);
    const [back] = await rucio.download("user.demo:result.txt", { dir: join(dir, "back") });
    expect(readFileSync(back.path, "utf8")).toBe(readFileSync(file, "utf8"));
    const again = await rucio.upload(file, { rse: "SANDBOX-DISK1" }).catch((e: unknown) => e);
    expect((again as RucioError).code).toBe("RUCIO_ALREADY_EXISTS");
  });

  it("manages rules and reads account usage with typed calls (PUT /rules/{id}, GET /rules/?account=, /accounts/{a}/usage/local)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-sbx-rules-"));
    const file = join(dir, "usage.txt");
    writeFileSync(file, "x".repeat(12_345));
    const up = await rucio.upload(file, { rse: "SANDBOX-DISK1", lifetime: 600 });
    const [id] = up.ruleIds!;
    const rule = await rucio.rules.get(id);
    expect(rule).toMatchObject({ scope: "user.demo", name: "usage.txt", rse_expression: "SANDBOX-DISK1", copies: 1, state: "OK" });
    expect(rule.expires_at!.getTime()).toBeLessThan(Date.now() + 700_000);
    const longer = await rucio.rules.update(id, { lifetime: 86_400, comment: "keep a day" });
    expect(longer.expires_at).toBeInstanceOf(Date);
    expect(longer.expires_at!.getTime()).toBeGreaterThan(Date.now() + 86_000_000);
    expect(longer.comments).toBe("keep a day");
    expect((await rucio.rules.update(id, { lifetime: null })).expires_at ?? null).toBeNull();
    await expect(rucio.rules.update(id, {})).rejects.toMatchObject({ code: "RUCIO_INVALID_REQUEST" });
    const mine = await collect(rucio.rules.list({ account: "demo" }));
    expect(mine.map((r) => r.id)).toContain(id);
    expect(mine.every((r) => r.account === "demo")).toBe(true);
    const usage = await collect(rucio.accounts.usage("demo"));
    const disk1 = usage.find((u) => u.rse === "SANDBOX-DISK1")!;
    expect(disk1.bytes).toBeGreaterThanOrEqual(12_345);
    expect(disk1.files).toBeGreaterThanOrEqual(1);
    expect(typeof disk1.bytes_limit).toBe("number");
    expect(await collect(rucio.accounts.usage("demo", { rse: "SANDBOX-DISK1" }))).toEqual([expect.objectContaining({ rse: "SANDBOX-DISK1", bytes: disk1.bytes })]);
  });

  it("writing into a scope of another account is a permission error", async () => {
    const e = (await rucio.dids.addDataset("open:mine").catch((x: unknown) => x)) as RucioError;
    expect(e).toBeInstanceOf(RucioError);
    expect(e.code).toBe("RUCIO_FORBIDDEN");
  });

  it("never logged the password or a token", () => {
    const all = logs.join("\n");
    expect(all).not.toContain(sandbox.profiles.rucio.password);
    expect(all).not.toMatch(/demo-demo-[\w-]*[0-9a-f]{32}/);
  });
});
