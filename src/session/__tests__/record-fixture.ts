import * as fs from "node:fs";
import * as path from "node:path";
import { ProvenanceLog } from "../provenance";

/** A notebook folder after a lifecycle run: data read from Rucio, a REANA run on it, outputs, a published deposit. */
export function recordedLifecycle(dir: string) {
  const notebook = path.join(dir, "analysis.ipynb");
  fs.writeFileSync(
    notebook,
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [
        { cell_type: "markdown", source: "# Dimuon resonances\n\nFrom the data lake to a DOI.", metadata: {} },
        { cell_type: "code", source: "let min_pt = 2;", metadata: { tags: ["parameters"] }, outputs: [] },
      ],
    }),
  );
  const wf = path.join(dir, "wf");
  fs.mkdirSync(path.join(wf, "data"), { recursive: true });
  fs.mkdirSync(path.join(wf, "results"), { recursive: true });
  fs.writeFileSync(path.join(wf, "reana.yaml"), "version: 0.9.0\n");
  fs.writeFileSync(path.join(wf, "data", "run1.csv"), "pt\n3\n");
  fs.writeFileSync(path.join(wf, "results", "mass.json"), "{}\n");
  const log = new ProvenanceLog({ env: { VRE_TS_NOTEBOOK: notebook, VRE_TS_PARAMETERS: '{"min_pt":3}' } });
  log.record({ action: "read", kind: "did", service: "rucio", id: "open:run1.csv", checksums: { adler32: "0a0b0c0d", md5: "m1" }, bytes: 5, paths: [path.join(wf, "data", "run1.csv")] });
  log.record({
    action: "run",
    kind: "workflow",
    service: "reana",
    id: "uuid-1",
    label: "dimuon.1",
    via: "%reana run",
    checksums: { sha256: "a".repeat(64) },
    details: { name: "dimuon", type: "serial", baseDir: wf, specFile: { path: "reana.yaml", sha256: "b".repeat(64) }, parameters: { min_pt: 3 }, inputs: [{ path: "data/run1.csv", md5: "m1", sha256: "c".repeat(64), bytes: 5 }, { path: "reana.yaml", md5: "m2", sha256: "b".repeat(64), bytes: 15 }], status: "queued" },
  });
  log.record({ action: "run", kind: "workflow", service: "reana", id: "uuid-1", label: "dimuon.1", via: "%reana follow", details: { status: "finished" } });
  log.record({ action: "read", kind: "file", service: "reana", id: "dimuon:results/mass.json", label: "results/mass.json", checksums: { md5: "m3" }, bytes: 3, paths: [path.join(wf, "results", "mass.json")] });
  log.record({ action: "publish", kind: "deposit", service: "zenodo", id: "100002", label: "Dimuon resonances", doi: "10.5072/zenodo.100002", details: { conceptDoi: "10.5072/zenodo.100001", files: [{ name: "mass.json", md5: "m3", bytes: 3 }] } });
  return { notebook, log, wf };
}

