import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zenodoInstance } from "../clients/zenodo/instance";
import { Session } from "../session";
import { domainMagics, registerDomainMagics } from "./domain";
import type { MagicSpec } from "./types";
import { allOutput, bundleOf, testContext } from "./__tests__/harness";

let root: string;
let session: Session;
let magics: Record<string, MagicSpec>;
const cwd = () => path.join(root, "nb");

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-vre-magic-"));
  fs.mkdirSync(path.join(root, "nb"));
  session = new Session({ sandboxDir: path.join(root, "sandbox"), env: { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json") }, notice: () => {} });
  magics = Object.fromEntries(domainMagics({ session: () => session }).map((m) => [m.name, m]));
});

afterAll(async () => {
  await session?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("registerDomainMagics", () => {
  it("registers %rucio, %reana, %zenodo and %vre with help text", () => {
    const seen: MagicSpec[] = [];
    registerDomainMagics((s) => seen.push(s), { session: () => session });
    expect(seen.map((s) => s.name)).toEqual(["rucio", "reana", "zenodo", "vre"]);
    expect(seen.map((s) => s.kind)).toEqual(["line", "both", "both", "line"]);
    for (const s of seen) {
      expect(s.usage).toContain(`%${s.name} help VERB`);
      expect(s.examples?.length).toBeGreaterThan(0);
      expect(s.summary.length).toBeGreaterThan(10);
    }
  });
});

describe("%vre against the sandbox, through the session", () => {
  it("status: one row per service, reachable, with identity", async () => {
    const { ctx, rec } = testContext(cwd());
    const rows = (await magics.vre.run("status", ctx)) as Array<{ service: string; reachable: boolean; identity?: string; kind: string; problem?: string }>;
    expect(rows.map((r) => r.service)).toEqual(["rucio", "reana", "zenodo"]);
    for (const r of rows) {
      expect(r.problem).toBeUndefined();
      expect(r.reachable).toBe(true);
      expect(r.kind).toBe("sandbox");
    }
    expect(rows[0].identity).toBe("demo");
    const sb = await session.sandbox();
    const out = allOutput(rec, rows);
    for (const secret of [sb.profiles.rucio.password, sb.profiles.reana.accessToken, sb.profiles.zenodo.token]) expect(out).not.toContain(secret);
  });

  it("profiles and use", async () => {
    const rows = (await magics.vre.run("profiles", testContext(cwd()).ctx)) as Array<{ service: string; name: string; active: boolean; kind: string }>;
    expect(rows.filter((r) => r.active).map((r) => `${r.service}:${r.name}`)).toEqual(["rucio:sandbox", "reana:sandbox", "zenodo:sandbox"]);
    const now = (await magics.vre.run("use sandbox", testContext(cwd()).ctx)) as unknown[];
    expect(String(bundleOf(now)["text/plain"])).toContain("Now using profile sandbox");
    const bad = await (async () => {
      try {
        await magics.vre.run("use nosuchprofile", testContext(cwd()).ctx);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(bad?.message).toMatch(/nosuchprofile/);
    session.use("default");
  });

  it("login asks with hidden prompts, verifies, and never shows or keeps the secret in output", async () => {
    const sb = await session.sandbox();
    const { ctx, rec } = testContext(cwd(), { answers: ["demo", sb.profiles.rucio.password] });
    const v = await magics.vre.run("login rucio", ctx);
    expect(rec.prompts.map((p) => p.password)).toEqual([false, true]);
    expect(String(bundleOf(v)["text/plain"])).toMatch(/Logged in to rucio at .* as demo/);
    const z = testContext(cwd(), { answers: [sb.profiles.zenodo.token] });
    await magics.vre.run("login zenodo", z.ctx);
    expect(z.rec.prompts).toEqual([{ prompt: "Zenodo personal access token: ", password: true }]);
    // a wrong token is reported without echoing it
    const wrong = "wrong-token-1234567890";
    const w = testContext(cwd(), { answers: [wrong] });
    const err = await (async () => {
      try {
        await magics.vre.run("login reana", w.ctx);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/login at .* failed: .*\n.*previous credentials stay in use/);
    // the previous token still works
    expect(((await magics.reana.run("whoami", testContext(cwd()).ctx)) as { tokenStatus?: string })).toBeTruthy();
    expect(allOutput(w.rec, err, v)).not.toContain(wrong);
  });

  it("provenance lists what the notebook read, ran and published, as a table or --json", async () => {
    session.provenance.record({ action: "read", kind: "did", service: "rucio", id: "open:dimuon_run001.csv", checksums: { adler32: "1dec3e2c" }, paths: ["/tmp/x.csv"] });
    session.provenance.record({ action: "publish", kind: "deposit", service: "zenodo", id: "7", doi: "10.5072/zenodo.7" });
    const all = (await magics.vre.run("provenance", testContext(cwd()).ctx)) as Array<{ id: string }>;
    expect(all.length).toBeGreaterThanOrEqual(2);
    const text = String(bundleOf(all)["text/plain"]);
    expect(text).toContain("adler32:1dec3e2c");
    expect(text).toContain("10.5072/zenodo.7");
    const pub = (await magics.vre.run("provenance --action publish --json", testContext(cwd()).ctx)) as Array<{ doi: string }>;
    expect(pub.map((p) => p.doi)).toContain("10.5072/zenodo.7");
    expect(bundleOf(pub)["application/json"]).toBeTruthy();
  });

  it("provenance survives a kernel restart: the history comes back from the file next to the notebook, by session", async () => {
    const notebook = path.join(cwd(), "restart.ipynb");
    fs.writeFileSync(notebook, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", source: "%vre provenance", metadata: {}, outputs: [] }] }));
    const env = { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json"), VRE_TS_NOTEBOOK: notebook };
    const before = new Session({ sandboxDir: path.join(root, "sandbox"), env, notice: () => {} });
    before.provenance.record({ action: "read", kind: "did", service: "rucio", id: "open:before-restart", checksums: { adler32: "0badf00d" } });
    const after = new Session({ sandboxDir: path.join(root, "sandbox"), env, notice: () => {} });
    after.provenance.record({ action: "run", kind: "workflow", service: "reana", id: "after-restart" });
    const own = Object.fromEntries(domainMagics({ session: () => after }).map((m) => [m.name, m]));
    const rows = (await own.vre.run("provenance", testContext(cwd()).ctx)) as Array<{ id: string; session: string }>;
    expect(rows.map((r) => r.id)).toEqual(["open:before-restart", "after-restart"]);
    const text = String(bundleOf(rows)["text/plain"]);
    expect(text).toMatch(/2 kernel sessions/);
    expect(text).toMatch(/S1 .*\n.*S2 /s);
    expect(text).toMatch(/S1 started .* on restart\.ipynb: vre-ts \d+\.\d+\.\d+, tslab [\d.]+, TypeScript [\d.]+, Node v\d+/);
    expect(text).toContain(path.join(cwd(), "restart.provenance.jsonl"));
    // In HTML the session lines and the "Kept in" note are separate lines, not one run-on sentence.
    const notes = [...String(bundleOf(rows)["text/html"]).matchAll(/<div style="opacity:0.7;font-size:0.85em">([^<]*)<\/div>/g)].map((m) => m[1]);
    expect(notes).toHaveLength(3);
    expect(notes[0]).toMatch(/^S1 started .* on restart\.ipynb: /);
    expect(notes[0]).not.toContain("Kept");
    expect(notes[1]).toMatch(/^S2 started /);
    expect(notes[2]).toMatch(/^Kept in .*restart\.provenance\.jsonl/);
    await before.close();
    await after.close();
  });
});

describe("profile labels say what each endpoint really is", () => {
  let configured: Session;
  let cfgPath: string;
  let sandboxUrls: Record<string, string>;

  beforeAll(async () => {
    const sb = await session.sandbox();
    sandboxUrls = { rucio: sb.profiles.rucio.host, reana: sb.profiles.reana.serverUrl, zenodo: sb.profiles.zenodo.baseUrl };
    // A real-looking configuration: Rucio from a rucio.cfg, Zenodo at a custom URL (here the sandbox's Zenodo reached
    // as any Zenodo-compatible service would be), REANA not configured.
    cfgPath = path.join(root, "etc", "rucio.cfg");
    fs.mkdirSync(path.dirname(cfgPath), { recursive: true });
    fs.writeFileSync(
      cfgPath,
      `[client]\nrucio_host = ${sb.profiles.rucio.host}\nauth_host = ${sb.profiles.rucio.authHost ?? sb.profiles.rucio.host}\nauth_type = userpass\nusername = ${sb.profiles.rucio.username}\npassword = ${sb.profiles.rucio.password}\naccount = demo\n`,
    );
    configured = new Session({
      sandboxDir: path.join(root, "sandbox"),
      env: { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json"), RUCIO_CONFIG: cfgPath, ZENODO_URL: sb.profiles.zenodo.baseUrl, ZENODO_TOKEN: sb.profiles.zenodo.token },
      notice: () => {},
    });
  });

  afterAll(async () => {
    await configured?.close();
  });

  const vre = () => Object.fromEntries(domainMagics({ session: () => configured }).map((m) => [m.name, m])).vre;

  it("a profile read from rucio.cfg is named by that file, with its path", async () => {
    const rows = (await vre().run("status", testContext(cwd()).ctx)) as Array<{ service: string; profile: string; kind: string; source?: string; identity?: string; problem?: string }>;
    const rucio = rows.find((r) => r.service === "rucio")!;
    expect(rucio.problem).toBeUndefined();
    expect(rucio.identity).toBe("demo");
    expect(rucio.profile).toBe(`rucio.cfg (${cfgPath})`);
    expect(rucio.source).toBe(`rucio.cfg (${cfgPath})`);
    expect(rucio.kind).toBe("real");
    expect(String(bundleOf(rows)["text/plain"])).toContain(cfgPath);
    expect(rows.find((r) => r.service === "reana")).toMatchObject({ profile: "sandbox", kind: "sandbox" });
  });

  it("a custom ZENODO_URL is a Zenodo-compatible service at its host, never Zenodo production", async () => {
    const rows = (await vre().run("status", testContext(cwd()).ctx)) as Array<{ service: string; profile: string; identity?: string; source?: string; problem?: string }>;
    const zenodo = rows.find((r) => r.service === "zenodo")!;
    expect(zenodo.problem).toBeUndefined();
    expect(zenodo.profile).toBe("environment");
    expect(zenodo.source).toBe("environment (ZENODO_URL)");
    expect(zenodo.identity).toBe(`token valid (Zenodo-compatible service at ${new URL(sandboxUrls.zenodo).hostname})`);
    const text = JSON.stringify(bundleOf(rows));
    expect(text).not.toMatch(/production/i);
    const ping = (await Object.fromEntries(domainMagics({ session: () => configured }).map((m) => [m.name, m])).zenodo.run("ping", testContext(cwd()).ctx)) as { instance: string };
    expect(ping.instance).not.toMatch(/PRODUCTION|sandbox/);
    expect(ping.instance).toContain("Zenodo-compatible service, not zenodo.org");
  });

  it("%vre use sandbox shows the sandbox's own endpoints as sandbox, and the configured ones apart", async () => {
    const now = (await vre().run("use sandbox", testContext(cwd()).ctx)) as Array<{ service: string; name: string; endpoint: string; kind: string; active: boolean }>;
    try {
      expect(now.map((r) => `${r.service}:${r.name}:${r.kind}`)).toEqual(["rucio:sandbox:sandbox", "reana:sandbox:sandbox", "zenodo:sandbox:sandbox"]);
      for (const r of now) expect(r.endpoint, r.service).toBe(sandboxUrls[r.service]);
      const all = (await vre().run("profiles", testContext(cwd()).ctx)) as Array<{ service: string; name: string; endpoint: string; kind: string; active: boolean; source: string }>;
      const cfgRow = all.find((r) => r.service === "rucio" && r.name.startsWith("rucio.cfg"))!;
      expect(cfgRow).toMatchObject({ active: false, kind: "real", source: `rucio.cfg (${cfgPath})` });
      const sandboxRows = all.filter((r) => r.name === "sandbox");
      expect(sandboxRows.every((r) => r.active && r.kind === "sandbox" && r.endpoint === sandboxUrls[r.service])).toBe(true);
      // every row that calls itself the sandbox is the embedded one
      for (const r of all) if (r.kind === "sandbox") expect(r.endpoint).toBe(sandboxUrls[r.service]);
    } finally {
      configured.use("default");
    }
    const back = configured.profiles().filter((r) => r.active);
    expect(back.map((r) => `${r.service}:${r.name}`)).toEqual([`rucio:rucio.cfg (${cfgPath})`, "reana:sandbox", "zenodo:environment"]);
  });

  it("instance labels follow the base URL", () => {
    expect(zenodoInstance({ baseUrl: "https://zenodo.org/api", sandbox: false })).toMatchObject({ kind: "production" });
    expect(zenodoInstance({ baseUrl: "https://sandbox.zenodo.org/api", sandbox: true })).toMatchObject({ kind: "sandbox" });
    expect(zenodoInstance({ baseUrl: "https://data.lab.example/api", sandbox: false })).toMatchObject({ kind: "custom", short: "Zenodo-compatible service at data.lab.example" });
    expect(zenodoInstance({ baseUrl: "https://zenodo.org/api", sandbox: true })).toMatchObject({ kind: "production" });
  });
});

