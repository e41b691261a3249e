import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Validator } from "ro-crate";
import { afterAll, describe, expect, it } from "vitest";
import { CRATE_FILE, PROFILES, buildCrate, writeCrate } from "./crate";
import { checkRunCrate } from "./crate-profile";
import { recordedLifecycle } from "./__tests__/record-fixture";
import { provenanceFileFor } from "./record";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vre-crate-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const lifecycleRecord = () => recordedLifecycle(dir);

type Json = Record<string, any>;
const byId = (crate: Json) => new Map<string, Json>((crate["@graph"] as Json[]).map((e) => [e["@id"], e]));

describe("the RO-Crate of a notebook's record", () => {
  it("follows RO-Crate 1.1 and the Process, Workflow and Provenance Run Crate profiles", async () => {
    const { notebook, log } = lifecycleRecord();
    const { file, crate } = await writeCrate({
      notebook,
      record: log.toRecord(),
      recordFile: provenanceFileFor(notebook),
      deposit: { title: "Dimuon resonances", license: "cc-by-4.0", creators: [{ name: "Doe, Jane", orcid: "0000-0002-1825-0097" }], doi: "10.5072/zenodo.100002", conceptDoi: "10.5072/zenodo.100001" },
      now: new Date("2026-12-03T08:00:00Z"),
    });
    expect(file).toBe(path.join(dir, CRATE_FILE));
    expect(JSON.parse(fs.readFileSync(file, "utf8"))).toEqual(crate);
    expect(checkRunCrate(crate)).toEqual([]);

    // The library's own validator: the root's required properties, and every data entity on disk. It resolves terms
    // only through the context it bundles (1.2, which maps these schema.org terms as 1.1 does; it cannot fetch 1.1
    // offline), so the root is checked on a copy that names that context.
    const validator = new Validator(undefined);
    validator.parseJSON({ ...crate, "@context": ["https://w3id.org/ro/crate/1.2/context"] });
    validator.rootDataEntity();
    const files: Record<string, unknown> = {};
    for (const f of ["analysis.ipynb", "analysis.provenance.jsonl", "wf/reana.yaml", "wf/data/run1.csv", "wf/results/mass.json"]) files[f] = { exists: true, isDir: false };
    validator.checkFiles(files);
    expect(validator.results.filter((r: Json) => r.status === "error")).toEqual([]);
    expect(validator.results.filter((r: Json) => /Required$/.test(r.id)).map((r: Json) => r.status)).toEqual(Array(6).fill("success"));

    const g = byId(crate);
    const root = g.get("./")!;
    expect(root.mainEntity).toEqual({ "@id": "analysis.ipynb" });
    expect(root.identifier).toBe("https://doi.org/10.5072/zenodo.100002");
    expect(root.isPartOf).toEqual({ "@id": "https://doi.org/10.5072/zenodo.100001" });
    expect(root.license).toEqual({ "@id": "https://spdx.org/licenses/CC-BY-4.0" });
    expect(root.conformsTo.map((c: Json) => c["@id"])).toEqual([PROFILES.process, PROFILES.workflow, PROFILES.provenance]);
    expect(root.hasPart.map((p: Json) => p["@id"]).sort()).toEqual(["analysis.ipynb", "analysis.provenance.jsonl", "wf/data/run1.csv", "wf/reana.yaml", "wf/results/mass.json"]);
    expect(g.get("analysis.ipynb")!["@type"]).toEqual(["File", "SoftwareSourceCode", "ComputationalWorkflow"]);

    // The REANA run: instrument its reana.yaml, inputs with sha256 and the DID they came from, output with md5.
    const run = g.get("#reana-run-uuid-1")!;
    expect(run).toMatchObject({ "@type": "CreateAction", instrument: { "@id": "wf/reana.yaml" }, actionStatus: { "@id": "http://schema.org/CompletedActionStatus" } });
    expect(run.object.map((o: Json) => o["@id"])).toEqual(expect.arrayContaining(["wf/data/run1.csv", "wf/reana.yaml", "#reana-uuid-1-param-min_pt"]));
    expect(run.result).toEqual([{ "@id": "wf/results/mass.json" }]);
    const input = g.get("wf/data/run1.csv")!;
    expect(input.isBasedOn).toEqual({ "@id": "#did:open:run1.csv" });
    const values = (refs: Json[]) => refs.map((r) => g.get(r["@id"])!).map((p) => `${p.propertyID}=${p.value}`);
    expect(values(input.identifier)).toEqual([`sha256=${"c".repeat(64)}`, "md5=m1", "rucio-did=open:run1.csv"]);
    expect(values(g.get("#did:open:run1.csv")!.identifier)).toEqual(["rucio-did=open:run1.csv", "adler32=0a0b0c0d", "md5=m1"]);

    // The notebook run: DIDs and parameters in, the outputs and the deposit (DOI, concept DOI) out.
    const nbRun = (crate["@graph"] as Json[]).find((e) => e["@type"] === "CreateAction" && e.instrument["@id"] === "analysis.ipynb")!;
    expect(nbRun.object.map((o: Json) => o["@id"])).toEqual(["#did:open:run1.csv", expect.stringMatching(/-param-min_pt$/)]);
    expect(nbRun.result.map((o: Json) => o["@id"])).toEqual(["wf/results/mass.json", "https://doi.org/10.5072/zenodo.100002"]);
    expect(values(g.get("https://doi.org/10.5072/zenodo.100002")!.identifier)).toEqual(["doi=10.5072/zenodo.100002", "concept-doi=10.5072/zenodo.100001"]);
    expect(g.get("#vre-ts")!.softwareVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("catches a crate that misses what the profiles require", () => {
    const { notebook, log } = lifecycleRecord();
    const crate = buildCrate({ notebook, record: log.toRecord() });
    expect(checkRunCrate(crate)).toEqual([]);
    const broken = JSON.parse(JSON.stringify(crate)) as Json;
    const g = byId(broken);
    delete g.get("./")!.license;
    delete g.get("#reana-run-uuid-1")!.instrument;
    g.get("./")!.hasPart = g.get("./")!.hasPart.filter((p: Json) => p["@id"] !== "wf/reana.yaml");
    g.get("./")!.conformsTo = [];
    expect(checkRunCrate(broken)).toEqual(
      expect.arrayContaining([
        "root: license is required",
        "#reana-run-uuid-1: instrument is required (the software or workflow that ran)",
        "data entity wf/reana.yaml: not reachable from the root's hasPart",
        `root: conformsTo must include ${PROFILES.workflow} (Workflow Run Crate)`,
      ]),
    );
  });

  it("without a licence or deposit, still says so rather than inventing one", () => {
    const { notebook, log } = lifecycleRecord();
    const crate = buildCrate({ notebook, record: log.toRecord() });
    const root = byId(crate).get("./")!;
    expect(root.license).toEqual({ "@id": "#license-not-specified" });
    expect(root.name).toBe("Dimuon resonances");
    expect(root.description).toBe("From the data lake to a DOI.");
    expect(root.subjectOf).toEqual({ "@id": "https://doi.org/10.5072/zenodo.100002" });
  });
});
