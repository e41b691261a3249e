import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { request } from "node:http";
import * as path from "node:path";
import { call, testSandbox, waitFor, type TestSandbox } from "../reana/__tests__/client";
import { validateMetadata } from "./metadata";

/** The sandbox Zenodo legacy deposit API over real HTTP: auth, deposit lifecycle, validation, versions, search. */

let sbx: TestSandbox;
beforeAll(async () => {
  sbx = await testSandbox();
});
afterAll(async () => {
  await sbx.dispose();
});

const METADATA = {
  title: "Dimuon spectrum from the sandbox",
  upload_type: "dataset",
  description: "<p>Invariant-mass spectrum of opposite-sign muon pairs.</p>",
  creators: [{ name: "Doe, Jane", affiliation: "CERN", orcid: "0000-0002-1825-0097" }],
  keywords: ["dimuon", "resonances"],
  communities: [{ identifier: "escape2020" }],
};

interface Dep {
  id: number;
  conceptrecid: string;
  doi: string;
  doi_url: string;
  conceptdoi?: string;
  record_id: number;
  state: string;
  submitted: boolean;
  title: string;
  files: { id: string; filename: string; filesize: number; checksum: string }[];
  metadata: Record<string, unknown>;
  links: Record<string, string>;
}

async function newDeposition(): Promise<Dep> {
  const r = await sbx.zenodo("POST", "/api/deposit/depositions", { json: {} });
  expect(r.status).toBe(201);
  return r.body as Dep;
}

async function put(bucket: string, key: string, content: string): Promise<Record<string, unknown>> {
  const r = await call(bucket, "PUT", `/${encodeURIComponent(key)}`, {
    body: content,
    headers: { Authorization: `Bearer ${sbx.zenodoToken}`, "Content-Type": "application/octet-stream" },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as Record<string, unknown>;
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

describe("authentication", () => {
  it("accepts Bearer and ?access_token=, answers 401 otherwise", async () => {
    const base = `${sbx.url}/zenodo`;
    expect((await call(base, "GET", "/api/deposit/depositions")).status).toBe(401);
    const bad = await call(base, "GET", "/api/deposit/depositions", { headers: { Authorization: "Bearer wrong" } });
    expect(bad.status).toBe(401);
    expect(bad.body).toMatchObject({ status: 401 });
    expect((await call(base, "GET", "/api/deposit/depositions", { query: { access_token: sbx.zenodoToken } })).status).toBe(200);
    expect((await call(base, "GET", "/api/records")).status).toBe(200); // public search
  });

  it("the deposition page needs a login, as on zenodo.org: without one it redirects to /login/?next=", async () => {
    const dep = await newDeposition();
    expect(dep.links.html).toBe(`${sbx.url}/zenodo/deposit/${dep.id}`);
    for (const headers of [{}, { Authorization: "Bearer wrong" }]) {
      const anonymous = await fetch(dep.links.html!, { redirect: "manual", headers });
      expect(anonymous.status).toBe(302);
      expect(anonymous.headers.get("location")).toBe(`${sbx.url}/zenodo/login/?next=${encodeURIComponent(`/deposit/${dep.id}`)}`);
      expect(await anonymous.text()).not.toContain(`Deposition ${dep.id}`);
    }
    // A wrong token in the query is not echoed back in the login link.
    const badQuery = await fetch(`${dep.links.html}?access_token=wrong-secret`, { redirect: "manual" });
    expect(badQuery.status).toBe(302);
    expect(badQuery.headers.get("location")).not.toContain("wrong-secret");
    const login = await fetch(badQuery.headers.get("location")!);
    expect(login.status).toBe(200);
    expect(await login.text()).toMatch(/access_token/);
    // The owner (the sandbox token) sees the page, by header or by query.
    const owner = await fetch(dep.links.html!, { headers: { Authorization: `Bearer ${sbx.zenodoToken}` } });
    expect(owner.status).toBe(200);
    expect(await owner.text()).toContain(`Deposition ${dep.id}`);
    expect((await fetch(`${dep.links.html}?access_token=${sbx.zenodoToken}`)).status).toBe(200);
    // A deposition that does not exist looks the same as a private one to a stranger.
    expect((await fetch(`${sbx.url}/zenodo/deposit/99999999`, { redirect: "manual" })).status).toBe(302);
    expect((await fetch(`${sbx.url}/zenodo/deposit/99999999`, { headers: { Authorization: `Bearer ${sbx.zenodoToken}` } })).status).toBe(404);
  });
});

describe("deposit lifecycle", () => {
  it("create -> bucket upload (md5) -> metadata -> publish mints a 10.5072 DOI", async () => {
    const dep = await newDeposition();
    expect(dep.state).toBe("unsubmitted");
    expect(dep.submitted).toBe(false);
    expect(dep.links.bucket).toMatch(new RegExp(`^${sbx.url}/zenodo/api/files/[0-9a-f-]{36}$`));
    for (const link of ["self", "html", "files", "publish", "edit", "discard", "newversion", "latest_draft", "latest_draft_html"]) {
      expect(dep.links[link], link).toBeTruthy();
    }
    expect(dep.metadata.prereserve_doi).toEqual({ doi: `10.5072/zenodo.${dep.id}`, recid: dep.id });

    const obj = await put(dep.links.bucket!, "results.json", '{"peaks": 3}\n');
    expect(obj).toMatchObject({ key: "results.json", mimetype: "application/json", size: 13, checksum: `md5:${md5('{"peaks": 3}\n')}` });
    expect((obj.links as Record<string, string>).self).toBe(`${dep.links.bucket}/results.json`);
    await put(dep.links.bucket!, "spectrum.svg", "<svg/>");
    await put(dep.links.bucket!, "spectrum.svg", "<svg></svg>"); // a re-PUT replaces
    const files = await sbx.zenodo("GET", `/api/deposit/depositions/${dep.id}/files`);
    const listed = files.body as Dep["files"];
    expect(listed.map((f) => [f.filename, f.filesize, f.checksum])).toEqual([
      ["results.json", 13, md5('{"peaks": 3}\n')],
      ["spectrum.svg", 11, md5("<svg></svg>")],
    ]);
    const bucket = await call(dep.links.bucket!, "GET", "", { headers: { Authorization: `Bearer ${sbx.zenodoToken}` } });
    expect((bucket.body as { contents: unknown[] }).contents).toHaveLength(2);
    const download = await call(dep.links.bucket!, "GET", "/spectrum.svg", { headers: { Authorization: `Bearer ${sbx.zenodoToken}` } });
    expect(Buffer.from(download.bytes).toString()).toBe("<svg></svg>");

    const meta = await sbx.zenodo("PUT", `/api/deposit/depositions/${dep.id}`, { json: { metadata: METADATA } });
    expect(meta.status, JSON.stringify(meta.body)).toBe(200);
    const withMeta = meta.body as Dep;
    expect(withMeta.title).toBe(METADATA.title);
    expect(withMeta.metadata.publication_date).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(withMeta.metadata.access_right).toBe("open");
    expect(withMeta.metadata.license).toBe("cc0-1.0");

    const pub = await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/actions/publish`);
    expect(pub.status).toBe(202);
    const published = pub.body as Dep;
    expect(published.doi).toBe(`10.5072/zenodo.${dep.id}`);
    expect(published.doi_url).toBe(`https://doi.org/10.5072/zenodo.${dep.id}`);
    expect(published.conceptdoi).toBe(`10.5072/zenodo.${published.conceptrecid}`);
    expect(published.record_id).toBe(dep.id);
    expect(published.state).toBe("done");
    expect(published.submitted).toBe(true);
    expect(published.links.record_html).toBe(`${sbx.url}/zenodo/records/${dep.id}`);
    expect(published.links.bucket).toBeUndefined(); // published files are locked: no bucket link
    const page = await call(`${sbx.url}/zenodo`, "GET", `/records/${dep.id}`);
    expect(page.status).toBe(200);
    expect(Buffer.from(page.bytes).toString()).toContain(METADATA.title);

    const bib = await call(`${sbx.url}/zenodo`, "GET", `/api/records/${dep.id}`, { headers: { Accept: "application/x-bibtex" } });
    expect(bib.headers.get("content-type")).toContain("application/x-bibtex");
    const bibText = Buffer.from(bib.bytes).toString();
    expect(bibText).toMatch(new RegExp(`^@dataset\\{doe_\\d{4}_${dep.id},`));
    expect(bibText).toContain(`doi          = {10.5072/zenodo.${dep.id}}`);
    expect(bibText).toContain("author       = {Doe, Jane}");
    const csl = await call(`${sbx.url}/zenodo`, "GET", `/api/records/${dep.id}`, { headers: { Accept: "application/vnd.citationstyles.csl+json" } });
    expect(csl.body).toMatchObject({ type: "dataset", DOI: `10.5072/zenodo.${dep.id}`, author: [{ family: "Doe", given: "Jane" }] });
    const record = await sbx.zenodo("GET", `/api/records/${dep.id}`);
    expect(record.status).toBe(200);
    const rec = record.body as { doi: string; metadata: Record<string, unknown>; files: { key: string; checksum: string; links: { self: string } }[] };
    expect(rec.doi).toBe(published.doi);
    expect(rec.files.map((f) => f.key)).toEqual(["results.json", "spectrum.svg"]);
    const content = await call(rec.files[0]!.links.self, "GET", "");
    expect(Buffer.from(content.bytes).toString()).toBe('{"peaks": 3}\n');

    // Publishing twice is refused, and nothing changes.
    const twice = await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/actions/publish`);
    expect(twice.status).toBe(403);
    expect((twice.body as { message: string }).message).toContain("cannot be published again");
    // Files and the deposition itself are locked once published.
    const locked = await call(dep.links.bucket!, "PUT", "/more.txt", { body: "x", headers: { Authorization: `Bearer ${sbx.zenodoToken}` } });
    expect(locked.status).toBe(403);
    expect((await sbx.zenodo("DELETE", `/api/deposit/depositions/${dep.id}`)).status).toBe(403);
    const modify = await sbx.zenodo("PUT", `/api/deposit/depositions/${dep.id}`, { json: { metadata: METADATA } });
    expect(modify.status).toBe(403);
  });

  it("answers invalid metadata with Zenodo's error shape", async () => {
    const dep = await newDeposition();
    const r = await sbx.zenodo("PUT", `/api/deposit/depositions/${dep.id}`, {
      json: { metadata: { title: "ok title", upload_type: "publication", description: "d", creators: [{ affiliation: "CERN" }], access_right: "embargoed", colour: "blue" } },
    });
    expect(r.status).toBe(400);
    const body = r.body as { status: number; message: string; errors: { field: string; message: string }[] };
    expect(body.status).toBe(400);
    expect(body.message).toBe("Validation error.");
    const fields = body.errors.map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        "metadata.creators.0.name",
        "metadata.publication_type",
        "metadata.description",
        "metadata.embargo_date",
        "metadata.colour",
      ]),
    );
    expect(body.errors.every((e) => typeof e.message === "string" && e.message.length > 0)).toBe(true);
    const wrongType = await sbx.zenodo("PUT", `/api/deposit/depositions/${dep.id}`, {
      body: JSON.stringify({ metadata: METADATA }),
      headers: { "Content-Type": "text/plain" },
    });
    expect(wrongType.status).toBe(415);
  });

  it("refuses to publish without files or required metadata", async () => {
    const dep = await newDeposition();
    const r = await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/actions/publish`);
    expect(r.status).toBe(400);
    const fields = (r.body as { errors: { field: string }[] }).errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["metadata.title", "metadata.upload_type", "metadata.creators", "files"]));
    expect((await sbx.zenodo("DELETE", `/api/deposit/depositions/${dep.id}`)).status).toBe(204);
    expect((await sbx.zenodo("GET", `/api/deposit/depositions/${dep.id}`)).status).toBe(404);
  });

  it("edit then discard restores the published metadata; edit then publish updates the record", async () => {
    const dep = await newDeposition();
    await put(dep.links.bucket!, "a.txt", "a");
    await sbx.zenodo("PUT", `/api/deposit/depositions/${dep.id}`, { json: { metadata: METADATA } });
    await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/actions/publish`);
    expect((await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/actions/discard`)).status).toBe(400);
    const edit = await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/actions/edit`);
    expect(edit.status).toBe(201);
    expect((edit.body as Dep).state).toBe("inprogress");
    await sbx.zenodo("PUT", `/api/deposit/depositions/${dep.id}`, { json: { metadata: { ...METADATA, title: "Changed title" } } });
    const discard = await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/actions/discard`);
    expect(discard.status).toBe(201);
    expect((discard.body as Dep).title).toBe(METADATA.title);
    expect((discard.body as Dep).state).toBe("done");
    await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/actions/edit`);
    await sbx.zenodo("PUT", `/api/deposit/depositions/${dep.id}`, { json: { metadata: { ...METADATA, title: "Edited title" } } });
    const republish = await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/actions/publish`);
    expect(republish.status).toBe(202);
    const rec = await sbx.zenodo("GET", `/api/records/${dep.id}`);
    expect((rec.body as { title: string }).title).toBe("Edited title");
  });

  it("newversion: only from the latest version, one open draft at a time, new DOI in the same concept", async () => {
    const v1 = await newDeposition();
    await put(v1.links.bucket!, "data.csv", "x\n1\n");
    await sbx.zenodo("PUT", `/api/deposit/depositions/${v1.id}`, { json: { metadata: { ...METADATA, title: "Versioned dataset", version: "1.0" } } });
    await sbx.zenodo("POST", `/api/deposit/depositions/${v1.id}/actions/publish`);

    const nv = await sbx.zenodo("POST", `/api/deposit/depositions/${v1.id}/actions/newversion`);
    expect(nv.status).toBe(201);
    const original = nv.body as Dep;
    expect(original.id).toBe(v1.id);
    const draftUrl = original.links.latest_draft!;
    expect(draftUrl).not.toBe(original.links.self);
    const again = await sbx.zenodo("POST", `/api/deposit/depositions/${v1.id}/actions/newversion`);
    expect((again.body as Dep).links.latest_draft).toBe(draftUrl); // still the same single draft

    const draft = (await call(draftUrl, "GET", "", { headers: { Authorization: `Bearer ${sbx.zenodoToken}` } })).body as Dep;
    expect(draft.state).toBe("unsubmitted");
    expect(draft.conceptrecid).toBe(v1.conceptrecid);
    expect(draft.files.map((f) => f.filename)).toEqual(["data.csv"]); // files carried over
    expect(draft.metadata.version).toBeUndefined();
    await put(draft.links.bucket!, "data.csv", "x\n1\n2\n");
    await sbx.zenodo("PUT", `/api/deposit/depositions/${draft.id}`, { json: { metadata: { ...METADATA, title: "Versioned dataset", version: "2.0" } } });
    const pub2 = await sbx.zenodo("POST", `/api/deposit/depositions/${draft.id}/actions/publish`);
    expect(pub2.status).toBe(202);
    const v2 = pub2.body as Dep;
    expect(v2.doi).toBe(`10.5072/zenodo.${draft.id}`);
    expect(v2.conceptdoi).toBe(`10.5072/zenodo.${v1.conceptrecid}`);

    const old = await sbx.zenodo("POST", `/api/deposit/depositions/${v1.id}/actions/newversion`);
    expect(old.status).toBe(400);
    expect((old.body as { message: string }).message).toContain("not the latest version");
    // The first version's record keeps its own bytes.
    const rec1 = (await sbx.zenodo("GET", `/api/records/${v1.id}`)).body as { files: { checksum: string }[]; metadata: { relations: { version: { is_last: boolean; count: number }[] } } };
    expect(rec1.files[0]!.checksum).toBe(`md5:${md5("x\n1\n")}`);
    expect(rec1.metadata.relations.version[0]).toMatchObject({ is_last: false, count: 2 });
    const search = await sbx.zenodo("GET", "/api/records", { query: { q: '"Versioned dataset"' } });
    const hits = (search.body as { hits: { hits: { id: number }[]; total: number } }).hits;
    expect(hits.hits.map((h) => h.id)).toEqual([draft.id]); // latest version only by default
    const allVersions = await sbx.zenodo("GET", "/api/records", { query: { q: '"Versioned dataset"', all_versions: "true" } });
    expect((allVersions.body as { hits: { total: number } }).hits.total).toBe(2);
  });
});

describe("old files API", () => {
  it("POST multipart `file` + `name` adds a file; GET/DELETE by file id", async () => {
    const dep = await newDeposition();
    const form = new FormData();
    form.append("name", "table.csv");
    form.append("file", new Blob(["a,b\n1,2\n"]), "ignored-local-name.csv");
    const r = await fetch(`${sbx.url}/zenodo/api/deposit/depositions/${dep.id}/files`, {
      method: "POST",
      headers: { Authorization: `Bearer ${sbx.zenodoToken}` },
      body: form,
    });
    expect(r.status).toBe(201);
    const file = (await r.json()) as { id: string; filename: string; filesize: number; checksum: string };
    expect(file).toMatchObject({ filename: "table.csv", filesize: 8, checksum: md5("a,b\n1,2\n") });
    const dup = new FormData();
    dup.append("file", new Blob(["x"]), "table.csv");
    const clash = await fetch(`${sbx.url}/zenodo/api/deposit/depositions/${dep.id}/files`, {
      method: "POST",
      headers: { Authorization: `Bearer ${sbx.zenodoToken}` },
      body: dup,
    });
    expect(clash.status).toBe(400);
    const one = await sbx.zenodo("GET", `/api/deposit/depositions/${dep.id}/files/${file.id}`);
    expect(one.body).toMatchObject({ id: file.id, filename: "table.csv" });
    const notForm = await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/files`, { json: { name: "x" } });
    expect(notForm.status).toBe(400);
    // A form cut off mid-file adds nothing and leaves nothing behind.
    await new Promise<void>((resolve) => {
      const boundary = "----sandbox-test-boundary";
      const req = request(`${sbx.url}/zenodo/api/deposit/depositions/${dep.id}/files`, {
        method: "POST",
        headers: { Authorization: `Bearer ${sbx.zenodoToken}`, "Content-Type": `multipart/form-data; boundary=${boundary}` },
      });
      req.on("error", () => resolve());
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n`);
      req.write(Buffer.alloc(64 * 1024, 1));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    await waitFor(async () => (readdirSync(path.join(sbx.dataDir, "zenodo", "staging")).length === 0 ? true : undefined), 5000, "staging cleanup");
    const names = ((await sbx.zenodo("GET", `/api/deposit/depositions/${dep.id}/files`)).body as { filename: string }[]).map((f) => f.filename);
    expect(names).toEqual(["table.csv"]);
    expect((await sbx.zenodo("DELETE", `/api/deposit/depositions/${dep.id}/files/${file.id}`)).status).toBe(204);
    expect(((await sbx.zenodo("GET", `/api/deposit/depositions/${dep.id}/files`)).body as unknown[]).length).toBe(0);
  });
});

describe("records search and vocabularies", () => {
  it("searches records by terms, fields, community and type, with paging links", async () => {
    const dep = await newDeposition();
    await put(dep.links.bucket!, "s.py", "print(1)\n");
    await sbx.zenodo("PUT", `/api/deposit/depositions/${dep.id}`, {
      json: {
        metadata: {
          title: "Muon fitter",
          upload_type: "software",
          description: "Fits the J/psi peak.",
          creators: [{ name: "Roe, Richard" }],
          keywords: ["fitting"],
          license: "MIT",
          communities: [{ identifier: "vre-sandbox" }],
        },
      },
    });
    expect((await sbx.zenodo("POST", `/api/deposit/depositions/${dep.id}/actions/publish`)).status).toBe(202);
    const search = async (query: Record<string, string>) =>
      (await call(`${sbx.url}/zenodo`, "GET", "/api/records", { query })).body as {
        hits: { hits: { id: number; metadata: { license: string } }[]; total: number };
        links: Record<string, string>;
      };
    expect((await search({ q: "fitter" })).hits.hits.map((h) => h.id)).toEqual([dep.id]);
    expect((await search({ q: "creators.name:roe" })).hits.total).toBe(1);
    expect((await search({ q: "keywords:fitting" })).hits.total).toBe(1);
    expect((await search({ q: "fitter", communities: "escape2020" })).hits.total).toBe(0);
    expect((await search({ communities: "vre-sandbox" })).hits.hits.map((h) => h.id)).toEqual([dep.id]);
    expect((await search({ type: "software" })).hits.hits[0]!.metadata.license).toBe("MIT");
    const all = await search({ size: "1", sort: "mostrecent" });
    expect(all.hits.hits).toHaveLength(1);
    expect(all.links.next).toContain("page=2");
    expect((await call(`${sbx.url}/zenodo`, "GET", "/api/records/999999999")).status).toBe(404);
  });

  it("lists licences and communities", async () => {
    const licenses = (await call(`${sbx.url}/zenodo`, "GET", "/api/licenses", { query: { q: "attribution", size: "100" } })).body as {
      hits: { hits: { id: string }[] };
    };
    expect(licenses.hits.hits.map((l) => l.id)).toContain("cc-by-4.0");
    expect((await call(`${sbx.url}/zenodo`, "GET", "/api/licenses/CC-BY-4.0")).status).toBe(200);
    const communities = (await call(`${sbx.url}/zenodo`, "GET", "/api/communities")).body as { hits: { hits: { slug: string }[] } };
    expect(communities.hits.hits.map((c) => c.slug)).toContain("escape2020");
  });
});

describe("metadata rules", () => {
  const known = () => true;
  it("applies Zenodo's defaults and conditional requirements", () => {
    const ok = validateMetadata({ ...METADATA, upload_type: "software" }, known, "2026-01-01");
    expect(ok.errors).toEqual([]);
    expect(ok.metadata).toMatchObject({ publication_date: "2026-01-01", access_right: "open", license: "cc-by-4.0" });
    const image = validateMetadata({ ...METADATA, upload_type: "image" }, known);
    expect(image.errors.map((e) => e.field)).toEqual(["metadata.image_type"]);
    const restricted = validateMetadata({ ...METADATA, access_right: "restricted" }, known);
    expect(restricted.errors.map((e) => e.field)).toEqual(["metadata.access_conditions"]);
    const badDate = validateMetadata({ ...METADATA, publication_date: "2026-02-30" }, known);
    expect(badDate.errors.map((e) => e.field)).toEqual(["metadata.publication_date"]);
    const badLicense = validateMetadata({ ...METADATA, license: "made-up" }, known);
    expect(badLicense.errors[0]).toEqual({ field: "metadata.license", message: "Invalid license provided: made-up." });
    const unknownCommunity = validateMetadata(METADATA, () => false);
    expect(unknownCommunity.errors.map((e) => e.field)).toEqual(["metadata.communities.0.identifier"]);
    const badRelation = validateMetadata({ ...METADATA, related_identifiers: [{ identifier: "10.1/x", relation: "likes" }] }, known);
    expect(badRelation.errors.map((e) => e.field)).toEqual(["metadata.related_identifiers.0.relation"]);
  });
});

describe("rate limits", () => {
  it("announces the budget on every answer and refuses with 429 + Retry-After when it is spent", async () => {
    const r = await sbx.zenodo("GET", "/api/deposit/depositions");
    expect(Number(r.headers.get("x-ratelimit-limit"))).toBe(1000);
    expect(Number(r.headers.get("x-ratelimit-remaining"))).toBeLessThan(1000);
    expect(Number(r.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);

    const saved = process.env.VRE_SANDBOX_ZENODO_RATE_LIMIT;
    process.env.VRE_SANDBOX_ZENODO_RATE_LIMIT = "3";
    const tight = await testSandbox();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await tight.zenodo("GET", "/api/deposit/depositions")).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await tight.zenodo("GET", "/api/deposit/depositions");
      expect(refused.body).toMatchObject({ status: 429 });
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(refused.headers.get("x-ratelimit-remaining")).toBe("0");
      // Guests have their own budget.
      expect((await call(`${tight.url}/zenodo`, "GET", "/api/records")).status).toBe(200);
    } finally {
      await tight.dispose();
      if (saved === undefined) delete process.env.VRE_SANDBOX_ZENODO_RATE_LIMIT;
      else process.env.VRE_SANDBOX_ZENODO_RATE_LIMIT = saved;
    }
  });
});
