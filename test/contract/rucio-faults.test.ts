/**
 * Fault behaviour of the Rucio client on loopback: token expiry and re-authentication, rule creation
 * whose answer is lost, interrupted and corrupt downloads, upload end to end.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ChecksumAccumulator } from "../../src/clients/http/checksum";
import { clearSecrets } from "../../src/clients/http/redact";
import { json, type Loopback, reset, startLoopback } from "../../src/clients/http/__tests__/loopback";
import { RucioClient, RucioError } from "../../src/clients/rucio";

let lb: Loopback | undefined;
let client: RucioClient | undefined;
afterEach(async () => {
  await client?.close();
  await lb?.close();
  client = lb = undefined;
  clearSecrets();
});

const RFC1123 = (ms: number) => new Date(ms).toUTCString().replace("GMT", "UTC");

function issueToken(res: import("node:http").ServerResponse, token: string, lifetimeMs = 3_600_000): void {
  res.writeHead(200, {
    "x-rucio-auth-token": token,
    "x-rucio-auth-token-expires": RFC1123(Date.now() + lifetimeMs),
    "x-rucio-auth-account": "jdoe",
    "content-length": 0,
  });
  res.end();
}

function cannotAuth(res: import("node:http").ServerResponse, cls = "CannotAuthenticate"): void {
  const msg = cls === "AccessDenied" ? "Account jdoe can not do that" : "Cannot authenticate with given credentials";
  json(res, 401, { ExceptionClass: cls, ExceptionMessage: msg }, { ExceptionClass: cls, ExceptionMessage: msg });
}

function ndjson(res: import("node:http").ServerResponse, items: unknown[]): void {
  res.writeHead(200, { "content-type": "application/x-json-stream" });
  res.end(items.map((x) => `${JSON.stringify(x)}\n`).join(""));
}

function jwt(payload: Record<string, unknown>): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b({ alg: "RS256", typ: "JWT" })}.${b(payload)}.c2lnbmF0dXJl`;
}

async function failure(p: Promise<unknown>): Promise<RucioError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RucioError);
    return e as RucioError;
  }
  throw new Error("expected a RucioError");
}

const userpass = { username: "jdoe", password: "pw-jdoe-123", account: "jdoe" };
const fast = { retry: { baseDelayMs: 2, maxDelayMs: 5 } };

describe("authentication", () => {
  it("re-authenticates exactly once when a token expires (401 CannotAuthenticate)", async () => {
    let issued = 0;
    lb = await startLoopback((req, res) => {
      if (req.url === "/auth/userpass") return issueToken(res, `jdoe-jdoe-vre-${String(++issued).padStart(32, "0")}`);
      if (req.headers["x-rucio-auth-token"]?.toString().endsWith("1")) return cannotAuth(res);
      json(res, 200, ["user.jdoe"]);
    });
    client = new RucioClient({ host: lb.url, ...userpass }, fast);
    expect(await client.scopes.list()).toEqual(["user.jdoe"]);
    expect(lb.requests.map((r) => r.url)).toEqual(["/auth/userpass", "/scopes/", "/auth/userpass", "/scopes/"]);
    // The login carried the real headers.
    const login = lb.requests[0].headers;
    expect(login["x-rucio-username"]).toBe("jdoe");
    expect(login["x-rucio-account"]).toBe("jdoe");
    expect(login.accept).toBe("*/*");
  });

  it("does not loop when the fresh token is rejected too", async () => {
    lb = await startLoopback((req, res) => (req.url === "/auth/userpass" ? issueToken(res, `jdoe-jdoe-vre-${"a".repeat(32)}`) : cannotAuth(res)));
    client = new RucioClient({ host: lb.url, ...userpass }, fast);
    const e = await failure(client.scopes.list());
    expect(e.code).toBe("RUCIO_AUTH");
    expect(lb.requests.filter((r) => r.url === "/auth/userpass")).toHaveLength(2);
    expect(lb.requests.filter((r) => r.url === "/scopes/")).toHaveLength(2);
  });

  it("401 AccessDenied is a permission error: no re-login, no retry", async () => {
    lb = await startLoopback((req, res) => (req.url === "/auth/userpass" ? issueToken(res, `jdoe-jdoe-vre-${"b".repeat(32)}`) : cannotAuth(res, "AccessDenied")));
    client = new RucioClient({ host: lb.url, ...userpass }, fast);
    const e = await failure(client.dids.addDataset("test:x"));
    expect(e.code).toBe("RUCIO_FORBIDDEN");
    expect(lb.requests.map((r) => r.url)).toEqual(["/auth/userpass", "/dids/test/x"]);
  });

  it("renews a userpass token before it expires (expiry minus margin, measured on the server's clock)", async () => {
    let now = Date.now();
    let issued = 0;
    lb = await startLoopback((req, res) => {
      if (req.url === "/auth/userpass") return issueToken(res, `jdoe-jdoe-vre-${String(++issued).padStart(32, "0")}`, 10 * 60_000);
      json(res, 200, []);
    });
    client = new RucioClient({ host: lb.url, ...userpass }, { ...fast, now: () => now, tokenMarginMs: 5 * 60_000 });
    await client.scopes.list();
    now += 4 * 60_000;
    await client.scopes.list();
    expect(issued).toBe(1);
    now += 4 * 60_000; // 2 min left < margin
    await client.scopes.list();
    expect(issued).toBe(2);
  });

  it("uses a bearer JWT as the Rucio token, and reports an expired one before sending anything", async () => {
    lb = await startLoopback((_req, res) => json(res, 200, ["user.jdoe"]));
    const good = jwt({ sub: "jdoe", aud: "rucio", exp: Math.floor(Date.now() / 1000) + 3600 });
    client = new RucioClient({ host: lb.url, token: good, account: "jdoe", vo: "escape" }, fast);
    await client.scopes.list();
    expect(lb.requests[0].headers["x-rucio-auth-token"]).toBe(good);
    expect(lb.requests[0].headers["x-rucio-vo"]).toBe("escape");
    await client.close();
    const expired = jwt({ sub: "jdoe", exp: Math.floor(Date.now() / 1000) - 60 });
    client = new RucioClient({ host: lb.url, token: expired }, fast);
    const e = await failure(client.scopes.list());
    expect(e.code).toBe("RUCIO_TOKEN_EXPIRED");
    expect(e.hint).toMatch(/fresh token/);
    expect(lb.requests).toHaveLength(1);
  });

  it("re-reads a token file that the hub refreshed after a 401", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-tok-"));
    const file = join(dir, "rucio_oauth.token");
    const t1 = jwt({ n: 1, exp: Math.floor(Date.now() / 1000) + 3600 });
    const t2 = jwt({ n: 2, exp: Math.floor(Date.now() / 1000) + 3600 });
    writeFileSync(file, `${t1}\n`);
    lb = await startLoopback((req, res) => {
      if (req.headers["x-rucio-auth-token"] === t1) {
        writeFileSync(file, `${t2}\n`); // the hub refreshes the file meanwhile
        return cannotAuth(res);
      }
      json(res, 200, ["ok"]);
    });
    client = new RucioClient({ host: lb.url, tokenFile: file }, fast);
    expect(await client.scopes.list()).toEqual(["ok"]);
    expect(lb.requests.map((r) => r.headers["x-rucio-auth-token"])).toEqual([t1, t2]);
  });

  it("a missing token file falls through to userpass", async () => {
    lb = await startLoopback((req, res) => (req.url === "/auth/userpass" ? issueToken(res, `jdoe-jdoe-vre-${"c".repeat(32)}`) : json(res, 200, [])));
    client = new RucioClient({ host: lb.url, tokenFile: "/nonexistent/token", ...userpass }, fast);
    await client.scopes.list();
    expect(lb.requests[0].url).toBe("/auth/userpass");
  });

  it("uses the separate auth host", async () => {
    const auth = await startLoopback((_req, res) => issueToken(res, `jdoe-jdoe-vre-${"d".repeat(32)}`));
    try {
      lb = await startLoopback((_req, res) => json(res, 200, []));
      client = new RucioClient({ host: lb.url, authHost: auth.url, ...userpass }, fast);
      await client.scopes.list();
      expect(auth.requests.map((r) => r.url)).toEqual(["/auth/userpass"]);
      expect(lb.requests.map((r) => r.url)).toEqual(["/scopes/"]);
    } finally {
      await auth.close();
    }
  });
});

describe("rule creation is never repeated blindly", () => {
  const token = `jdoe-jdoe-vre-${"e".repeat(32)}`;
  const ruleLine = (id: string) => ({
    id,
    scope: "user.jdoe",
    name: "ds",
    did_type: "DATASET",
    account: "jdoe",
    rse_expression: "DISK",
    copies: 1,
    state: "REPLICATING",
    created_at: RFC1123(Date.now()),
  });

  it("connection reset after the server created the rule: found by listing, POST sent once", async () => {
    const rules: string[] = [];
    lb = await startLoopback((req, res) => {
      if (req.method === "POST" && req.url === "/rules/") {
        rules.push("r-1");
        return reset(res);
      }
      if (req.url === "/dids/user.jdoe/ds/rules") return ndjson(res, rules.map(ruleLine));
      json(res, 404, {});
    });
    client = new RucioClient({ host: lb.url, token, account: "jdoe" }, fast);
    expect(await client.rules.create({ dids: "user.jdoe:ds", rseExpression: "DISK" })).toEqual(["r-1"]);
    expect(lb.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(rules).toHaveLength(1);
  });

  it("connection reset before the server acted: checked, then sent again, one rule in the end", async () => {
    const rules: string[] = [];
    let posts = 0;
    lb = await startLoopback((req, res) => {
      if (req.method === "POST" && req.url === "/rules/") {
        if (++posts === 1) return reset(res);
        rules.push("r-2");
        res.writeHead(201, { "content-type": "text/html; charset=utf-8" });
        return res.end(JSON.stringify(["r-2"]));
      }
      if (req.url === "/dids/user.jdoe/ds/rules") return ndjson(res, rules.map(ruleLine));
    });
    client = new RucioClient({ host: lb.url, token, account: "jdoe" }, fast);
    expect(await client.rules.create({ dids: "user.jdoe:ds", rseExpression: "DISK" })).toEqual(["r-2"]);
    expect(rules).toEqual(["r-2"]);
    expect(lb.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["POST /rules/", "GET /dids/user.jdoe/ds/rules", "POST /rules/"]);
  });

  it("503 on rule creation: each new attempt is preceded by a check, and the error is reported in the end", async () => {
    lb = await startLoopback((req, res) => {
      if (req.method === "GET") return ndjson(res, []);
      json(res, 503, { ExceptionClass: "DatabaseException", ExceptionMessage: "pool exhausted" });
    });
    client = new RucioClient({ host: lb.url, token, account: "jdoe" }, { retry: { retries: 0 } });
    const e = await failure(client.rules.create({ dids: "user.jdoe:ds", rseExpression: "DISK" }));
    expect(e.code).toBe("RUCIO_UNAVAILABLE");
    expect(lb.requests.map((r) => r.method)).toEqual(["POST", "GET", "POST", "GET", "POST"]);
  });
});

function sums(data: Buffer): { adler32: string; md5: string } {
  const a = new ChecksumAccumulator();
  a.update(data);
  const d = a.digest();
  return { adler32: d.adler32, md5: createHash("md5").update(data).digest("hex") };
}

describe("download", () => {
  const token = `jdoe-jdoe-vre-${"f".repeat(32)}`;
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const ck = sums(data);

  function fakeRucio(storage: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse, n: number) => void, extra: Record<string, unknown> = {}) {
    let storageHits = 0;
    return async (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
      if (req.url === "/replicas/list") {
        return ndjson(res, [
          {
            scope: "user.jdoe",
            name: "big.bin",
            bytes: data.length,
            adler32: ck.adler32,
            md5: ck.md5,
            pfns: { [`${lb!.url}/storage/DISK/user.jdoe/big.bin`]: { rse: "DISK", priority: 1, domain: "wan", type: "DISK" }, ...extra },
            rses: { DISK: [`${lb!.url}/storage/DISK/user.jdoe/big.bin`] },
            states: { DISK: "AVAILABLE" },
          },
        ]);
      }
      if (req.url?.startsWith("/storage/")) return storage(req, res, ++storageHits);
      json(res, 404, { ExceptionClass: "DataIdentifierNotFound", ExceptionMessage: "no" });
    };
  }

  function serveRange(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse, cutAt?: number): void {
    const m = /bytes=(\d+)-/.exec(String(req.headers.range ?? ""));
    const start = m ? Number(m[1]) : 0;
    const body = data.subarray(start);
    res.writeHead(m ? 206 : 200, {
      "content-length": body.length,
      "accept-ranges": "bytes",
      ...(m ? { "content-range": `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    if (cutAt === undefined) return void res.end(body);
    res.write(body.subarray(0, cutAt));
    setTimeout(() => reset(res), 30);
  }

  it("an interrupted transfer resumes with Range and yields a verified file", async () => {
    lb = await startLoopback(fakeRucio((req, res, n) => serveRange(req, res, n === 1 ? 1024 * 1024 : undefined)));
    client = new RucioClient({ host: lb.url, token }, fast);
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-dl-"));
    const progress: number[] = [];
    // verify "all": the md5 of the resumed file must cover the kept prefix too.
    const [f] = await client.download("user.jdoe:big.bin", { dir, verify: "all", onProgress: (p) => progress.push(p.bytes) });
    expect(f.path).toBe(join(dir, "user.jdoe", "big.bin"));
    expect(f.verified).toEqual(["bytes", "adler32", "md5"]);
    expect(readFileSync(f.path).equals(data)).toBe(true);
    const ranges = lb.requests.filter((r) => r.url.startsWith("/storage/")).map((r) => r.headers.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(progress.at(-1)).toBe(data.length);
    expect(readdirSync(join(dir, "user.jdoe"))).toEqual(["big.bin"]);
    // The storage was sent the token (same origin as the Rucio host).
    expect(lb.requests.find((r) => r.url.startsWith("/storage/"))?.headers["x-rucio-auth-token"]).toBe(token);
    // A second run finds the file complete and skips it; by default (as the Rucio client) adler32 is checked.
    const [again] = await client.download("user.jdoe:big.bin", { dir });
    expect(again.skipped).toBe(true);
    expect(again.verified).toEqual(["bytes", "adler32"]);
  });

  it("a transfer that keeps breaking leaves no file under the final name", async () => {
    lb = await startLoopback(fakeRucio((req, res) => serveRange(req, res, 64 * 1024)));
    client = new RucioClient({ host: lb.url, token }, fast);
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-dl-"));
    const e = await failure(client.download("user.jdoe:big.bin", { dir }));
    expect(e.code).toBe("RUCIO_NO_REPLICA");
    expect(e.message).toMatch(/interrupted/);
    expect(existsSync(join(dir, "user.jdoe", "big.bin"))).toBe(false);
  });

  it("corrupt bytes fail the checksum: no final file, the partial file is removed, the next replica is used", async () => {
    const other = await startLoopback((_req, res) => {
      res.writeHead(200, { "content-length": data.length });
      res.end(data);
    });
    try {
      const corrupt = Buffer.from(data);
      corrupt[12345] ^= 0xff;
      lb = await startLoopback(
        fakeRucio(
          (_req, res) => {
            res.writeHead(200, { "content-length": corrupt.length });
            res.end(corrupt);
          },
          { [`${other.url}/DISK2/big.bin`]: { rse: "DISK2", priority: 2 } },
        ),
      );
      client = new RucioClient({ host: lb.url, token }, fast);
      const dir = mkdtempSync(join(tmpdir(), "vre-ts-dl-"));
      const [f] = await client.download("user.jdoe:big.bin", { dir });
      expect(f.source.rse).toBe("DISK2");
      expect(readFileSync(f.path).equals(data)).toBe(true);
      // The Rucio token is not sent to a third-party storage host.
      expect(other.requests[0].headers["x-rucio-auth-token"]).toBeUndefined();
      expect(other.requests[0].headers.authorization).toBeUndefined();
      await client.close();
      // Only the corrupt replica: the error names the checksum, nothing is left behind.
      lb.setHandler(fakeRucio((_req, res) => {
        res.writeHead(200, { "content-length": corrupt.length });
        res.end(corrupt);
      }));
      client = new RucioClient({ host: lb.url, token }, fast);
      const dir2 = mkdtempSync(join(tmpdir(), "vre-ts-dl-"));
      const e = await failure(client.download("user.jdoe:big.bin", { dir: dir2 }));
      expect(e.code).toBe("HTTP_CHECKSUM_MISMATCH");
      expect(readdirSync(join(dir2, "user.jdoe"))).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it("aborting a download leaves no final file", async () => {
    lb = await startLoopback(fakeRucio((_req, res) => {
      res.writeHead(200, { "content-length": data.length });
      res.write(data.subarray(0, 1000)); // then stall
    }));
    client = new RucioClient({ host: lb.url, token }, fast);
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-dl-"));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const e = await failure(client.download("user.jdoe:big.bin", { dir, signal: ac.signal }));
    expect(e.code).toBe("HTTP_ABORTED");
    expect(existsSync(join(dir, "user.jdoe", "big.bin"))).toBe(false);
  });
});

describe("upload", () => {
  it("streams to the lfns2pfns target, verifies the storage digest, registers, creates the dataset with its protecting rule, attaches and adds a rule", async () => {
    const token = `jdoe-jdoe-vre-${"9".repeat(32)}`;
    const data = randomBytes(1024 * 1024 + 3);
    const ck = sums(data);
    const stored = new Map<string, Buffer>();
    const registered: unknown[] = [];
    const datasets: unknown[] = [];
    lb = await startLoopback((req, res, body) => {
      const url = req.url!;
      if (url === "/rses/DISK")
        return json(res, 200, {
          rse: "DISK",
          deterministic: true,
          protocols: [
            { scheme: "root", hostname: "x", port: 1094, prefix: "/", domains: { wan: { write: 1 } } },
            { scheme: "http", hostname: "127.0.0.1", port: 0, prefix: "/storage/DISK/", domains: { wan: { read: 1, write: 2 } } },
          ],
        });
      if (url.startsWith("/replicas/user.jdoe/f.bin")) return ndjson(res, []);
      if (url.startsWith("/rses/DISK/lfns2pfns")) {
        const q = new URL(url, "http://x").searchParams;
        expect(q.get("operation")).toBe("write");
        expect(q.get("scheme")).toBe("http");
        return json(res, 200, { [q.get("lfn")!]: `${lb!.url}/storage/DISK/user/jdoe/f.bin` });
      }
      if (req.method === "PUT" && url.startsWith("/storage/")) {
        stored.set(url, body);
        const a = sums(body).adler32;
        res.writeHead(201, { digest: `adler32=${a}` });
        return res.end("Created");
      }
      if (req.method === "POST" && url === "/replicas") {
        registered.push(JSON.parse(body.toString()));
        res.writeHead(201);
        return res.end("Created");
      }
      if (req.method === "POST" && (url === "/dids/user.jdoe/ds" || url === "/dids/user.jdoe/ds/dids")) {
        if (url === "/dids/user.jdoe/ds") datasets.push(JSON.parse(body.toString()));
        res.writeHead(201);
        return res.end("Created");
      }
      if (req.method === "GET" && url === "/dids/user.jdoe/ds/rules") {
        return ndjson(res, [{ id: "ds-rule", scope: "user.jdoe", name: "ds", did_type: "DATASET", account: "jdoe", rse_expression: "DISK", copies: 1, state: "OK", grouping: "DATASET" }]);
      }
      if (req.method === "POST" && url === "/rules/") {
        res.writeHead(201, { "content-type": "text/html" });
        return res.end('["rule-1"]');
      }
      json(res, 404, { ExceptionClass: "X", ExceptionMessage: url });
    });
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-up-"));
    const file = join(dir, "f.bin");
    writeFileSync(file, data);
    client = new RucioClient({ host: lb.url, token, account: "jdoe" }, fast);
    const r = await client.upload(file, { rse: "DISK", dataset: "ds", rule: { rseExpression: "DISK2" } });
    expect(r).toMatchObject({ did: "user.jdoe:f.bin", rse: "DISK", bytes: data.length, adler32: ck.adler32, md5: ck.md5, dataset: "user.jdoe:ds", ruleIds: ["ds-rule", "rule-1"] });
    // as rucio upload: the new dataset carries one copy on the upload RSE (no lifetime given)
    expect(datasets).toEqual([expect.objectContaining({ type: "DATASET", rules: [{ account: "jdoe", copies: 1, rse_expression: "DISK", grouping: "DATASET", lifetime: null }] })]);
    expect(stored.get("/storage/DISK/user/jdoe/f.bin")?.equals(data)).toBe(true);
    expect(registered).toEqual([
      { rse: "DISK", files: [{ scope: "user.jdoe", name: "f.bin", bytes: data.length, adler32: ck.adler32, md5: ck.md5, meta: { guid: expect.stringMatching(/^[0-9a-f]{32}$/) } }] },
    ]);
    expect(lb.requests.filter((q) => q.method === "POST" && q.url === "/replicas")).toHaveLength(1);
  });
});
