/** Fault tests of the HTTP core on loopback: retries, rate limits, resets, timeouts, caps, aborts. */
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ClientError } from "../errors";
import { HttpClient, submitOnce } from "./client";
import { json, type Loopback, reset, startLoopback } from "./__tests__/loopback";

let lb: Loopback | undefined;
let client: HttpClient | undefined;

afterEach(async () => {
  await client?.close();
  await lb?.close();
  client = lb = undefined;
});

function make(url: string, extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}): HttpClient {
  client = new HttpClient({ service: "test", baseUrl: url, retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...extra });
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

const Item = z.object({ i: z.number() });

describe("retries", () => {
  it("retries a GET through a burst of 503s, then succeeds", async () => {
    lb = await startLoopback((_q, res, _b, n) => (n <= 3 ? json(res, 503, { e: "busy" }) : json(res, 200, { ok: true })));
    const c = make(lb.url);
    expect(await c.json({ method: "GET", path: "x", what: "read x" })).toEqual({ ok: true });
    expect(lb.requests).toHaveLength(4);
  });

  it("gives up after the configured retries with HTTP_UNAVAILABLE and a hint", async () => {
    lb = await startLoopback((_q, res) => json(res, 502, {}));
    const c = make(lb.url, { retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    const e = await failure(c.json({ method: "GET", path: "x", what: "read x" }));
    expect(e.code).toBe("HTTP_UNAVAILABLE");
    expect(e.status).toBe(502);
    expect(e.hint).toBeTruthy();
    expect(lb.requests).toHaveLength(3);
  });

  it("never repeats a POST on 503 or 502; the error tells whether the outcome is unknown", async () => {
    lb = await startLoopback((_q, res) => json(res, 503, {}));
    const c = make(lb.url);
    const e = await failure(c.json({ method: "POST", path: "deposit", json: {}, what: "create a deposit" }));
    expect(e.code).toBe("HTTP_UNAVAILABLE");
    expect(e.outcomeUnknown).toBe(false);
    expect(lb.requests).toHaveLength(1);
    lb.setHandler((_q, res) => json(res, 502, {}));
    const e2 = await failure(c.json({ method: "POST", path: "deposit", json: {}, what: "create a deposit" }));
    expect(e2.code).toBe("HTTP_OUTCOME_UNKNOWN");
    expect(e2.outcomeUnknown).toBe(true);
    expect(lb.requests).toHaveLength(2);
  });

  it("honours Retry-After on 429", async () => {
    const times: number[] = [];
    lb = await startLoopback((_q, res, _b, n) => {
      times.push(Date.now());
      if (n === 1) json(res, 429, {}, { "retry-after": "1" });
      else json(res, 200, { ok: 1 });
    });
    const c = make(lb.url);
    await c.json({ method: "GET", path: "x", what: "read x" });
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(950);
  });

  it("reports a Retry-After longer than it will wait at once (HTTP_RATE_LIMITED with retryAfterMs)", async () => {
    lb = await startLoopback((_q, res) => json(res, 429, {}, { "retry-after": "3600" }));
    const c = make(lb.url);
    const t0 = Date.now();
    const e = await failure(c.json({ method: "GET", path: "x", what: "read x" }));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(e.code).toBe("HTTP_RATE_LIMITED");
    expect(e.retryAfterMs).toBe(3_600_000);
    expect(e.hint).toMatch(/3600 s/);
  });

  it("waits for X-RateLimit-Reset when X-RateLimit-Remaining is 0", async () => {
    const times: number[] = [];
    lb = await startLoopback((_q, res, _b, n) => {
      times.push(Date.now());
      const reset = String(Math.ceil(Date.now() / 1000) + 1);
      json(res, 200, { n }, n === 1 ? { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset } : { "x-ratelimit-remaining": "10" });
    });
    const c = make(lb.url);
    await c.json({ method: "GET", path: "x", what: "read x" });
    await c.json({ method: "GET", path: "x", what: "read x" });
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(300);
  });

  it("retries a GET after a connection reset before the answer", async () => {
    lb = await startLoopback((_q, res, _b, n) => (n === 1 ? reset(res) : json(res, 200, { ok: true })));
    const c = make(lb.url);
    expect(await c.json({ method: "GET", path: "x", what: "read x" })).toEqual({ ok: true });
    expect(lb.requests).toHaveLength(2);
  });

  it("does not repeat a POST whose connection was reset: HTTP_OUTCOME_UNKNOWN", async () => {
    lb = await startLoopback((_q, res) => reset(res));
    const c = make(lb.url);
    const e = await failure(c.json({ method: "POST", path: "rules/", json: { a: 1 }, what: "create a rule" }));
    expect(e.code).toBe("HTTP_OUTCOME_UNKNOWN");
    expect(e.message).toMatch(/not repeated/);
    expect(lb.requests).toHaveLength(1);
  });

  it("re-sends a POST when nothing reached the server (connection refused)", async () => {
    lb = await startLoopback(() => {});
    const url = lb.url;
    await lb.close();
    lb = undefined;
    const c = make(url, { retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const e = await failure(c.json({ method: "POST", path: "x", json: {}, what: "create x" }));
    expect(e.code).toBe("HTTP_CONNECTION");
    expect(e.outcomeUnknown).toBe(false);
    expect(e.hint).toMatch(/server URL/);
  });

  it("submitOnce asks 'did it happen?' instead of repeating blindly", async () => {
    let created = 0;
    lb = await startLoopback((q, res) => {
      if (q.method === "POST") {
        created++;
        reset(res); // the server acted, the answer is lost
      } else json(res, 200, { items: created ? ["id-1"] : [] });
    });
    const c = make(lb.url);
    const id = await submitOnce(
      () => c.json({ method: "POST", path: "rules/", json: {}, what: "create a rule" }, z.array(z.string())).then((x) => x[0]),
      async () => ((await c.json({ method: "GET", path: "rules", what: "list rules" })) as { items: string[] }).items[0],
    );
    expect(id).toBe("id-1");
    expect(created).toBe(1);
  });
});

describe("streams and caps", () => {
  it("streams NDJSON in order, skipping empty lines", async () => {
    lb = await startLoopback((_q, res) => {
      res.writeHead(200, { "content-type": "application/x-json-stream" });
      res.write('{"i":1}\n\n{"i":');
      setTimeout(() => res.end('2}\n{"i":3}\n'), 20);
    });
    const c = make(lb.url);
    const got: number[] = [];
    for await (const x of c.ndjson({ method: "GET", path: "s", what: "list" }, Item)) got.push(x.i);
    expect(got).toEqual([1, 2, 3]);
  });

  it("a malformed line is HTTP_MALFORMED_RESPONSE naming the line", async () => {
    lb = await startLoopback((_q, res) => {
      res.writeHead(200);
      res.end('{"i":1}\n{"i":2}\n{"i": oops}\n{"i":4}\n');
    });
    const c = make(lb.url);
    const got: number[] = [];
    const e = await failure(
      (async () => {
        for await (const x of c.ndjson({ method: "GET", path: "s", what: "list things" }, Item)) got.push(x.i);
      })(),
    );
    expect(got).toEqual([1, 2]);
    expect(e.code).toBe("HTTP_MALFORMED_RESPONSE");
    expect(e.message).toMatch(/line 3/);
    expect(e.details).toEqual({ line: 3 });
  });

  it("a line failing the schema is HTTP_MALFORMED_RESPONSE with the field", async () => {
    lb = await startLoopback((_q, res) => res.end('{"i":1}\n{"i":"two"}\n'));
    const c = make(lb.url);
    const e = await failure((async () => {
      for await (const _ of c.ndjson({ method: "GET", path: "s", what: "list" }, Item));
    })());
    expect(e.message).toMatch(/line 2.*i:/);
  });

  it("an oversized line is HTTP_RESPONSE_TOO_LARGE, without buffering the rest", async () => {
    lb = await startLoopback((_q, res) => {
      res.write('{"i":1}\n{"i":"');
      const chunk = "x".repeat(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 200 && res.write(chunk)) sent++;
        if (sent < 200) res.once("drain", pump);
        else res.end('"}\n');
      };
      pump();
    });
    const c = make(lb.url, { maxLineBytes: 1024 * 1024 });
    const e = await failure((async () => {
      for await (const _ of c.ndjson({ method: "GET", path: "s", what: "list" }, z.unknown()));
    })());
    expect(e.code).toBe("HTTP_RESPONSE_TOO_LARGE");
    expect(e.message).toMatch(/line 2/);
  });

  it("an oversized JSON answer is HTTP_RESPONSE_TOO_LARGE", async () => {
    lb = await startLoopback((_q, res) => res.end(JSON.stringify({ big: "y".repeat(200_000) })));
    const c = make(lb.url, { maxBodyBytes: 100_000 });
    const e = await failure(c.json({ method: "GET", path: "x", what: "read x" }));
    expect(e.code).toBe("HTTP_RESPONSE_TOO_LARGE");
  });

  it("a reset mid-stream after items were delivered is HTTP_CONNECTION (incomplete), not a silent restart", async () => {
    lb = await startLoopback((_q, res) => {
      res.writeHead(200, { "content-type": "application/x-json-stream" });
      res.write('{"i":1}\n{"i":2}\n');
      setTimeout(() => reset(res), 30);
    });
    const c = make(lb.url);
    const got: number[] = [];
    const e = await failure((async () => {
      for await (const x of c.ndjson({ method: "GET", path: "s", what: "list things" }, Item)) got.push(x.i);
    })());
    expect(got).toEqual([1, 2]);
    expect(e.code).toBe("HTTP_CONNECTION");
    expect(e.message).toMatch(/incomplete/);
    expect(lb.requests).toHaveLength(1);
  });

  it("a stream cut before its first item is retried transparently", async () => {
    lb = await startLoopback((_q, res, _b, n) => {
      res.writeHead(200);
      if (n === 1) {
        res.write('{"i":');
        setTimeout(() => reset(res), 20);
      } else res.end('{"i":7}\n');
    });
    const c = make(lb.url);
    const got: number[] = [];
    for await (const x of c.ndjson({ method: "GET", path: "s", what: "list" }, Item)) got.push(x.i);
    expect(got).toEqual([7]);
  });

  it("a non-JSON answer is HTTP_MALFORMED_RESPONSE", async () => {
    lb = await startLoopback((_q, res) => res.end("<html>proxy error</html>"));
    const c = make(lb.url);
    const e = await failure(c.json({ method: "GET", path: "x", what: "read x" }, Item));
    expect(e.code).toBe("HTTP_MALFORMED_RESPONSE");
    expect(e.hint).toMatch(/server URL/);
  });
});

describe("timeouts and cancellation", () => {
  it("a server that never answers is HTTP_TIMEOUT", async () => {
    lb = await startLoopback(() => {});
    const c = make(lb.url, { timeouts: { headersMs: 200 }, retry: { retries: 0 } });
    const e = await failure(c.json({ method: "GET", path: "x", what: "read x" }));
    expect(e.code).toBe("HTTP_TIMEOUT");
  });

  it("an AbortSignal cancels an in-flight request (HTTP_ABORTED)", async () => {
    lb = await startLoopback(() => {});
    const c = make(lb.url);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const e = await failure(c.json({ method: "GET", path: "x", what: "read x", signal: ac.signal }));
    expect(e.code).toBe("HTTP_ABORTED");
  });

  it("an AbortSignal also cancels a retry wait", async () => {
    lb = await startLoopback((_q, res) => json(res, 503, {}, { "retry-after": "30" }));
    const c = make(lb.url, { retry: { maxWaitMs: 60_000 } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    const e = await failure(c.json({ method: "GET", path: "x", what: "read x", signal: ac.signal }));
    expect(e.code).toBe("HTTP_ABORTED");
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe("configuration errors", () => {
  it("an unreadable CA file is CONFIG_INVALID naming the setting, before any request", () => {
    expect(() => new HttpClient({ service: "rucio", baseUrl: "https://r.example", tls: { caFile: "/nonexistent/ca.pem" } })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", hint: expect.stringMatching(/CA certificate/) }),
    );
    expect(() => new HttpClient({ service: "rucio", baseUrl: "not a url" })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
  });
});
