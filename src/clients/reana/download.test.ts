/**
 * Workspace downloads: what REANA sends as one file is saved as it is (even when it is itself a zip: .docx, .npz,
 * .xlsx, .pt); only an answer REANA marks as a multi-file archive (Content-Type application/zip, as reana-client
 * checks) is unpacked.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { json, type Loopback, startLoopback } from "../http/__tests__/loopback";
import { ReanaClient } from "./client";
import { isMultiFileArchive } from "./transfer";
import { makeZip } from "./__tests__/zip-builder";

const docx = makeZip([
  { name: "[Content_Types].xml", data: Buffer.from("<Types/>") },
  { name: "word/document.xml", data: Buffer.from("<w:document/>") },
]);
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

let lb: Loopback;
let client: ReanaClient;
let dir: string;

beforeAll(async () => {
  // Answers as reana-workflow-controller does: one file with mimetype multipart/form-data, several as application/zip.
  lb = await startLoopback((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const rel = decodeURIComponent(url.pathname.replace(/^\/api\/workflows\/wf\.1\/workspace\//, ""));
    if (rel === "report.docx" || rel === "results/report.docx" || rel === "results/*.docx") {
      res.writeHead(200, { "content-type": "multipart/form-data", "content-length": docx.length, "content-disposition": "attachment; filename=report.docx" });
      return res.end(docx);
    }
    if (rel === "results/archive.zip") {
      // A file that is a .zip, asked for by name: saved as it is even when typed application/zip.
      res.writeHead(200, { "content-type": "application/zip", "content-length": docx.length, "content-disposition": "attachment; filename=archive.zip" });
      return res.end(docx);
    }
    if (rel === "results" || rel === "results/*") {
      const zip = makeZip([
        { name: "results/a.txt", data: Buffer.from("A") },
        { name: "results/b.txt", data: Buffer.from("B") },
      ]);
      res.writeHead(200, { "content-type": "application/zip", "content-length": zip.length, "content-disposition": "attachment; filename=wf.1.zip" });
      return res.end(zip);
    }
    json(res, 404, { message: `${rel} does not exist.` });
  });
  client = new ReanaClient({ serverUrl: lb.url, accessToken: "reana-token-abcdef0123456789" }, { retry: { retries: 0 } });
});
afterAll(async () => {
  await client.close();
  await lb.close();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "reana-dl-"));
  return () => rmSync(dir, { recursive: true, force: true });
});

describe("single files that are zips themselves", () => {
  it("a .docx (a zip inside) is saved byte for byte, not unpacked", async () => {
    const r = await client.download("wf.1", "results/report.docx", { dest: path.join(dir, "report.docx") });
    expect(r.unpacked).toBe(false);
    expect(readFileSync(path.join(dir, "report.docx")).equals(docx)).toBe(true);
    expect(r.files).toEqual([{ name: "results/report.docx", path: path.join(dir, "report.docx"), size: docx.length, md5: md5(docx) }]);
    expect(readdirSync(dir)).toEqual(["report.docx"]);
  });

  it("a glob matching one .docx saves that file", async () => {
    const r = await client.download("wf.1", "results/*.docx", { dest: dir });
    expect(r.unpacked).toBe(false);
    expect(r.files.map((f) => f.name)).toEqual(["report.docx"]);
    expect(readFileSync(path.join(dir, "report.docx")).equals(docx)).toBe(true);
    expect(existsSync(path.join(dir, "word"))).toBe(false);
  });

  it("a .zip file asked for by its name is kept as the zip", async () => {
    const r = await client.download("wf.1", "results/archive.zip", { dest: path.join(dir, "archive.zip") });
    expect(r.unpacked).toBe(false);
    expect(readFileSync(path.join(dir, "archive.zip")).equals(docx)).toBe(true);
  });

  it("a folder or a glob of several files (application/zip) is unpacked", async () => {
    const folder = await client.download("wf.1", "results", { dest: path.join(dir, "f") + "/" });
    expect(folder.unpacked).toBe(true);
    expect(readFileSync(path.join(dir, "f/results/b.txt"), "utf8")).toBe("B");
    const glob = await client.download("wf.1", "results/*", { dest: path.join(dir, "g") });
    expect(glob.unpacked).toBe(true);
    expect(glob.files.map((f) => f.name).sort()).toEqual(["results/a.txt", "results/b.txt"]);
  });

  it("the rule, on headers alone", () => {
    expect(isMultiFileArchive({ "content-type": "multipart/form-data" }, "a.docx")).toBe(false);
    expect(isMultiFileArchive({ "content-type": "application/octet-stream" }, "out/*")).toBe(false);
    expect(isMultiFileArchive({ "content-type": "application/zip; charset=binary", "content-disposition": "attachment; filename=wf.3.zip" }, "results")).toBe(true);
    expect(isMultiFileArchive({ "content-type": "application/zip", "content-disposition": 'attachment; filename="x.zip"' }, "data/x.zip")).toBe(false);
    expect(isMultiFileArchive({ "content-type": "application/zip" }, "data")).toBe(true);
  });
});
