/**
 * %%zenodo deposit across kernel sessions and sandbox restarts: the remembered deposit is keyed by the Zenodo
 * instance (for the local sandbox its data folder, not its port), so a re-run publishes nothing new; --new-version
 * makes a new version on purpose.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Session } from "../session";
import { checkRunCrate } from "../session/crate-profile";
import { zenodoMagic } from "./zenodo";
import { testContext } from "./__tests__/harness";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-zenodo-record-"));
const cwd = path.join(root, "nb");
const open: Session[] = [];
const relays: net.Server[] = [];
afterAll(async () => {
  for (const r of relays) r.close();
  for (const s of open) await s.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** A fresh kernel session: its own Session, which starts the sandbox on the same data folder (a new port). */
function kernelSession(): Session {
  const s = new Session({ sandboxDir: path.join(root, "sandbox"), env: { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json") }, notice: () => {} });
  open.push(s);
  return s;
}

const BODY = `title: Dimuon mass spectrum
upload_type: dataset
description: Histogram of the simulated dimuon sample.
creators:
  - name: Doe, Jane
license: cc-by-4.0
files:
  - results/mass.csv
`;

type Value = { id: number; doi?: string; state: string; files: Array<{ status: string }> };

describe("%%zenodo deposit is idempotent across sessions", () => {
  it("a new kernel on a restarted sandbox (new port) reports the existing DOI; --new-version publishes a new one", async () => {
    fs.mkdirSync(path.join(cwd, "results"), { recursive: true });
    fs.writeFileSync(path.join(cwd, "results", "mass.csv"), "mass,count\n3.1,10\n91.2,30\n");

    const first = kernelSession();
    const firstBaseUrl = (await first.zenodo()).settings.baseUrl;
    const v1 = (await zenodoMagic(() => first).run("deposit --publish --yes", testContext(cwd).ctx, BODY)) as Value;
    expect(v1.state).toBe("published");
    await first.close(); // the sandbox stops with the kernel that started it

    // The next kernel reaches the sandbox on another port (a TCP relay: what a restart on a new port looks like).
    const second = kernelSession();
    const sandbox = await second.sandbox();
    const target = Number(new URL(sandbox.url).port);
    const relay = net.createServer((socket) => {
      const upstream = net.connect(target, "127.0.0.1");
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    });
    await new Promise<void>((done) => relay.listen(0, "127.0.0.1", done));
    relays.push(relay);
    const moved = sandbox.url.replace(`:${target}`, `:${(relay.address() as net.AddressInfo).port}`);
    await second.login("zenodo", { ...sandbox.profiles.zenodo, baseUrl: `${moved}/zenodo/api` });
    expect((await second.zenodo()).settings.baseUrl).not.toContain(`:${target}/`);
    expect((await second.zenodo()).settings.baseUrl).not.toBe(firstBaseUrl);
    const depositionsBefore = (await (await second.zenodo()).listDepositions({ size: 100 })).length;
    const v2 = (await zenodoMagic(() => second).run("deposit --publish --yes", testContext(cwd).ctx, BODY)) as Value;
    expect(v2).toMatchObject({ id: v1.id, doi: v1.doi, state: "published" });
    expect((await (await second.zenodo()).listDepositions({ size: 100 })).length).toBe(depositionsBefore);
    expect(second.provenance.entries({ action: "publish" })).toHaveLength(0);

    // On purpose: a new version, with the changed file, under the same concept.
    fs.writeFileSync(path.join(cwd, "results", "mass.csv"), "mass,count\n3.1,11\n91.2,31\n");
    const v3 = (await zenodoMagic(() => second).run("deposit --publish --yes --new-version", testContext(cwd).ctx, BODY)) as Value;
    expect(v3.state).toBe("published");
    expect(v3.id).not.toBe(v1.id);
    expect(v3.doi).toBeTruthy();
    expect(v3.doi).not.toBe(v1.doi);
    expect(v3.files.map((f) => f.status)).toEqual(["uploaded"]);
    const client = await second.zenodo();
    const [older, newer] = await Promise.all([client.getDeposition(v1.id), client.getDeposition(v3.id)]);
    expect(newer.conceptrecid).toBe(older.conceptrecid);

    // And the new version is what the next plain re-run finds.
    const v4 = (await zenodoMagic(() => second).run("deposit --publish --yes", testContext(cwd).ctx, BODY)) as Value;
    expect(v4).toMatchObject({ id: v3.id, doi: v3.doi });
  }, 120_000);
});

describe("%%zenodo deposit attaches the notebook's record", () => {
  it("deposits the notebook and its crate (with the reserved DOI), related identifiers to the input DIDs' DOIs and the notebook; --no-record leaves them out", async () => {
    const folder = path.join(root, "attach");
    fs.mkdirSync(path.join(folder, "results"), { recursive: true });
    fs.writeFileSync(path.join(folder, "results", "mass.csv"), "mass,count\n9.4,4\n");
    const notebook = path.join(folder, "analysis.ipynb");
    fs.writeFileSync(notebook, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "markdown", source: "# Mass fit", metadata: {} }, { cell_type: "code", source: "%rucio download open:dimuon_run001.csv", metadata: {}, outputs: [] }] }));
    const s = new Session({ sandboxDir: path.join(root, "sandbox-attach"), env: { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json"), VRE_TS_NOTEBOOK: notebook }, notice: () => {} });
    open.push(s);

    // The input: a DID read by the notebook, whose Rucio metadata carries the DOI of its dataset's record.
    const rucio = await s.rucio();
    fs.writeFileSync(path.join(root, "events.csv"), "pt,eta\n3.2,0.1\n");
    const uploaded = await rucio.upload(path.join(root, "events.csv"), { rse: rucio.settings.destinationRse! });
    await rucio.dids.setMeta(uploaded.did, "doi", "10.5072/zenodo.424242");
    s.provenance.record({ action: "read", kind: "did", service: "rucio", id: uploaded.did, checksums: { adler32: uploaded.adler32 } });

    const v = (await zenodoMagic(() => s).run("deposit --publish --yes", testContext(folder).ctx, BODY)) as Value & { files: Array<{ name: string }> };
    expect(v.state).toBe("published");
    expect(v.files.map((f) => f.name)).toEqual(["mass.csv", "analysis.ipynb", "ro-crate-metadata.json"]);
    const client = await s.zenodo();
    const dep = await client.getDeposition(v.id);
    const related = (dep.metadata as { related_identifiers?: Array<Record<string, string>> }).related_identifiers;
    expect(related).toEqual([
      { identifier: "10.5072/zenodo.424242", relation: "isDerivedFrom", scheme: "doi", resource_type: "dataset" },
      { identifier: expect.stringMatching(new RegExp(`/records/${v.id}/files/analysis\\.ipynb$`)), relation: "isSupplementTo", scheme: "url", resource_type: "software" },
    ]);
    // The crate that went into the deposit names the deposit's DOI and describes the notebook.
    // It describes the deposit's own flat layout (its parts are the deposited files) and conforms to the profiles.
    const crateFile = path.join(folder, ".vre-ts", "deposits", "analysis.ro-crate", "ro-crate-metadata.json");
    const crate = JSON.parse(fs.readFileSync(crateFile, "utf8"));
    const crateRoot = crate["@graph"].find((e: { "@id": string }) => e["@id"] === "./");
    expect(crateRoot.identifier).toBe(`https://doi.org/${v.doi}`);
    expect(crateRoot.mainEntity).toEqual({ "@id": "analysis.ipynb" });
    expect(crateRoot.hasPart.map((p: { "@id": string }) => p["@id"]).sort()).toEqual(["analysis.ipynb", "mass.csv"]);
    expect(checkRunCrate(crate)).toEqual([]);
    expect(fs.existsSync(path.join(folder, "ro-crate-metadata.json"))).toBe(false); // the folder's own crate is %vre crate's
    const md5 = (await import("node:crypto")).createHash("md5").update(fs.readFileSync(crateFile)).digest("hex");
    expect(dep.files?.find((f) => f.filename === "ro-crate-metadata.json")?.checksum?.replace(/^md5:/, "")).toBe(md5);
    // The publication entry keeps what a later crate needs.
    expect(s.provenance.entries({ action: "publish" }).at(-1)).toMatchObject({ doi: v.doi, details: { conceptDoi: expect.stringMatching(/^10\.5072\//), files: expect.arrayContaining([expect.objectContaining({ name: "analysis.ipynb", md5: expect.stringMatching(/^[0-9a-f]{32}$/) })]), metadata: { license: "cc-by-4.0", title: "Dimuon mass spectrum" } } });

    const plain = (await zenodoMagic(() => s).run("deposit --no-record", testContext(folder).ctx, BODY.replace("Dimuon mass spectrum", "Without the record"))) as Value & { files: Array<{ name: string }> };
    expect(plain.files.map((f) => f.name)).toEqual(["mass.csv"]);
    expect((await client.getDeposition(plain.id)).metadata).not.toHaveProperty("related_identifiers");
  }, 120_000);
});
