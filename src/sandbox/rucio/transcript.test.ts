/**
 * Replays every request of the recorded Rucio 35.8.0 transcript against the sandbox, in order (so the transcript's
 * own writes build equivalent data), and compares status codes, content types, error classes and body shapes
 * (keys and value types, not values) with the recorded responses.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../index";

/** A verbatim copy of ../shared/specs/rucio/rucio-35.8.0-transcript.txt (see the specs README for its origin). */
const transcriptPath = path.join(__dirname, "__tests__", "rucio-35.8.0-transcript.txt");

interface Section {
  title: string;
  method: string;
  target: string;
  label: string;
  body?: string;
  status?: number;
  headers: Record<string, string>;
  responseBody: string;
  raw: string;
}

function parseTranscript(text: string): Section[] {
  const parts = text.split(/^===== /m).slice(1);
  return parts.map((part) => {
    const nl = part.indexOf("\n");
    const title = part.slice(0, nl).trim();
    const rest = part.slice(nl + 1);
    const m = /^(\S+) (\S+)\s*(.*)$/.exec(title)!;
    const [, method, target, tail] = m as unknown as [string, string, string, string];
    let body: string | undefined;
    let label = "";
    if (tail.startsWith("BODY: ")) body = tail.slice(6);
    else label = tail.replace(/^\(|\)$/g, "");
    const section: Section = { title, method, target, label, body, headers: {}, responseBody: "", raw: rest };
    const statusMatch = /^HTTP\/1\.1 (\d{3})/.exec(rest);
    if (statusMatch) {
      section.status = Number(statusMatch[1]);
      // Headers end with CRLF in the recording (LF if a checkout converted line ends).
      const blank = /\r?\n\r?\n/.exec(rest)!;
      const end = blank.index;
      const head = rest.slice(0, end).split(/\r?\n/).slice(1);
      for (const line of head) {
        const i = line.indexOf(":");
        section.headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      section.responseBody = rest.slice(end + blank[0].length).replace(/\n$/, "");
    }
    return section;
  });
}

/** Objects keyed by data (PFNs, RSE names) rather than by field names. */
const MAP_KEYS = new Set(["pfns", "rses", "states"]);

/** Compares the structure of two JSON values: key sets and value types; null matches anything. */
function shapeDiff(expected: unknown, actual: unknown, where: string, opts: { extraKeys?: boolean }, out: string[]): void {
  if (expected === null || actual === null || expected === undefined) return;
  const te = Array.isArray(expected) ? "array" : typeof expected;
  const ta = Array.isArray(actual) ? "array" : typeof actual;
  if (te !== ta) {
    out.push(`${where}: expected ${te}, got ${ta}`);
    return;
  }
  if (te === "array") {
    const e = expected as unknown[];
    const a = actual as unknown[];
    if (e.length > 0) for (const [i, item] of a.entries()) shapeDiff(e[Math.min(i, e.length - 1)], item, `${where}[${i}]`, opts, out);
    return;
  }
  if (te === "object") {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    if (MAP_KEYS.has(where.split(".").pop()!)) {
      // Keyed by PFN or RSE name: compare every value with the recorded value shape.
      const sample = Object.values(e)[0];
      if (sample !== undefined) for (const [k, v] of Object.entries(a)) shapeDiff(sample, v, `${where}[${k}]`, opts, out);
      return;
    }
    for (const k of Object.keys(e)) if (!(k in a)) out.push(`${where}: missing key ${k}`);
    if (!opts.extraKeys) for (const k of Object.keys(a)) if (!(k in e)) out.push(`${where}: unexpected key ${k}`);
    for (const k of Object.keys(e)) if (k in a) shapeDiff(e[k], a[k], `${where}.${k}`, opts, out);
  }
}

/** Sections whose line counts or key sets legitimately differ because the sandbox always has its own RSEs. */
const SANDBOX_EXTRAS: Record<string, { extraKeys?: boolean; anyCount?: boolean }> = {
  "GET /accounts/root/limits": { extraKeys: true },
  "GET /rses/": { anyCount: true },
  "GET /rses/?expression=rse_type%3DDISK%5Csite%3DVRE": { anyCount: true },
  "GET /scopes/": { anyCount: true },
  "GET /rses/POSIX1/protocols": { anyCount: true },
};
/**
 * Recorded on SQLite, where the JSON metadata plugin does not exist and these give a bare 500. The sandbox behaves
 * like a PostgreSQL-backed server and answers them (checked separately below).
 */
const SQLITE_ONLY = new Set(["GET /dids/test/dataset1/meta?plugin=JSON", "GET /dids/test/dataset1/meta?plugin=ALL"]);

describe("Rucio 35.8.0 transcript replay", () => {
  let dir: string;
  let sandbox: Sandbox;
  const sections = parseTranscript(readFileSync(transcriptPath, "utf8"));
  const results: { section: Section; status: number; headers: Headers; body: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "vre-rucio-transcript-"));
    sandbox = await startSandbox({ dataDir: dir });
    // The recording used the userpass identity ddmlab/secret for account root.
    sandbox.rucio.catalog.addUserpassIdentity("root", "root", "ddmlab", "secret", null);
    await sandbox.rucio.catalog.commit();
    const base = `${sandbox.url}/rucio`;
    let token = "";
    const ruleIds = new Map<string, string>();
    const recordedRuleIds = sections
      .filter((s) => s.method === "POST" && s.target === "/rules/" && s.status === 201)
      .map((s) => (JSON.parse(s.responseBody) as string[])[0]!);
    for (const section of sections) {
      if (section.title.startsWith("GET /auth/userpass (jdoe)")) {
        const r = await fetch(`${base}/auth/userpass`, { headers: { "X-Rucio-Username": "jdoe", "X-Rucio-Password": "jdoepw", "X-Rucio-Account": "jdoe" } });
        expect(r.status).toBe(200);
        token = r.headers.get("x-rucio-auth-token")!;
        continue;
      }
      const headers: Record<string, string> = { Accept: "*/*" };
      if (section.target === "/auth/userpass") {
        headers["X-Rucio-Username"] = "ddmlab";
        headers["X-Rucio-Password"] = section.label === "bad password" ? "wrong" : "secret";
        if (section.label !== "no account header") headers["X-Rucio-Account"] = "root";
      } else if (section.label === "bad token") headers["X-Rucio-Auth-Token"] = "root-ddmlab-nope";
      else if (section.label !== "no token") headers["X-Rucio-Auth-Token"] = token;
      if (section.body !== undefined) headers["Content-Type"] = "application/json";
      if (section.headers["content-type"] === "application/metalink4+xml") headers.Accept = "application/metalink4+xml";
      let target = section.target;
      for (const [recorded, ours] of ruleIds) target = target.replace(recorded, ours);
      const r = await fetch(`${base}${target}`, { method: section.method, headers, body: section.body, redirect: "manual" });
      const body = await r.text();
      if (section.target === "/auth/userpass" && r.status === 200 && section.label === "good") token = r.headers.get("x-rucio-auth-token")!;
      if (section.method === "POST" && section.target === "/rules/" && r.status === 201) {
        ruleIds.set(recordedRuleIds[ruleIds.size]!, (JSON.parse(body) as string[])[0]!);
      }
      results.push({ section, status: r.status, headers: r.headers, body });
    }
  }, 60_000);

  afterAll(async () => {
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("covers the whole transcript", () => {
    expect(sections.length).toBe(91);
    expect(results.length).toBe(90);
  });

  it.each(sections.filter((s) => s.status !== undefined).map((s) => [s.title, s] as const))("%s", (_title, section) => {
    if (SQLITE_ONLY.has(section.title)) return;
    const result = results.find((r) => r.section === section)!;
    const ctx = `${section.title}: ${result.body.slice(0, 300)}`;
    expect(result.status, ctx).toBe(section.status);
    expect(result.headers.get("content-type"), ctx).toBe(section.headers["content-type"]);
    expect(result.headers.get("exceptionclass") ?? undefined, ctx).toBe(section.headers.exceptionclass);
    if (section.headers.exceptionmessage) {
      expect(result.headers.get("exceptionmessage")!.length, ctx).toBeLessThanOrEqual(128);
      const parsed = JSON.parse(result.body) as Record<string, unknown>;
      expect(Object.keys(parsed).sort()).toEqual(["ExceptionClass", "ExceptionMessage"]);
    }
    if (section.headers.location) expect(result.headers.get("location")).toBe(section.headers.location);
    for (const h of ["x-rucio-auth-token", "x-rucio-auth-token-expires", "x-rucio-auth-account"]) {
      expect(result.headers.has(h), `${ctx} header ${h}`).toBe(h in section.headers);
    }
    if (section.headers["x-rucio-auth-token-expires"]) {
      expect(result.headers.get("x-rucio-auth-token-expires")).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} UTC$/);
    }
    const type = section.headers["content-type"] ?? "";
    const opts = SANDBOX_EXTRAS[section.title] ?? {};
    const diffs: string[] = [];
    if (type === "application/x-json-stream") {
      const expectedLines = section.responseBody.split("\n").filter(Boolean).map((l) => JSON.parse(l) as unknown);
      const actualLines = result.body.split("\n").filter(Boolean).map((l) => JSON.parse(l) as unknown);
      if (!opts.anyCount) expect(actualLines.length, ctx).toBe(expectedLines.length);
      if (expectedLines.length > 0) actualLines.forEach((line, i) => shapeDiff(expectedLines[Math.min(i, expectedLines.length - 1)], line, `line ${i}`, opts, diffs));
      if (actualLines.length > 0) expect(result.body.endsWith("\n")).toBe(true);
    } else if (type === "application/json") {
      const expected = JSON.parse(section.responseBody) as unknown;
      const actual = JSON.parse(result.body) as unknown;
      if (Array.isArray(expected) && !opts.anyCount) expect((actual as unknown[]).length, ctx).toBe(expected.length);
      shapeDiff(expected, actual, "body", opts, diffs);
    } else if (type.startsWith("text/html") && section.status === 201) {
      if (section.target === "/rules/") expect(JSON.parse(result.body)).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/)]);
      else expect(result.body).toBe(section.responseBody);
    } else if (type === "application/metalink4+xml") {
      for (const tag of ["<metalink", "<file name=", "<identity>", '<hash type="adler32">', "<size>", "<url location="]) expect(result.body).toContain(tag);
      expect(result.body.match(/<file /g)?.length).toBe(section.responseBody.match(/<file /g)?.length);
    }
    expect(diffs, ctx).toEqual([]);
  });

  it("serves free-form metadata through the JSON plugin (as a PostgreSQL-backed server does)", async () => {
    const r = results.find((x) => x.section.title === "GET /dids/test/dataset1/meta?plugin=JSON")!;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({});
    const all = results.find((x) => x.section.title === "GET /dids/test/dataset1/meta?plugin=ALL")!;
    expect(JSON.parse(all.body)).toMatchObject({ project: "vre", run_number: 42, datatype: "AOD" });
  });
});
