/**
 * Path and parameter coverage: every request the Rucio client can make is checked against the Rucio
 * 35.8.0 OpenAPI description (method, path template, query parameters, JSON body keys). The OpenAPI file is
 * generated from docstrings that sometimes lag the code; where the recorded server traffic proves the
 * docstring wrong, the deviation is listed below with its evidence.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { startLoopback, type Loopback } from "../../src/clients/http/__tests__/loopback";
import { RucioClient } from "../../src/clients/rucio";

type Op = { parameters?: { in: string; name: string }[]; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } };
const spec = parseYaml(readFileSync(join(process.env.VRE_TS_SPECS ?? "/work/shared/specs", "rucio", "rucio-openapi-35.8.0.yaml"), "utf8")) as {
  paths: Record<string, Record<string, Op>>;
};

/** Undocumented parameters, each proven by the 35.8.0 transcript or the REST code path. */
const KNOWN_DEVIATIONS: Record<string, { query?: string[]; body?: string[]; why: string }> = {
  "GET /dids/{scope}/dids/search": { query: ["filters"], why: "transcript: search?type=all&long=True&filters=[{'name': '*'}] answers 200 with results" },
  "POST /rules/": { body: ["comment", "source_replica_expression"], why: "transcript: body key \"comment\" is stored as the rule's comments; the docstring spells it comments/sourse_…" },
  "DELETE /rules/{rule_id}": { body: ["purge_replicas"], why: "transcript: DELETE /rules/<id> BODY {\"purge_replicas\":false} answers 200" },
  "GET /rules/": { query: ["scope", "name", "account", "state", "rse_expression"], why: "transcript: GET /rules/?scope=test filters; the view passes request.args as filters" },
  "GET /dids/{scope}/": { query: ["name", "recursive"], why: "the docstring lists name/recursive under the request body; the view reads them from the query string" },
};

interface Seen {
  method: string;
  path: string;
  query: string[];
  body: string[] | undefined;
}

let lb: Loopback;
let rucio: RucioClient;
const seen: Seen[] = [];

beforeAll(async () => {
  // Answers nothing useful: only the requests matter here.
  lb = await startLoopback((req, res, body) => {
    const u = new URL(req.url!, "http://x");
    let keys: string[] | undefined;
    if (body.length) {
      const j = JSON.parse(body.toString()) as unknown;
      keys = Array.isArray(j) ? Object.keys(j[0] ?? {}) : Object.keys(j as object);
    }
    seen.push({ method: req.method!, path: u.pathname, query: [...new Set(u.searchParams.keys())], body: keys });
    res.writeHead(418, { "content-length": 0 });
    res.end();
  });
  rucio = new RucioClient({ host: lb.url, token: "t-openapi-0001", account: "jdoe" }, { retry: { retries: 0 } });
});

afterAll(async () => {
  await rucio.close();
  await lb.close();
});

async function attempt(f: () => Promise<unknown> | AsyncIterable<unknown>): Promise<void> {
  try {
    const r = f();
    if (r && typeof (r as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      for await (const _ of r as AsyncIterable<unknown>);
    } else await r;
  } catch {
    // expected: the server answers 418
  }
}

function template(method: string, path: string): string | undefined {
  const candidates = Object.keys(spec.paths).filter((t) => spec.paths[t][method.toLowerCase()]);
  const decoded = path.split("/").map(decodeURIComponent).join("/");
  // Most literal segments first (as Flask's router prefers static parts); {scope_name} spans "scope/name".
  const literals = (t: string) => t.split("/").filter((x) => x && !x.startsWith("{")).length;
  const ordered = candidates.sort((a, b) => literals(b) - literals(a) || (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  for (const t of ordered) {
    const re = new RegExp(
      `^${t.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{scope_name\}/g, "[^/]+/.+").replace(/\{[^}]+\}/g, "[^/]+")}$`,
    );
    if (re.test(decoded)) return t;
  }
  return undefined;
}

describe("every client request exists in the Rucio 35.8.0 OpenAPI", () => {
  it("exercises the whole client surface", async () => {
    const d = "user.jdoe:data/set.1";
    const calls: (() => Promise<unknown> | AsyncIterable<unknown>)[] = [
      () => rucio.ping(),
      () => rucio.whoami(),
      () => rucio.accounts.get("jdoe"),
      () => rucio.accounts.limits("jdoe"),
      () => rucio.accounts.rules("jdoe"),
      () => rucio.accounts.usage("jdoe"),
      () => rucio.accounts.usage("jdoe", { rse: "DISK" }),
      () => rucio.scopes.list(),
      () => rucio.scopes.forAccount("jdoe"),
      () => rucio.scopes.add("jdoe", "user.jdoe"),
      () => rucio.dids.search("user.jdoe", { type: "dataset", name: "data*", filters: "run>1", recursive: true, limit: 10 }),
      () => rucio.dids.listScope("user.jdoe", { name: "x", recursive: true }),
      () => rucio.dids.get(d, { dynamicDepth: "FILE" }),
      () => rucio.dids.meta(d, { plugin: "DID_COLUMN" }),
      () => rucio.dids.setMeta(d, "run_number", 1),
      () => rucio.dids.setMetadata(d, { a: 1 }, { recursive: true }),
      () => rucio.dids.content(d),
      () => rucio.dids.files(d, { long: true }),
      () => rucio.dids.parents(d),
      () => rucio.dids.rules(d),
      () => rucio.dids.associatedRules(d),
      () => rucio.dids.addDataset(d, { meta: { a: 1 }, lifetime: 60, rules: [] }),
      () => rucio.dids.addContainer("user.jdoe:c"),
      () => rucio.dids.attach("user.jdoe:ds", ["f1"], { rse: "DISK" }),
      () => rucio.dids.detach("user.jdoe:ds", ["f1"]),
      () => rucio.dids.close(d),
      () =>
        rucio.replicas.list([d], {
          schemes: ["https"],
          rseExpression: "DISK",
          allStates: true,
          domain: "wan",
          limit: 1,
          sort: "random",
          resolveArchives: true,
          ignoreAvailability: true,
          clientLocation: { site: "CERN" },
        }),
      () => rucio.replicas.metalink(d),
      () => rucio.replicas.forDid(d, { schemes: ["https", "davs"], limit: 2 }),
      () => rucio.replicas.datasets(d),
      () => rucio.replicas.add("DISK", [{ scope: "s", name: "n", bytes: 1, adler32: "00000001" }], { ignoreAvailability: true }),
      () => rucio.replicas.setState("DISK", [{ scope: "s", name: "n", state: "A" }]),
      () => rucio.replicas.remove("DISK", [{ scope: "s", name: "n" }]),
      () =>
        rucio.rules.create({
          dids: d,
          rseExpression: "DISK",
          copies: 1,
          grouping: "DATASET",
          lifetime: 60,
          comment: "c",
          locked: false,
          activity: "User Subscriptions",
          weight: "w",
          sourceReplicaExpression: "X",
          notify: "N",
          purgeReplicas: false,
          ignoreAvailability: false,
          askApproval: false,
          asynchronous: false,
          priority: 3,
          meta: {},
        }),
      () => rucio.rules.get("abc"),
      () => rucio.rules.list({ scope: "s", name: "n", account: "a", state: "OK", rseExpression: "DISK" }),
      () => rucio.rules.forDid(d),
      () => rucio.rules.locks("abc"),
      () => rucio.rules.update("abc", { lifetime: 1 }),
      () => rucio.rules.update("abc", { lifetime: null, comment: "keep", locked: true }),
      () => rucio.rules.delete("abc", { purgeReplicas: true }),
      () => rucio.rses.list(),
      () => rucio.rses.list({ expression: "site=CERN" }),
      () => rucio.rses.get("DISK"),
      () => rucio.rses.attributes("DISK"),
      () => rucio.rses.protocols("DISK"),
      () => rucio.rses.usage("DISK"),
      () => rucio.rses.lfns2pfns("DISK", ["s:a", "s:b"], { scheme: "davs", operation: "write", domain: "wan" }),
    ];
    for (const c of calls) await attempt(c);
    // Every call produced at least one request (rules.create also lists the DID's rules).
    expect(seen.length).toBeGreaterThanOrEqual(calls.length);
  });

  it("uses only documented methods, paths, query parameters and body keys", () => {
    const problems: string[] = [];
    const covered = new Set<string>();
    for (const s of seen) {
      const t = template(s.method, s.path);
      if (!t) {
        problems.push(`${s.method} ${s.path}: no such operation`);
        continue;
      }
      const key = `${s.method} ${t}`;
      covered.add(key);
      const op = spec.paths[t][s.method.toLowerCase()];
      const dev = KNOWN_DEVIATIONS[key];
      const params = new Set((op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name));
      for (const q of s.query) if (!params.has(q) && !dev?.query?.includes(q)) problems.push(`${key}: undocumented query parameter ${q}`);
      if (s.body) {
        const content = op.requestBody?.content;
        const props = new Set(Object.keys(content ? Object.values(content)[0].schema.properties ?? {} : {}));
        for (const b of s.body) if (!props.has(b) && !dev?.body?.includes(b)) problems.push(`${key}: undocumented body key ${b}`);
      }
    }
    expect(problems).toEqual([]);
    // The operations the client covers (for the record).
    expect(covered.size).toBeGreaterThanOrEqual(40);
  });
});
