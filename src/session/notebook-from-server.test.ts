/**
 * The kernel's notebook when the environment does not name it (JupyterLab 4 on jupyter_server 1.x): asked of the
 * Jupyter server whose jpserver-PID.json sits beside the kernel's connection file, over real HTTP; and the
 * provenance log, which keeps entries in memory until then and continues the notebook's record file after.
 */
import { once } from "node:events";
import * as fs from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kernelNotebook, notebookFromServer } from "./notebook-from-server";
import { ProvenanceLog } from "./provenance";
import { readRecordFile } from "./record";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-ts-nb-server-"));
const runtime = path.join(root, "runtime");
const KERNEL = "5d1c3a8e-0f4b-4e4e-9a57-2f0b1c2d3e4f";
const connectionFile = path.join(runtime, `kernel-${KERNEL}.json`);
const notebook = path.join(root, "analysis", "fit.ipynb");
// What jupyter_server 1.23 gives the kernel under JupyterLab 4: the session's temporary name, not the notebook.
const env = { JPY_SESSION_NAME: "analysis/1b7e6c0a-2b1d-4c4e-8d3a-9f0e1d2c3b4a" };
let server: Server;
const asked: string[] = [];

beforeAll(async () => {
  fs.mkdirSync(runtime, { recursive: true });
  fs.mkdirSync(path.dirname(notebook), { recursive: true });
  fs.writeFileSync(notebook, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", source: "%rucio download open:x", metadata: {}, outputs: [] }] }));
  fs.writeFileSync(connectionFile, "{}");
  server = createServer((req, res) => {
    asked.push(`${req.url} ${req.headers.authorization ?? ""}`);
    if (req.url !== "/lab/api/sessions" || req.headers.authorization !== "token t0ken") {
      res.writeHead(403).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify([
      { id: "s1", path: "other.ipynb", kernel: { id: "another-kernel" } },
      { id: "s2", path: "analysis/fit.ipynb", kernel: { id: KERNEL } },
    ]));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  // A stale file of a server that is gone (nothing listens on port 9) is skipped; the live one answers.
  fs.writeFileSync(path.join(runtime, "jpserver-1.json"), JSON.stringify({ url: "http://127.0.0.1:9/", token: "x", root_dir: root }));
  fs.writeFileSync(path.join(runtime, "jpserver-4242.json"), JSON.stringify({ url: `http://127.0.0.1:${port}/lab/`, token: "t0ken", root_dir: root }));
});

afterAll(() => {
  server?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("kernelNotebook", () => {
  it("asks the server that started the kernel when the environment gives only the session's temporary name", async () => {
    expect(await notebookFromServer(connectionFile)).toBe(notebook);
    expect(await kernelNotebook(env, root, connectionFile)).toBe(notebook);
    expect(await kernelNotebook(env, root, path.join(runtime, "kernel-unknown.json"))).toBeUndefined();
  });

  it("takes the environment's notebook without asking the server", async () => {
    const before = asked.length;
    const named = path.join(root, "named.ipynb");
    expect(await kernelNotebook({ VRE_TS_NOTEBOOK: named }, root, connectionFile)).toBe(named);
    expect(asked.length).toBe(before);
  });
});

describe("ProvenanceLog without the notebook in the environment", () => {
  it("keeps entries in memory, then continues the notebook's record file after its history, each entry once", async () => {
    const file = path.join(path.dirname(notebook), "fit.provenance.jsonl");
    // An earlier kernel session of the same notebook.
    const earlier = new ProvenanceLog({ env: { VRE_TS_NOTEBOOK: notebook } });
    earlier.record({ action: "read", kind: "did", service: "rucio", id: "open:earlier-1" });
    earlier.record({ action: "run", kind: "workflow", service: "reana", id: "earlier-2" });

    const log = new ProvenanceLog({ env, locate: () => kernelNotebook(env, root, connectionFile) });
    expect(log.notebook).toBeUndefined();
    expect(log.mirrorStatus().file).toBeUndefined();
    log.record({ action: "read", kind: "did", service: "rucio", id: "open:in-memory-1" });
    log.record({ action: "write", kind: "rule", service: "rucio", id: "in-memory-2" });
    expect(log.entries().map((e) => e.id)).toEqual(["open:in-memory-1", "in-memory-2"]); // nothing blocked on the lookup

    expect(await log.ready()).toBe(notebook);
    expect(log.notebook).toBe(notebook);
    expect(log.mirrorStatus()).toEqual({ file, error: undefined });
    const ids = ["open:earlier-1", "earlier-2", "open:in-memory-1", "in-memory-2"];
    expect(log.entries().map((e) => e.id)).toEqual(ids);
    expect(log.entries().map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(log.sessions()).toHaveLength(2);
    expect(log.sessions()[1]).toMatchObject({ session: log.session, notebook: "fit.ipynb", codeCells: 1 });

    // Asking again writes nothing more; a later entry is appended once.
    await log.ready();
    log.record({ action: "publish", kind: "deposit", service: "zenodo", id: "7", doi: "10.5072/zenodo.7" });
    const onDisk = readRecordFile(file);
    expect(onDisk.entries.map((e) => e.id)).toEqual([...ids, "7"]);
    expect(onDisk.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(onDisk.sessions.map((s) => s.session)).toEqual([earlier.session, log.session]);
    expect(onDisk.sessions[1]).toMatchObject({ notebook: "fit.ipynb" });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    // A restarted kernel that finds the notebook the same way goes on with the whole record.
    const restarted = new ProvenanceLog({ env, locate: () => kernelNotebook(env, root, connectionFile) });
    await restarted.ready();
    expect(restarted.entries().map((e) => e.id)).toEqual([...ids, "7"]);
  });

  it("stays in memory, and says so, when no server knows the kernel", async () => {
    const log = new ProvenanceLog({ env, locate: () => kernelNotebook(env, root, path.join(runtime, "kernel-gone.json")) });
    log.record({ action: "read", kind: "did", service: "rucio", id: "open:y" });
    expect(await log.ready()).toBeUndefined();
    expect(log.mirrorStatus().file).toBeUndefined();
    expect(log.entries().map((e) => e.id)).toEqual(["open:y"]);
  });
});
