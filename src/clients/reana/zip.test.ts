import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractZipSafely } from "./zip";
import { makeZip, type ZipEntryInput } from "./__tests__/zip-builder";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "reana-zip-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function zipFile(entries: ZipEntryInput[]): string {
  const f = path.join(dir, "archive.zip");
  writeFileSync(f, makeZip(entries));
  return f;
}

function listAll(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(root, p));
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

describe("extractZipSafely", () => {
  it("unpacks nested files and folders", async () => {
    const target = path.join(dir, "out");
    const files = await extractZipSafely(
      zipFile([{ name: "results/" }, { name: "results/plot.png", data: "PNG" }, { name: "results/data/histo.root", data: "ROOT" }, { name: "log.txt", data: "ok" }]),
      target,
    );
    expect(files.map((f) => f.name).sort()).toEqual(["log.txt", "results/data/histo.root", "results/plot.png"]);
    expect(readFileSync(path.join(target, "results/data/histo.root"), "utf8")).toBe("ROOT");
    expect(listAll(target)).toEqual(["log.txt", "results/data/histo.root", "results/plot.png"]);
  });

  it.each([
    ["../evil.txt", "escapes"],
    ["results/../../evil.txt", "escapes"],
    ["/etc/evil.txt", "absolute"],
    ["C:/evil.txt", "absolute"],
    ["..\\evil.txt", "backslash"],
  ])("refuses the whole archive for entry %s and writes nothing", async (name) => {
    const target = path.join(dir, "out");
    const archive = zipFile([{ name: "good.txt", data: "fine" }, { name, data: "pwned" }]);
    await expect(extractZipSafely(archive, target)).rejects.toMatchObject({ code: "REANA_UNSAFE_PATH" });
    expect(listAll(target)).toEqual([]);
    expect(existsSync(path.join(dir, "evil.txt"))).toBe(false);
  });

  it("refuses symbolic link entries", async () => {
    const target = path.join(dir, "out");
    const archive = zipFile([{ name: "link", data: "/etc/passwd", mode: 0o120777 }, { name: "link/x", data: "x" }]);
    await expect(extractZipSafely(archive, target)).rejects.toMatchObject({ code: "REANA_UNSAFE_PATH", message: expect.stringContaining("symbolic link") });
    expect(listAll(target)).toEqual([]);
  });

  it("does not write through a symlink already present in the target folder", async () => {
    const target = path.join(dir, "out");
    const outside = path.join(dir, "outside");
    mkdirSync(target);
    mkdirSync(outside);
    symlinkSync(outside, path.join(target, "data"));
    const archive = zipFile([{ name: "data/x.txt", data: "x" }]);
    await expect(extractZipSafely(archive, target)).rejects.toMatchObject({ code: "REANA_UNSAFE_PATH" });
    expect(readdirSync(outside)).toEqual([]);
  });

  it("does not replace a symlink file in the target folder", async () => {
    const target = path.join(dir, "out");
    mkdirSync(target);
    writeFileSync(path.join(dir, "victim"), "keep");
    symlinkSync(path.join(dir, "victim"), path.join(target, "a.txt"));
    await expect(extractZipSafely(zipFile([{ name: "a.txt", data: "new" }]), target)).rejects.toMatchObject({ code: "REANA_UNSAFE_PATH" });
    expect(readFileSync(path.join(dir, "victim"), "utf8")).toBe("keep");
  });

  it("reports a damaged archive clearly and leaves no .part file", async () => {
    const f = path.join(dir, "broken.zip");
    writeFileSync(f, Buffer.from("PK\u0003\u0004 not really a zip"));
    const target = path.join(dir, "out");
    await expect(extractZipSafely(f, target)).rejects.toMatchObject({ code: "HTTP_MALFORMED_RESPONSE" });
    expect(listAll(target)).toEqual([]);
  });

  it("stops on abort without leaving partial files", async () => {
    const target = path.join(dir, "out");
    const ac = new AbortController();
    ac.abort();
    await expect(extractZipSafely(zipFile([{ name: "a.txt", data: "a" }]), target, { signal: ac.signal })).rejects.toBeTruthy();
    expect(listAll(target).filter((f) => f.endsWith(".part"))).toEqual([]);
  });

  it("enforces the size limit against zip bombs", async () => {
    const target = path.join(dir, "out");
    await expect(extractZipSafely(zipFile([{ name: "big", data: "x".repeat(1000) }]), target, { maxTotalBytes: 10 })).rejects.toMatchObject({ code: "REANA_UNSAFE_PATH" });
  });
});
