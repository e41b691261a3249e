import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { formatAdler32, hashBuffersLent } from "./adler32";
import { adler32 } from "./checksum";
import { HttpClient } from "./client";
import { copyLocalFile, downloadToFile, leftoverParts, partPath, uploadFile } from "./transfer";
import { withRetryListener } from "./retry-events";

/** Part files left next to `dest` (any name: legacy `<f>.part` or unique `<f>.<pid>-<rand>.part`). */
const partsOf = (dest: string) => readdirSync(dirname(dest)).filter((n) => n.endsWith(".part"));

const data = randomBytes(5 * 1024 * 1024 + 777);
const md5 = createHash("md5").update(data).digest("hex");

let server: Server | undefined;
let http: HttpClient | undefined;
afterEach(async () => {
  await http?.close();
  server?.closeAllConnections();
  server?.close();
  server = undefined;
  http = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void, opts: { dispatcher?: Agent } = {}): Promise<HttpClient> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  http = new HttpClient({ service: "test", baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, retry: { baseDelayMs: 1, maxDelayMs: 5 }, dispatcher: opts.dispatcher });
  return http;
}

/** Serves `data`, honouring Range unless told not to; counts requests. */
function ranged(opts: { ignoreRange?: boolean; chunked?: boolean } = {}) {
  const seen: (string | undefined)[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.headers.range);
    const m = opts.ignoreRange ? null : /bytes=(\d+)-/.exec(req.headers.range ?? "");
    const start = m ? Number(m[1]) : 0;
    const body = data.subarray(start);
    if (opts.chunked) {
      res.writeHead(200);
      res.write(body.subarray(0, 1000));
      return void res.end(body.subarray(1000));
    }
    res.writeHead(m ? 206 : 200, { "content-length": body.length, ...(m ? { "content-range": `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
    res.end(body);
  };
  return { handler, seen };
}

const dir = () => mkdtempSync(join(tmpdir(), "vre-ts-dl-"));

describe("downloadToFile", () => {
  it("resumes a kept .part with Range: only the rest travels, the checksums cover the whole file", async () => {
    const s = ranged();
    const client = await serve(s.handler);
    const dest = join(dir(), "f.bin");
    writeFileSync(partPath(dest), data.subarray(0, 1_000_003));
    const r = await downloadToFile(client, { path: "f", what: "f" }, dest, { expected: { bytes: data.length, md5 } });
    expect(r).toMatchObject({ resumedFrom: 1_000_003, md5, verified: ["bytes", "md5"], bytes: data.length });
    expect(s.seen).toEqual(["bytes=1000003-"]);
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(existsSync(partPath(dest))).toBe(false);
  });

  it("starts over when the server ignores the Range (200): nothing is appended twice", async () => {
    const client = await serve(ranged({ ignoreRange: true }).handler);
    const dest = join(dir(), "f.bin");
    writeFileSync(partPath(dest), data.subarray(0, 4096));
    const r = await downloadToFile(client, { path: "f", what: "f" }, dest, { expected: { bytes: data.length } });
    expect(r.resumedFrom).toBe(0);
    expect(readFileSync(dest).equals(data)).toBe(true);
  });

  it("a chunked answer is fetched again by the general path, with the same result", async () => {
    const s = ranged({ chunked: true });
    const client = await serve(s.handler);
    const dest = join(dir(), "f.bin");
    const r = await downloadToFile(client, { path: "f", what: "f" }, dest, { md5: true });
    expect(r.md5).toBe(md5);
    expect(s.seen.length).toBe(2); // declined by the bulk path, then read by undici
    expect(readFileSync(dest).equals(data)).toBe(true);
  });

  it("with an injected dispatcher (tests, proxies) only the general path is used", async () => {
    const s = ranged();
    const client = await serve(s.handler, { dispatcher: new Agent() });
    const dest = join(dir(), "f.bin");
    const r = await downloadToFile(client, { path: "f", what: "f" }, dest, { expected: { bytes: data.length } });
    expect(r.verified).toEqual(["bytes"]);
    expect(s.seen.length).toBe(1);
    expect(readFileSync(dest).equals(data)).toBe(true);
  });

  it("an error status is the service's error, and leaves neither file", async () => {
    const client = await serve((_req, res) => res.writeHead(404, { "content-type": "text/plain" }).end("no such file"));
    const dest = join(dir(), "f.bin");
    await expect(downloadToFile(client, { path: "f", what: "f" }, dest)).rejects.toMatchObject({ status: 404 });
    expect(existsSync(dest)).toBe(false);
    expect(partsOf(dest)).toEqual([]);
  });

  it("a wrong checksum removes the .part and never creates the file", async () => {
    const client = await serve(ranged().handler);
    const dest = join(dir(), "f.bin");
    await expect(downloadToFile(client, { path: "f", what: "f" }, dest, { expected: { adler32: "00000001" } })).rejects.toMatchObject({ code: "HTTP_CHECKSUM_MISMATCH" });
    expect(existsSync(dest)).toBe(false);
    expect(partsOf(dest)).toEqual([]);
  });

  it("two downloads to one target at once each write their own part file; both succeed, one complete file remains", async () => {
    // Slow answers, so that both downloads are in flight together.
    const client = await serve((_req, res) => {
      res.writeHead(200, { "content-length": data.length });
      res.write(data.subarray(0, 1000));
      setTimeout(() => res.end(data.subarray(1000)), 150);
    });
    const dest = join(dir(), "f.bin");
    const seenParts = new Set<string>();
    const watch = setInterval(() => partsOf(dest).forEach((p) => seenParts.add(p)), 10);
    try {
      const [a, b] = await Promise.all([
        downloadToFile(client, { path: "f", what: "f" }, dest, { expected: { bytes: data.length, md5 } }),
        downloadToFile(client, { path: "f", what: "f" }, dest, { expected: { bytes: data.length, md5 } }),
      ]);
      expect([a.md5, b.md5]).toEqual([md5, md5]);
    } finally {
      clearInterval(watch);
    }
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(seenParts.size).toBe(2);
    for (const p of seenParts) expect(p).toMatch(/^f\.bin\.[0-9a-z]+-[0-9a-f]{8}\.part$/);
    expect(partsOf(dest)).toEqual([]);
  });

  it("resume finds the part a stopped download left (by its name), never one another running process writes", async () => {
    const s = ranged();
    const client = await serve(s.handler);
    const dest = join(dir(), "f.bin");
    const deadPid = 2 ** 22 + 12345; // above Linux's pid_max: no such process
    const left = `${dest}.${deadPid.toString(36)}-0badcafe.part`;
    const busy = `${dest}.${process.ppid.toString(36)}-12345678.part`; // the parent process runs: its part is in use
    writeFileSync(left, data.subarray(0, 2_000_001));
    writeFileSync(busy, data.subarray(0, 3_000_000));
    expect((await leftoverParts(dest)).map((p) => p.path)).toEqual([left]);
    const r = await downloadToFile(client, { path: "f", what: "f" }, dest, { expected: { bytes: data.length, md5 } });
    expect(r.resumedFrom).toBe(2_000_001);
    expect(s.seen).toEqual(["bytes=2000001-"]);
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(partsOf(dest)).toEqual([busy.slice(dirname(dest).length + 1)]);
  });

  it("an interrupted download keeps its part for the next run, which resumes it", async () => {
    let cut = true;
    const client = await serve((req, res) => {
      const m = /bytes=(\d+)-/.exec(req.headers.range ?? "");
      const start = m ? Number(m[1]) : 0;
      res.writeHead(m ? 206 : 200, { "content-length": data.length - start, ...(m ? { "content-range": `bytes ${start}-${data.length - 1}/${data.length}` } : {}) });
      if (cut) {
        res.write(data.subarray(start, start + 1_000_000), () => res.destroy());
        return;
      }
      res.end(data.subarray(start));
    });
    const dest = join(dir(), "f.bin");
    await expect(downloadToFile(client, { path: "f", what: "f" }, dest, { retries: 0 })).rejects.toMatchObject({ code: "HTTP_CONNECTION" });
    expect(partsOf(dest)).toHaveLength(1);
    // With a retry left, the resumed attempt is announced to the surrounding retry listener.
    const heard: string[] = [];
    await expect(withRetryListener((e) => heard.push(`${e.code} ${e.attempt}/${e.maxAttempts}`), () => downloadToFile(client, { path: "f", what: "f" }, dest, { retries: 1 }))).rejects.toMatchObject({ code: "HTTP_CONNECTION" });
    expect(heard).toEqual(["HTTP_CONNECTION 2/2"]);
    cut = false;
    const r = await downloadToFile(client, { path: "f", what: "f" }, dest, { expected: { md5 } });
    expect(r.resumedFrom).toBeGreaterThan(0);
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(partsOf(dest)).toEqual([]);
  });
});

describe("copyLocalFile (replicas on mounted storage)", () => {
  const src = join(dir(), "replica.bin");
  writeFileSync(src, data);
  const expected = { bytes: data.length, adler32: formatAdler32(adler32(data)), md5 };

  it("copies exactly and verifies size, adler32 and md5; no .part stays; its buffer goes back", async () => {
    const dest = join(dir(), "sub", "copy.bin");
    const r = await copyLocalFile(src, dest, { expected });
    expect(r).toMatchObject({ path: dest, bytes: data.length, adler32: expected.adler32, md5, verified: ["bytes", "adler32", "md5"] });
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(partsOf(dest)).toEqual([]);
    expect(hashBuffersLent()).toBe(0);
  });

  it("a wrong checksum, a missing source or an abort leaves no file under either name", async () => {
    const d = dir();
    const dest = join(d, "copy.bin");
    await expect(copyLocalFile(src, dest, { expected: { ...expected, adler32: "00000001" } })).rejects.toMatchObject({ code: "HTTP_CHECKSUM_MISMATCH" });
    await expect(copyLocalFile(join(d, "missing.bin"), dest)).rejects.toMatchObject({ code: "HTTP_IO" });
    const ac = new AbortController();
    ac.abort(Object.assign(new Error("interrupted"), { name: "AbortError" }));
    await expect(copyLocalFile(src, dest, { signal: ac.signal })).rejects.toMatchObject({ code: "HTTP_ABORTED" });
    expect(existsSync(dest)).toBe(false);
    expect(partsOf(dest)).toEqual([]);
    expect(hashBuffersLent()).toBe(0);
  });
});

describe("uploadFile", () => {
  it("refuses a device or a FIFO at once (no size, may never end): nothing is sent", async () => {
    const seen: string[] = [];
    const client = await serve((req, res) => {
      seen.push(req.url ?? "");
      res.writeHead(201).end("{}");
    });
    const fifo = join(dir(), "pipe");
    execFileSync("mkfifo", [fifo]);
    for (const src of ["/dev/zero", fifo]) {
      await expect(uploadFile(client, { path: "up", what: "upload" }, src)).rejects.toMatchObject({ code: "LOCAL_FILE_NOT_REGULAR", message: expect.stringContaining("not a regular file") });
    }
    expect(seen).toEqual([]);
  });
});
