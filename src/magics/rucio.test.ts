import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../session";
import { rucioMagic } from "./rucio";
import { UsageError, type MagicSpec } from "./types";
import { allOutput, bundleOf, testContext } from "./__tests__/harness";

let root: string;
let session: Session;
let magic: MagicSpec;
const notices: string[] = [];
const cwd = () => path.join(root, "nb");

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-rucio-magic-"));
  fs.mkdirSync(path.join(root, "nb"));
  // Nothing configured: the session serves every service from its embedded sandbox.
  session = new Session({ sandboxDir: path.join(root, "sandbox"), env: { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json") }, notice: (m) => notices.push(m) });
  magic = rucioMagic(() => session);
});

afterAll(async () => {
  await session?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function fails(p: unknown): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the magic to fail");
}

describe("%rucio against the sandbox, through the session", () => {
  it("ping and whoami; the session says once that it uses the local sandbox", async () => {
    const { ctx, rec } = testContext(cwd());
    const ping = (await magic.run("ping", ctx)) as { version: string };
    expect(ping.version).toBeTruthy();
    const who = (await magic.run("whoami", ctx)) as { account: string };
    expect(who.account).toBe("demo");
    expect(String(bundleOf(who)["text/html"])).toContain("demo");
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/using the local sandbox/);
    const sandbox = await session.sandbox();
    expect(allOutput(rec, ping, who)).not.toContain(sandbox.profiles.rucio.password);
  });

  it("discovers: scopes, RSEs, DID search with type and metadata filters, stat, metadata, content, files, parents", async () => {
    const ctx = testContext(cwd()).ctx;
    expect(await magic.run("list-scopes", ctx)).toEqual(expect.arrayContaining(["open", "user.demo"]));
    const rses = (await magic.run("list-rses", ctx)) as Array<{ rse: string }>;
    expect(rses.map((r) => r.rse)).toEqual(expect.arrayContaining(["SANDBOX-DISK1", "SANDBOX-DISK2"]));
    const colls = (await magic.run("list-dids open:dimuon* --long", ctx)) as Array<{ did: string; type: string }>;
    expect(colls.map((d) => d.did).sort()).toEqual(["open:dimuon-sim", "open:dimuon-sim.v1"]);
    expect(String(bundleOf(colls)["text/plain"])).toMatch(/did\s+type\s+size\s+files/);
    const hot = (await magic.run(`search 'open:*' --type file --filter "energy>7500"`, ctx)) as Array<{ name: string }>; // alias of list-dids
    expect(hot.map((d) => d.name).sort()).toEqual(["dimuon_run002.csv", "dimuon_run003.csv"]);
    const stat = (await magic.run("stat open:dimuon-sim.v1", ctx)) as { length: number; bytes: number };
    expect(stat.length).toBe(4);
    const meta = (await magic.run("get-metadata open:dimuon_run001.csv", ctx)) as Record<string, unknown>;
    expect(meta.run_number ?? meta.name).toBeTruthy();
    const content = (await magic.run("list-content open:dimuon-sim", ctx)) as Array<{ did: string }>;
    expect(content.map((c) => c.did)).toContain("open:dimuon-sim.v1");
    const files = (await magic.run("list-files open:dimuon-sim.v1", ctx)) as Array<{ did: string; adler32: string }>;
    expect(files).toHaveLength(4);
    expect(String(bundleOf(files)["text/plain"])).toMatch(/4 files, .* in total/);
    const parents = (await magic.run("list-parents open:dimuon_run001.csv", ctx)) as Array<{ did: string }>;
    expect(parents.map((p) => p.did)).toContain("open:dimuon-sim.v1");
    const reps = (await magic.run("list-file-replicas open:dimuon_run001.csv", ctx)) as Array<{ states: Record<string, string> }>;
    expect(reps[0].states["SANDBOX-DISK1"]).toBe("AVAILABLE");
  });

  it("downloads a dataset with live progress, verified checksums and provenance", async () => {
    const { ctx, rec } = testContext(cwd());
    const files = (await magic.run("download open:dimuon-sim.v1 --dir data", ctx)) as Array<{ did: string; path: string; adler32: string; bytes: number }>;
    expect(files).toHaveLength(4);
    for (const f of files) {
      expect(f.path.startsWith(path.join(cwd(), "data", "open"))).toBe(true);
      expect(fs.statSync(f.path).size).toBe(f.bytes);
    }
    expect(fs.readdirSync(path.join(cwd(), "data", "open")).some((n) => n.endsWith(".part"))).toBe(false);
    const progress = rec.displays.filter((d) => d.options.raw);
    expect(new Set(progress.map((d) => d.options.display_id)).size).toBe(1);
    const last = String((progress.at(-1)!.value as Record<string, unknown>)["text/plain"]);
    expect(last).toMatch(/^✔ Downloading open:dimuon-sim.v1: done/);
    expect(last).toContain("4/4 files");
    expect(last).toContain("4 files verified");
    const reads = session.provenance.entries({ action: "read", service: "rucio" });
    expect(reads.map((e) => e.id).sort()).toEqual(files.map((f) => f.did).sort());
    expect(reads[0].checksums?.adler32).toMatch(/^[0-9a-f]{8}$/);
    expect(reads[0].paths?.[0]).toContain(path.join("data", "open"));
  });

  it("an interrupted download stops cleanly, leaves no partial file under a final name, and a rerun completes", async () => {
    const ac = new AbortController();
    const first = testContext(cwd(), { signal: ac.signal, onDisplay: () => ac.abort() });
    const err = await fails(magic.run("download open:dimuon-sim.v1 --dir interrupted", first.ctx));
    expect(err.name).toBe("InterruptError");
    const last = String((first.rec.displays.at(-1)!.value as Record<string, unknown>)["text/plain"]);
    expect(last).toMatch(/^■ Downloading open:dimuon-sim.v1: interrupted/);
    expect(last).toContain("No partial file is left under its final name");
    const sizes = new Map(((await magic.run("list-files open:dimuon-sim.v1", testContext(cwd()).ctx)) as Array<{ name: string; bytes: number }>).map((f) => [f.name, f.bytes]));
    const dir = path.join(cwd(), "interrupted", "open");
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (sizes.has(f)) expect(fs.statSync(path.join(dir, f)).size).toBe(sizes.get(f));
    }
    const files = (await magic.run("download open:dimuon-sim.v1 --dir interrupted", testContext(cwd()).ctx)) as Array<{ path: string; bytes: number }>;
    expect(files).toHaveLength(4);
    for (const f of files) expect(fs.statSync(f.path).size).toBe(f.bytes);
  });

  it("make-available --wait replicates to the destination RSE and returns the mounted paths", async () => {
    const { ctx, rec } = testContext(cwd());
    const paths = (await magic.run("make-available open:dimuon-sim.v1 --wait", ctx)) as string[];
    expect(paths).toHaveLength(4);
    for (const p of paths) expect(fs.existsSync(p), `${p} exists`).toBe(true);
    const last = String((rec.displays.filter((d) => d.options.raw).at(-1)!.value as Record<string, unknown>)["text/plain"]);
    expect(last).toMatch(/^✔ Making open:dimuon-sim.v1 available on SANDBOX-DISK2: OK/);
    const again = (await magic.run("paths open:dimuon-sim.v1", testContext(cwd()).ctx)) as string[];
    expect(again).toEqual(paths);
    expect(String(bundleOf(again)["text/plain"])).toContain("readable here");
    // a second make-available reuses the rule
    const rule = (await magic.run("make-available open:dimuon-sim.v1", testContext(cwd()).ctx)) as { id: string; state: string };
    expect(rule.state).toBe("OK");
    const rules = (await magic.run("list-rules open:dimuon-sim.v1", testContext(cwd()).ctx)) as Array<{ id: string }>;
    expect(rules.filter((r) => r.id === rule.id)).toHaveLength(1);
    const info = (await magic.run(`rule-info ${rule.id}`, testContext(cwd()).ctx)) as { state: string };
    expect(info.state).toBe("OK");
  });

  it("add-rule, delete-rule, upload to the user's scope", async () => {
    fs.mkdirSync(path.join(cwd(), "results"), { recursive: true });
    fs.writeFileSync(path.join(cwd(), "results", "mass.csv"), "m,n\n91.2,3\n");
    const up = (await magic.run("upload results/mass.csv --rse SANDBOX-DISK1 --dataset user.demo:results", testContext(cwd()).ctx)) as Array<{ did: string; adler32: string }>;
    expect(up[0].did).toBe("user.demo:mass.csv");
    const writes = session.provenance.entries({ action: "write", service: "rucio" });
    expect(writes.at(-1)).toMatchObject({ id: "user.demo:mass.csv", checksums: { adler32: up[0].adler32 } });
    const ids = (await magic.run("add-rule user.demo:results 1 SANDBOX-DISK2 --lifetime 3600 --comment test", testContext(cwd()).ctx)) as string[];
    expect(ids).toHaveLength(1);
    await magic.run(`delete-rule ${ids[0]}`, testContext(cwd()).ctx);
  });

  it("turns failures into one clear paragraph and argument mistakes into usage errors", async () => {
    const ctx = testContext(cwd()).ctx;
    const nf = await fails(magic.run("stat open:no-such-thing", ctx));
    expect(nf.name).toBe("RucioError");
    expect(nf.stack).toBe(`${nf.name}: ${nf.message}`);
    expect((nf as { code?: string }).code).toMatch(/NOT_FOUND/);
    const denied = await fails(magic.run("upload results/mass.csv --rse SANDBOX-DISK1 --scope open", ctx));
    expect(denied.name).toBe("RucioError");
    const e1 = await fails(magic.run("stat dimuon", ctx));
    expect(e1).toBeInstanceOf(UsageError);
    expect(e1.message).toMatch(/not a DID; write scope:name/);
    expect((await fails(magic.run("list-dids open:* --typ file", ctx))).message).toContain("Did you mean --type?");
    expect((await fails(magic.run("add-rule open:x two SANDBOX-DISK2", ctx))).message).toMatch(/COPIES expects an integer/);
    expect((await fails(magic.run("browse nocolon", ctx))).message).toMatch(/write SCOPE:PATTERN/);
    expect((await fails(magic.run("upload results/mass.csv", ctx))).message).toMatch(/missing required option --rse RSE/);
    expect((await fails(magic.run("downlod open:x", ctx))).message).toMatch(/Did you mean download\?/);
    const badFilter = await fails(magic.run(`list-dids open:* --filter "energy"`, ctx));
    expect(badFilter.message).toMatch(/no operator/);
  });
});
