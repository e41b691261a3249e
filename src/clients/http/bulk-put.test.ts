import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { hashBuffersLent } from "./adler32";
import { bulkPut, decodeChunked } from "./bulk-put";
import { HttpClient } from "./client";
import { uploadFile } from "./transfer";

const data = randomBytes(6 * 1024 * 1024 + 99);
const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");
const file = join(mkdtempSync(join(tmpdir(), "vre-ts-put-")), "data.bin");
writeFileSync(file, data);

let closers: (() => void)[] = [];
afterEach(async () => {
  for (const c of closers) c();
  closers = [];
  // Every transfer gives its buffers back to the hash memory, whichever way it ended.
  await vi.waitFor(() => expect(hashBuffersLent()).toBe(0));
});

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<URL> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, res, Buffer.concat(chunks as unknown as Uint8Array[])));
  });
  closers.push(() => (server.closeAllConnections(), server.close()));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/up?x=1`);
}

async function raw(onConnection: (s: Socket) => void): Promise<URL> {
  const server = createNetServer(onConnection);
  closers.push(() => server.close());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/up`);
}

describe("bulkPut", () => {
  it("sends the file exactly, with its headers, showing every chunk to onData first", async () => {
    let got: { body: Buffer; headers: IncomingMessage["headers"]; url?: string } | undefined;
    const url = await listen((req, res, body) => {
      got = { body, headers: req.headers, url: req.url };
      res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ md5: md5(body) }));
    });
    const seen = createHash("md5");
    const a = await bulkPut({ url, headers: { authorization: "Bearer s3cret", "content-type": "application/octet-stream" }, file, size: data.length, onData: (d) => void seen.update(d) });
    expect(a).toMatchObject({ status: 201, sent: data.length });
    expect(JSON.parse(a.body.toString())).toEqual({ md5: md5(data) });
    expect(seen.digest("hex")).toBe(md5(data));
    expect(got!.body.equals(data)).toBe(true);
    expect(got!.url).toBe("/up?x=1");
    expect(got!.headers).toMatchObject({ authorization: "Bearer s3cret", "content-length": String(data.length), connection: "close" });
  });

  it("reads on the thread pool once a read was slow, with the same bytes and checksums", async () => {
    let got: Buffer | undefined;
    const url = await listen((_req, res, body) => {
      got = body;
      res.writeHead(201).end();
    });
    const seen = createHash("md5");
    const a = await bulkPut({ url, headers: {}, file, size: data.length, slowReadMs: -1, onData: (d) => void seen.update(d) });
    expect(a).toMatchObject({ status: 201, sent: data.length });
    expect(seen.digest("hex")).toBe(md5(data));
    expect(got!.equals(data)).toBe(true);
  });

  it("reads answers framed by chunks or by the end of the connection", async () => {
    const chunked = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("hello ");
      res.end("world");
    });
    expect((await bulkPut({ url: chunked, headers: {}, file, size: data.length })).body.toString()).toBe("hello world");
    const closeDelimited = await raw((s) => {
      s.on("data", () => undefined);
      setTimeout(() => s.end("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nbye"), 50);
    });
    const a = await bulkPut({ url: closeDelimited, headers: {}, file, size: 10 });
    expect(a.body.toString()).toBe("bye");
  });

  it("an early answer (the server refused before reading the body) stops the sending and is returned", async () => {
    const url = await raw((s) => {
      s.once("data", () => s.end("HTTP/1.1 401 Unauthorized\r\ncontent-length: 6\r\n\r\ndenied"));
    });
    const a = await bulkPut({ url, headers: {}, file, size: data.length });
    expect(a.status).toBe(401);
    expect(a.body.toString()).toBe("denied");
    expect(a.sent).toBeLessThan(data.length);
  });

  it("a connection cut while sending is a transport error with a code", async () => {
    const url = await raw((s) => s.once("data", () => s.resetAndDestroy()));
    await expect(bulkPut({ url, headers: {}, file, size: data.length })).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE|UND_ERR_SOCKET/) });
  });

  it("stops on abort", async () => {
    const url = await raw((s) => s.on("data", () => undefined));
    const ac = new AbortController();
    setTimeout(() => ac.abort(Object.assign(new Error("interrupted"), { name: "AbortError" })), 50);
    await expect(bulkPut({ url, headers: {}, file, size: data.length, signal: ac.signal })).rejects.toMatchObject({ name: "AbortError" });
  });

  it("decodes chunked bodies only once complete", () => {
    expect(decodeChunked(Buffer.from("5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"))?.toString()).toBe("hello world");
    expect(decodeChunked(Buffer.from("5\r\nhel"))).toBeUndefined();
    expect(() => decodeChunked(Buffer.from("zz\r\n"))).toThrow(/chunked/);
  });
});

describe("uploadFile over the bulk path", () => {
  it("a 503 hands over to the general path, which retries; the checksums describe what was sent", async () => {
    let calls = 0;
    const url = await listen((_req, res, body) => {
      calls++;
      if (calls === 1) return void res.writeHead(503, { "retry-after": "0" }).end("busy");
      res.writeHead(201).end(md5(body));
    });
    const http = new HttpClient({ service: "test", baseUrl: url.origin, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    const r = await uploadFile(http, { path: "up", what: "upload" }, file);
    expect(r).toMatchObject({ status: 201, md5: md5(data), bytes: data.length, responseText: md5(data) });
    expect(calls).toBe(2);
    await http.close();
  });

  it("an error status is the service's error", async () => {
    const url = await listen((_req, res) => res.writeHead(403, { "content-type": "text/plain" }).end("not yours"));
    const http = new HttpClient({ service: "test", baseUrl: url.origin });
    await expect(uploadFile(http, { path: "up", what: "upload" }, file)).rejects.toMatchObject({ status: 403 });
    await http.close();
  });
});
