import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { JsonStore, lockDataDir, readDataDirOwner } from "./store";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "vre-store-"));
  dirs.push(d);
  return d;
};

describe("JsonStore", () => {
  it("returns the initial document for a missing file and the last write after concurrent writes", async () => {
    const store = new JsonStore(path.join(tmp(), "doc.json"), () => ({ n: -1 }));
    expect(await store.read()).toEqual({ n: -1 });
    await Promise.all(Array.from({ length: 20 }, (_, n) => store.write({ n })));
    expect(await store.read()).toEqual({ n: 19 });
    expect(statSync(store.file).mode & 0o777).toBe(0o600);
  });

  it("never leaves a torn document when the writer is killed mid-write", async () => {
    const dir = tmp();
    const file = path.join(dir, "doc.json");
    const entry = path.join(dir, "writer.ts");
    writeFileSync(
      entry,
      `import { JsonStore } from ${JSON.stringify(path.join(__dirname, "store"))};
const store = new JsonStore(${JSON.stringify(file)}, () => ({}));
const big = "x".repeat(200_000);
(async () => { for (let i = 0; ; i++) { await store.write({ i, big }); if (i === 3) process.stdout.write("go\\n"); } })();\n`,
    );
    const script = path.join(dir, "writer.js");
    buildSync({ entryPoints: [entry], bundle: true, platform: "node", outfile: script, logLevel: "error" });
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + round * 30));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      const doc = JSON.parse(readFileSync(file, "utf8")) as { i: number; big: string };
      expect(doc.i).toBeGreaterThanOrEqual(3);
      expect(doc.big.length).toBe(200_000);
    }
  });
});

describe("data folder lock", () => {
  it("names the owner and is taken over when the owner is gone", async () => {
    const dir = tmp();
    const lock = await lockDataDir(dir, "http://127.0.0.1:1");
    expect(await readDataDirOwner(dir)).toMatchObject({ pid: process.pid, url: "http://127.0.0.1:1" });
    await expect(lockDataDir(dir, "http://127.0.0.1:2")).rejects.toThrow(/in use by process/);
    await lock.release();
    expect(await readDataDirOwner(dir)).toBeUndefined();
    // A lock left by a process that no longer exists.
    writeFileSync(path.join(dir, "sandbox.lock"), JSON.stringify({ pid: 2 ** 22 + 12345, url: "http://127.0.0.1:3", started_at: "" }));
    const again = await lockDataDir(dir, "http://127.0.0.1:4");
    expect((await readDataDirOwner(dir))?.url).toBe("http://127.0.0.1:4");
    await again.release();
  });
});
