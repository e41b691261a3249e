/**
 * %reana robustness through the magic itself: retries are announced in the cell, a `../` download target creates
 * nothing, files given with -f are checked before they are read.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, type Loopback, startLoopback } from "../clients/http/__tests__/loopback";
import { ReanaClient } from "../clients/reana";
import type { Session } from "../session";
import { reanaMagic } from "./reana";
import { testContext } from "./__tests__/harness";

let lb: Loopback;
let client: ReanaClient;
let root: string;
const magic = reanaMagic(() => ({ reana: async () => client, provenance: { record: () => undefined } }) as unknown as Pick<Session, "reana" | "provenance">);

const STATUS = {
  id: "00000000-0000-4000-8000-000000000001",
  name: "wf.1",
  created: "2026-11-25T04:00:00",
  status: "running",
  user: "u",
  progress: { total: { total: 2, job_ids: [] }, finished: { total: 1, job_ids: [] } },
};

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-reana-robust-"));
  fs.mkdirSync(path.join(root, "a", "nb"), { recursive: true });
  lb = await startLoopback((_q, res, _b, n) => (n === 1 ? undefined : json(res, 200, STATUS)));
  client = new ReanaClient({ serverUrl: lb.url, accessToken: "reana-token-abcdef0123456789" }, { timeouts: { headersMs: 300 }, retry: { baseDelayMs: 5, maxDelayMs: 10 } });
});
afterAll(async () => {
  await client.close();
  await lb.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("%reana", () => {
  it("says in the cell that a request is retried when the server does not answer", async () => {
    const { ctx, rec } = testContext(path.join(root, "a", "nb"));
    const state = (await magic.run("status -w wf.1", ctx)) as { status: string };
    expect(state.status).toBe("running");
    expect(rec.errors.join("")).toMatch(/^reana: Timed out waiting for an answer from 127\.0\.0\.1:\d+ \(read the status of wf\.1\); retrying in \d+ ms \(attempt 2 of 5, giving up at \d\d:\d\d:\d\d UTC\)\.\n$/);
    expect(rec.errors.join("")).not.toContain("reana-token-abcdef0123456789");
  });

  it("a download target that leaves the folder is refused before any folder is made", async () => {
    const { ctx } = testContext(path.join(root, "a", "nb"));
    const before = lb.requests.length;
    await expect(magic.run("download -w wf.1 ../../escape/x.txt", ctx)).rejects.toMatchObject({ code: "REANA_UNSAFE_PATH" });
    expect(fs.existsSync(path.join(root, "escape"))).toBe(false);
    expect(fs.readdirSync(root)).toEqual(["a"]);
    expect(lb.requests.length).toBe(before);
  });

  it("-f /dev/zero or a FIFO is refused at once, not read", async () => {
    const { ctx } = testContext(path.join(root, "a", "nb"));
    await expect(magic.run("validate -f /dev/zero", ctx)).rejects.toMatchObject({ code: "LOCAL_FILE_NOT_REGULAR", message: expect.stringContaining("/dev/zero: it is a device") });
  });
});
