/**
 * %rucio rule management and argument checks against the embedded sandbox over real HTTP: uploads are protected by
 * a rule as `rucio upload` does it, update-rule / list-rules --account / account-usage, container stat, progress
 * counts after a checksum retry, numeric bounds, DID checks and clipped echoes of long arguments.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Rule } from "../clients/rucio";
import { Session } from "../session";
import { Progress } from "./progress";
import { rucioMagic } from "./rucio";
import { UsageError, type MagicSpec } from "./types";
import { bundleOf, testContext } from "./__tests__/harness";

let root: string;
let session: Session;
let magic: MagicSpec;
const cwd = () => path.join(root, "nb");

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-rucio-rules-"));
  fs.mkdirSync(path.join(root, "nb", "results"), { recursive: true });
  session = new Session({ sandboxDir: path.join(root, "sandbox"), env: { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json") }, notice: () => {} });
  magic = rucioMagic(() => session);
});

afterAll(async () => {
  await session?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const run = (args: string) => magic.run(args, testContext(cwd()).ctx);

async function fails(p: unknown): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the magic to fail");
}

function write(name: string, text: string): void {
  fs.writeFileSync(path.join(cwd(), "results", name), text);
}

describe("%rucio upload protects what it uploads, as rucio upload does", () => {
  it("a file uploaded without a dataset gets a one-copy rule on the upload RSE, with no expiry by default", async () => {
    write("peak.csv", "m,n\n3.097,12\n");
    const [up] = (await run("upload results/peak.csv --rse SANDBOX-DISK1")) as Array<{ did: string; ruleIds?: string[] }>;
    expect(up.did).toBe("user.demo:peak.csv");
    const rules = (await run("list-rules user.demo:peak.csv")) as Rule[];
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ account: "demo", rse_expression: "SANDBOX-DISK1", copies: 1, state: "OK" });
    expect(rules[0].expires_at ?? null).toBeNull();
    expect(up.ruleIds).toEqual([rules[0].id]);
  });

  it("--lifetime sets the protecting rule's expiry; a new dataset gets the rule (grouping DATASET), not each file", async () => {
    write("a.csv", "a\n1\n");
    write("b.csv", "b\n2\n");
    const before = Date.now();
    const ups = (await run("upload results/a.csv results/b.csv --rse SANDBOX-DISK1 --dataset user.demo:peaks --lifetime 3600")) as Array<{ ruleIds?: string[] }>;
    const dsRules = (await run("list-rules user.demo:peaks")) as Rule[];
    expect(dsRules).toHaveLength(1);
    expect(dsRules[0]).toMatchObject({ rse_expression: "SANDBOX-DISK1", copies: 1, grouping: "DATASET" });
    const expires = new Date(dsRules[0].expires_at!).getTime();
    expect(expires).toBeGreaterThan(before + 3500_000);
    expect(expires).toBeLessThan(Date.now() + 3700_000);
    expect(ups[0].ruleIds).toEqual([dsRules[0].id]);
    // the files themselves carry no rule of their own: the dataset's rule locks them
    expect((await run("list-rules user.demo:a.csv")) as Rule[]).toHaveLength(0);
    expect(dsRules[0].locks_ok_cnt).toBe(2);
  });
});

describe("rule management and account usage", () => {
  it("update-rule changes the lifetime (PUT /rules/{id}) and shows the updated rule", async () => {
    const [rule] = (await run("list-rules user.demo:peak.csv")) as Rule[];
    const before = Date.now();
    const updated = (await run(`update-rule ${rule.id} --lifetime 7200 --comment keep-for-two-hours`)) as Rule;
    expect(updated.id).toBe(rule.id);
    const expires = new Date(updated.expires_at!).getTime();
    expect(expires).toBeGreaterThan(before + 7100_000);
    expect(expires).toBeLessThan(Date.now() + 7300_000);
    expect(updated.comments).toBe("keep-for-two-hours");
    expect(String(bundleOf(updated)["text/plain"])).toContain("updated");
    const cleared = (await run(`update-rule ${rule.id} --no-lifetime`)) as Rule;
    expect(cleared.expires_at ?? null).toBeNull();
    expect((await fails(run(`update-rule ${rule.id}`))).message).toMatch(/nothing to change/);
    const missing = await fails(run("update-rule 00000000000000000000000000000000 --lifetime 60"));
    expect((missing as { code?: string }).code).toBe("RUCIO_RULE_NOT_FOUND");
  });

  it("list-rules --account lists the rules an account owns (GET /rules/?account=)", async () => {
    const mine = (await run("list-rules --account demo")) as Rule[];
    const dids = mine.map((r) => `${r.scope}:${r.name}`);
    expect(dids).toEqual(expect.arrayContaining(["user.demo:peak.csv", "user.demo:peaks"]));
    expect(mine.every((r) => r.account === "demo")).toBe(true);
    const ok = (await run("list-rules --account demo --state OK")) as Rule[];
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.every((r) => r.state === "OK")).toBe(true);
    expect((await run("list-rules --account root")) as Rule[]).not.toEqual(expect.arrayContaining([expect.objectContaining({ account: "demo" })]));
    expect((await fails(run("list-rules"))).message).toMatch(/give a DID or --account/);
  });

  it("account-usage shows bytes and files locked per RSE against the quota", async () => {
    const usage = (await run("account-usage")) as Array<{ rse: string; bytes: number; files: number; bytes_limit: number; bytes_remaining: number }>;
    const disk1 = usage.find((u) => u.rse === "SANDBOX-DISK1")!;
    const sizes = ["peak.csv", "a.csv", "b.csv"].map((f) => fs.statSync(path.join(cwd(), "results", f)).size);
    expect(disk1.files).toBeGreaterThanOrEqual(3);
    expect(disk1.bytes).toBeGreaterThanOrEqual(sizes.reduce((a, b) => a + b, 0));
    expect(disk1.bytes_remaining).toBe(disk1.bytes_limit - disk1.bytes);
    const one = (await run("account-usage demo --rse SANDBOX-DISK1")) as Array<{ rse: string; bytes: number }>;
    expect(one).toEqual([expect.objectContaining({ rse: "SANDBOX-DISK1", bytes: disk1.bytes })]);
    expect(String(bundleOf(one)["text/plain"])).toMatch(/SANDBOX-DISK1/);
  });
});

describe("what %rucio shows is what Rucio holds", () => {
  it("stat of a container counts the files below it, as Rucio's dynamic depth does", async () => {
    const container = (await run("stat open:dimuon-sim")) as { type: string; length: number; bytes: number };
    const dataset = (await run("stat open:dimuon-sim.v1")) as { length: number; bytes: number };
    expect(String(container.type).toUpperCase()).toBe("CONTAINER");
    expect(container.length).toBe(4);
    expect(container.length).toBe(dataset.length);
    expect(container.bytes).toBe(dataset.bytes);
  });

  it("after a checksum retry from another replica, the progress counts files, not attempts", async () => {
    await run("make-available open:dimuon_run001.csv --wait");
    const [onDisk2] = (await run("paths open:dimuon_run001.csv")) as string[];
    const good = fs.readFileSync(onDisk2);
    fs.writeFileSync(onDisk2, Buffer.alloc(good.length, 0x41)); // same size, wrong content
    // Every state the magic reports, including those the display throttle merges away on a fast sandbox.
    const reported = vi.spyOn(Progress.prototype, "update");
    try {
      const { ctx, rec } = testContext(cwd());
      const files = (await magic.run("download open:dimuon_run001.csv --dir retried", ctx)) as Array<{ source: { rse?: string } }>;
      const patches = reported.mock.calls.map(([p]) => p);
      expect(patches.some((p) => p.files === 1)).toBe(true);
      for (const p of patches) {
        if (p.files !== undefined) expect(p.files).toBeLessThanOrEqual(1);
        if (p.bytes !== undefined) expect(p.bytes).toBeLessThanOrEqual(good.length);
      }
      expect(files).toHaveLength(1);
      expect(files[0].source.rse).toBe("SANDBOX-DISK1");
      const texts = rec.displays.filter((d) => d.options.raw).map((d) => String((d.value as Record<string, unknown>)["text/plain"]));
      for (const t of texts) {
        const m = /(\d+)\/(\d+) files/.exec(t);
        if (m) expect(Number(m[1])).toBeLessThanOrEqual(Number(m[2]));
      }
      const last = texts.at(-1)!;
      expect(last).toMatch(/^✔ /);
      expect(last).toContain("1/1 files");
      const [, done, total] = /· ([\d.]+ k?B) \/ ([\d.]+ k?B) ·/.exec(last)!;
      expect(done).toBe(total); // bytes of the file once, not of both attempts
    } finally {
      reported.mockRestore();
      fs.writeFileSync(onDisk2, good);
    }
  });
});

describe("arguments are checked before anything is sent", () => {
  it("numbers must be whole and within sensible bounds", async () => {
    write("n.csv", "n\n");
    const huge = await fails(run("upload results/n.csv --rse SANDBOX-DISK1 --lifetime 1e99"));
    expect(huge).toBeInstanceOf(UsageError);
    expect(huge.message).toMatch(/--lifetime expects an integer, got 1e99 \(write it out in digits/);
    expect((await fails(run("upload results/n.csv --rse SANDBOX-DISK1 --lifetime 99999999999"))).message).toMatch(/--lifetime must be between 1 and 3153600000/);
    expect((await fails(run("add-rule open:x 1 SANDBOX-DISK2 --lifetime 0"))).message).toMatch(/--lifetime must be between 1 and/);
    expect((await fails(run("list-dids open:* --limit 0"))).message).toMatch(/--limit must be between 1 and 1000000; got 0/);
    expect((await fails(run("list-dids open:* --limit -5"))).message).toMatch(/--limit/);
    expect((await fails(run("add-rule open:x 0 SANDBOX-DISK2"))).message).toMatch(/COPIES must be between 1 and 100/);
    expect((await fails(run("update-rule abc --lifetime 12.5"))).message).toMatch(/expects an integer, got 12.5/);
    // nothing was uploaded by the refused calls
    expect((await fails(run("stat user.demo:n.csv"))).name).toBe("RucioError");
  });

  it("'.' and '..' are never taken for DIDs", async () => {
    write("dots.csv", "x\n");
    for (const args of [
      "upload results/dots.csv --rse SANDBOX-DISK1 --dataset ..",
      "upload results/dots.csv --rse SANDBOX-DISK1 --dataset user.demo:..",
      "upload results/dots.csv --rse SANDBOX-DISK1 --scope ..",
      "stat user.demo:..",
      "stat ..:x",
      "download open:a/../b",
      "list-dids ..:*",
      "list-content 'open:dimuon sim'",
    ]) {
      const e = await fails(run(args));
      expect(e, args).toBeInstanceOf(UsageError);
      expect(e.message, args).toMatch(/is not a DID|not a scope/);
    }
    expect((await fails(run("stat user.demo:dots.csv"))).name).toBe("RucioError"); // nothing was uploaded
    const ds = (await run("list-dids user.demo:* --type all")) as Array<{ name: string }>;
    expect(ds.map((d) => d.name)).not.toContain("..");
  });

  it("a long argument is echoed clipped, with the count of what was left out", async () => {
    const long = "x".repeat(100_000);
    for (const args of [`stat ${long}`, `list-dids open:* --limit ${long}`, `list-dids open:* ${long}`, `${long}`]) {
      const e = await fails(run(args));
      expect(e.message.length, args.slice(0, 20)).toBeLessThan(2000);
      expect(e.message).toMatch(/… \(\d+ more characters\)/);
    }
  });
});
