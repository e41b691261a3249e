/** `vre-ts sandbox` as a real process: what it prints (no secrets), one owner per data folder, clean SIGTERM. */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectSandbox, defaultSandboxDir } from "../sandbox";

let work: string;
let script: string;

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), "vre-cli-sandbox-"));
  const entry = path.join(work, "entry.ts");
  writeFileSync(entry, `import { main } from ${JSON.stringify(path.join(__dirname, "sandbox"))};\nmain(process.argv.slice(2)).then((code) => process.exit(code));\n`);
  script = path.join(work, "cli.js");
  buildSync({ entryPoints: [entry], bundle: true, platform: "node", target: "node20", outfile: script, logLevel: "error" });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[]) {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, exit, out: () => out, err: () => err };
}

async function waitFor(fn: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("vre-ts sandbox", () => {
  it("prints the URL and the credentials file but never the secrets, refuses a second owner, stops on SIGTERM", async () => {
    const data = path.join(work, "data");
    const first = run(["--data", data, "--port", "0", "--seed"]);
    await waitFor(() => first.out().includes("Press Ctrl+C"), "the sandbox to start");
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(first.out())![1]!;
    expect(first.out()).toContain(`credentials: ${path.join(data, "credentials.json")}`);
    expect(first.out()).toContain("seeded: open:dimuon-sim");
    const creds = JSON.parse(readFileSync(path.join(data, "credentials.json"), "utf8")) as { rucio: { password: string; root_password: string }; reana: { access_token: string }; zenodo: { token: string } };
    for (const secret of [creds.rucio.password, creds.rucio.root_password, creds.reana.access_token, creds.zenodo.token]) {
      expect(first.out() + first.err()).not.toContain(secret);
    }
    expect((await fetch(`${url}/rucio/ping`)).status).toBe(200);

    // Another process finds the running sandbox instead of starting a second writer on the same folder.
    const connected = await connectSandbox(data);
    expect(connected?.url).toBe(url);
    expect(connected?.profiles.rucio.password).toBe(creds.rucio.password);
    const second = run(["--data", data, "--port", "0"]);
    expect(await second.exit).toBe(1);
    expect(second.err()).toMatch(/in use by process \d+ \(serving http:\/\/127\.0\.0\.1:\d+\)/);

    first.proc.kill("SIGTERM");
    expect(await first.exit).toBe(0);
    expect(first.out()).toContain("stopping");
    expect(existsSync(path.join(data, "sandbox.lock"))).toBe(false);
    expect(await connectSandbox(data)).toBeUndefined();
  }, 60_000);

  it("--stop stops the sandbox serving the folder and waits for it; --idle-exit stops an unused one by itself", async () => {
    const data = path.join(work, "stop");
    const server = run(["--data", data, "--port", "0"]);
    await waitFor(() => server.out().includes("Press Ctrl+C"), "the sandbox to start");
    const stop = run(["--stop", "--data", data]);
    expect(await stop.exit).toBe(0);
    expect(stop.out()).toContain(`stopped the sandbox of ${data}`);
    expect(await server.exit).toBe(0);
    expect(existsSync(path.join(data, "sandbox.lock"))).toBe(false);
    const none = run(["--stop", "--data", data]);
    expect(await none.exit).toBe(0);
    expect(none.out()).toContain("no sandbox is running");

    const idle = run(["--data", data, "--port", "0", "--idle-exit", "1"]);
    await waitFor(() => idle.out().includes("Press Ctrl+C"), "the sandbox to start");
    expect(await idle.exit).toBe(0);
    expect(idle.out()).toContain("unused for 1 s");
    expect(existsSync(path.join(data, "sandbox.lock"))).toBe(false);
    expect((await run(["--idle-exit", "0"]).exit)).toBe(2);
  }, 60_000);

  it("rejects bad arguments with usage and exit code 2", async () => {
    const bad = run(["--port", "x"]);
    expect(await bad.exit).toBe(2);
    expect(bad.err()).toContain("--port must be an integer");
    const unknown = run(["--bogus"]);
    expect(await unknown.exit).toBe(2);
    expect(unknown.err()).toContain("usage: vre-ts sandbox");
  });

  it("defaults to $XDG_DATA_HOME/vre-ts/sandbox, else ~/.local/share/vre-ts/sandbox", () => {
    expect(defaultSandboxDir({ XDG_DATA_HOME: "/x/data" })).toBe("/x/data/vre-ts/sandbox");
    expect(defaultSandboxDir({})).toBe(path.join(os.homedir(), ".local/share/vre-ts/sandbox"));
    expect(defaultSandboxDir({ XDG_DATA_HOME: "relative" })).toBe(path.join(os.homedir(), ".local/share/vre-ts/sandbox"));
  });
});
