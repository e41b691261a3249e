import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hashBuffersLent } from "./adler32";
import { bulkGet, parseHead, type BulkSink } from "./bulk-get";

const data = randomBytes(3 * 1024 * 1024 + 4321);
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

let servers: { close(): void }[] = [];
afterEach(async () => {
  for (const s of servers) s.close();
  servers = [];
  // The read buffer is borrowed from the hash memory; every download gives it back, however it ended.
  await vi.waitFor(() => expect(hashBuffersLent()).toBe(0));
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<URL> {
  const server: Server = createServer(handler);
  servers.push({ close: () => (server.closeAllConnections(), server.close()) });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/f`);
}

/** A raw TCP server that answers each connection with `answer` (for malformed or cut answers). */
async function raw(answer: (socket: Socket) => void): Promise<URL> {
  const server = createNetServer(answer);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/f`);
}

/** Collects the body; with `slow`, every chunk makes the reader wait a little (backpressure). */
function collector(slow = false): { sink: BulkSink; bytes: () => Buffer; waits: () => number } {
  const chunks: Buffer[] = [];
  let waits = 0;
  return {
    sink: (d) => {
      chunks.push(Buffer.from(d)); // the view is only valid during the call
      if (!slow) return undefined;
      waits++;
      return new Promise((r) => setTimeout(r, 1));
    },
    bytes: () => Buffer.concat(chunks),
    waits: () => waits,
  };
}

describe("bulkGet", () => {
  it("streams a 200 body through one reused buffer, pausing the socket while the sink is busy", async () => {
    let seen: IncomingMessage | undefined;
    const url = await listen((req, res) => {
      seen = req;
      res.writeHead(200, { "content-length": data.length, "x-note": "a" });
      res.end(data);
    });
    const c = collector(true);
    const out = await bulkGet({ url, headers: { authorization: "Bearer t0ken", "user-agent": "vre-ts" }, readBufferBytes: 64 * 1024 }, async (head) => {
      expect(head).toMatchObject({ status: 200, contentLength: data.length, headers: { "x-note": "a" } });
      return c.sink;
    });
    expect(out).toEqual({ kind: "done", head: expect.objectContaining({ status: 200 }), bytes: data.length });
    expect(md5(c.bytes())).toBe(md5(data));
    expect(c.waits()).toBeGreaterThan(10);
    expect(seen?.headers).toMatchObject({ authorization: "Bearer t0ken", connection: "close", host: url.host });
  });

  it("serves 206 answers (resume) and an empty body", async () => {
    const url = await listen((req, res) => {
      if (req.headers.range) {
        res.writeHead(206, { "content-length": 10, "content-range": `bytes 5-14/${data.length}` });
        return void res.end(data.subarray(5, 15));
      }
      res.writeHead(200, { "content-length": 0 });
      res.end();
    });
    const c = collector();
    const out = await bulkGet({ url, headers: { range: "bytes=5-" } }, async () => c.sink);
    expect(out.kind === "done" && out.head.headers["content-range"]).toBe(`bytes 5-14/${data.length}`);
    expect(c.bytes().equals(data.subarray(5, 15))).toBe(true);
    const empty = collector();
    expect(await bulkGet({ url, headers: {} }, async () => empty.sink)).toMatchObject({ kind: "done", bytes: 0 });
  });

  it("declines what only the general path handles: errors, redirects, chunked bodies, no length, the caller's refusal", async () => {
    const url = await listen((req, res) => {
      const p = req.url!;
      if (p === "/404") return void res.writeHead(404, { "content-type": "application/json" }).end('{"ExceptionClass":"DataIdentifierNotFound"}');
      if (p === "/302") return void res.writeHead(302, { location: "/elsewhere" }).end();
      if (p === "/chunked") {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.write("abc");
        return void res.end("def");
      }
      res.writeHead(200, { "content-length": 3 }).end("abc");
    });
    const never: BulkSink = () => {
      throw new Error("no body may be read");
    };
    for (const [path, status, reason] of [
      ["/404", 404, "status 404"],
      ["/302", 302, "status 302"],
      ["/chunked", 200, "transfer-encoding"],
    ] as const) {
      const out = await bulkGet({ url: new URL(path, url), headers: {} }, async () => never);
      expect(out).toMatchObject({ kind: "declined", status, reason });
    }
    expect(await bulkGet({ url, headers: {} }, async () => undefined)).toMatchObject({ kind: "declined", reason: "the caller declined" });
    const noLength = await raw((s) => s.end("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nabc"));
    expect(await bulkGet({ url: noLength, headers: {} }, async () => never)).toMatchObject({ kind: "declined", reason: "no content-length" });
  });

  it("a connection cut mid-body is UND_ERR_SOCKET; the bytes before it were delivered", async () => {
    const url = await raw((s) => {
      s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${data.length}\r\n\r\n`);
      s.write(data.subarray(0, 100_000), () => s.destroy());
    });
    const c = collector();
    await expect(bulkGet({ url, headers: {} }, async () => c.sink)).rejects.toMatchObject({ code: "UND_ERR_SOCKET" });
    expect(c.bytes().equals(data.subarray(0, 100_000))).toBe(true);
  });

  it("bytes past Content-Length are ignored", async () => {
    const url = await raw((s) => s.end("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcEXTRA"));
    const c = collector();
    expect(await bulkGet({ url, headers: {} }, async () => c.sink)).toMatchObject({ kind: "done", bytes: 3 });
    expect(c.bytes().toString()).toBe("abc");
  });

  it("a malformed answer is an error, not a crash", async () => {
    const url = await raw((s) => s.end("SSH-2.0-OpenSSH\r\n\r\n"));
    await expect(bulkGet({ url, headers: {} }, async () => collector().sink)).rejects.toMatchObject({ code: "UND_ERR_SOCKET" });
    const huge = await raw((s) => s.write(`HTTP/1.1 200 OK\r\nx: ${"a".repeat(70_000)}`));
    await expect(bulkGet({ url: huge, headers: {} }, async () => collector().sink)).rejects.toMatchObject({ code: "UND_ERR_HEADERS_OVERFLOW" });
  });

  it("times out waiting for the head, and when the body stalls", async () => {
    const silent = await raw(() => undefined);
    await expect(bulkGet({ url: silent, headers: {}, headersTimeoutMs: 100 }, async () => collector().sink)).rejects.toMatchObject({ code: "UND_ERR_HEADERS_TIMEOUT" });
    const stall = await raw((s) => s.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"));
    await expect(bulkGet({ url: stall, headers: {}, bodyTimeoutMs: 100 }, async () => collector().sink)).rejects.toMatchObject({ code: "UND_ERR_BODY_TIMEOUT" });
  });

  it("stops at once on abort, and refuses header values that would split the request", async () => {
    const stall = await raw((s) => s.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"));
    const ac = new AbortController();
    const p = bulkGet({ url: stall, headers: {}, signal: ac.signal }, async () => collector().sink);
    setTimeout(() => ac.abort(Object.assign(new Error("interrupted"), { name: "AbortError" })), 50);
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    const url = await listen((_req, res) => res.end("x"));
    await expect(bulkGet({ url, headers: { "x-a": "1\r\nx-injected: 2" } }, async () => collector().sink)).rejects.toMatchObject({ code: "UND_ERR_INVALID_ARG" });
  });

  it("speaks TLS with the given CA (and fails closed on an unknown certificate)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vre-ts-tls-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"], { stdio: "ignore" });
    const server = createHttpsServer({ key: readFileSync(join(dir, "k.pem")), cert: readFileSync(join(dir, "c.pem")) }, (_req, res) => {
      res.writeHead(200, { "content-length": data.length });
      res.end(data);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = new URL(`https://localhost:${(server.address() as AddressInfo).port}/f`);
    const c = collector();
    await bulkGet({ url, headers: {}, tls: { ca: readFileSync(join(dir, "c.pem")) } }, async () => c.sink);
    expect(md5(c.bytes())).toBe(md5(data));
    await expect(bulkGet({ url, headers: {} }, async () => collector().sink)).rejects.toMatchObject({ code: expect.stringMatching(/CERT|SELF_SIGNED/) });
  });
});

describe("parseHead", () => {
  it("reads the status and joins repeated headers", () => {
    expect(parseHead("HTTP/1.1 206 Partial Content\r\nA: 1\r\nset-cookie: x\r\nSet-Cookie: y")).toEqual({ status: 206, headers: { a: "1", "set-cookie": "x, y" } });
    expect(parseHead("HTTP/1.0 200")).toEqual({ status: 200, headers: {} });
    expect(() => parseHead("HTTP/2 200")).toThrow(/status line/);
    expect(() => parseHead("HTTP/1.1 200 OK\r\n folded")).toThrow(/header/);
  });
});
