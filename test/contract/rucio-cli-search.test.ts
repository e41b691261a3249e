/**
 * DID search as the Rucio 35.8 CLI and Python client send it, against the sandbox over raw HTTP: the request line is
 * built the way `DIDClient.list_dids` builds it (`urlencode({type, filters: str(list), long, recursive})`), and the
 * answers follow the real server's rules (rucio/core/did_meta_plugins/did_column_meta.py `list_dids`): a `type` key
 * inside an OR group replaces the `type` query parameter for that group.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox";

let sandbox: Sandbox;
let dataDir: string;
let token: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "vre-ts-cli-search-"));
  sandbox = await startSandbox({ port: 0, dataDir, seed: true });
  const p = sandbox.profiles.rucio;
  const auth = await fetch(`${p.authHost}/auth/userpass`, { headers: { "X-Rucio-Account": p.account, "X-Rucio-Username": p.username, "X-Rucio-Password": p.password } });
  expect(auth.status).toBe(200);
  token = auth.headers.get("x-rucio-auth-token")!;
});

afterAll(async () => {
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Python's `str()` of a list of dicts of strings/numbers, as the client puts into `filters`. */
function pyRepr(groups: Record<string, string | number>[]): string {
  const value = (v: string | number) => (typeof v === "number" ? String(v) : `'${v}'`);
  return `[${groups.map((g) => `{${Object.entries(g).map(([k, v]) => `'${k}': ${value(v)}`).join(", ")}}`).join(", ")}]`;
}

/** `urlencode` as Python does it (quote_plus: spaces as +). */
function urlencode(params: [string, string][]): string {
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%20/g, "+").replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`).join("&");
}

async function search(scope: string, query: string): Promise<{ status: number; lines: unknown[]; exception?: string; message?: string }> {
  const res = await fetch(`${sandbox.profiles.rucio.host}/dids/${scope}/dids/search?${query}`, { headers: { "X-Rucio-Auth-Token": token } });
  const text = await res.text();
  if (res.status !== 200) {
    const body = JSON.parse(text) as { ExceptionClass: string; ExceptionMessage: string };
    return { status: res.status, lines: [], exception: body.ExceptionClass, message: body.ExceptionMessage };
  }
  return { status: res.status, lines: text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as unknown) };
}

/** What `rucio list-dids SCOPE:NAME --filter type=T` (35.8) sends: the type inside filters, type=collection outside. */
const cliQuery = (filters: Record<string, string | number>[], opts: { type?: string; long?: boolean } = {}) =>
  urlencode([
    ["type", opts.type ?? "collection"],
    ["filters", pyRepr(filters)],
    ["long", opts.long ? "True" : "False"],
    ["recursive", "False"],
  ]);

describe("DID search as the Rucio CLI sends it", () => {
  it("list-dids open:* --filter type=dataset: the request line of the 35.8 CLI finds the dataset", async () => {
    const query = cliQuery([{ type: "dataset", name: "*" }]);
    expect(query).toBe("type=collection&filters=%5B%7B%27type%27%3A+%27dataset%27%2C+%27name%27%3A+%27%2A%27%7D%5D&long=False&recursive=False");
    expect(await search("open", query)).toEqual({ status: 200, lines: ["dimuon-sim.v1"] });
    const long = await search("open", cliQuery([{ type: "dataset", name: "*" }], { long: true }));
    expect(long.lines).toEqual([{ scope: "open", name: "dimuon-sim.v1", did_type: "DATASET", bytes: expect.any(Number), length: 4 }]);
  });

  it("a type inside the filters replaces the type parameter, for its own OR group only", async () => {
    expect((await search("open", cliQuery([{ type: "container", name: "*" }]))).lines).toEqual(["dimuon-sim"]);
    // The query asks for collections, the group for files: the group wins.
    const files = (await search("open", cliQuery([{ type: "file", name: "dimuon_run00*" }]))).lines;
    expect(files).toEqual(["dimuon_run001.csv", "dimuon_run002.csv", "dimuon_run003.csv"]);
    // Values are case-insensitive, as upstream lower()s them.
    expect((await search("open", cliQuery([{ type: "DATASET" }]))).lines).toEqual(["dimuon-sim.v1"]);
    // Two groups, each with its own type, OR'ed.
    expect((await search("open", cliQuery([{ type: "container" }, { type: "file", name: "*run001*" }]))).lines.sort()).toEqual(["dimuon-sim", "dimuon_run001.csv"]);
    // A group without a type falls back to the query's (collection): files do not match it.
    expect((await search("open", cliQuery([{ type: "file", name: "*run001*" }, { name: "*run002*" }]))).lines).toEqual(["dimuon_run001.csv"]);
    // type=all inside a group.
    expect((await search("open", cliQuery([{ type: "all", name: "dimuon-sim*" }]))).lines.sort()).toEqual(["dimuon-sim", "dimuon-sim.v1"]);
  });

  it("type=all/collection/container/dataset/file as the query parameter", async () => {
    const names = async (type: string) => (await search("open", urlencode([["type", type], ["filters", pyRepr([{ name: "*" }])]]))).lines as string[];
    expect(await names("container")).toEqual(["dimuon-sim"]);
    expect(await names("dataset")).toEqual(["dimuon-sim.v1"]);
    expect((await names("collection")).sort()).toEqual(["dimuon-sim", "dimuon-sim.v1"]);
    const files = await names("file");
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(await names("all")).toHaveLength(files.length + 2);
  });

  it("an unknown type, in the filters or in the query, is 409 UnsupportedOperation with the server's message", async () => {
    for (const query of [cliQuery([{ type: "bogus" }]), urlencode([["type", "Bogus"]])]) {
      const r = await search("open", query);
      expect(r).toMatchObject({ status: 409, exception: "UnsupportedOperation" });
      expect(r.message).toBe("bogus is not a valid type. Valid types are dict_keys(['all', 'collection', 'container', 'dataset', 'file'])");
    }
    // The query's type is not consulted when every group brings its own.
    expect((await search("open", cliQuery([{ type: "dataset" }], { type: "bogus" }))).lines).toEqual(["dimuon-sim.v1"]);
  });
});
