import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZenodoError, type ZenodoClient } from "../clients/zenodo";
import type { Sandbox } from "../sandbox";
import { Session } from "../session";
import type { ProvenanceLog } from "../session/provenance";
import { zenodoMagic } from "./zenodo";
import { UsageError, type MagicSpec } from "./types";
import { allOutput, bundleOf, testContext } from "./__tests__/harness";

let sandbox: Sandbox;
let root: string;
let provenance: ProvenanceLog;
let magic: MagicSpec;
let client: ZenodoClient;
let session: Session;

const META = `title: Dimuon mass spectrum
upload_type: dataset
description: Histogram of the simulated dimuon sample.
creators:
  - name: Doe, Jane
    affiliation: CERN
license: cc-by-4.0
`;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-zenodo-magic-"));
  session = new Session({ sandboxDir: path.join(root, "sandbox"), env: { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json") }, notice: () => {} });
  sandbox = await session.sandbox();
  client = await session.zenodo();
  provenance = session.provenance;
  magic = zenodoMagic(() => session);
  fs.mkdirSync(path.join(root, "nb", "results"), { recursive: true });
  fs.writeFileSync(path.join(root, "nb", "results", "mass.csv"), "mass,count\n3.1,10\n9.4,4\n91.2,30\n");
  fs.writeFileSync(path.join(root, "nb", "results", "fit.json"), JSON.stringify({ mZ: 91.19 }));
});

afterAll(async () => {
  await session?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const cwd = () => path.join(root, "nb");

async function fails(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the magic to fail");
}

describe("%zenodo against the sandbox", () => {
  it("ping and whoami say which Zenodo it is, never the token", async () => {
    const { ctx, rec } = testContext(cwd());
    const ping = (await magic.run("ping", ctx)) as { reachable: boolean; instance: string };
    expect(ping.reachable).toBe(true);
    expect(ping.instance).toMatch(/local sandbox/);
    const who = await magic.run("whoami", ctx);
    expect(String(bundleOf(who)["text/plain"])).toContain("valid (the token itself is never shown)");
    expect(allOutput(rec, ping, who)).not.toContain(sandbox.profiles.zenodo.token);
  });

  it("deposits, publishes with --yes and gets a DOI; a rerun never publishes twice", async () => {
    const body = `${META}files:\n  - results/mass.csv\n  - results/fit.json\n`;
    const { ctx, rec } = testContext(cwd());
    const v = (await magic.run("deposit --publish --yes", ctx, body)) as { id: number; doi: string; state: string; files: Array<{ status: string; md5: string }>; stateFile: string };
    expect(v.state).toBe("published");
    expect(v.doi).toMatch(/^10\.5072\//);
    expect(v.files.map((f) => f.status)).toEqual(["uploaded", "uploaded"]);
    expect(fs.existsSync(v.stateFile)).toBe(true);
    expect(path.dirname(v.stateFile)).toBe(path.join(cwd(), ".vre-ts", "deposits"));
    const html = String(bundleOf(v)["text/html"]);
    expect(html).toContain(v.doi);
    expect(html).toContain("mass.csv");
    // live progress went through one display id, updated in place
    const progress = rec.displays.filter((d) => d.options.raw);
    expect(progress.length).toBeGreaterThan(1);
    expect(new Set(progress.map((d) => d.options.display_id)).size).toBe(1);
    expect(progress.slice(1).every((d) => d.options.update)).toBe(true);
    expect(String((progress.at(-1)!.value as Record<string, unknown>)["text/plain"])).toMatch(/^✔ Depositing "Dimuon mass spectrum": published 10\.5072/);
    const pub = provenance.entries({ action: "publish" });
    expect(pub.at(-1)).toMatchObject({ kind: "deposit", service: "zenodo", doi: v.doi });

    const before = await client.listDepositions({ size: 100 });
    const again = (await magic.run("deposit --publish --yes", testContext(cwd()).ctx, body)) as { id: number; doi: string; resumed: boolean };
    expect(again).toMatchObject({ id: v.id, doi: v.doi, resumed: true });
    expect((await client.listDepositions({ size: 100 })).length).toBe(before.length);
    expect(provenance.entries({ action: "publish" }).filter((e) => e.doi === v.doi)).toHaveLength(1);
  });

  it("resumes a deposit that failed halfway in the same deposition, skipping files already uploaded", async () => {
    const body = `${META.replace("Dimuon mass spectrum", "Resumed deposit")}files:\n  - results/mass.csv\n  - results/fit.json\n`;
    // The connection drops while the second file is sent (once).
    let dropped = false;
    const flaky = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === "uploadFile") {
          return async (...args: Parameters<ZenodoClient["uploadFile"]>) => {
            if (!dropped && String(args[1]).endsWith("fit.json")) {
              dropped = true;
              throw new ZenodoError({ code: "HTTP_CONNECTION", message: "The connection to Zenodo was reset while uploading fit.json.", hint: "Run the cell again to continue." });
            }
            return target.uploadFile(...args);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const flakyMagic = zenodoMagic(() => ({ zenodo: async () => flaky, provenance: session.provenance }));
    const first = testContext(cwd());
    const err = await fails(flakyMagic.run("deposit --publish --yes", first.ctx, body) as Promise<unknown>);
    expect(err.name).toBe("ZenodoError");
    expect(err.message).toBe("The connection to Zenodo was reset while uploading fit.json.\nRun the cell again to continue.");
    expect(String((first.rec.displays.at(-1)!.value as Record<string, unknown>)["text/plain"])).toMatch(/^✘ .*failed/);

    const v = (await flakyMagic.run("deposit --publish --yes", testContext(cwd()).ctx, body)) as { id: number; state: string; resumed: boolean; doi: string; files: Array<{ name: string; status: string }> };
    expect(v.resumed).toBe(true);
    expect(v.state).toBe("published");
    expect(v.files).toEqual([
      expect.objectContaining({ name: "mass.csv", status: "already uploaded" }),
      expect.objectContaining({ name: "fit.json", status: "uploaded" }),
    ]);
    const mine = (await client.listDepositions({ size: 100 })).filter((d) => d.metadata?.title === "Resumed deposit");
    expect(mine).toHaveLength(1);
    expect((await client.listFiles(v.id)).map((f) => f.filename).sort()).toEqual(["fit.json", "mass.csv"]);
  });

  it("stops cleanly on interrupt and a rerun continues the same deposition", async () => {
    const body = `${META.replace("Dimuon mass spectrum", "Interrupted deposit")}files:\n  - results/mass.csv\n`;
    const ac = new AbortController();
    ac.abort();
    const first = testContext(cwd(), { signal: ac.signal });
    const err = await fails(magic.run("deposit", first.ctx, body) as Promise<unknown>);
    expect(err.name).toBe("InterruptError");
    expect(String((first.rec.displays.at(-1)!.value as Record<string, unknown>)["text/plain"])).toMatch(/^■ .*interrupted[^]*Run the cell again to continue the same deposition/);
    const v = (await magic.run("deposit", testContext(cwd()).ctx, body)) as { id: number; state: string };
    expect(v.state).toBe("draft");
    expect((await client.listDepositions({ size: 100 })).filter((d) => d.metadata?.title === "Interrupted deposit")).toHaveLength(1);
  });

  it("validates deposit metadata before sending anything", async () => {
    const before = (await client.listDepositions({ size: 100 })).length;
    const err = await fails(magic.run("deposit", testContext(cwd()).ctx, "title: x\nfiles: [results/mass.csv]\n") as Promise<unknown>);
    expect(err.name).toBe("ZenodoError");
    expect(err.message).toMatch(/not valid/);
    expect(err.message).toMatch(/nothing was sent/);
    expect(err.stack).toBe(`${err.name}: ${err.message}`);
    expect((await client.listDepositions({ size: 100 })).length).toBe(before);
    const missing = await fails(magic.run("deposit", testContext(cwd()).ctx, `${META}files: [results/nope.csv]\n`) as Promise<unknown>);
    expect(missing).toBeInstanceOf(UsageError);
    expect(missing.message).toContain("results/nope.csv does not exist");
    const yaml = await fails(magic.run("deposit", testContext(cwd()).ctx, "title: [unclosed\n") as Promise<unknown>);
    expect(yaml).toBeInstanceOf(UsageError);
    expect(yaml.message).toMatch(/not valid YAML/);
  });

  it("create, upload, metadata, publish with confirmation, newversion", async () => {
    const created = (await magic.run("create", testContext(cwd()).ctx, META)) as { id: number; state: string };
    expect(created.state).toBe("unsubmitted");
    const id = created.id;
    const up = (await magic.run(`upload ${id} results/mass.csv`, testContext(cwd()).ctx)) as Array<{ name: string; md5: string }>;
    expect(up[0].name).toBe("mass.csv");
    expect(up[0].md5).toMatch(/^[0-9a-f]{32}$/);
    const meta = (await magic.run(`metadata ${id} --merge`, testContext(cwd()).ctx, "keywords: [dimuon, CMS]\nversion: 1.0.0\n")) as Record<string, unknown>;
    expect(meta.keywords).toEqual(["dimuon", "CMS"]);
    expect(meta.title).toBe("Dimuon mass spectrum");
    expect(String(bundleOf(meta)["text/plain"])).toContain("keywords");

    const no = testContext(cwd(), { answers: ["n"] });
    const declined = (await magic.run(`publish ${id}`, no.ctx)) as { published: boolean };
    expect(declined.published).toBe(false);
    expect(no.rec.prompts[0]).toMatchObject({ password: false });
    expect(no.rec.prompts[0].prompt).toMatch(/Publish "Dimuon mass spectrum" \(deposition \d+\) on local sandbox.*\[y\/N\]/);
    expect((await client.getDeposition(id)).submitted).toBe(false);

    const yes = testContext(cwd(), { answers: ["yes"] });
    const pub = (await magic.run(`publish ${id}`, yes.ctx)) as { doi: string; alreadyPublished: boolean; badge: string };
    expect(pub.alreadyPublished).toBe(false);
    expect(pub.doi).toMatch(/^10\.5072\//);
    expect(pub.badge).toContain(`https://doi.org/${pub.doi}`);
    expect(String(bundleOf(pub)["text/html"])).toContain(pub.doi);

    const third = testContext(cwd());
    const again = (await magic.run(`publish ${id}`, third.ctx)) as { alreadyPublished: boolean; doi: string };
    expect(again).toMatchObject({ alreadyPublished: true, doi: pub.doi });
    expect(third.rec.prompts).toHaveLength(0);

    // a frontend without stdin: a usage error that says to add --yes, and nothing is published
    const noStdin = testContext(cwd());
    noStdin.ctx.input = async () => {
      throw new Error("input() is not available: this frontend does not support stdin");
    };
    const other = (await magic.run("create", testContext(cwd()).ctx, META)) as { id: number };
    const refused = await fails(magic.run(`publish ${other.id}`, noStdin.ctx) as Promise<unknown>);
    expect(refused).toBeInstanceOf(UsageError);
    expect(refused.message).toMatch(/Cannot ask .* here .*Add --yes/);
    expect((await client.getDeposition(other.id)).submitted).toBe(false);
    await magic.run(`delete ${other.id} --yes`, testContext(cwd()).ctx);

    const nv = (await magic.run(`newversion ${id}`, testContext(cwd()).ctx)) as { id: number; submitted: boolean };
    expect(nv.id).not.toBe(id);
    expect(nv.submitted).toBe(false);
    const listed = (await magic.run("list --status draft", testContext(cwd()).ctx)) as Array<{ id: number }>;
    expect(listed.map((d) => d.id)).toContain(nv.id);
    await magic.run(`delete ${nv.id} --yes`, testContext(cwd()).ctx);
  });

  it("search and show published records, with --json giving plain data", async () => {
    const hits = (await magic.run("search dimuon", testContext(cwd()).ctx)) as Array<{ id: string; title: string; doi: string }>;
    expect(hits.length).toBeGreaterThan(0);
    expect(String(bundleOf(hits)["text/plain"])).toMatch(/Zenodo records matching "dimuon"/);
    const shown = (await magic.run(`show ${hits[0].id}`, testContext(cwd()).ctx)) as { id: unknown };
    expect(String(shown.id)).toBe(hits[0].id);
    const raw = (await magic.run("search dimuon --json", testContext(cwd()).ctx)) as unknown[];
    expect(bundleOf(raw)["application/json"]).toEqual(JSON.parse(JSON.stringify(hits)));
  });

  it("explains bad invocations", async () => {
    const { ctx } = testContext(cwd());
    expect((await fails(magic.run("publsh 3", ctx) as Promise<unknown>)).message).toMatch(/unknown verb "publsh". Did you mean publish\?/);
    expect((await fails(magic.run("form", ctx) as Promise<unknown>)).message).toMatch(/^%zenodo form: missing NAME\./);
    expect((await fails(magic.run("publish abc", ctx) as Promise<unknown>)).message).toMatch(/"abc" is not a deposition id/);
    expect((await fails(magic.run("publish 99999999999999999999", ctx) as Promise<unknown>)).message).toMatch(/^%zenodo publish: "99999999999999999999" is not a deposition id \(a number up to 2\^53, .*\nUsage: %zenodo publish ID /);
    expect((await fails(magic.run("deposit", ctx) as Promise<unknown>)).message).toMatch(/needs a cell body/);
    expect((await fails(magic.run("list", ctx, "x: 1") as Promise<unknown>)).message).toMatch(/takes no cell body/);
    const notFound = await fails(magic.run("metadata 999999", ctx) as Promise<unknown>);
    expect(notFound.name).toBe("ZenodoError");
    expect(notFound.stack).not.toMatch(/\n\s+at /);
    const help = await magic.run("help deposit", ctx);
    expect(String(bundleOf(help)["text/plain"])).toContain("Usage: %%zenodo deposit [--publish] [-y] [--new] [--no-record] [--new-version] [--json]");
    expect(String(bundleOf(await magic.run("", ctx))["text/plain"])).toContain("%zenodo help VERB");
  });
});
