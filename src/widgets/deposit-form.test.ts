/**
 * The deposit form end to end, kernel side: the real kernel process over ZeroMQ, `%zenodo form` against the
 * embedded sandbox's Zenodo over HTTP, and the widget's comm as a frontend sees it (edits arrive as `update`
 * messages, buttons as custom messages). Needs the compiled package (`npm run build`). The view itself is
 * exercised in Chromium by ui-tests.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestKernelClient } from "../kernel/testing/client";
import type { FormDeposition, FormIssue, FormMetadata, FormTask } from "./deposit-form";
import { frontendSawNoSecret, sendCustom, startSandboxKernel, untilState, widgetState } from "./testing";

let k: TestKernelClient;
let sandboxDir: string;
let commId: string;

beforeAll(async () => {
  ({ kernel: k, sandboxDir } = await startSandboxKernel("vre-ts-deposit-form-"));
  mkdirSync(join(k.cwd, "results"), { recursive: true });
  writeFileSync(join(k.cwd, "results", "mass.csv"), "mass,count\n3.1,42\n");
}, 120_000);

afterAll(async () => {
  await k?.close();
});

/** What the view does when the user edits: an update of the synced keys. */
const edit = (values: Record<string, unknown>) => k.send("shell", k.message("comm_msg", { comm_id: commId, data: { method: "update", state: values, buffer_paths: [] } }));
const press = (action: string) => sendCustom(k, commId, { action });
const state = (id = commId) => widgetState(k, id);
const until = (pred: (s: Record<string, unknown>) => boolean, id = commId) => untilState(k, id, pred);
const task = (s: Record<string, unknown>) => s.task as FormTask | null;
const errors = (s: Record<string, unknown>) => (s.errors as FormIssue[]).map((e) => e.message);

async function provenance(filter: string): Promise<string> {
  const r = await k.execute(`import { session } from "vre-ts";\nsession().provenance.entries({ service: "zenodo" }).filter((e) => e.via === "%zenodo form").map((e) => e.action).join(",")${filter}`);
  return String((r.outputs.find((m) => m.header.msg_type === "execute_result")!.content.data as Record<string, string>)["text/plain"]);
}

const BODY = `title: Dimuon invariant mass spectrum
upload_type: dataset
description: Histogram of the simulated dimuon sample.
creators:
  - name: Doe, Jane
    affiliation: CERN
license: cc-by-4.0
keywords: [dimuon, open data]
files: [results/mass.csv]`;

describe("%zenodo form (deposit form widget)", () => {
  it("opens prefilled from the cell body, checked offline, on the sandbox instance", async () => {
    const r = await k.execute(`%%zenodo form dimuon-results\n${BODY}`);
    expect(r.reply.content.status).toBe("ok");
    const open = r.outputs.find((m) => m.header.msg_type === "comm_open")!;
    commId = open.content.comm_id as string;
    const s = state();
    expect(s).toMatchObject({ _anywidget_id: "vre-ts.deposit-form", name: "dimuon-results", production: false, files: ["results/mass.csv"], errors: [], deposition: null });
    expect(s.instance).toMatch(/local sandbox/);
    expect(s.metadata).toMatchObject({ title: "Dimuon invariant mass spectrum", upload_type: "dataset", license: "cc-by-4.0", keywords: ["dimuon", "open data"], creators: [{ name: "Doe, Jane", affiliation: "CERN", orcid: "" }] });
  });

  it("checks every edit against the deposit schema and the file list, with field messages", async () => {
    const good = state().metadata as FormMetadata;
    await edit({ metadata: { ...good, title: "", creators: [] }, files: ["results/missing.csv"] });
    const bad = await until((s) => (s.errors as unknown[]).length >= 3);
    // In the form's words, on the field they concern (not "metadata.title").
    const issues = bad.errors as FormIssue[];
    expect(issues.find((i) => i.field === "title")).toMatchObject({ label: "Title", index: null, message: expect.stringMatching(/^required/i) });
    expect(issues.some((i) => i.field === "creators" && i.label === "Creators")).toBe(true);
    expect(issues.find((i) => i.field === "files")).toMatchObject({ label: "Files", message: "results/missing.csv does not exist" });
    expect(errors(bad).join("\n")).not.toMatch(/metadata\./);
    // A creator's bad ORCID iD is placed on that creator's ORCID field.
    await edit({ metadata: { ...good, creators: [good.creators[0]!, { name: "Roe, Richard", affiliation: "", orcid: "0000-0002-1825-0098" }] }, files: ["results/mass.csv"] });
    const orcid = await until((s) => (s.errors as FormIssue[]).some((i) => i.part === "orcid"));
    expect((orcid.errors as FormIssue[]).find((i) => i.part === "orcid")).toMatchObject({ field: "creators", index: 1, label: "Creator 2, ORCID iD" });
    await edit({ metadata: { ...good, title: "", creators: [] }, files: ["results/missing.csv"] });
    await until((s) => (s.errors as unknown[]).length >= 3);
    await press("save");
    await until((s) => s.error !== "");
    expect(state().error).toMatch(/nothing was sent/);
    expect(state().deposition).toBeNull();
    await edit({ metadata: good, files: ["results/mass.csv"] });
    await until((s) => (s.errors as unknown[]).length === 0);
  });

  it("saves a draft, then publishes once: a second publish sends nothing", async () => {
    await press("save");
    const saved = await until((s) => task(s)?.kind === "save" && task(s)?.state !== "running");
    expect(task(saved)!.state, task(saved)!.message).toBe("done");
    const draft = saved.deposition as FormDeposition;
    expect(draft).toMatchObject({ state: "draft", files: ["mass.csv"] });
    expect(readdirSync(join(k.cwd, ".vre-ts", "deposits")).some((f) => f.startsWith("form-"))).toBe(true);

    await press("publish");
    const pub = await until((s) => task(s)?.kind === "publish" && task(s)?.state !== "running");
    expect(task(pub)!.state, task(pub)!.message).toBe("done");
    expect(pub.deposition).toMatchObject({ id: draft.id, state: "published" });
    expect((pub.deposition as FormDeposition).doi).toMatch(/^10\.5072\//);
    const published = pub.deposition as FormDeposition;
    expect(published.doi_url).toBe(`https://doi.org/${published.doi}`);
    expect(published.badge_markdown).toBe(`[![DOI](${published.badge_markdown.slice(8, published.badge_markdown.indexOf(".svg)") + 4)})](https://doi.org/${published.doi})`);
    expect(published.badge_markdown).toMatch(/^\[!\[DOI\]\(https?:\/\/[^)]+\/badge\/DOI\/10\.5072\/[^)]+\.svg\)\]/);
    expect(task(pub)!.message).toMatch(/^Published: DOI 10\.5072\//);

    await press("publish");
    const again = await until((s) => task(s)?.message.includes("published already") === true);
    expect(task(again)!.message).toContain("nothing was sent");
    // The save and the publishing run each wrote the draft (files, metadata); one publication, nothing after it.
    expect(await provenance("")).toBe("'write,write,publish'");
  }, 60_000);

  it("reopened under the same name, shows the published deposition and its metadata", async () => {
    const r = await k.execute("%zenodo form dimuon-results");
    const id = r.outputs.find((m) => m.header.msg_type === "comm_open")!.content.comm_id as string;
    const s = await until((x) => (x.deposition as FormDeposition | null)?.state === "published", id);
    expect((s.metadata as FormMetadata).title).toBe("Dimuon invariant mass spectrum");
    expect(s.files).toEqual([]);
  });

  it("sends the frontend no secret: no password or token in any message, widget states included", () => {
    const { checked, bytes } = frontendSawNoSecret(k, sandboxDir);
    expect(checked).toBeGreaterThanOrEqual(3);
    expect(bytes).toBeGreaterThan(10_000);
  });
});
