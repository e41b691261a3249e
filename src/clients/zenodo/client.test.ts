import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ClientError } from "../errors";
import { ZenodoClient } from "./client";
import { ZenodoError } from "./errors";
import type { DepositMetadata } from "./metadata";
import { startFakeZenodo, type FakeZenodo } from "./__tests__/fake-zenodo";

const METADATA: DepositMetadata = {
  upload_type: "dataset",
  title: "Dimuon spectrum, CMS open data 2012",
  creators: [{ name: "Curie, Marie", affiliation: "Sorbonne Université" }],
  description: "Histograms from a REANA workflow.",
  access_right: "open",
  license: "cc-by-4.0",
  publication_date: "2026-11-25",
  keywords: ["CMS"],
  communities: [{ identifier: "escape2020" }],
};

let fake: FakeZenodo;
let dir: string;
let logLines: string[];

function client(token?: string | null): ZenodoClient {
  return new ZenodoClient(
    { baseUrl: fake.api, token: token === null ? undefined : (token ?? fake.token), sandbox: true, local: true },
    { retry: { baseDelayMs: 5, maxDelayMs: 20 }, confirmIntervalMs: 20, logger: (l, m) => logLines.push(`${l} ${m}`) },
  );
}

function file(name: string, content: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, content);
  return f;
}

const count = (key: string) => fake.counts[key] ?? 0;
const PUBLISH = "POST /api/deposit/depositions/{id}/actions/publish";

beforeAll(async () => {
  fake = await startFakeZenodo();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "zenodo-client-"));
  logLines = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("ZenodoClient (legacy deposit API) against a loopback Zenodo", () => {
  it("creates, uploads with md5 verification, updates, publishes, edits and versions a deposition", async () => {
    const z = client();
    expect(z.isSandbox).toBe(true);
    const dep = await z.createDeposition(METADATA);
    expect(dep).toMatchObject({ state: "unsubmitted", submitted: false, metadata: { title: METADATA.title } });

    const content = "mass,count\n91.2,1234\n".repeat(1000);
    const up = await z.uploadFile(dep, file("histo.csv", content));
    expect(up).toEqual({ key: "histo.csv", size: content.length, md5: createHash("md5").update(content).digest("hex"), checksum: `md5:${createHash("md5").update(content).digest("hex")}` });
    await z.uploadFile(dep.id, file("notes.txt", "n"), { name: "README.txt" });
    expect((await z.listFiles(dep.id)).map((f) => f.filename).sort()).toEqual(["README.txt", "histo.csv"]);
    await z.deleteFile(dep.id, "README.txt");
    expect((await z.listFiles(dep.id)).map((f) => f.filename)).toEqual(["histo.csv"]);

    const updated = await z.updateMetadata(dep.id, { version: "1.0.0", keywords: ["CMS", "dimuon"] }, { merge: true });
    expect(updated.metadata).toMatchObject({ title: METADATA.title, version: "1.0.0", keywords: ["CMS", "dimuon"] });

    const before = count(PUBLISH);
    const pub = await z.publish(dep.id);
    expect(pub).toMatchObject({ alreadyPublished: false, doi: `10.5072/zenodo.${dep.id}`, recordId: dep.id });
    expect(pub.recordUrl).toContain(`/records/${dep.id}`);
    const again = await z.publish(dep.id);
    expect(again.alreadyPublished).toBe(true);
    expect(count(PUBLISH)).toBe(before + 1);

    await expect(z.uploadFile(dep.id, file("late.txt", "x"))).rejects.toMatchObject({ code: "ZENODO_INVALID_REQUEST", hint: expect.stringContaining("newVersion()") });

    expect((await z.edit(dep.id)).state).toBe("inprogress");
    expect((await z.discard(dep.id)).state).toBe("done");

    const draft = await z.newVersion(dep.id);
    expect(draft.id).not.toBe(dep.id);
    expect(draft).toMatchObject({ submitted: false, state: "unsubmitted" });
    const nvCount = count("POST /api/deposit/depositions/{id}/actions/newversion");
    expect((await z.newVersion(dep.id)).id).toBe(draft.id);
    expect(count("POST /api/deposit/depositions/{id}/actions/newversion")).toBe(nvCount);

    const found = await z.searchRecords({ q: "dimuon", communities: "escape2020", type: "dataset", page: 1, size: 10 });
    expect(found.total).toBe(1);
    expect(found.hits[0].metadata.title).toBe(METADATA.title);
    expect((await z.getRecord(dep.id)).doi).toBe(`10.5072/zenodo.${dep.id}`);
    expect((await z.licenses({ q: "cc" })).hits.map((l) => l.id)).toEqual(["cc-by-4.0", "mit"]);
    expect((await z.communities({ q: "escape" })).total).toBe(1);
    expect((await z.listDepositions({ status: "draft", sort: "mostrecent", size: 5 })).length).toBeGreaterThan(0);

    const scratch = await z.createDeposition();
    await z.deleteDeposition(scratch.id);
    expect(fake.depositions.has(scratch.id)).toBe(false);

    for (const r of fake.seen) {
      expect(r.url).not.toContain("access_token");
      if (!/^\/api\/(records|licenses|communities)/.test(r.url)) expect(r.headers.authorization).toBe(`Bearer ${fake.token}`);
    }
    expect(logLines.join("\n")).not.toContain(fake.token);
    await z.close();
  });

  it("validates metadata offline and sends nothing when it is invalid", async () => {
    const z = client();
    const n = fake.seen.length;
    const e = await z.createDeposition({ ...METADATA, creators: [{ affiliation: "CERN" }] as never, license: undefined }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ZenodoError);
    expect(e).toMatchObject({ code: "ZENODO_VALIDATION" });
    expect((e as ZenodoError).fieldErrors.map((f) => f.field).sort()).toEqual(["metadata.creators.0.name", "metadata.license"]);
    expect(fake.seen.length).toBe(n);
  });

  it("reports the server's field errors one by one", async () => {
    const z = client();
    const dep = await z.createDeposition();
    const e = await z.updateMetadata(dep.id, { description: "x" }, { validate: false }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "ZENODO_VALIDATION", status: 400, fieldErrors: [{ field: "metadata.title", message: "Field may not be null." }] });
    expect((e as Error).message).toContain("metadata.title: Field may not be null.");
    const p = await z.publish(dep.id).catch((x: unknown) => x);
    expect(p).toMatchObject({ code: "ZENODO_VALIDATION", fieldErrors: [{ field: "metadata.title", message: "Missing data for required field." }] });
  });

  it("publishes exactly once when the connection drops after the server published", async () => {
    const z = client();
    const dep = await z.createDeposition(METADATA);
    await z.uploadFile(dep, file("a.txt", "a"));
    const before = count(PUBLISH);
    fake.dropAfter.push({ match: /actions\/publish$/, times: 1 });
    const pub = await z.publish(dep.id);
    expect(pub).toMatchObject({ alreadyPublished: false, doi: `10.5072/zenodo.${dep.id}` });
    expect(count(PUBLISH)).toBe(before + 1);
    expect(fake.depositions.get(dep.id)?.state).toBe("done");
  });

  it("retries a publish that the server refused without acting (503), still once in effect", async () => {
    const z = client();
    const dep = await z.createDeposition(METADATA);
    fake.failNext.push({ match: /actions\/publish$/, status: 503, body: "", times: 1 });
    const pub = await z.publish(dep.id);
    expect(pub).toMatchObject({ alreadyPublished: false, doi: `10.5072/zenodo.${dep.id}` });
    // Two POSTs reached the server: the first was refused with 503 (nothing done), the second published.
    expect(fake.seen.filter((r) => r.url.endsWith(`/${dep.id}/actions/publish`))).toHaveLength(2);
  });

  it("does not create a second deposition when the create answer is lost", async () => {
    const z = client();
    const before = fake.depositions.size;
    fake.dropAfter.push({ match: /^POST \/api\/deposit\/depositions$/, times: 1 });
    const dep = await z.createDeposition({ ...METADATA, title: "Lost answer" });
    expect(dep.metadata?.title).toBe("Lost answer");
    expect(fake.depositions.size).toBe(before + 1);
  });

  it("detects an md5 mismatch, removes the damaged file and says so", async () => {
    const z = client();
    const dep = await z.createDeposition(METADATA);
    fake.corruptNextUpload = true;
    const e = await z.uploadFile(dep, file("data.bin", "important bytes")).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ZenodoError);
    expect(e).toMatchObject({ code: "ZENODO_CHECKSUM_MISMATCH", message: expect.stringContaining("the damaged copy was deleted") });
    expect(fake.depositions.get(dep.id)?.files.has("data.bin")).toBe(false);
  });

  it("deposit(): new record with files and publication, then a new version replacing the files", async () => {
    const z = client();
    const progress: string[] = [];
    const a = file("a.csv", "1,2\n");
    const b = file("b.csv", "3,4\n");
    const first = await z.deposit({ files: [a, b], metadata: METADATA, publish: true }, { onProgress: (p) => p.done && progress.push(p.file) });
    expect(progress).toEqual(["a.csv", "b.csv"]);
    expect(first.uploaded.map((u) => u.key)).toEqual(["a.csv", "b.csv"]);
    expect(first.published?.doi).toBe(`10.5072/zenodo.${first.deposition.id}`);

    const c2 = file("c.csv", "5,6\n");
    const second = await z.deposit({ files: [c2], metadata: { ...METADATA, version: "2.0.0" }, newVersionOf: first.deposition.id });
    expect(second.deposition.id).not.toBe(first.deposition.id);
    expect(second.published).toBeUndefined();
    expect((await z.listFiles(second.deposition.id)).map((f) => f.filename)).toEqual(["c.csv"]);
    expect(second.deposition.metadata).toMatchObject({ version: "2.0.0" });
  });

  it("deposit(): checks inputs before any request, and keeps the draft when a later step fails", async () => {
    const z = client();
    const n = fake.seen.length;
    await expect(z.deposit({ files: [path.join(dir, "missing.csv")], metadata: METADATA })).rejects.toMatchObject({ code: "ZENODO_INVALID_REQUEST", message: expect.stringContaining("nothing was sent") });
    const sub = mkdtempSync(path.join(dir, "sub-"));
    writeFileSync(path.join(sub, "x.csv"), "2");
    await expect(z.deposit({ files: [file("x.csv", "1"), path.join(sub, "x.csv")], metadata: METADATA })).rejects.toMatchObject({ message: expect.stringContaining("Two files are named x.csv") });
    await expect(z.deposit({ files: [file("y.csv", "1")] })).rejects.toMatchObject({ code: "ZENODO_VALIDATION" });
    expect(fake.seen.length).toBe(n);

    fake.corruptNextUpload = true;
    const e = await z.deposit({ files: [file("z.csv", "zzz")], metadata: METADATA, publish: true }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "ZENODO_CHECKSUM_MISMATCH", message: expect.stringContaining("was kept"), hint: expect.stringContaining("deleteDeposition(") });
    const id = ((e as ZenodoError).details as { depositionId: number }).depositionId;
    expect(fake.depositions.get(id)).toMatchObject({ submitted: false });
  });

  it("honours X-RateLimit-Remaining: 0 by waiting for the reset", async () => {
    const z = client();
    fake.rateLimitRemaining = { remaining: 0, resetSeconds: 1 };
    await z.licenses();
    const t0 = Date.now();
    await z.licenses();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
  });

  it("retries reads after 429 with Retry-After", async () => {
    const z = client();
    fake.failNext.push({ match: /^GET \/api\/records$/, status: 429, body: '{"status":429,"message":"Too many requests"}', times: 1, headers: { "retry-after": "1" } });
    const t0 = Date.now();
    await z.searchRecords({ q: "x" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it("maps auth problems and never shows the token", async () => {
    const errors: unknown[] = [];
    const n = fake.seen.length;
    await client(null).createDeposition().catch((e: unknown) => errors.push(e));
    expect(fake.seen.length).toBe(n);
    expect(errors[0]).toMatchObject({ code: "ZENODO_AUTH", hint: expect.stringContaining("ZENODO_SANDBOX_TOKEN") });
    const wrong = "zenodo-wrong-token-987654321";
    await client(wrong).listDepositions().catch((e: unknown) => errors.push(e));
    expect(errors[1]).toMatchObject({ code: "ZENODO_AUTH", status: 401 });
    await client().getDeposition(999999).catch((e: unknown) => errors.push(e));
    expect(errors[2]).toMatchObject({ code: "ZENODO_NOT_FOUND" });
    await client().getDeposition("../../etc").catch((e: unknown) => errors.push(e));
    expect(errors[3]).toMatchObject({ code: "ZENODO_INVALID_REQUEST" });
    fake.failNext.push({ match: /^GET \/api\/deposit\/depositions$/, status: 500, body: `{"message":"db error for Bearer ${fake.token}"}`, times: 1 });
    await client().listDepositions({ q: "x" }).catch((e: unknown) => errors.push(e));
    await new ZenodoClient({ baseUrl: "http://127.0.0.1:1/api", token: fake.token, sandbox: true }, { retry: { retries: 0 } }).listDepositions().catch((e: unknown) => errors.push(e));
    expect(errors).toHaveLength(6);
    for (const e of errors) {
      expect(e).toBeInstanceOf(ClientError);
      const text = [String(e), (e as Error).stack, JSON.stringify(e), (e as ClientError).hint, String((e as Error).cause)].join("\n");
      expect(text).not.toContain(fake.token);
      expect(text).not.toContain(wrong);
    }
  });

  it("accepts a Zenodo site URL without /api", async () => {
    const z = new ZenodoClient({ baseUrl: fake.url, token: fake.token, sandbox: true });
    expect((await z.licenses()).total).toBe(2);
  });

  it("turns a malformed answer into a typed error", async () => {
    fake.failNext.push({ match: /^GET \/api\/deposit\/depositions\/\d+$/, status: 200, body: '{"id":"not-a-number"}', times: 1 });
    const e = await client().getDeposition(1001).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ZenodoError);
    expect(e).toMatchObject({ code: "HTTP_MALFORMED_RESPONSE" });
  });
});
