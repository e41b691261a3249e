/**
 * The Rucio emulation over real HTTP: auth and token checks, error shapes, the seeded dataset, search,
 * metadata, replicas and PFNs, the storage data plane (ranges, uploads) and rules that really copy (OK / STUCK).
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../index";
import { hashPath } from "./catalog";
import { checksums, u8 } from "./checksum";

let dir: string;
let sb: Sandbox;
let token: string;
let base: string;

const get = (p: string, headers: Record<string, string> = {}) => fetch(`${base}${p}`, { headers: { "X-Rucio-Auth-Token": token, ...headers }, redirect: "manual" });
const send = (method: string, p: string, body: unknown, t = token) =>
  fetch(`${base}${p}`, { method, headers: { "X-Rucio-Auth-Token": t, "Content-Type": "application/json" }, body: JSON.stringify(body) });
const ndjson = async (r: Response) =>
  (await r.text())
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function expectError(r: Response, status: number, cls: string): Promise<string> {
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toBe("application/octet-stream");
  expect(r.headers.get("exceptionclass")).toBe(cls);
  const body = (await r.json()) as { ExceptionClass: string; ExceptionMessage: string };
  expect(body.ExceptionClass).toBe(cls);
  expect(r.headers.get("exceptionmessage")).toBe(body.ExceptionMessage.replace(/\n/g, " ").slice(0, 125) + (body.ExceptionMessage.length > 125 ? "..." : ""));
  return body.ExceptionMessage;
}

async function waitRule(id: string, states: string[]): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rule = (await (await get(`/rules/${id}`)).json()) as Record<string, unknown>;
    if (states.includes(rule.state as string)) return rule;
    if (Date.now() > deadline) throw new Error(`rule ${id} still ${String(rule.state)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "vre-rucio-service-"));
  sb = await startSandbox({ dataDir: dir, seed: true });
  base = sb.profiles.rucio.host;
  const r = await fetch(`${sb.profiles.rucio.authHost}/auth/userpass`, {
    headers: { "X-Rucio-Username": sb.profiles.rucio.username, "X-Rucio-Password": sb.profiles.rucio.password, "X-Rucio-Account": "demo" },
  });
  token = r.headers.get("x-rucio-auth-token")!;
}, 30_000);

afterAll(async () => {
  await sb?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("profiles and credentials", () => {
  it("returns client settings and keeps the secrets in a 0600 file of the data folder", () => {
    expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sb.profiles.rucio).toMatchObject({ host: `${sb.url}/rucio`, authHost: `${sb.url}/rucio`, account: "demo", authType: "userpass", username: "demo", destinationRse: "SANDBOX-DISK2", sandbox: true });
    expect(sb.profiles.reana).toMatchObject({ serverUrl: `${sb.url}/reana`, sandbox: true });
    expect(sb.profiles.zenodo).toMatchObject({ baseUrl: `${sb.url}/zenodo/api`, sandbox: true, local: true });
    expect(statSync(sb.credentialsFile).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, "rucio", "secrets.json")).mode & 0o777).toBe(0o600);
    const creds = JSON.parse(readFileSync(sb.credentialsFile, "utf8")) as { rucio: { password: string } };
    expect(creds.rucio.password).toBe(sb.profiles.rucio.password);
    expect(sb.profiles.rucio.password.length).toBeGreaterThanOrEqual(20);
  });

  it("maps file PFNs of the destination RSE onto local paths with mountPath + pathBeginsAt", async () => {
    const lines = await ndjson(await send("POST", "/replicas/list", { dids: [{ scope: "open", name: "README.md" }], schemes: ["file"] }));
    const pfn = Object.keys(lines[0]!.pfns as object)[0]!.replace("SANDBOX-DISK1", "SANDBOX-DISK2");
    const segments = new URL(pfn).pathname.split("/").filter(Boolean);
    const local = path.join(sb.profiles.rucio.mountPath, segments.slice(sb.profiles.rucio.pathBeginsAt).join("/"));
    expect(local).toBe(path.join(dir, "rucio", "rse", "SANDBOX-DISK2", hashPath("open", "README.md")));
  });
});

describe("auth", () => {
  it("rejects bad credentials, missing, unknown and expired tokens with 401 CannotAuthenticate", async () => {
    await expectError(await fetch(`${base}/auth/userpass`, { headers: { "X-Rucio-Username": "demo", "X-Rucio-Password": "nope", "X-Rucio-Account": "demo" } }), 401, "CannotAuthenticate");
    await expectError(await fetch(`${base}/accounts/whoami`), 401, "CannotAuthenticate");
    await expectError(await get("/accounts/whoami", { "X-Rucio-Auth-Token": "demo-demo-unknown-0000" }), 401, "CannotAuthenticate");
    const login = await fetch(`${base}/auth/userpass`, { headers: { "X-Rucio-Username": "demo", "X-Rucio-Password": sb.profiles.rucio.password } });
    const t2 = login.headers.get("x-rucio-auth-token")!;
    expect(t2).toMatch(/^demo-demo-unknown-[0-9a-f]{32}$/);
    const expires = Date.parse(login.headers.get("x-rucio-auth-token-expires")!.replace(/UTC$/, "GMT"));
    expect(expires - Date.now()).toBeGreaterThan(3500_000);
    sb.rucio.catalog.doc.tokens[t2]!.expires = Date.now() - 1;
    await expectError(await get("/accounts/whoami", { "X-Rucio-Auth-Token": t2 }), 401, "CannotAuthenticate");
  });

  it("explains that other auth flows are not available in the sandbox", async () => {
    expect(await expectError(await fetch(`${base}/auth/x509`), 401, "CannotAuthenticate")).toMatch(/supports userpass only/);
    await expectError(await fetch(`${base}/auth/oidc`), 401, "CannotAuthenticate");
  });

  it("answers whoami with a relative 303 and /auth/validate with a Python repr", async () => {
    const r = await get("/accounts/whoami");
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe("demo");
    const acc = (await (await get("/accounts/demo")).json()) as Record<string, unknown>;
    expect(acc).toMatchObject({ account: "demo", account_type: "USER", status: "ACTIVE" });
    expect(acc.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    const v = await (await get("/auth/validate")).text();
    expect(v).toMatch(/^\{'account': 'demo', 'identity': 'demo', 'lifetime': datetime\.datetime\(/);
  });

  it("refuses an Accept it cannot serve with 406", async () => {
    await expectError(await get("/dids/open/dids/search", { Accept: "application/json" }), 406, "UnsupportedRequestedContentType");
    expect((await get("/dids/open/dids/search", { Accept: "application/x-json-stream" })).status).toBe(200);
  });
});

describe("seeded dataset", () => {
  it("is a container > dataset > files with metadata, checksums and replicas on SANDBOX-DISK1 only", async () => {
    expect(await ndjson(await get("/dids/open/dimuon-sim/dids"))).toEqual([{ scope: "open", name: "dimuon-sim.v1", type: "DATASET", bytes: expect.any(Number), adler32: null, md5: null }]);
    const files = await ndjson(await get("/dids/open/dimuon-sim/files"));
    expect(files.map((f) => f.name)).toEqual(["dimuon_run001.csv", "dimuon_run002.csv", "dimuon_run003.csv", "README.md"]);
    for (const f of files) {
      const bytes = readFileSync(path.join(dir, "rucio", "rse", "SANDBOX-DISK1", hashPath("open", f.name as string)));
      expect(checksums(u8(bytes))).toMatchObject({ adler32: f.adler32, bytes: f.bytes });
    }
    const meta = (await (await get("/dids/open/dimuon_run003.csv/meta?plugin=ALL")).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ run_number: 3, events: 1800, datatype: "CSV", energy: 13000, collision: "pp" });
    const ds = (await (await get("/dids/open/dimuon-sim.v1")).json()) as Record<string, unknown>;
    expect(ds).toMatchObject({ type: "DATASET", open: false, length: 4 });
    const reps = await ndjson(await get("/replicas/open/dimuon-sim"));
    expect(reps.every((r) => Object.keys(r.states as object).join() === "SANDBOX-DISK1")).toBe(true);
    const first = readFileSync(path.join(dir, "rucio", "rse", "SANDBOX-DISK1", hashPath("open", "dimuon_run001.csv")), "utf8").split("\n");
    expect(first[0]).toBe("Run,Event,pt1,eta1,phi1,Q1,pt2,eta2,phi2,Q2,M");
    expect(first.length - 2).toBe(1200);
  });

  it("searches with wildcards, types and Python-literal metadata filters", async () => {
    const names = async (q: string) => (await ndjson(await get(`/dids/open/dids/search?${q}`))) as unknown as string[];
    expect(await names("type=all&filters=" + encodeURIComponent("[{'name': 'dimuon*'}]"))).toEqual(["dimuon-sim", "dimuon-sim.v1", "dimuon_run001.csv", "dimuon_run002.csv", "dimuon_run003.csv"]);
    expect(await names("type=file&filters=" + encodeURIComponent("[{'energy.gt': 7500}]"))).toEqual(["dimuon_run002.csv", "dimuon_run003.csv"]);
    expect(await names("type=file&filters=" + encodeURIComponent("[{'run_number': 1}, {'datatype': 'README'}]"))).toEqual(["README.md", "dimuon_run001.csv"]);
    expect(await names("")).toEqual(["dimuon-sim", "dimuon-sim.v1"]);
    const long = await ndjson(await get("/dids/open/dids/search?type=dataset&long=1"));
    expect(long).toEqual([{ scope: "open", name: "dimuon-sim.v1", did_type: "DATASET", bytes: expect.any(Number), length: 4 }]);
    await expectError(await get("/dids/open/dids/search?type=bogus"), 409, "UnsupportedOperation");
    expect((await get("/dids/open/dids/search?filters=" + encodeURIComponent("[{'open': true}]"))).status).toBe(500);
  });
});

describe("errors for bad requests", () => {
  it("uses the real classes and statuses", async () => {
    expect(await expectError(await get("/dids/open/nonexistent"), 404, "DataIdentifierNotFound")).toBe("Data identifier 'open:nonexistent' not found");
    await expectError(await get("/dids/open/nonexistent/meta"), 404, "DataIdentifierNotFound");
    await expectError(await get("/rules/00000000000000000000000000000000"), 404, "RuleNotFound");
    await expectError(await get("/rses/NOPE"), 404, "RSENotFound");
    await expectError(await get("/rses/?expression=bogus%3D%3D"), 400, "InvalidRSEExpression");
    // demo may read `open` but not write to it: 401 AccessDenied, as Rucio reports permission errors.
    await expectError(await send("POST", "/dids/open/mine", { type: "DATASET" }), 401, "AccessDenied");
    await expectError(await send("POST", "/rses/NEWRSE", {}), 401, "AccessDenied");
    expect((await send("POST", "/dids/user.demo/mine", { type: "DATASET" })).status).toBe(201);
    await expectError(await send("POST", "/dids/user.demo/mine", { type: "DATASET" }), 409, "DataIdentifierAlreadyExists");
    const bad = await fetch(`${base}/dids/user.demo/other`, { method: "POST", headers: { "X-Rucio-Auth-Token": token }, body: "{nope" });
    await expectError(bad, 400, "ValueError");
    expect(await (await send("POST", "/replicas/list", { dids: [{ scope: "open", name: "nonexistent" }] })).text()).toBe("");
    await expectError(await get("/dids/nope/dids/search"), 404, "ScopeNotFound");
    // Names that could leave the data folder are refused even for root.
    const rootPw = (JSON.parse(readFileSync(path.join(dir, "rucio", "secrets.json"), "utf8")) as { root: string }).root;
    const rootLogin = await fetch(`${base}/auth/userpass`, { headers: { "X-Rucio-Username": "root", "X-Rucio-Password": rootPw, "X-Rucio-Account": "root" } });
    const rootToken = rootLogin.headers.get("x-rucio-auth-token")!;
    // (HTTP clients already normalise `..` path segments away; the catalogue refuses them anyway.)
    expect(() => sb.rucio.catalog.addRse("root", "..", {})).toThrow(/Problem validating rse/);
    expect(() => sb.rucio.catalog.addScope("root", "root", "..")).toThrow(/Problem validating scope/);
    await expectError(await send("POST", "/rses/bad.name", {}, rootToken), 500, "InvalidObject");
    await expectError(await send("POST", "/dids/user.demo/a%2F..%2Fb", { type: "DATASET" }), 500, "InvalidObject");
    expect((await send("POST", "/rses/SCRATCH-DISK", { city: "Lyon" }, rootToken)).status).toBe(201);
    const notFound = await get("/no/such/route");
    expect(notFound.status).toBe(404);
  });
});

describe("storage data plane", () => {
  it("serves byte ranges and refuses unauthenticated or overwriting uploads", async () => {
    const reps = await ndjson(await get("/replicas/open/dimuon_run001.csv?schemes=http"));
    const url = Object.keys(reps[0]!.pfns as object)[0]!;
    expect(url).toMatch(/\/rucio-storage\/SANDBOX-DISK1\/open\/..\/..\/dimuon_run001\.csv$/);
    expect((await fetch(url)).status).toBe(401);
    const auth = { Authorization: `Bearer ${token}` };
    const whole = Buffer.from(await (await fetch(url, { headers: auth })).arrayBuffer());
    const part = await fetch(url, { headers: { ...auth, Range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 10-19/${whole.length}`);
    expect(Buffer.from(await part.arrayBuffer()).toString()).toBe(whole.subarray(10, 20).toString());
    const tail = await fetch(url, { headers: { "X-Rucio-Auth-Token": token, Range: "bytes=-5" } });
    expect(Buffer.from(await tail.arrayBuffer()).toString()).toBe(whole.subarray(whole.length - 5).toString());
    expect((await fetch(url, { headers: { ...auth, Range: `bytes=${whole.length}-` } })).status).toBe(416);
    expect((await fetch(url, { method: "PUT", body: "x" })).status).toBe(401);
    expect((await fetch(url, { method: "PUT", body: "x", headers: { Authorization: `Bearer ${token}` } })).status).toBe(409);
    expect((await fetch(url.replace("dimuon_run001.csv", "../../../secrets.json"), { headers: auth })).status).toBeGreaterThanOrEqual(400);
    expect((await fetch(url.replace("dimuon_run001.csv", "..%2F..%2F..%2F..%2Fsecrets.json"), { headers: auth })).status).toBe(400);
  });

  it("supports the rucio upload sequence: register C, PUT, mark A", async () => {
    const data = Buffer.from("hello from the notebook\n");
    const sums = checksums(u8(data));
    expect((await send("POST", "/replicas", { rse: "SANDBOX-DISK1", files: [{ scope: "user.demo", name: "hello.txt", bytes: data.length, adler32: sums.adler32, md5: sums.md5, state: "C" }] })).status).toBe(201);
    const pfns = (await (await get("/rses/SANDBOX-DISK1/lfns2pfns?lfns=user.demo:hello.txt&scheme=http&operation=write")).json()) as Record<string, string>;
    expect(pfns["user.demo:hello.txt"]).toContain("/rucio-storage/SANDBOX-DISK1/user/demo/");
    expect((await fetch(pfns["user.demo:hello.txt"]!, { method: "PUT", body: u8(data), headers: { "X-Rucio-Auth-Token": token } })).status).toBe(201);
    expect((await send("PUT", "/replicas", { rse: "SANDBOX-DISK1", files: [{ scope: "user.demo", name: "hello.txt", state: "A" }] })).status).toBe(200);
    const reps = await ndjson(await get("/replicas/user.demo/hello.txt"));
    expect(reps[0]).toMatchObject({ adler32: sums.adler32, md5: sums.md5, states: { "SANDBOX-DISK1": "AVAILABLE" } });
  });
});

describe("rules", () => {
  it("is OK at once where replicas exist, copies and verifies otherwise, and refuses duplicates", async () => {
    const here = await send("POST", "/rules/", { dids: [{ scope: "open", name: "dimuon-sim.v1" }], account: "demo", copies: 1, rse_expression: "SANDBOX-DISK1" });
    expect(here.status).toBe(201);
    expect(here.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const [okId] = (await here.json()) as string[];
    expect(((await (await get(`/rules/${okId}`)).json()) as Record<string, unknown>).state).toBe("OK");

    const r = await send("POST", "/rules/", { dids: [{ scope: "open", name: "dimuon-sim" }], account: "demo", copies: 1, rse_expression: "site=SANDBOX-VRE", lifetime: 3600 });
    const [id] = (await r.json()) as string[];
    const done = await waitRule(id!, ["OK", "STUCK"]);
    expect(done).toMatchObject({ state: "OK", locks_ok_cnt: 4, locks_replicating_cnt: 0, error: null, did_type: "CONTAINER" });
    for (const f of ["dimuon_run001.csv", "README.md"]) {
      const a = readFileSync(path.join(dir, "rucio", "rse", "SANDBOX-DISK1", hashPath("open", f)));
      const b = readFileSync(path.join(dir, "rucio", "rse", "SANDBOX-DISK2", hashPath("open", f)));
      expect(createHash("md5").update(u8(b)).digest("hex")).toBe(createHash("md5").update(u8(a)).digest("hex"));
    }
    const locks = await ndjson(await get(`/rules/${id}/locks`));
    expect(locks).toHaveLength(4);
    expect(locks.every((l) => l.state === "OK" && l.rse === "SANDBOX-DISK2")).toBe(true);
    await expectError(await send("POST", "/rules/", { dids: [{ scope: "open", name: "dimuon-sim" }], account: "demo", copies: 1, rse_expression: "site=SANDBOX-VRE" }), 409, "DuplicateRule");
    await expectError(await send("POST", "/rules/", { dids: [{ scope: "open", name: "dimuon-sim" }], account: "demo", copies: 1, rse_expression: "NOPE" }), 409, "InvalidRSEExpression");
    await expectError(await send("POST", "/rules/", { dids: [{ scope: "open", name: "dimuon-sim" }], account: "demo", copies: 9, rse_expression: "*" }), 409, "InsufficientTargetRSEs");
    await expectError(await send("POST", "/rules/", { dids: [{ scope: "open", name: "dimuon-sim" }], account: "demo", copies: 1, rse_expression: "SCRATCH-DISK" }), 409, "InsufficientAccountLimit");
    await expectError(await send("POST", "/rules/", { dids: [{ scope: "open", name: "dimuon-sim" }], account: "root", copies: 1, rse_expression: "*" }), 401, "AccessDenied");
    const assoc = await ndjson(await get("/dids/open/dimuon_run002.csv/associated_rules"));
    expect(assoc.map((x) => x.id).sort()).toEqual([okId, id].sort());
    const usage = await ndjson(await get("/accounts/demo/usage/local"));
    expect(usage.find((u) => u.rse === "SANDBOX-DISK2")).toMatchObject({ files: 4 });
    // Delete is soft (expires in an hour), as on the real server.
    expect((await send("DELETE", `/rules/${id}`, { purge_replicas: false })).status).toBe(200);
    expect(((await (await get(`/rules/${id}`)).json()) as Record<string, unknown>).expires_at).not.toBeNull();
  });

  it("hides a rule once its lifetime is over", async () => {
    const [id] = (await (await send("POST", "/rules/", { dids: [{ scope: "open", name: "README.md" }], account: "demo", copies: 1, rse_expression: "SANDBOX-DISK1", lifetime: 1 })).json()) as string[];
    expect((await get(`/rules/${id}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    await expectError(await get(`/rules/${id}`), 404, "RuleNotFound");
    expect((await ndjson(await get("/dids/open/README.md/rules"))).map((r) => r.id)).not.toContain(id);
  });

  it("goes STUCK with the reason when a copy fails verification, and recovers on retry", async () => {
    const data = Buffer.from("a file whose source copy will be corrupted\n");
    const sums = checksums(u8(data));
    const rel = hashPath("user.demo", "fragile.txt");
    const src = path.join(dir, "rucio", "rse", "SANDBOX-DISK1", rel);
    expect((await send("POST", "/replicas", { rse: "SANDBOX-DISK1", files: [{ scope: "user.demo", name: "fragile.txt", bytes: data.length, adler32: sums.adler32, md5: sums.md5 }] })).status).toBe(201);
    mkdirSync(path.dirname(src), { recursive: true });
    writeFileSync(src, "a file whose source copy will be CORRUPTED\n");
    const [id] = (await (await send("POST", "/rules/", { dids: [{ scope: "user.demo", name: "fragile.txt" }], account: "demo", copies: 1, rse_expression: "SANDBOX-DISK2" })).json()) as string[];
    const stuck = await waitRule(id!, ["STUCK", "OK"]);
    expect(stuck.state).toBe("STUCK");
    expect(stuck.error).toMatch(/checksum mismatch/);
    expect(stuck.locks_stuck_cnt).toBe(1);
    const reps = await ndjson(await send("POST", "/replicas/list", { dids: [{ scope: "user.demo", name: "fragile.txt" }], all_states: true }));
    expect((reps[0]!.states as Record<string, string>)["SANDBOX-DISK2"]).toBe("COPYING");
    // Repair the source, then ask for a retry as `rucio update-rule --stuck` does.
    writeFileSync(src, u8(data));
    expect((await send("PUT", `/rules/${id}`, { options: { state: "STUCK" } })).status).toBe(200);
    expect((await waitRule(id!, ["OK"])).error).toBeNull();
  });
});

describe("restart", () => {
  it("keeps the catalogue and the seed is idempotent", async () => {
    const before = await ndjson(await get("/dids/open/dids/search?type=all&long=1"));
    const rules = await ndjson(await get("/accounts/demo/rules"));
    await sb.close();
    sb = await startSandbox({ dataDir: dir, seed: true });
    base = sb.profiles.rucio.host;
    expect(sb.profiles.rucio.password).toBe(JSON.parse(readFileSync(path.join(dir, "rucio", "secrets.json"), "utf8")).demo);
    // Tokens survive a restart, as they live in the database on a real server.
    expect(await ndjson(await get("/dids/open/dids/search?type=all&long=1"))).toEqual(before);
    expect((await ndjson(await get("/accounts/demo/rules"))).map((r) => r.id)).toEqual(rules.map((r) => r.id));
  });
});
