import { describe, expect, it } from "vitest";
import { ZenodoError } from "./errors";
import { assertValidMetadata, depositSchema, validateDepositMetadata } from "./metadata";
import { checkLicenseId, orcidCheckDigit, orcidProblem, ZENODO_LICENSE_IDS } from "./identifiers";

/** Metadata as a physicist would deposit an analysis result. */
const DIMUON = {
  upload_type: "dataset",
  title: "Dimuon invariant mass spectrum from CMS 2012 open data (Run2012B)",
  creators: [
    { name: "Curie, Marie", affiliation: "Sorbonne Université", orcid: "0000-0002-1825-0097" },
    { name: "ESCAPE Consortium" },
  ],
  description: "<p>Histograms of the dimuon invariant mass, produced with a REANA serial workflow.</p>",
  access_right: "open",
  license: "cc-by-4.0",
  publication_date: "2026-11-25",
  keywords: ["CMS", "open data", "dimuon"],
  version: "1.0.0",
  language: "eng",
  related_identifiers: [{ identifier: "10.7483/OPENDATA.CMS.KL8H.HFVH", relation: "isDerivedFrom", resource_type: "dataset", scheme: "doi" }],
  communities: [{ identifier: "escape2020" }],
  grants: [{ id: "10.13039/501100000780::824064" }],
  contributors: [{ name: "Doe, Jane", type: "DataCurator", affiliation: "CERN" }],
  subjects: [{ term: "Particle physics", identifier: "https://id.loc.gov/authorities/subjects/sh85098362", scheme: "url" }],
  locations: [{ place: "CERN", lat: 46.23, lon: 6.05 }],
  dates: [{ start: "2012-04-01", end: "2012-12-31", type: "Collected" }],
  notes: "Produced in the ESCAPE Virtual Research Environment.",
  method: "Event selection with two opposite-charge muons.",
};

const msgs = (m: unknown) => validateDepositMetadata(m).errors.map((e) => e.message);

describe("Zenodo deposit metadata validation (eOSSR's schema + Zenodo's rules)", () => {
  it("builds the schema as eOSSR does", () => {
    const schema = depositSchema() as { required: string[]; additionalProperties: boolean; properties: Record<string, unknown> };
    expect(schema.required).toEqual(["title", "upload_type", "creators", "description"]);
    expect(schema.additionalProperties).toBe(false);
    // Fields only the base record schema has survive the merge.
    for (const f of ["version", "language", "locations", "dates", "method"]) expect(schema.properties).toHaveProperty(f);
    expect(JSON.stringify(schema)).not.toContain("$ref");
  });

  it("accepts complete, realistic metadata without warnings", () => {
    const r = validateDepositMetadata(DIMUON);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.valid).toBe(true);
  });

  it("names each missing required field with what to do", () => {
    expect(msgs({})).toEqual(
      expect.arrayContaining([
        "metadata.title: required — give the record a title",
        expect.stringMatching(/^metadata\.upload_type: required — one of publication, poster, .*software/),
        expect.stringMatching(/^metadata\.creators: required — list at least one creator/),
        "metadata.description: required — add a short abstract (simple HTML is allowed)",
      ]),
    );
  });

  it("explains creator problems field by field", () => {
    const m = { ...DIMUON, creators: [{ affiliation: "CERN" }, { name: "Doe, J", orcid: "1234-5678" }], contributors: [{ name: "Roe, R" }] };
    expect(msgs(m)).toEqual(
      expect.arrayContaining([
        "metadata.creators[0].name: required — add the creator as 'Family, Given'",
        'metadata.creators[1].orcid: "1234-5678" is not an ORCID iD — an ORCID iD such as 0000-0002-1825-0097',
        "metadata.contributors[0].type: required — e.g. ContactPerson, DataCurator, Researcher, Supervisor, Other",
      ]),
    );
    expect(msgs({ ...DIMUON, creators: [] })).toEqual([expect.stringMatching(/^metadata\.creators: must not be empty/)]);
  });

  it("applies the access rules", () => {
    const { license: _l, ...noLicense } = DIMUON;
    expect(msgs(noLicense)).toEqual([expect.stringMatching(/^metadata\.license: required when access_right is open — a licence id such as cc-by-4.0/)]);
    expect(msgs({ ...noLicense, access_right: "closed" })).toEqual([]);
    expect(msgs({ ...DIMUON, access_right: "embargoed" })).toEqual(["metadata.embargo_date: required when access_right is embargoed — the date (YYYY-MM-DD) when the files become open"]);
    expect(msgs({ ...DIMUON, access_right: "embargoed", embargo_date: "2020-01-01" })).toEqual(["metadata.embargo_date: must be in the future for an embargo"]);
    expect(validateDepositMetadata({ ...DIMUON, access_right: "embargoed", embargo_date: "2099-01-01" }).valid).toBe(true);
    expect(msgs({ ...DIMUON, access_right: "restricted" })).toEqual(["metadata.access_conditions: required when access_right is restricted — say under which conditions access is granted"]);
    expect(msgs({ ...DIMUON, access_right: "public" })).toEqual(["metadata.access_right: must be one of open, embargoed, restricted, closed"]);
  });

  it("requires publication_type for publications and image_type for images", () => {
    expect(msgs({ ...DIMUON, upload_type: "publication" })).toEqual([expect.stringMatching(/^metadata\.publication_type: required when upload_type is publication/)]);
    expect(validateDepositMetadata({ ...DIMUON, upload_type: "publication", publication_type: "article" }).valid).toBe(true);
    expect(msgs({ ...DIMUON, upload_type: "image" })).toEqual([expect.stringMatching(/^metadata\.image_type: required when upload_type is image — one of figure, plot/)]);
    expect(msgs({ ...DIMUON, upload_type: "image", image_type: "histogram" })).toEqual([expect.stringMatching(/^metadata\.image_type: must be one of figure, plot, drawing/)]);
    expect(validateDepositMetadata({ ...DIMUON, image_type: "plot" }).warnings.map((w) => w.message)).toEqual(["metadata.image_type: is ignored unless upload_type is image"]);
  });

  it("catches unknown fields with a suggestion, wrong types and bad dates", () => {
    const m = { ...DIMUON, keyword: ["x"], creator: [], publication_date: "2026-13-01", keywords: "CMS", related_identifiers: [{ identifier: "x", relation: "derivedFrom" }] };
    expect(msgs(m)).toEqual(
      expect.arrayContaining([
        'metadata.keyword: unknown field — did you mean "keywords"?',
        'metadata.creator: unknown field — did you mean "creators"?',
        'metadata.publication_date: "2026-13-01" is not a date — a date as YYYY-MM-DD',
        "metadata.related_identifiers[0].scheme: required — the identifier's scheme, e.g. doi, url, arxiv, handle",
        "metadata.keywords: must be a list — a list of strings",
        expect.stringMatching(/^metadata\.related_identifiers\[0\]\.relation: must be one of isCitedBy, cites/),
      ]),
    );
    const fields = validateDepositMetadata(m).errors.map((e) => e.field);
    expect(fields).toContain("metadata.related_identifiers.0.relation");
  });

  it("warns like eOSSR about a non-semver version and missing dates", () => {
    const { publication_date: _p, ...m } = DIMUON;
    expect(validateDepositMetadata({ ...m, version: "v2" }).warnings.map((w) => w.message)).toEqual([
      "metadata.publication_date: not set; Zenodo will use the publication day",
      'metadata.version: "v2" does not follow semantic versioning (semver.org), as recommended',
    ]);
  });

  it("accepts the prereserve_doi that Zenodo returns, so read-modify-write works", () => {
    expect(validateDepositMetadata({ ...DIMUON, prereserve_doi: { doi: "10.5281/zenodo.1234", recid: 1234 } }).valid).toBe(true);
    expect(validateDepositMetadata({ ...DIMUON, prereserve_doi: true }).valid).toBe(true);
  });

  it("assertValidMetadata throws ZENODO_VALIDATION listing every field", () => {
    try {
      assertValidMetadata({ ...DIMUON, title: "", creators: [{}] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ZenodoError);
      const z = e as ZenodoError;
      expect(z.code).toBe("ZENODO_VALIDATION");
      expect(z.fieldErrors.map((f) => f.field).sort()).toEqual(["metadata.creators.0.name", "metadata.title"]);
      expect(z.message).toContain("metadata.creators[0].name: required");
      expect(z.hint).toMatch(/nothing was sent/);
    }
  });

  it("rejects a non-object", () => {
    expect(validateDepositMetadata("title: x").valid).toBe(false);
    expect(validateDepositMetadata(null).errors[0].message).toMatch(/must be a mapping/);
  });

  it("checks ORCID check digits (ISO 7064 MOD 11-2), not only their shape", () => {
    for (const good of ["0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X", "https://orcid.org/0000-0002-1825-0097"]) {
      expect(orcidProblem(good), good).toBeUndefined();
    }
    expect(orcidCheckDigit("000000021825009")).toBe("7");
    expect(orcidCheckDigit("000000021694233")).toBe("X");
    const typo = { ...DIMUON, creators: [{ name: "Curie, Marie", orcid: "0000-0002-1825-0098" }], contributors: [{ name: "Roe, R", type: "Researcher", orcid: "0000-0002-1694-2330" }] };
    expect(msgs(typo)).toEqual([
      'metadata.creators[0].orcid: "0000-0002-1825-0098" is not a valid ORCID iD: its last character (check digit) should be 7, so a digit is probably mistyped; copy the iD from orcid.org',
      'metadata.contributors[0].orcid: "0000-0002-1694-2330" is not a valid ORCID iD: its last character (check digit) should be X, so a digit is probably mistyped; copy the iD from orcid.org',
    ]);
  });

  it("knows Zenodo's licence ids and suggests the closest one for an unknown id", () => {
    for (const ok of ["cc-by-4.0", "cc0-1.0", "mit", "apache-2.0", "gpl-3.0-or-later", "CC-BY-4.0", "MIT", "cc-zero", "other-open", "odbl-1.0"]) {
      expect(msgs({ ...DIMUON, license: ok }), ok).toEqual([]);
    }
    const cases: Array<[string, RegExp]> = [
      ["cc-by-4", /"cc-by-4" is not a licence id Zenodo knows — did you mean "cc-by-4.0"\?/],
      ["CC-BY-NC-SA-4.0", /did you mean "cc-by-nc-sa-4.0"\?/],
      ["https://spdx.org/licenses/Apache-2.0.html", /did you mean "apache-2.0"\?/],
      ["cc0", /did you mean "cc0-1.0"\?/],
      ["GPL-3.0-or-later", /did you mean "gpl-3.0-or-later"\?/],
      ["my-own-licence", /"my-own-licence" is not a licence id Zenodo knows — use a Zenodo licence id such as cc-by-4.0/],
    ];
    for (const [id, message] of cases) {
      const out = msgs({ ...DIMUON, license: id });
      expect(out, id).toHaveLength(1);
      expect(out[0], id).toMatch(/^metadata\.license: /);
      expect(out[0], id).toMatch(message);
    }
    expect(checkLicenseId("cc-by-4.0")).toEqual({ known: true });
    expect(ZENODO_LICENSE_IDS.size).toBeGreaterThan(400);
    expect(() => assertValidMetadata({ ...DIMUON, license: "cc-by-4" })).toThrow(/did you mean "cc-by-4.0"/);
  });
});

