import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bash, cd, env, html, markdown, maskEnvValue, setEnv, ShellCommandError, time } from "./builtins";
import { DISPLAY } from "./render";

describe("bash", () => {
  it("streams stdout and stderr as they arrive and passes positional arguments", async () => {
    const seen: [string, string][] = [];
    await bash('echo "one $1"; echo two >&2', { args: ["arg"], onOutput: (s, t) => seen.push([s, t]) });
    expect(seen).toContainEqual(["stdout", "one arg\n"]);
    expect(seen).toContainEqual(["stderr", "two\n"]);
  });

  it("rejects with the exit status on failure", async () => {
    const err = await bash("exit 7", { onOutput: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShellCommandError);
    expect((err as ShellCommandError).exitCode).toBe(7);
    expect((err as ShellCommandError).code).toBe("SHELL_COMMAND_FAILED");
  });

  it("kills the script when the signal aborts", async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = bash("sleep 30", { signal: ac.signal, onOutput: () => undefined });
    setTimeout(() => ac.abort(), 100);
    const err = await p.catch((e: unknown) => e);
    expect((err as ShellCommandError).signal).toBe("SIGTERM");
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe("env", () => {
  afterEach(() => {
    delete process.env.VRE_TEST_API_TOKEN;
    delete process.env.VRE_TEST_PLAIN;
  });

  it("masks values whose names look secret, in listings and lookups", () => {
    setEnv("VRE_TEST_API_TOKEN", "abc123");
    setEnv("VRE_TEST_PLAIN", "visible");
    expect(env("VRE_TEST_API_TOKEN")).toBe("<hidden>");
    expect(env("VRE_TEST_PLAIN")).toBe("visible");
    const bundle = env()[DISPLAY]();
    expect(JSON.stringify(bundle)).not.toContain("abc123");
    expect(bundle["text/plain"]).toContain("VRE_TEST_PLAIN");
    for (const n of ["RUCIO_PASSWORD", "ZENODO_SECRET", "SSH_KEY", "reana_access_token"]) expect(maskEnvValue(n, "x")).toBe("<hidden>");
  });

  it("rejects invalid names", () => {
    expect(() => setEnv("1BAD", "x")).toThrow(/invalid environment variable name/);
    const long = `1${"x".repeat(100_000)}`;
    let message = "";
    try {
      setEnv(long, "x");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.length).toBeLessThan(400);
    expect(message).toMatch(/… \(\d+ more characters\)/);
    expect(() => cd(`/no/such/${"d".repeat(100_000)}`)).toThrow(/more characters\)/);
  });
});

describe("cd, time, html, markdown", () => {
  it("changes directory, expands -, reports bad paths as UsageError", () => {
    const start = process.cwd();
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "vre-cd-")));
    try {
      expect(cd(dir)).toBe(dir);
      expect(process.cwd()).toBe(dir);
      expect(cd("-")).toBe(start);
      expect(() => cd(join(dir, "missing"))).toThrow(/cannot change to/);
    } finally {
      process.chdir(start);
    }
  });

  it("time returns the value and prints CPU and wall time", async () => {
    let printed = "";
    const v = await time(async () => 41 + 1, (t) => (printed += t));
    expect(v).toBe(42);
    expect(printed).toMatch(/^CPU times: user .+, sys .+\nWall time: .+\n$/);
  });

  it("html and markdown build rich values", () => {
    expect(html("<b>x</b>")[DISPLAY]()["text/html"]).toBe("<b>x</b>");
    expect(markdown("# T")[DISPLAY]()).toEqual({ "text/markdown": "# T", "text/plain": "# T" });
  });
});
