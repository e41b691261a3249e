/** The HTTP core's guards on loopback: a total deadline with retry notices, refused paths and arguments, 431. */
import { afterEach, describe, expect, it } from "vitest";
import { ClientError } from "../errors";
import { HttpClient } from "./client";
import { describeRetry, withRetryListener, type RetryEvent } from "./retry-events";
import { json, type Loopback, startLoopback } from "./__tests__/loopback";

let lb: Loopback | undefined;
let client: HttpClient | undefined;

afterEach(async () => {
  await client?.close();
  await lb?.close();
  client = lb = undefined;
});

function make(url: string, extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}): HttpClient {
  client = new HttpClient({ service: "test", baseUrl: `${url}/api/`, retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...extra });
  return client;
}

async function failure(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ClientError);
    return e as ClientError;
  }
  throw new Error("expected a failure");
}

describe("a server that accepts the connection and never answers", () => {
  it("fails within the request's deadline, retries included, and announces each retry", async () => {
    lb = await startLoopback(() => {});
    const events: RetryEvent[] = [];
    // Without a deadline: 5 attempts of at least 300 ms each. With it, the whole request is over after ~900 ms.
    const c = make(lb.url, { timeouts: { headersMs: 300 }, deadlineMs: 900, onRetry: (e) => events.push(e) });
    const t0 = Date.now();
    const e = await failure(c.json({ method: "GET", path: "workflows", what: "list workflows" }));
    const elapsed = Date.now() - t0;
    expect(e.code).toBe("HTTP_TIMEOUT");
    expect(elapsed).toBeLessThan(1400);
    expect(e.message).toMatch(/Gave up after [12] attempts? in 0\.\d s \(the request's deadline is 0\.9 s\)\./);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events[0]).toMatchObject({ service: "test", what: "list workflows", code: "HTTP_TIMEOUT", attempt: 2, maxAttempts: 5 });
    expect(events[0].deadline).toBeGreaterThan(t0);
    expect(describeRetry(events[0])).toMatch(/^test: Timed out waiting for an answer from 127\.0\.0\.1:\d+ \(list workflows\); retrying in \d+ ms \(attempt 2 of 5, giving up at \d\d:\d\d:\d\d UTC\)\.$/);
  });

  it("the listener of the surrounding async context hears the retries of requests made deep inside it", async () => {
    lb = await startLoopback((_q, res, _b, n) => (n === 1 ? undefined : json(res, 200, { ok: true })));
    const c = make(lb.url, { timeouts: { headersMs: 200 } });
    const heard: string[] = [];
    const nested = async () => {
      await new Promise((r) => setTimeout(r, 1));
      return c.json({ method: "GET", path: "x", what: "read x" });
    };
    expect(await withRetryListener((ev) => heard.push(ev.code), nested)).toEqual({ ok: true });
    expect(heard).toEqual(["HTTP_TIMEOUT"]);
    // Outside the context, nobody hears.
    heard.length = 0;
    lb.setHandler((_q, res) => json(res, 200, { ok: true }));
    await c.json({ method: "GET", path: "x", what: "read x" });
    expect(heard).toEqual([]);
  });

  it("503 bursts are announced too, and a burst longer than the deadline gives up early", async () => {
    lb = await startLoopback((_q, res) => json(res, 503, {}, { "retry-after": "1" }));
    const events: RetryEvent[] = [];
    const c = make(lb.url, { deadlineMs: 2500 });
    const t0 = Date.now();
    const e = await failure(c.json({ method: "GET", path: "x", what: "read x", onRetry: (ev) => events.push(ev) }));
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(e.code).toBe("HTTP_UNAVAILABLE");
    expect(e.message).toMatch(/Gave up after 2 attempts/);
    expect(events.map((ev) => [ev.status, ev.delayMs])).toEqual([[503, 1000]]);
  });
});

describe("refused before sending", () => {
  it("`.` and `..` path segments, plain or percent-encoded, never reach the server", async () => {
    lb = await startLoopback((_q, res) => json(res, 200, {}));
    const c = make(lb.url);
    for (const path of ["workflows/../../rucio/ping/status", "workflows/%2E%2E/x", "workflows/%2e%2E", "dids/./x", "a/..\\..\\b", "https://other.example/x/../y"]) {
      const e = await failure(c.json({ method: "GET", path, what: "read it" }));
      expect(e.code, path).toBe("HTTP_INVALID_ARGUMENT");
      expect(e.message).toMatch(/Refusing to read it: a name in it is "\.\.?"/);
    }
    expect(lb.requests).toEqual([]);
    // Dots inside a name are fine.
    await c.json({ method: "GET", path: "dids/user.jdoe/file..v2", what: "read it" });
    expect(lb.requests.map((r) => r.url)).toEqual(["/api/dids/user.jdoe/file..v2"]);
  });

  it("a NUL byte in the path, a query value or a header is a typed error, not undici's TypeError", async () => {
    lb = await startLoopback((_q, res) => json(res, 200, {}));
    const c = make(lb.url);
    const cases = [
      { method: "GET" as const, path: "dids/a\0b", what: "read a" },
      { method: "GET" as const, path: `dids/${encodeURIComponent("a\0b")}`, what: "read a" },
      { method: "GET" as const, path: "dids", query: { name: "x\0y" }, what: "search" },
      { method: "GET" as const, path: "dids", headers: { "x-rucio-account": "jdoe\0" }, what: "search" },
      { method: "GET" as const, path: "dids", headers: { "x-rucio-auth-token": "s3cr3t\r\nX-Evil: 1" }, what: "search" },
    ];
    for (const req of cases) {
      const e = await failure(c.json(req));
      expect(e.code).toBe("HTTP_INVALID_ARGUMENT");
      expect(e.message).toMatch(/nothing was sent/);
      expect(e.message).not.toContain("s3cr3t");
    }
    expect(lb.requests).toEqual([]);
  });
});

describe("431 Request Header Fields Too Large", () => {
  it("says which part is too large: a long query", async () => {
    lb = await startLoopback((_q, res) => {
      res.writeHead(431, { "content-type": "text/plain" });
      res.end("Request Header Fields Too Large");
    });
    const c = make(lb.url, { mapStatusError: () => undefined });
    const e = await failure(c.json({ method: "GET", path: "dids", query: { name: "x".repeat(5000) }, what: "search DIDs" }));
    expect(e.code).toBe("HTTP_HEADERS_TOO_LARGE");
    expect(e.status).toBe(431);
    expect(e.message).toMatch(/431 Request Header Fields Too Large\) for search DIDs: the URL is \d{4} bytes/);
    expect(e.hint).toMatch(/shorten the query/);
  });

  it("says which header is too large (never its value), even when the service maps other statuses", async () => {
    lb = await startLoopback((_q, res) => json(res, 431, { message: "too large" }));
    const token = "t".repeat(9000);
    const c = make(lb.url, { mapStatusError: (i) => new ClientError({ code: "SERVICE_ANY", message: `mapped ${i.status}` }) });
    const e = await failure(c.json({ method: "GET", path: "you", headers: { authorization: `Bearer ${token}` }, what: "read your account" }));
    expect(e.code).toBe("HTTP_HEADERS_TOO_LARGE");
    expect(e.message).toMatch(/the largest being authorization \(9007 bytes\)/);
    expect(e.hint).toMatch(/authorization header is the largest part/);
    expect(`${e.message}${e.hint}`).not.toContain(token);
  });
});
