import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReanaClient } from "../clients/reana";
import type { Sandbox } from "../sandbox";
import { Session } from "../session";
import { reanaMagic } from "./reana";
import { UsageError, type MagicSpec } from "./types";
import { allOutput, bundleOf, testContext } from "./__tests__/harness";

let sandbox: Sandbox;
let root: string;
let session: Session;
let magic: MagicSpec;
let client: ReanaClient;
const cwd = () => path.join(root, "nb");

const WORKFLOW = `inputs:
  files: [data/events.txt]
  parameters:
    label: dimuon
workflow:
  type: serial
  specification:
    steps:
      - name: count
        environment: docker.io/library/bash:5.2
        commands:
          - mkdir -p results
          - wc -l < data/events.txt > results/count.txt
      - name: tag
        environment: docker.io/library/bash:5.2
        commands:
          - echo "\${label}" >> results/count.txt
outputs:
  files: [results/count.txt]
`;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "vre-reana-magic-"));
  process.env.VRE_SANDBOX_CONTAINER_RUNTIME = "none"; // run steps on the host: no image pulls in tests
  session = new Session({ sandboxDir: path.join(root, "sandbox"), env: { HOME: root, VRE_TS_CONFIG: path.join(root, "config.json") }, notice: () => {} });
  sandbox = await session.sandbox();
  client = await session.reana();
  magic = reanaMagic(() => session);
  fs.mkdirSync(path.join(root, "nb", "data"), { recursive: true });
  fs.writeFileSync(path.join(root, "nb", "data", "events.txt"), "a\nb\nc\n");
});

afterAll(async () => {
  await session?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function fails(p: unknown): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the magic to fail");
}

describe("%reana against the sandbox", () => {
  it("ping and whoami", async () => {
    const { ctx, rec } = testContext(cwd());
    const ping = (await magic.run("ping", ctx)) as { message: string };
    expect(ping.message).toBeTruthy();
    const who = await magic.run("whoami", ctx);
    expect(String(bundleOf(who)["text/plain"])).toContain("REANA account");
    expect(allOutput(rec, ping, who)).not.toContain(sandbox.profiles.reana.accessToken);
  });

  it("validates a reana.yaml cell body offline", async () => {
    const ok = (await magic.run("validate", testContext(cwd()).ctx, WORKFLOW)) as { valid: boolean };
    expect(ok.valid).toBe(true);
    const bad = (await magic.run("validate", testContext(cwd()).ctx, "workflow:\n  type: serial\n  specification:\n    steps:\n      - environment: docker.io/library/bash:5.2\n        commands:\n          - echo ${nope}\n")) as { valid: boolean; errors: unknown[] };
    expect(bad.valid).toBe(false);
    expect(String(bundleOf(bad)["text/plain"])).toMatch(/^✘/);
  });

  it("%%reana run --follow runs the inline workflow live; status, logs, ls and download follow", async () => {
    const { ctx, rec } = testContext(cwd());
    const final = (await magic.run("run -n counting --follow", ctx, WORKFLOW)) as { name: string; status: string; id: string; progress: { finished: number; total: number } };
    expect(final.status).toBe("finished");
    expect(final.progress).toMatchObject({ finished: 3, total: 3 }); // one job per command
    expect(String(bundleOf(final)["text/html"])).toContain("finished");
    const progress = rec.displays.filter((d) => d.options.raw);
    expect(new Set(progress.map((d) => d.options.display_id)).size).toBe(1);
    expect(String((progress.at(-1)!.value as Record<string, unknown>)["text/plain"])).toMatch(/^✔ Workflow counting: finished\n  3\/3 jobs/);
    const [run, outcome] = session.provenance.entries({ action: "run" }).slice(-2);
    expect(run).toMatchObject({ kind: "workflow", service: "reana", id: final.id, via: "%reana run", details: { name: "counting" } });
    expect(run.checksums?.sha256).toMatch(/^[0-9a-f]{64}$/);
    // every uploaded input by md5 and sha256, as read from the notebook's folder
    const events = fs.readFileSync(path.join(cwd(), "data", "events.txt"));
    expect(run.details?.inputs).toEqual([expect.objectContaining({ path: "data/events.txt", sha256: createHash("sha256").update(events).digest("hex") })]);
    expect(outcome).toMatchObject({ id: final.id, via: "%reana follow", details: { status: "finished", jobs: { finished: 3, total: 3 } } });

    const st = (await magic.run(`status -w ${final.name}`, testContext(cwd()).ctx)) as { status: string };
    expect(st.status).toBe("finished");
    const logs = await magic.run(`logs -w ${final.name} --step tag`, testContext(cwd()).ctx);
    expect(String(bundleOf(logs)["text/plain"])).toContain("==> step tag");
    const ls = (await magic.run(`ls -w ${final.name} 'results/*'`, testContext(cwd()).ctx)) as Array<{ name: string }>;
    expect(ls.map((f) => f.name)).toContain("results/count.txt");
    const got = (await magic.run(`download -w ${final.name}`, testContext(cwd()).ctx)) as Array<{ path: string; md5: string }>;
    expect(got).toHaveLength(1);
    expect(got[0].path).toBe(path.join(cwd(), "results", "count.txt"));
    expect(fs.readFileSync(got[0].path, "utf8")).toBe("3\ndimuon\n");
    expect(session.provenance.entries({ action: "read", service: "reana" }).at(-1)).toMatchObject({ id: `${final.name}:results/count.txt`, checksums: { md5: got[0].md5 } });
    const listed = (await magic.run("list --search counting", testContext(cwd()).ctx)) as Array<{ name: string }>;
    expect(listed.length).toBeGreaterThan(0);
  });

  it("create + upload + start with parameters, from a reana.yaml file", async () => {
    fs.writeFileSync(path.join(cwd(), "reana.yaml"), WORKFLOW);
    const created = (await magic.run("create -n stepwise", testContext(cwd()).ctx)) as { workflowName: string };
    const up = (await magic.run(`upload -w ${created.workflowName}`, testContext(cwd()).ctx)) as Array<{ name: string }>;
    expect(up.map((u) => u.name)).toContain("data/events.txt");
    const final = (await magic.run(`start -w ${created.workflowName} -p label=other --follow`, testContext(cwd()).ctx)) as { status: string; name: string };
    expect(final.status).toBe("finished");
    await magic.run(`download -w ${final.name} results/count.txt --dir out`, testContext(cwd()).ctx);
    expect(fs.readFileSync(path.join(cwd(), "out", "results", "count.txt"), "utf8")).toBe("3\nother\n");
    fs.rmSync(path.join(cwd(), "reana.yaml"));
  });

  it("a failing workflow is one clear error with the failing step's last lines", async () => {
    const failing = "workflow:\n  type: serial\n  specification:\n    steps:\n      - name: boom\n        environment: docker.io/library/bash:5.2\n        commands: [\"echo about to fail && exit 3\"]\n";
    const err = await fails(magic.run("run -n failing --follow", testContext(cwd()).ctx, failing));
    expect(err.name).toBe("ReanaError");
    expect(err.message).toMatch(/Workflow failing(\.\d+)? failed/);
    expect(err.message).toContain("about to fail");
    expect(err.message).toContain("%reana logs -w failing");
    expect(err.stack).toBe(`${err.name}: ${err.message}`);
  });

  it("stop --force reaches the sandbox as force_stop: a step that ignores SIGTERM is killed at once, not after the grace period", async () => {
    const stubborn = "workflow:\n  type: serial\n  specification:\n    steps:\n      - name: stubborn\n        environment: docker.io/library/bash:5.2\n        commands: [\"trap '' TERM; echo ready; sleep 62\"]\n";
    const started = (await magic.run("run -n stubborn", testContext(cwd()).ctx, stubborn)) as { workflowName: string };
    const pause = () => new Promise((r) => setTimeout(r, 100));
    for (let i = 0; ; i += 1) {
      const logs = await client.logs(started.workflowName);
      if (logs.jobs.some((j) => j.logs.includes("ready"))) break;
      if (i > 150) throw new Error("the stubborn step did not start");
      await pause();
    }
    await pause(); // the step now sleeps with SIGTERM ignored
    const asked = Date.now();
    const stopped = (await magic.run(`stop -w ${started.workflowName} --force`, testContext(cwd()).ctx)) as { status: string };
    // A normal stop sends SIGTERM and waits 3 s before SIGKILL; a forced one does not wait.
    expect(Date.now() - asked).toBeLessThan(1500);
    expect(stopped.status).toBe("stopped");
    const st = await client.status(started.workflowName);
    expect(st.status).toBe("stopped");
    expect((await client.logs(started.workflowName)).workflowLogs).toContain("force-stopped");
  }, 30_000);

  it("explains bad invocations and never takes secret values on the line", async () => {
    const { ctx } = testContext(path.join(root));
    expect((await fails(magic.run("run -n x", ctx))).message).toMatch(/no reana.yaml in/);
    expect((await fails(magic.run("status", ctx))).message).toMatch(/missing required option -w WF/);
    expect((await fails(magic.run("start -w x -p nope", ctx))).message).toMatch(/--parameter expects KEY=VALUE/);
    expect((await fails(magic.run("monitor", ctx))).message).toMatch(/missing required option -w WF/);
    // Poll intervals are bounded: 1e99 s would overflow Node's timer (clamped to 1 ms: a busy poll), 0 s is one too.
    for (const every of ["1e99", "0", "3601", "0.1", "=-1"]) {
      const err = await fails(magic.run(`monitor -w x --every${every.startsWith("=") ? every : ` ${every}`}`, ctx));
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toMatch(/^%reana monitor: --every must be between 0\.2 and 3600 seconds; got \S+\.\nUsage: %reana monitor -w WF \[--every SECONDS\] \[--json\]$/);
    }
    for (const every of ["NaN", "Infinity", "0x10", "soon"]) {
      expect((await fails(magic.run(`monitor -w x --every ${every}`, ctx))).message).toMatch(/--every expects a number, got \S+; it must be between 0\.2 and 3600 seconds\.\nUsage: /);
    }
    expect((await fails(magic.run("list --size 0", ctx))).message).toMatch(/--size must be between 1 and 1000; got 0/);
    expect((await fails(magic.run("list --page=-1", ctx))).message).toMatch(/--page must be between 1 and 1000000; got -1/);
    expect((await fails(magic.run("diff a b --context=-1", ctx))).message).toMatch(/--context must be between 0 and 10000; got -1/);
    expect((await fails(magic.run("lgos -w x", ctx))).message).toMatch(/Did you mean logs\?/);
    const secret = await fails(magic.run("secrets add TOKEN=abc", ctx));
    expect(secret).toBeInstanceOf(UsageError);
    expect(secret.message).not.toContain("abc");
    const nf = await fails(magic.run("status -w does-not-exist", ctx));
    expect(nf.name).toBe("ReanaError");
  });

  it("secrets add asks with a hidden prompt and never shows the value", async () => {
    const value = "s3cr3t-value-for-reana";
    const { ctx, rec } = testContext(cwd(), { answers: [value] });
    const added = await magic.run("secrets add MY_SECRET", ctx);
    expect(rec.prompts).toEqual([{ prompt: "Value of secret MY_SECRET: ", password: true }]);
    const list = (await magic.run("secrets", testContext(cwd()).ctx)) as Array<{ name: string }>;
    expect(list.map((s) => s.name)).toContain("MY_SECRET");
    expect(allOutput(rec, added, list)).not.toContain(value);
    await magic.run("secrets delete MY_SECRET", testContext(cwd()).ctx);
  });
});
