import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataDirInUseError, openSandbox, startSandbox } from "./index";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "vre-sandbox-open-"));
  dirs.push(d);
  return d;
};

describe("one sandbox per data folder", () => {
  it("refuses a second writer and lets openSandbox reuse the running one", async () => {
    const dir = tmp();
    const first = await startSandbox({ dataDir: dir });
    await expect(startSandbox({ dataDir: dir })).rejects.toBeInstanceOf(DataDirInUseError);
    const reused = await openSandbox({ dataDir: dir });
    expect(reused.owned).toBe(false);
    expect(reused.url).toBe(first.url);
    expect(reused.profiles).toEqual(first.profiles);
    await reused.close();
    expect((await fetch(`${first.url}/rucio/ping`)).status).toBe(200);
    await first.close();
    const own = await openSandbox({ dataDir: dir });
    expect(own.owned).toBe(true);
    expect(own.profiles.rucio.password).toBe(first.profiles.rucio.password);
    expect(own.url).not.toBe("");
    await own.close();
  });

  it("mounts all four prefixes on one 127.0.0.1 server", async () => {
    const sb = await startSandbox({ dataDir: tmp() });
    try {
      expect((await fetch(`${sb.url}/rucio/ping`)).status).toBe(200);
      expect((await fetch(`${sb.url}/reana/api/ping`)).status).toBe(200);
      expect((await fetch(`${sb.profiles.zenodo.baseUrl}/deposit/depositions?access_token=${sb.profiles.zenodo.token}`)).status).toBe(200);
      expect((await fetch(`${sb.url}/rucio-storage/SANDBOX-DISK1/nothing/here`)).status).toBe(401);
      const index = (await (await fetch(sb.url)).json()) as { endpoints: string[] };
      expect(index.endpoints).toEqual(["/reana", "/rucio", "/rucio-storage", "/zenodo"]);
    } finally {
      await sb.close();
    }
  });
});
