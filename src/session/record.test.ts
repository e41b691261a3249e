import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ProvenanceLog } from "./provenance";
import {
  type ResearchRecord,
  environmentFacts,
  lastSession,
  mergeRecords,
  notebookDigest,
  notebookPathFromEnv,
  provenanceFileFor,
  readRecordFile,
  recordOfNotebook,
  relativeRecord,
  savedRecord,
  sessionRecord,
  setNotebookRecord,
} from "./record";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vre-record-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeNotebook(file: string, cells: Array<{ source: string; tags?: string[]; type?: string }>): void {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((c) => ({ cell_type: c.type ?? "code", source: c.source, metadata: c.tags ? { tags: c.tags } : {}, outputs: [] })),
  };
  fs.writeFileSync(file, JSON.stringify(nb));
}

describe("notebookDigest", () => {
  it("covers the code cells only, without the injected parameters", () => {
    const base = { cells: [{ cell_type: "markdown", source: "# A" }, { cell_type: "code", source: "let x = 1;" }] };
    const withOutputsAndProse = { cells: [{ cell_type: "markdown", source: "# Something else" }, { cell_type: "code", source: ["let x", " = 1;"] }] };
    const injected = { cells: [...base.cells, { cell_type: "code", source: "x = 2;", metadata: { tags: ["injected-parameters"] } }] };
    const changed = { cells: [{ cell_type: "code", source: "let x = 2;" }] };
    expect(notebookDigest(base)).toEqual(notebookDigest(withOutputsAndProse));
    expect(notebookDigest(injected)).toEqual(notebookDigest(base));
    expect(notebookDigest(changed).sha256).not.toBe(notebookDigest(base).sha256);
    expect(notebookDigest(base)).toMatchObject({ codeCells: 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});

describe("the record file next to the notebook", () => {
  it("is found from the notebook the kernel runs, survives a restart, and keeps each entry's session", () => {
    const notebook = path.join(dir, "analysis.ipynb");
    writeNotebook(notebook, [{ source: "let n = 1;", tags: ["parameters"] }, { source: "%rucio download open:x" }]);
    const env = { VRE_TS_NOTEBOOK: notebook, VRE_TS_PARAMETERS: JSON.stringify({ n: 3 }) };

    const first = new ProvenanceLog({ env });
    expect(first.mirrorStatus().file).toBe(path.join(dir, "analysis.provenance.jsonl"));
    expect(first.sessions()).toEqual([]); // no session header until something is recorded
    first.record({ action: "read", kind: "did", service: "rucio", id: "open:x", checksums: { adler32: "01020304" } });
    first.record({ action: "run", kind: "workflow", service: "reana", id: "w-1" });

    // A restarted kernel: a new log on the same notebook loads the history and continues it.
    const second = new ProvenanceLog({ env: { VRE_TS_NOTEBOOK: notebook, JPY_SESSION_NAME: "/elsewhere/other.ipynb" } });
    expect(second.entries().map((e) => e.id)).toEqual(["open:x", "w-1"]);
    const added = second.record({ action: "publish", kind: "deposit", service: "zenodo", id: "7", doi: "10.5072/zenodo.7" });
    expect(added.seq).toBe(3);

    const sessions = second.sessions();
    expect(sessions).toHaveLength(2);
    expect(sessions[0].session).not.toBe(sessions[1].session);
    expect(second.entries().map((e) => e.session)).toEqual([sessions[0].session, sessions[0].session, sessions[1].session]);
    expect(sessions[0]).toMatchObject({
      notebook: "analysis.ipynb",
      codeCells: 2,
      parameters: { n: 3 },
      environment: { node: process.version, os: { platform: os.platform(), arch: os.arch() } },
    });
    expect(sessions[0].notebookSha256).toBe(notebookDigest(JSON.parse(fs.readFileSync(notebook, "utf8"))).sha256);
    expect(sessions[1].parameters).toBeUndefined();

    // The file itself: header lines plus entries, read back the same way.
    const onDisk = readRecordFile(provenanceFileFor(notebook));
    expect(onDisk.sessions.map((s) => s.session)).toEqual(sessions.map((s) => s.session));
    expect(onDisk.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(lastSession(onDisk)?.session).toBe(sessions[1].session);
    expect(sessionRecord(onDisk, sessions[0].session).entries.map((e) => e.id)).toEqual(["open:x", "w-1"]);
  });

  it("names the versions of vre-ts, tslab, TypeScript and Node", () => {
    const facts = environmentFacts();
    const pkg = (name: string) => JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;
    expect(facts.vreTs).toBe(JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")).version);
    expect(facts.tslab).toBe(pkg("tslab"));
    expect(facts.typescript).toBe(pkg("typescript"));
    expect(facts.node).toBe(process.version);
  });

  it("finds the notebook Jupyter Server names: relative to its root (1.x, kernel in the notebook's folder) or whole (2.x)", () => {
    const root = path.join(dir, "root");
    expect(notebookPathFromEnv({ JPY_SESSION_NAME: "analysis/fit.ipynb" }, path.join(root, "analysis"))).toBe(path.join(root, "analysis", "fit.ipynb"));
    expect(notebookPathFromEnv({ JPY_SESSION_NAME: "analysis/fit.ipynb" }, root)).toBe(path.join(root, "analysis", "fit.ipynb"));
    expect(notebookPathFromEnv({ JPY_SESSION_NAME: "fit.ipynb" }, root)).toBe(path.join(root, "fit.ipynb"));
    expect(notebookPathFromEnv({ JPY_SESSION_NAME: path.join(root, "analysis", "fit.ipynb") }, "/")).toBe(path.join(root, "analysis", "fit.ipynb"));
    expect(notebookPathFromEnv({ VRE_TS_NOTEBOOK: "/runs/fit.ipynb", JPY_SESSION_NAME: "analysis/fit.ipynb" }, root)).toBe("/runs/fit.ipynb");
  });

  it("stays in memory when no notebook is known", () => {
    expect(new ProvenanceLog({ env: {} }).mirrorStatus().file).toBeUndefined();
    expect(new ProvenanceLog({ env: { JPY_SESSION_NAME: "console-1" } }).mirrorStatus().file).toBeUndefined();
  });

  it("is stored in and read back from notebook metadata, next to other vre-ts keys", () => {
    const log = new ProvenanceLog({ env: {} });
    log.record({ action: "read", kind: "did", service: "rucio", id: "open:y" });
    const nb = { metadata: { "vre-ts": { other: 1 } } as Record<string, unknown> };
    setNotebookRecord(nb, log.toRecord(), "analysis.provenance.jsonl");
    expect(nb.metadata["vre-ts"]).toMatchObject({ other: 1, provenanceFile: "analysis.provenance.jsonl" });
    expect(recordOfNotebook(nb)?.entries.map((e) => e.id)).toEqual(["open:y"]);
    expect(recordOfNotebook({ metadata: {} })).toBeUndefined();
  });
});

describe("relativeRecord", () => {
  it("makes paths inside the notebook's folder relative and leaves the rest", () => {
    const log = new ProvenanceLog({ env: {} });
    log.record({ action: "read", kind: "did", service: "rucio", id: "open:x", paths: [path.join(dir, "data", "x.csv"), "/elsewhere/y.csv"], details: { baseDir: dir } });
    const rel = relativeRecord(log.toRecord(), dir);
    expect(rel.entries[0].paths).toEqual(["data/x.csv", "/elsewhere/y.csv"]);
    expect(rel.entries[0].details).toEqual({ baseDir: "." });
    expect(JSON.stringify(rel)).not.toContain(dir);
  });
});

describe("mergeRecords", () => {
  const at = (iso: string) => () => new Date(iso);
  const ids = (r: ResearchRecord) => r.entries.map((e) => e.id);

  /**
   * The story of a notebook: a `vre-ts run` (session A, in the record file), then a JupyterLab kernel that had no
   * record file (session B: only the record widget's copy in the metadata has it, merged with the saved sessions by
   * time and its entries renumbered), then another `vre-ts run` (session C, in the file again).
   */
  function story() {
    const sub = fs.mkdtempSync(path.join(dir, "merge-"));
    const notebook = path.join(sub, "fit.ipynb");
    const file = provenanceFileFor(notebook);
    const runA = new ProvenanceLog({ file, env: {}, now: at("2026-03-01T10:00:00.000Z") });
    runA.record({ action: "read", kind: "did", service: "rucio", id: "open:a", paths: [path.join(sub, "data", "a.csv")] });
    runA.record({ action: "write", kind: "file", service: "reana", id: path.join(sub, "results", "a.txt") });
    const afterA = savedRecord(readRecordFile(file), notebook, file).record;

    const lab = new ProvenanceLog({ env: {}, now: at("2026-03-02T09:00:00.000Z"), locate: async () => undefined });
    lab.record({ action: "read", kind: "did", service: "rucio", id: "open:lab" });
    const own = lab.toRecord();
    const metadata: ResearchRecord = {
      version: 1,
      notebook: "fit.ipynb",
      sessions: [...afterA.sessions, ...own.sessions],
      entries: [...afterA.entries, ...own.entries.map((e) => ({ ...e, seq: e.seq + afterA.entries.length }))],
    };

    const runC = new ProvenanceLog({ file, env: {}, now: at("2026-03-03T08:00:00.000Z") });
    runC.record({ action: "read", kind: "did", service: "rucio", id: "open:c" });
    const fromFile = readRecordFile(file);
    return { notebook, file, sub, fromFile, metadata, sessions: { a: afterA.sessions[0].session, b: own.sessions[0].session, c: runC.session! } };
  }

  it("keeps the sessions and entries only the notebook's metadata has, in time order, each once; the file wins for the rest", () => {
    const { notebook, file, fromFile, metadata, sessions } = story();
    expect(fromFile.sessions.map((s) => s.session)).toEqual([sessions.a, sessions.c]);
    // The metadata's copy of session A went stale (say, a label written by an older vre-ts): the file's copy wins.
    metadata.entries[0] = { ...metadata.entries[0], label: "stale copy" };
    metadata.sessions[0] = { ...metadata.sessions[0], parameters: { stale: true } };

    const merged = mergeRecords(savedRecord(fromFile, notebook, file).record, metadata);
    expect(merged.sessions.map((s) => s.session)).toEqual([sessions.a, sessions.b, sessions.c]);
    expect(ids(merged)).toEqual(["open:a", "results/a.txt", "open:lab", "open:c"]);
    expect(merged.entries.map((e) => e.session)).toEqual([sessions.a, sessions.a, sessions.b, sessions.c]);
    expect(merged.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(merged.entries[0].label).toBeUndefined();
    expect(merged.sessions[0].parameters).toBeUndefined();
    expect(merged.entries[0].paths).toEqual(["data/a.csv"]);
    // The last session with entries is the newest run, whichever copy it came from.
    expect(lastSession(merged)?.session).toBe(sessions.c);

    // Merging again changes nothing: no duplicates, the same order.
    expect(mergeRecords(merged, metadata)).toBe(merged);
    expect(mergeRecords(merged, merged)).toBe(merged);
  });

  it("returns the file's record as it is when the metadata adds nothing", () => {
    const { notebook, file, fromFile } = story();
    const saved = savedRecord(fromFile, notebook, file).record;
    expect(mergeRecords(saved, undefined)).toBe(saved);
    expect(mergeRecords(saved, saved)).toBe(saved);
    expect(mergeRecords(saved, { version: 1, sessions: [], entries: [] })).toBe(saved);
  });

  it("knows an entry whose paths the file keeps absolute and the metadata relative", () => {
    const { notebook, fromFile, metadata, sessions } = story();
    const merged = mergeRecords(fromFile, metadata, path.dirname(notebook));
    expect(ids(merged)).toEqual(["open:a", path.join(path.dirname(notebook), "results", "a.txt"), "open:lab", "open:c"]);
    expect(merged.sessions.map((s) => s.session)).toEqual([sessions.a, sessions.b, sessions.c]);
    // Without the notebook's folder the relative copy looks like another entry.
    expect(ids(mergeRecords(fromFile, metadata))).toContain("results/a.txt");
  });

  it("puts a metadata session older than the whole file first, and one newer than it last", () => {
    const { notebook, file, fromFile, metadata, sessions } = story();
    const b = metadata.sessions.find((s) => s.session === sessions.b)!;
    const bEntries = metadata.entries.filter((e) => e.session === sessions.b);
    const older = { version: 1 as const, sessions: [{ ...b, started: "2026-02-01T00:00:00.000Z" }], entries: bEntries.map((e) => ({ ...e, time: "2026-02-01T00:00:00.000Z" })) };
    const newer = { version: 1 as const, sessions: [{ ...b, started: "2026-04-01T00:00:00.000Z" }], entries: bEntries.map((e) => ({ ...e, time: "2026-04-01T00:00:00.000Z" })) };
    const saved = savedRecord(fromFile, notebook, file).record;
    expect(mergeRecords(saved, older).sessions.map((s) => s.session)).toEqual([sessions.b, sessions.a, sessions.c]);
    expect(ids(mergeRecords(saved, older))[0]).toBe("open:lab");
    expect(mergeRecords(saved, newer).sessions.map((s) => s.session)).toEqual([sessions.a, sessions.c, sessions.b]);
    expect(ids(mergeRecords(saved, newer)).at(-1)).toBe("open:lab");
  });
});
