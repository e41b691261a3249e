/**
 * %%zenodo deposit across kernel sessions and sandbox restarts: the remembered deposit is keyed by the Zenodo
 * instance (for the local sandbox its data folder, not its port), so a re-run publishes nothing new; --new-version
 * makes a new version on purpose.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Session } from "../session";
import { zenodoMagic } from "./zenodo";
import { testContext } from "./__tests__/harness";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-zenodo-record-"));
const cwd = path.join(root, "nb");
const open: Session[] = [];
afterAll(async () => {
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
    const firstUrl = (await first.sandbox()).url;
    const v1 = (await zenodoMagic(() => first).run("deposit --publish --yes", testContext(cwd).ctx, BODY)) as Value;
    expect(v1.state).toBe("published");
    await first.close(); // the sandbox stops with the kernel that started it

    const second = kernelSession();
    expect((await second.sandbox()).url).not.toBe(firstUrl);
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
