import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ProvenanceLog, canonicalJson, specDigest } from "./provenance";

describe("ProvenanceLog", () => {
  it("appends timestamped, numbered, frozen entries and filters them", () => {
    let t = Date.UTC(2026, 10, 25, 3, 0, 0);
    const log = new ProvenanceLog({ now: () => new Date((t += 1000)) });
    const a = log.record({ action: "read", kind: "did", service: "rucio", id: "demo:events.h5", checksums: { adler32: "0a0b0c0d" }, bytes: 10, paths: ["/tmp/x"] });
    log.record({ action: "run", kind: "workflow", service: "reana", id: "uuid-1", label: "fit.1", checksums: { sha256: "ab" } });
    log.record({ action: "publish", kind: "deposit", service: "zenodo", id: "42", doi: "10.5072/zenodo.42" });
    expect(a).toMatchObject({ seq: 1, time: "2026-11-25T03:00:01.000Z" });
    expect(Object.isFrozen(a)).toBe(true);
    expect(log.size).toBe(3);
    expect(log.entries({ action: "publish" }).map((e) => e.doi)).toEqual(["10.5072/zenodo.42"]);
    expect(log.entries({ service: "reana" })[0].label).toBe("fit.1");
    // entries() is a copy: the log stays append-only
    log.entries().pop();
    expect(log.size).toBe(3);
    expect(JSON.parse(JSON.stringify(log))).toHaveLength(3);
  });

  it("never stores secrets", () => {
    const log = new ProvenanceLog();
    const e = log.record({
      action: "run",
      kind: "workflow",
      service: "reana",
      id: "w",
      endpoint: "https://reana.example/api/workflows?access_token=SECRETSECRET123",
      details: { token: "SECRETSECRET123", password: "hunter22", nested: { Authorization: "Bearer abc.def.ghi" }, note: "password=hunter22" },
    });
    const text = JSON.stringify(e);
    expect(text).not.toContain("SECRETSECRET123");
    expect(text).not.toContain("hunter22");
    expect(text).not.toContain("abc.def.ghi");
  });

  it("mirrors to a JSON-lines file with mode 0600 and reads it back, skipping a torn line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prov-"));
    const file = path.join(dir, "sub", "provenance.jsonl");
    const log = new ProvenanceLog({ file });
    log.record({ action: "read", kind: "did", service: "rucio", id: "s:a" });
    log.record({ action: "read", kind: "did", service: "rucio", id: "s:b" });
    fs.appendFileSync(file, '{"seq":3,"act');
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("600");
    expect(ProvenanceLog.readFile(file).map((e) => e.id)).toEqual(["s:a", "s:b"]);
    expect(log.mirrorStatus()).toEqual({ file, error: undefined });
    fs.rmSync(dir, { recursive: true });
  });

  it("takes the mirror file from VRE_TS_PROVENANCE_FILE when none is given", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prov-"));
    const file = path.join(dir, "p.jsonl");
    new ProvenanceLog({ env: { VRE_TS_PROVENANCE_FILE: file } }).record({ action: "run", kind: "workflow", service: "reana", id: "w1" });
    expect(ProvenanceLog.readFile(file).map((e) => e.id)).toEqual(["w1"]);
    expect(new ProvenanceLog({ env: {} }).mirrorStatus().file).toBeUndefined();
    fs.rmSync(dir, { recursive: true });
  });

  it("keeps working when the mirror cannot be written", () => {
    const blocker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "prov-")), "file");
    fs.writeFileSync(blocker, "");
    const log = new ProvenanceLog({ file: path.join(blocker, "sub", "p.jsonl") });
    log.record({ action: "read", kind: "did", service: "rucio", id: "s:a" });
    expect(log.size).toBe(1);
    expect(log.mirrorStatus().error).toBeTruthy();
  });
});

describe("specDigest", () => {
  it("is independent of key order and hex sha256", () => {
    expect(specDigest({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(specDigest({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
    expect(specDigest("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(canonicalJson({ b: undefined, a: 1 })).toBe('{"a":1}');
  });
});
