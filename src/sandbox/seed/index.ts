import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Catalog } from "../rucio/catalog";
import { hashPath } from "../rucio/catalog";
import { checksums, u8 } from "../rucio/checksum";
import { didKey } from "../rucio/model";
import { writeFileAtomic } from "../store";
import { generateSeedFiles, SEED_RUNS } from "./generate";

export const SEED_SCOPE = "open";
export const SEED_CONTAINER = "dimuon-sim";
export const SEED_DATASET = "dimuon-sim.v1";
export const SEED_RSE = "SANDBOX-DISK1";

export interface SeedSummary {
  scope: string;
  container: string;
  dataset: string;
  rse: string;
  files: { name: string; bytes: number; adler32: string; md5: string }[];
}

/**
 * Registers the demo dataset (see README.md next to this file): scope `open`, container `open:dimuon-sim` holding
 * dataset `open:dimuon-sim.v1` with three run files and a README, replicas on SANDBOX-DISK1 and nothing on
 * SANDBOX-DISK2, so a rule to SANDBOX-DISK2 really copies. Idempotent: present and intact parts are left alone.
 */
export async function seedSandbox(catalog: Catalog, log: (m: string) => void = () => undefined): Promise<SeedSummary> {
  const issuer = "root";
  const doc = catalog.doc;
  if (!doc.scopes[SEED_SCOPE]) catalog.addScope(issuer, "root", SEED_SCOPE);
  const files = generateSeedFiles();
  const summary: SeedSummary = { scope: SEED_SCOPE, container: SEED_CONTAINER, dataset: SEED_DATASET, rse: SEED_RSE, files: [] };
  for (const f of files) {
    const sums = checksums(u8(f.content));
    summary.files.push({ name: f.name, ...sums });
    const target = path.join(catalog.rseFolder(SEED_RSE), hashPath(SEED_SCOPE, f.name));
    let intact = false;
    try {
      intact = createHash("md5").update(u8(await fs.readFile(target))).digest("hex") === sums.md5;
    } catch {
      intact = false;
    }
    if (!intact) {
      await writeFileAtomic(target, u8(f.content));
      await fs.chmod(target, 0o644);
    }
    if (!catalog.findDid(SEED_SCOPE, f.name)) {
      catalog.ensureFile(issuer, { scope: SEED_SCOPE, name: f.name, bytes: sums.bytes, adler32: sums.adler32, md5: sums.md5 });
      const guid = createHash("md5").update(`vre-ts-seed:${f.name}`).digest("hex");
      const meta: Record<string, string | number> = {
        guid: `${guid.slice(0, 8)}-${guid.slice(8, 12)}-${guid.slice(12, 16)}-${guid.slice(16, 20)}-${guid.slice(20)}`,
        project: "vre-sandbox",
        datatype: f.run ? "CSV" : "README",
      };
      if (f.run) {
        Object.assign(meta, { run_number: f.run.run, events: f.run.events, stream_name: "DoubleMu", energy: f.run.energy, collision: "pp" });
      }
      catalog.setMetadata(issuer, SEED_SCOPE, f.name, meta);
    }
    const rep = doc.replicas[didKey(SEED_SCOPE, f.name)]?.[SEED_RSE];
    if (!rep || rep.state !== "AVAILABLE") catalog.putReplica(SEED_SCOPE, f.name, SEED_RSE, "AVAILABLE");
  }
  if (!catalog.findDid(SEED_SCOPE, SEED_CONTAINER)) {
    catalog.addCollection(issuer, SEED_SCOPE, SEED_CONTAINER, "CONTAINER", {
      meta: { project: "vre-sandbox", datatype: "CSV", provenance: "simulated", description: "Simulated dimuon events at 7, 8 and 13 TeV (vre-ts sandbox demo data)", license: "CC0-1.0" },
    });
  }
  if (!catalog.findDid(SEED_SCOPE, SEED_DATASET)) {
    catalog.addCollection(issuer, SEED_SCOPE, SEED_DATASET, "DATASET", {
      meta: {
        project: "vre-sandbox",
        datatype: "CSV",
        campaign: "sandbox-2026",
        version: "v1",
        provenance: "simulated",
        stream_name: "DoubleMu",
        events: SEED_RUNS.reduce((s, r) => s + r.events, 0),
        description: "Opposite-sign muon pairs with J/psi, Upsilon(1S) and Z resonances",
        license: "CC0-1.0",
      },
    });
  }
  const dataset = catalog.did(SEED_SCOPE, SEED_DATASET);
  const missing = files.filter((f) => !dataset.children.includes(didKey(SEED_SCOPE, f.name)));
  if (missing.length > 0) {
    if (!dataset.open) dataset.open = true;
    catalog.attach(issuer, SEED_SCOPE, SEED_DATASET, missing.map((f) => ({ scope: SEED_SCOPE, name: f.name })));
    catalog.setStatus(issuer, SEED_SCOPE, SEED_DATASET, false);
  }
  const container = catalog.did(SEED_SCOPE, SEED_CONTAINER);
  if (!container.children.includes(didKey(SEED_SCOPE, SEED_DATASET))) catalog.attach(issuer, SEED_SCOPE, SEED_CONTAINER, [{ scope: SEED_SCOPE, name: SEED_DATASET }]);
  await catalog.commit();
  log(`seed: ${SEED_SCOPE}:${SEED_CONTAINER} with ${files.length} files on ${SEED_RSE}`);
  return summary;
}
