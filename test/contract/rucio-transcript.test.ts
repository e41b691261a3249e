/**
 * The Rucio client against the recorded behaviour of a real Rucio 35.8.0 server, replayed byte for byte
 * on loopback. Tests run in the transcript's order (the recorded server state evolves: rules are created,
 * metadata set, a rule deleted).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RucioClient, RucioError, parseDid } from "../../src/clients/rucio";
import { clearSecrets } from "../../src/clients/http/redact";
import { RucioReplay } from "./rucio-replay";

let replay: RucioReplay;
let rucio: RucioClient;
const logs: string[] = [];

beforeAll(async () => {
  replay = new RucioReplay();
  const url = await replay.start();
  rucio = new RucioClient(
    { host: url, username: "ddmlab", password: "secret", account: "root" },
    { logger: (level, m) => logs.push(`${level} ${m}`), retry: { retries: 0 } },
  );
});

afterAll(async () => {
  await rucio?.close();
  await replay?.close();
  clearSecrets();
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function rejects(p: Promise<unknown>): Promise<RucioError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RucioError);
    return e as RucioError;
  }
  throw new Error("expected a RucioError");
}

describe("transcript parsing", () => {
  it("reads all 90 responses with their status codes", () => {
    expect(replay.sections).toHaveLength(90);
    const count = (s: number) => replay.sections.filter((x) => x.status === s).length;
    expect([count(200), count(201), count(401), count(409), count(500), count(303), count(404), count(405), count(400)]).toEqual([46, 25, 5, 4, 3, 2, 2, 2, 1]);
    expect(replay.jdoeToken).toMatch(/^jdoe-jdoe-unknown-/);
  });
});

describe("Rucio 35.8.0 recorded exchanges", () => {
  it("authenticates with userpass (bad password → RUCIO_AUTH with a hint, no secret in the message)", async () => {
    const bad = new RucioClient({ host: replay.url, username: "ddmlab", password: "wrongpw1", account: "root" }, { retry: { retries: 0 } });
    const e = await rejects(bad.scopes.list());
    expect(e.code).toBe("RUCIO_AUTH");
    expect(e.status).toBe(401);
    expect(e.exceptionClass).toBe("CannotAuthenticate");
    expect(e.exceptionMessage).toBe("Cannot authenticate to account root with given credentials");
    expect(e.hint).toMatch(/credentials/);
    expect(`${e.message} ${e.hint} ${e.stack}`).not.toContain("wrongpw1");
    await bad.close();
  });

  it("whoami without a valid token → 401 CannotAuthenticate (bad token cannot be renewed)", async () => {
    const c = new RucioClient({ host: replay.url, token: "root-ddmlab-nope" }, { retry: { retries: 0 } });
    const e = await rejects(c.whoami());
    expect(e.code).toBe("RUCIO_AUTH");
    expect(e.exceptionClass).toBe("CannotAuthenticate");
    await c.close();
  });

  it("whoami follows the 303 to the account (relative Location) and parses ISO dates", async () => {
    const me = await rucio.whoami();
    expect(me.account).toBe("root");
    expect(me.account_type).toBe("SERVICE");
    expect(me.created_at?.toISOString()).toBe("2026-11-25T02:44:29.000Z");
    const used = replay.requests.filter((r) => r.target.startsWith("/accounts/") && r.headers["x-rucio-auth-token"] === replay.rootToken);
    expect(used.map((r) => r.target)).toEqual(["/accounts/whoami", "/accounts/root"]);
    expect(replay.requests.find((r) => r.target === "/auth/userpass")?.headers["accept"]).toBe("*/*");
  });

  it("admin writes answer 201 Created as text/html", async () => {
    expect(await rucio.base.call({ method: "POST", path: "accounts/jdoe", json: { type: "USER", email: "jdoe@localhost" }, what: "add account" })).toBe(201);
    expect(
      await rucio.base.call({
        method: "POST",
        path: "accounts/jdoe/identities",
        json: { identity: "jdoe", authtype: "USERPASS", email: "jdoe@localhost", password: "jdoepw", default: true },
        what: "add identity",
      }),
    ).toBe(201);
    await rucio.scopes.add("root", "test");
    await rucio.scopes.add("jdoe", "user.jdoe");
  });

  it("lists scopes (all and per account)", async () => {
    expect(await rucio.scopes.list()).toEqual(["test", "user.jdoe"]);
    expect(await rucio.scopes.forAccount("jdoe")).toEqual(["user.jdoe"]);
  });

  it("RSE setup; the master-only limits route answers 405 → RUCIO_NOT_SUPPORTED", async () => {
    const b = rucio.base;
    await b.call({ method: "POST", path: "rses/POSIX1", json: { deterministic: true, volatile: false, rse_type: "DISK", city: "Geneva" }, what: "add RSE" });
    await b.call({ method: "POST", path: "rses/POSIX2", json: { deterministic: true, volatile: false, rse_type: "DISK" }, what: "add RSE" });
    for (const [rse, prefix] of [["POSIX1", "/srv/rucio/rse/posix1/"], ["POSIX2", "/srv/rucio/rse/posix2/"]]) {
      await b.call({
        method: "POST",
        path: `rses/${rse}/protocols/file`,
        json: {
          scheme: "file",
          hostname: "localhost",
          port: 0,
          prefix,
          impl: "rucio.rse.protocols.posix.Default",
          domains: { lan: { read: 1, write: 1, delete: 1 }, wan: { read: 1, write: 1, delete: 1, third_party_copy_read: 1, third_party_copy_write: 1 } },
        },
        what: "add protocol",
      });
    }
    await b.call({ method: "POST", path: "rses/POSIX1/attr/site", json: { value: "CERN" }, what: "set attribute" });
    await b.call({ method: "POST", path: "rses/POSIX2/attr/site", json: { value: "VRE" }, what: "set attribute" });
    await b.call({ method: "POST", path: "accountlimits/local/root/POSIX1", json: { bytes: 1e9 }, what: "set limit" });
    await b.call({ method: "POST", path: "accountlimits/local/root/POSIX2", json: { bytes: 1e9 }, what: "set limit" });
    for (const rse of ["POSIX1", "POSIX2"]) {
      const e = await rejects(b.call({ method: "POST", path: `accounts/root/limits/local/${rse}`, json: { bytes: 1e9 }, what: `set the limit on ${rse}` }));
      expect(e.code).toBe("RUCIO_NOT_SUPPORTED");
      expect(e.status).toBe(405);
    }
    expect(await rucio.accounts.limits("root")).toEqual({ POSIX1: 1000000000, POSIX2: 1000000000 });
  });

  it("lists RSEs: full dicts without an expression, names only with one; bad expression → 400", async () => {
    const all = await collect(rucio.rses.list());
    expect(all.map((r) => r.rse)).toEqual(["POSIX1", "POSIX2"]);
    expect(all[0].city).toBe("Geneva");
    expect(all[0].created_at).toBeInstanceOf(Date);
    expect(await rucio.rses.expand("site=VRE")).toEqual(["POSIX2"]);
    expect(await rucio.rses.expand("rse_type=DISK\\site=VRE")).toEqual(["POSIX1"]);
    const e = await rejects(rucio.rses.expand("bogus=="));
    expect(e.code).toBe("RUCIO_INVALID_RSE_EXPRESSION");
    expect(e.status).toBe(400);
  });

  it("reads RSE details, attributes and protocols", async () => {
    const info = await rucio.rses.get("POSIX1");
    expect(info.protocols[0]).toMatchObject({ scheme: "file", prefix: "/srv/rucio/rse/posix1/" });
    expect(info.deterministic).toBe(true);
    expect(await rucio.rses.attributes("POSIX1")).toEqual({ POSIX1: true, city: "Geneva", site: "CERN" });
    const protos = await rucio.rses.protocols("POSIX1");
    expect(protos).toHaveLength(1);
    expect(protos[0].domains?.wan?.write).toBe(1);
  });

  it("creates collections; a duplicate is 409 RUCIO_ALREADY_EXISTS (or ignored on request)", async () => {
    expect(await rucio.dids.addContainer("test:container1")).toBe(true);
    expect(await rucio.dids.addDataset("test:dataset1", { meta: { project: "vre" } })).toBe(true);
    const e = await rejects(rucio.dids.addDataset("test:dataset1"));
    expect(e.code).toBe("RUCIO_ALREADY_EXISTS");
    expect(e.status).toBe(409);
    expect(e.exceptionClass).toBe("DataIdentifierAlreadyExists");
  });

  it("registers replicas and attaches content; an invalid attachment is a 500 InvalidObject", async () => {
    await rucio.replicas.add("POSIX1", [
      { scope: "test", name: "file1.root", bytes: 1000, adler32: "52590737", md5: "fd21ce524a9e45060fd3f62c4ef6a386" },
      { scope: "test", name: "file2.root", bytes: 2000, adler32: "0cc737eb" },
    ]);
    await rucio.dids.attach("test:dataset1", ["test:file1.root", "test:file2.root"]);
    await rucio.dids.attach("test:container1", ["test:dataset1"]);
    await rucio.base.call({ method: "POST", path: "dids", json: [{ scope: "test", name: "dataset2", type: "DATASET" }], what: "bulk add" });
    await rucio.replicas.add("POSIX2", [{ scope: "test", name: "file3.root", bytes: 3000, adler32: "deadbeef" }]);
    await rucio.base.call({ method: "POST", path: "dids/attachments", json: { attachments: [{ scope: "test", name: "dataset2", dids: [{ scope: "test", name: "file3.root" }] }] }, what: "attach" });
    const e = await rejects(
      rucio.base.call({ method: "POST", path: "dids/attachments", json: { attachments: [{ scope: "test", name: "dataset2", dids: [] }] }, what: "attach nothing" }),
    );
    expect(e.code).toBe("RUCIO_INVALID_REQUEST");
    expect(e.status).toBe(500);
    // The full message comes from the body (the header copy is cut at 125 characters).
    expect(e.exceptionMessage!.length).toBeGreaterThan(1000);
    expect(e.message.length).toBeLessThan(500);
    await rucio.dids.close("test:dataset2");
  });

  it("searches with long results, wildcards, metadata filters, and empty streams", async () => {
    const all = await collect(rucio.dids.search("test", { type: "all" }));
    expect(all.map((d) => `${d.name}:${d.type}`)).toEqual([
      "container1:CONTAINER",
      "dataset1:DATASET",
      "dataset2:DATASET",
      "file1.root:FILE",
      "file2.root:FILE",
      "file3.root:FILE",
    ]);
    expect(all[2]).toMatchObject({ bytes: 3000, length: 1 });
    const names = await collect(rucio.dids.search("test", { type: "collection", name: "data*", long: false }));
    expect(names).toEqual([
      { scope: "test", name: "dataset1" },
      { scope: "test", name: "dataset2" },
    ]);
    const filtered = await collect(rucio.dids.search("test", { type: "dataset", filters: "name=*,project=vre" }));
    expect(filtered.map((d) => d.name)).toEqual(["dataset1"]);
    const byLength = await collect(rucio.dids.search("test", { type: "file", long: false, filters: "length>0" }));
    expect(byLength).toEqual([]);
    // The exact filters sent: Python literal, not JSON.
    const sent = replay.requests.filter((r) => r.target.includes("/dids/search")).map((r) => new URL(r.target, "http://x").searchParams.get("filters"));
    expect(sent).toEqual(["[{'name': '*'}]", "[{'name': 'data*'}]", "[{'name': '*', 'project': 'vre'}]", "[{'length.gt': 0}]"]);
    const e = await rejects(collect(rucio.dids.search("test", { type: "bogus" as never })));
    expect(e.code).toBe("RUCIO_UNSUPPORTED_OPERATION");
    expect(e.status).toBe(409);
  });

  it("reads DID details (with dynamic depth) and files' checksums; a missing DID is RUCIO_DID_NOT_FOUND", async () => {
    const ds = await rucio.dids.get("test:dataset1");
    expect(ds).toMatchObject({ type: "DATASET", open: true, bytes: null });
    expect(await rucio.dids.get("test:dataset1", { dynamicDepth: "FILE" })).toMatchObject({ length: 2, bytes: 3000 });
    expect(await rucio.dids.get("test:file1.root")).toMatchObject({ type: "FILE", adler32: "52590737", md5: "fd21ce524a9e45060fd3f62c4ef6a386" });
    const e = await rejects(rucio.dids.get("test:nonexistent"));
    expect(e.code).toBe("RUCIO_DID_NOT_FOUND");
    expect(e.status).toBe(404);
    expect(e.hint).toMatch(/scope and name/);
  });

  it("lists content, files and parents", async () => {
    const content = await collect(rucio.dids.content("test:dataset1"));
    expect(content.map((c) => [c.name, c.type, c.md5])).toEqual([
      ["file1.root", "FILE", "fd21ce524a9e45060fd3f62c4ef6a386"],
      ["file2.root", "FILE", null],
    ]);
    expect((await collect(rucio.dids.content("test:container1")))[0]).toMatchObject({ name: "dataset1", type: "DATASET" });
    expect((await collect(rucio.dids.files("test:container1"))).map((f) => f.adler32)).toEqual(["52590737", "0cc737eb"]);
    expect((await collect(rucio.dids.files("test:dataset1", { long: true })))[0]).toHaveProperty("lumiblocknr", null);
    expect(await collect(rucio.dids.parents("test:file1.root"))).toEqual([{ scope: "test", name: "dataset1", type: "DATASET" }]);
  });

  it("reads and sets metadata; plugin=JSON on SQLite is a bare 500 → RUCIO_SERVER", async () => {
    const meta = await rucio.dids.meta("test:dataset1");
    expect(meta.project).toBe("vre");
    expect(meta.created_at).toBeInstanceOf(Date);
    expect(meta.did_type).toBe("DATASET");
    await rucio.dids.setMeta("test:dataset1", "run_number", 42);
    await rucio.dids.setMetadata("test:dataset1", { datatype: "AOD", campaign: "test2026" });
    expect(await rucio.dids.meta("test:dataset1")).toMatchObject({ datatype: "AOD", campaign: "test2026" });
    for (const plugin of ["JSON", "ALL"] as const) {
      const e = await rejects(rucio.dids.meta("test:dataset1", { plugin }));
      expect(e.code).toBe("RUCIO_SERVER");
      expect(e.status).toBe(500);
      expect(e.exceptionClass).toBeUndefined();
    }
    const roots = await collect(rucio.dids.listScope("test"));
    expect(roots.map((d) => d.name)).toEqual(["container1", "dataset2"]);
  });

  it("lists replicas (PFNs, states, checksums), as Metalink, and an unknown DID as empty", async () => {
    const reps = await collect(rucio.replicas.list("test:dataset1"));
    expect(reps).toHaveLength(2);
    expect(reps[0]).toMatchObject({ name: "file1.root", bytes: 1000, adler32: "52590737", states: { POSIX1: "AVAILABLE" } });
    expect(reps[0].pfns[0]).toMatchObject({ pfn: "file://localhost/srv/rucio/rse/posix1/test/30/ab/file1.root", rse: "POSIX1", priority: 1 });
    expect(reps[1].md5).toBeNull();
    const file = await collect(rucio.replicas.list("test:dataset1", { schemes: ["file"], allStates: true }));
    expect(file).toHaveLength(2);
    const ml = await rucio.replicas.metalink("test:container1", { rseExpression: "POSIX1" });
    expect(ml).toEqual([
      {
        scope: "test",
        name: "file1.root",
        bytes: 1000,
        adler32: "52590737",
        md5: "fd21ce524a9e45060fd3f62c4ef6a386",
        urls: [{ pfn: "file://localhost/srv/rucio/rse/posix1/test/30/ab/file1.root", rse: "POSIX1", domain: "wan", priority: 1 }],
      },
      { scope: "test", name: "file2.root", bytes: 2000, adler32: "0cc737eb", urls: [{ pfn: "file://localhost/srv/rucio/rse/posix1/test/cc/67/file2.root", rse: "POSIX1", domain: "wan", priority: 1 }] },
    ]);
    expect(replay.requests.at(-1)?.headers["accept"]).toBe("application/metalink4+xml");
    expect(await collect(rucio.replicas.list("test:nonexistent"))).toEqual([]);
    expect((await collect(rucio.replicas.forDid("test:dataset1"))).map((r) => r.name)).toEqual(["file1.root", "file2.root"]);
    expect(await collect(rucio.replicas.datasets("test:dataset1"))).toEqual([]);
  });

  it("creates rules (JSON answer sent as text/html); duplicates and bad expressions are 409", async () => {
    expect(await rucio.rules.create({ dids: "test:dataset1", rseExpression: "POSIX1", grouping: "DATASET", lifetime: 86400 })).toEqual(["0077836a3b664d46909ebbbdda773e35"]);
    expect(await rucio.rules.create({ dids: "test:dataset1", rseExpression: "POSIX2", grouping: "DATASET", comment: "make available" })).toEqual([
      "53a506855d384aef93a607e53c086dec",
    ]);
    const dup = await rejects(rucio.rules.create({ dids: "test:dataset1", rseExpression: "POSIX2" }));
    expect(dup.code).toBe("RUCIO_DUPLICATE_RULE");
    const nope = await rejects(rucio.rules.create({ dids: "test:dataset1", rseExpression: "NOPE" }));
    expect(nope.code).toBe("RUCIO_INVALID_RSE_EXPRESSION");
    expect(nope.status).toBe(409);
    // Each create was sent exactly once.
    expect(replay.requests.filter((r) => r.target === "/rules/" && r.method === "POST")).toHaveLength(4);
  });

  it("lists rules per DID, associated, by filter and per account, with states and dates", async () => {
    const rules = await collect(rucio.rules.forDid("test:dataset1"));
    expect(rules.map((r) => [r.rse_expression, r.state])).toEqual([
      ["POSIX1", "OK"],
      ["POSIX2", "REPLICATING"],
    ]);
    expect(rules[0].expires_at?.toISOString()).toBe("2026-11-26T02:44:38.000Z");
    expect(rules[1].expires_at).toBeNull();
    expect(rules[0].did_type).toBe("DATASET");
    expect(await collect(rucio.dids.associatedRules("test:file1.root"))).toHaveLength(2);
    expect(await collect(rucio.rules.list({ scope: "test" }))).toHaveLength(2);
    expect(await collect(rucio.accounts.rules("root"))).toHaveLength(2);
  });

  it("sees COPYING replicas with allStates; recursive search", async () => {
    const reps = await collect(rucio.replicas.list("test:dataset1", { allStates: true }));
    expect(reps[0].states).toEqual({ POSIX1: "AVAILABLE", POSIX2: "COPYING" });
    expect(reps[0].pfns.map((p) => p.rse)).toEqual(["POSIX1", "POSIX2"]);
    const rec = await collect(rucio.dids.search("test", { type: "all", name: "container*", recursive: true, long: false }));
    expect(rec.map((d) => d.name)).toEqual(["file1.root", "file2.root", "dataset1", "container1"]);
  });

  it("gets a rule and its locks, updates and deletes it (soft delete keeps it readable)", async () => {
    const id = "0077836a3b664d46909ebbbdda773e35";
    expect((await rucio.rules.get(id)).locks_ok_cnt).toBe(2);
    const locks = await collect(rucio.rules.locks(id));
    expect(locks.map((l) => [l.name, l.state])).toEqual([
      ["file1.root", "OK"],
      ["file2.root", "OK"],
    ]);
    await rucio.rules.update(id, { lifetime: 7200 });
    await rucio.rules.delete(id);
    const after = await rucio.rules.get(id);
    expect(after.expires_at?.toISOString()).toBe("2026-11-25T03:44:39.000Z");
    const e = await rejects(rucio.rules.get("00000000000000000000000000000000"));
    expect(e.code).toBe("RUCIO_RULE_NOT_FOUND");
  });

  it("a 401 AccessDenied is a permission error: no re-login, code RUCIO_FORBIDDEN", async () => {
    const jdoe = new RucioClient({ host: replay.url, token: replay.jdoeToken, account: "jdoe" }, { retry: { retries: 0 } });
    const before = replay.requests.length;
    const e = await rejects(jdoe.base.call({ method: "POST", path: "rses/POSIX3", json: { deterministic: true }, what: "add RSE POSIX3" }));
    expect(e.code).toBe("RUCIO_FORBIDDEN");
    expect(e.status).toBe(401);
    const e2 = await rejects(jdoe.dids.addDataset("test:jdoe_ds"));
    expect(e2.code).toBe("RUCIO_FORBIDDEN");
    expect(e2.hint).toMatch(/user\.<account>/);
    expect(replay.requests.length - before).toBe(2); // each sent once, no re-auth attempt
    expect(await jdoe.dids.addDataset(parseDid("user.jdoe:jdoe_ds"))).toBe(true);
    await jdoe.close();
  });

  it("never needed anything outside the recording, and the token stayed out of the logs", () => {
    expect(replay.misses).toEqual([]);
    const login = replay.requests.filter((r) => r.target === "/auth/userpass");
    expect(login.length).toBeGreaterThanOrEqual(2); // main client once, bad-password client once
    expect(logs.join("\n")).not.toContain(replay.rootToken);
    expect(logs.join("\n")).not.toContain("secret");
  });
});
