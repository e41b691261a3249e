import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Session } from "./index";

const dir = mkdtempSync(join(tmpdir(), "vre-session-"));
const notices: string[] = [];
// An empty environment: nothing configured, no config files (HOME points at an empty folder).
const env = { HOME: join(dir, "home"), XDG_CONFIG_HOME: join(dir, "config") } as NodeJS.ProcessEnv;
const session = new Session({ env, sandboxDir: join(dir, "sandbox"), notice: (m) => notices.push(m) });

afterAll(async () => {
  await session.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("Session", () => {
  it("serves unconfigured services from the embedded sandbox and says so once", async () => {
    const rucio = await session.rucio();
    expect((await rucio.whoami()).account).toBe("demo");
    const reana = await session.reana();
    expect((await reana.ping()).status).toBe("200");
    await session.zenodo();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/using the local sandbox for rucio, reana, zenodo/);
    expect((await session.settings("zenodo")).kind).toBe("sandbox");
  });

  it("never puts a secret in the notice or the profile list", async () => {
    const { settings } = await session.settings("rucio");
    const listed = JSON.stringify(session.profiles()) + notices.join("\n");
    expect(settings.password).toBeTruthy();
    expect(listed).not.toContain(settings.password!);
    expect(session.profiles().filter((p) => p.active).map((p) => p.kind)).toEqual(["sandbox", "sandbox", "sandbox"]);
  });

  it("uses a configured service instead of the sandbox", async () => {
    const configured = new Session({
      env: { ...env, REANA_SERVER_URL: "https://reana.example.org", REANA_ACCESS_TOKEN: "tok-123" },
      sandboxDir: join(dir, "unused"),
      notice: () => undefined,
    });
    const active = await configured.settings("reana");
    expect(active.kind).toBe("real");
    expect(active.settings.serverUrl).toBe("https://reana.example.org");
    expect(configured.profiles().find((p) => p.service === "reana" && p.active)?.endpoint).toBe("https://reana.example.org");
  });

  it("names the known profiles when asked for one that does not exist", () => {
    expect(() => session.use("nope")).toThrow(/no profile named "nope"/);
  });
});

describe("Session.login", () => {
  it("keeps the service's current endpoint when only a credential is given", async () => {
    const s = new Session({ env, sandboxDir: join(dir, "sandbox"), notice: () => undefined });
    const before = await s.settings("zenodo");
    await s.login("zenodo", { token: before.settings.token });
    const after = await s.settings("zenodo");
    expect(after.settings.baseUrl).toBe(before.settings.baseUrl);
    expect((await (await s.zenodo()).listDepositions()).length).toBeGreaterThanOrEqual(0);
    await s.close();
  });
});
