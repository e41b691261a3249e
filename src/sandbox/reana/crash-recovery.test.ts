import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, waitFor } from "./__tests__/client";

/**
 * Kills the REANA + Zenodo services with SIGKILL in the middle of a workflow run and of uploads, restarts them on
 * the same data folder, and checks that acknowledged data is intact, that half-received uploads are invisible,
 * and that the interrupted run is reported as failed rather than silently lost.
 */

let workDir: string;
let script: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), "vre-sbx-kill-"));
  script = path.join(workDir, "serve.js");
  await build({
    entryPoints: [path.join(__dirname, "__tests__", "serve.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    outfile: script,
    logLevel: "error",
  });
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(workDir, { recursive: true, force: true });
});

interface Served {
  child: ChildProcess;
  url: string;
  reanaToken: string;
  zenodoToken: string;
}

async function serve(dataDir: string): Promise<Served> {
  const child = spawn(process.execPath, [script, dataDir], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, VRE_SANDBOX_CONTAINER_RUNTIME: "none" },
  });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.on("exit", (code) => reject(new Error(`sandbox exited early (${String(code)}): ${stderr}`)));
  });
  return { child, ...(JSON.parse(line) as Omit<Served, "child">) };
}

async function kill(s: Served): Promise<void> {
  const exited = new Promise((resolve) => s.child.once("exit", resolve));
  s.child.kill("SIGKILL");
  await exited;
}

/** Starts an upload that sends `sent` of `declared` bytes and then stalls (the connection stays open). */
function stalledUpload(url: string, headers: Record<string, string>, method: string, declared: number, sent: number): void {
  const req = request(url, { method, headers: { ...headers, "Content-Length": String(declared) } });
  req.on("error", () => undefined);
  req.write(Buffer.alloc(sent, 0x61));
}

/** Live (non-zombie) processes in any of the process groups. */
async function liveGroupMembers(pgids: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat = "";
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (pgids.includes(Number(fields[2])) && fields[0] !== "Z") out.push(Number(entry));
  }
  return out;
}

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

describe("SIGKILL during a run and during uploads", () => {
  it("keeps acknowledged REANA uploads, hides partial ones and reports the interrupted run as failed", async () => {
    const dataDir = path.join(workDir, "reana-data");
    let s = await serve(dataDir);
    const reana = (method: string, route: string, options: Parameters<typeof call>[3] = {}) =>
      call(`${s.url}/reana`, method, route, { ...options, query: { access_token: s.reanaToken, ...(options.query ?? {}) } });

    const created = await reana("POST", "/api/workflows", {
      query: { workflow_name: "crashy" },
      json: {
        workflow: {
          type: "serial",
          specification: {
            steps: [{ name: "long", environment: "docker.io/library/python:3.12-slim", commands: ["echo started; sleep 120; echo late > late.txt"] }],
          },
        },
      },
    });
    const id = (created.body as { workflow_id: string }).workflow_id;
    const payload = Buffer.from("acknowledged input\n".repeat(1000));
    const up = await reana("POST", `/api/workflows/${id}/workspace`, {
      query: { file_name: "data/input.txt" },
      body: payload,
      headers: { "Content-Type": "application/octet-stream" },
    });
    expect(up.status).toBe(200);
    expect((await reana("POST", `/api/workflows/${id}/start`)).status).toBe(200);
    await waitFor(async () => {
      const st = (await reana("GET", `/api/workflows/${id}/status`)).body as { status: string; progress: { running: { total: number } } };
      return st.status === "running" && st.progress.running.total === 1 ? true : undefined;
    }, 10000, "running job");

    const uploadUrl = `${s.url}/reana/api/workflows/${id}/workspace?file_name=data/big.bin&access_token=${s.reanaToken}`;
    stalledUpload(uploadUrl, { "Content-Type": "application/octet-stream" }, "POST", 4 * 1024 * 1024, 256 * 1024);
    const staging = path.join(dataDir, "reana", "staging");
    await waitFor(async () => (readdirSync(staging).length > 0 ? true : undefined), 5000, "partial upload on disk");

    await kill(s);
    s = await serve(dataDir);

    const st = (await reana("GET", `/api/workflows/${id}/status`)).body as {
      status: string;
      logs: string;
      progress: { failed: { total: number }; running: { total: number }; run_finished_at: string | null };
    };
    expect(st.status).toBe("failed");
    expect(st.logs).toContain("The sandbox stopped during the run");
    expect(st.progress.failed.total).toBe(1);
    expect(st.progress.running.total).toBe(0);
    expect(st.progress.run_finished_at).not.toBeNull();
    const logs = JSON.parse(((await reana("GET", `/api/workflows/${id}/logs`)).body as { logs: string }).logs) as {
      job_logs: Record<string, { status: string; logs: string; backend_job_id: string }>;
    };
    const job = Object.values(logs.job_logs)[0]!;
    expect(job.status).toBe("failed");
    expect(job.logs).toContain("started");
    expect(job.logs).toContain("The sandbox stopped during this job");

    const listing = (await reana("GET", `/api/workflows/${id}/workspace`)).body as { items: { name: string; size: { raw: number } }[] };
    expect(listing.items.map((i) => i.name)).toEqual(["data/input.txt"]);
    const back = await reana("GET", `/api/workflows/${id}/workspace/data/input.txt`);
    expect(md5(Buffer.from(back.bytes))).toBe(md5(payload));
    expect(readdirSync(staging)).toEqual([]);
    // The job outlived the killed sandbox (own process group); recovery killed it so it cannot write later.
    const pid = Number(/^host-pid-(\d+)$/.exec(job.backend_job_id)![1]);
    await waitFor(async () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    }, 5000, "orphaned job to be killed");
    expect(existsSync(path.join(dataDir, "reana", "workspaces", id, "late.txt"))).toBe(false);

    // The service is fully usable after the restart.
    const again = await reana("POST", "/api/workflows", {
      query: { workflow_name: "crashy" },
      json: { workflow: { type: "serial", specification: { steps: [{ environment: "x", commands: ["true"] }] } } },
    });
    expect((again.body as { workflow_name: string }).workflow_name).toBe("crashy.2");
    await kill(s);
  });

  it("jobs and engines die with a killed sandbox; leftovers are killed before their runs are reported failed", async () => {
    const dataDir = path.join(workDir, "reana-orphans");
    let s = await serve(dataDir);
    const reana = (method: string, route: string, options: Parameters<typeof call>[3] = {}) =>
      call(`${s.url}/reana`, method, route, { ...options, query: { access_token: s.reanaToken, ...(options.query ?? {}) } });
    const ws = (id: string, file: string) => path.join(dataDir, "reana", "workspaces", id, file);
    // bash replaces itself with the last command: the job's process shows no workspace path on its command line.
    const serial = (
      (await reana("POST", "/api/workflows", {
        query: { workflow_name: "execd" },
        json: {
          workflow: {
            type: "serial",
            specification: {
              steps: [{ environment: "x", commands: ["python3 -c \"import time; print('started', flush=True); time.sleep(5); open('late.txt', 'w').write('late')\""] }],
            },
          },
        },
      })).body as { workflow_id: string }
    ).workflow_id;
    const snake = (
      (await reana("POST", "/api/workflows", {
        query: { workflow_name: "engine" },
        json: { workflow: { type: "snakemake", file: "Snakefile", specification: { steps: [{ name: "slow", environment: "x", commands: [] }] } } },
      })).body as { workflow_id: string }
    ).workflow_id;
    const snakefile = 'rule slow:\n    output: "late.txt"\n    shell: "sleep 8; echo late > {output}"\n';
    await reana("POST", `/api/workflows/${snake}/workspace`, { query: { file_name: "Snakefile" }, body: snakefile, headers: { "Content-Type": "application/octet-stream" } });
    for (const id of [serial, snake]) expect((await reana("POST", `/api/workflows/${id}/start`)).status).toBe(200);
    for (const id of [serial, snake]) {
      await waitFor(async () => {
        const st = (await reana("GET", `/api/workflows/${id}/status`)).body as { progress: { running: { total: number } } };
        return st.progress.running.total === 1 ? true : undefined;
      }, 120000, "running job");
    }

    const groups: number[] = [];
    for (const id of [serial, snake]) {
      const logs = JSON.parse(((await reana("GET", `/api/workflows/${id}/logs`)).body as { logs: string }).logs) as {
        job_logs: Record<string, { backend_job_id: string }>;
      };
      groups.push(Number(/^host-pid-(\d+)$/.exec(Object.values(logs.job_logs)[0]!.backend_job_id)![1]));
    }

    await kill(s);
    // The jobs die with the sandbox, before any restart.
    await waitFor(async () => ((await liveGroupMembers(groups)).length === 0 ? true : undefined), 5000, "jobs to die with the sandbox");
    s = await serve(dataDir);
    for (const id of [serial, snake]) {
      const st = (await reana("GET", `/api/workflows/${id}/status`)).body as { status: string; logs: string };
      expect(st.status).toBe("failed");
      expect(st.logs).toContain("The sandbox stopped during the run");
    }
    // Longer than either job would have needed: nothing wrote into the failed runs' workspaces.
    await new Promise((r) => setTimeout(r, 9000));
    expect(existsSync(ws(serial, "late.txt"))).toBe(false);
    expect(existsSync(ws(snake, "late.txt"))).toBe(false);
    await kill(s);
  }, 240000);

  it("keeps acknowledged Zenodo files and drops a file whose upload was cut off", async () => {
    const dataDir = path.join(workDir, "zenodo-data");
    let s = await serve(dataDir);
    const auth = () => ({ Authorization: `Bearer ${s.zenodoToken}` });
    const dep = (await call(`${s.url}/zenodo`, "POST", "/api/deposit/depositions", { json: {}, headers: auth() })).body as {
      id: number;
      links: { bucket: string };
    };
    const content = Buffer.from("peak,mass\nJ/psi,3.097\n".repeat(500));
    const put = await call(dep.links.bucket, "PUT", "/table.csv", { body: content, headers: auth() });
    expect(put.status).toBe(200);
    expect((put.body as { checksum: string }).checksum).toBe(`md5:${md5(content)}`);

    stalledUpload(`${dep.links.bucket}/huge.bin`, auth(), "PUT", 8 * 1024 * 1024, 512 * 1024);
    const staging = path.join(dataDir, "zenodo", "staging");
    await waitFor(async () => (readdirSync(staging).length > 0 ? true : undefined), 5000, "partial upload on disk");

    await kill(s);
    s = await serve(dataDir);

    const files = (await call(`${s.url}/zenodo`, "GET", `/api/deposit/depositions/${dep.id}/files`, { headers: auth() })).body as {
      filename: string;
      checksum: string;
    }[];
    expect(files.map((f) => [f.filename, f.checksum])).toEqual([["table.csv", md5(content)]]);
    const bucketBase = dep.links.bucket.replace(/^http:\/\/127\.0\.0\.1:\d+/, s.url);
    const back = await call(bucketBase, "GET", "/table.csv", { headers: auth() });
    expect(md5(Buffer.from(back.bytes))).toBe(md5(content));
    expect(readdirSync(staging)).toEqual([]);
    expect(readdirSync(path.join(dataDir, "zenodo", "blobs"))).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.join(dataDir, "zenodo", "state.json"), "utf8")).version).toBe(1);
    await kill(s);
  });
});
