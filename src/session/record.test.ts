import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ProvenanceLog } from "./provenance";
import { environmentFacts, lastSession, notebookDigest, notebookPathFromEnv, provenanceFileFor, readRecordFile, recordOfNotebook, relativeRecord, sessionRecord, setNotebookRecord } from "./record";

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
