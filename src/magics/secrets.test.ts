/**
 * No token or password reaches any output: rendered values, progress bundles, prints, prompts, errors or the
 * provenance log (and its file mirror), across every service, in successful and failing calls.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../session";
import { ProvenanceLog } from "../session/provenance";
import { domainMagics } from "./domain";
import type { MagicSpec } from "./types";
import { allOutput, bundleOf, testContext, type Recorded } from "./__tests__/harness";
import { registerBuiltinMagics } from "./builtins";
import { getMagic } from "./registry";

let root: string;
let session: Session;
let magics: Record<string, MagicSpec>;
const cwd = () => path.join(root, "nb");

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-secrets-"));
  fs.mkdirSync(path.join(root, "nb", "results"), { recursive: true });
  fs.writeFileSync(path.join(root, "nb", "results", "out.txt"), "42\n");
  process.env.VRE_SANDBOX_CONTAINER_RUNTIME = "none";
  session = new Session({ sandboxDir: path.join(root, "sandbox"), env: { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json") }, notice: () => {} });
  // mirror provenance to a file too, to check what is written to disk
  Object.defineProperty(session, "provenance", { value: new ProvenanceLog({ file: path.join(root, "nb", ".vre-ts", "provenance.jsonl") }) });
  magics = Object.fromEntries(domainMagics({ session: () => session }).map((m) => [m.name, m]));
});

afterAll(async () => {
  await session?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe("secrets never leak", () => {
  it("through any magic output, error, progress, prompt echo or provenance", async () => {
    const sandbox = await session.sandbox();
    const rucio = await session.rucio();
    const issuedToken = await rucio.base.auth.token();
    const secrets = [sandbox.profiles.rucio.password, sandbox.profiles.reana.accessToken, sandbox.profiles.zenodo.token, issuedToken];
    const typedPassword = "typed-password-never-shown-123";
    const outputs: string[] = [];
    const run = async (magic: string, args: string, body?: string, answers: string[] = []) => {
      const { ctx, rec } = testContext(cwd(), { answers });
      let value: unknown;
      try {
        value = await magics[magic].run(args, ctx, body);
      } catch (e) {
        value = e;
      }
      outputs.push(allOutput(rec as Recorded, value));
      return value;
    };

    await run("rucio", "whoami");
    await run("rucio", "list-dids open:* --long");
    await run("rucio", "download open:dimuon_run001.csv --dir data");
    await run("rucio", "list-file-replicas open:dimuon_run001.csv --json");
    await run("rucio", "stat open:missing-did");
    await run("reana", "whoami");
    await run("reana", "run -n secretcheck --follow", "inputs:\n  files: [results/out.txt]\nworkflow:\n  type: serial\n  specification:\n    steps:\n      - environment: docker.io/library/bash:5.2\n        commands: [cat results/out.txt]\n");
    await run("reana", "status -w does-not-exist");
    await run("reana", "secrets add SOME_SECRET", undefined, [typedPassword]);
    await run("reana", "secrets");
    await run("zenodo", "whoami");
    await run("zenodo", "deposit --publish --yes", "title: Secret check deposit\nupload_type: dataset\ndescription: A deposit that checks that no secret leaks into any output of the magics.\nlicense: cc0-1.0\ncreators:\n  - name: Doe, Jane\nfiles: [results/out.txt]\n");
    await run("zenodo", "metadata 999999");
    await run("vre", "status");
    await run("vre", "profiles");
    await run("vre", "login rucio", undefined, ["demo", typedPassword]); // wrong password: fails, must not echo
    await run("vre", "login zenodo", undefined, [sandbox.profiles.zenodo.token]);
    await run("vre", "provenance");
    await run("vre", "provenance --json");

    const all = outputs.join("\n");
    expect(all.length).toBeGreaterThan(1000);
    expect(all).toContain("10.5072/"); // the deposit really went through
    for (const s of [...secrets, typedPassword]) {
      expect(all.includes(s), `a secret (${s.slice(0, 3)}…) reached an output`).toBe(false);
      expect(JSON.stringify(session.provenance.entries()).includes(s)).toBe(false);
      expect(fs.readFileSync(path.join(cwd(), ".vre-ts", "provenance.jsonl"), "utf8").includes(s)).toBe(false);
    }
    // deposit state files next to the notebook hold no secrets either
    for (const f of fs.readdirSync(path.join(cwd(), ".vre-ts", "deposits"))) {
      const text = fs.readFileSync(path.join(cwd(), ".vre-ts", "deposits", f), "utf8");
      for (const s of secrets) expect(text.includes(s)).toBe(false);
    }
    expect(all).not.toMatch(/access_token=(?!\*\*\*)[^&\s"]+/);
  });

  it("%env masks a value this session registered as a REANA secret, whatever the variable is called", async () => {
    const value = "reana-secret-value-42-typed-in";
    await run("reana", "secrets add MY_ANALYSIS_KEY", undefined, [value]);
    const listed = (await run("reana", "secrets")) as Array<{ name: string }>;
    expect(listed.map((x) => x.name)).toContain("MY_ANALYSIS_KEY");
    registerBuiltinMagics();
    const envMagic = getMagic("env")!;
    process.env.ANALYSIS_INPUT = value;
    process.env.ANALYSIS_URL = `https://data.example/x?q=1#${value}`;
    try {
      const { ctx } = testContext(cwd());
      const one = (await envMagic.run("ANALYSIS_INPUT", ctx)) as string;
      expect(one).not.toContain(value);
      expect(one).toContain("***");
      const table = JSON.stringify(bundleOf(await envMagic.run("", ctx)));
      expect(table).toContain("ANALYSIS_INPUT");
      expect(table).not.toContain(value);
      expect((await envMagic.run("ANALYSIS_URL", ctx)) as string).toBe("https://data.example/x?q=1#***");
      expect((await envMagic.run("HOME", ctx)) as string).toBe(process.env.HOME);
    } finally {
      delete process.env.ANALYSIS_INPUT;
      delete process.env.ANALYSIS_URL;
    }
  });
});

let run: (magic: string, args: string, body?: string, answers?: string[]) => Promise<unknown>;
beforeAll(() => {
  run = async (magic, args, body, answers = []) => magics[magic].run(args, testContext(cwd(), { answers }).ctx, body);
});

