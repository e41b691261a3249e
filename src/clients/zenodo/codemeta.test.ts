import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { codemetaFileToZenodo, codemetaToZenodo, licenseId } from "./codemeta";

const CODEMETA = {
  "@context": "https://w3id.org/codemeta/3.0",
  "@type": "SoftwareSourceCode",
  name: "dimuon-analysis",
  description: "Dimuon spectrum analysis for the ESCAPE VRE.",
  version: "1.2.0",
  softwareVersion: "1.2.0",
  keywords: ["CMS", "REANA"],
  releaseNotes: "First public release.",
  datePublished: "2026-11-20",
  license: "https://spdx.org/licenses/MIT",
  codeRepository: "https://github.com/example/dimuon-analysis",
  readme: "https://github.com/example/dimuon-analysis/blob/main/README.md",
  programmingLanguage: { "@type": "ComputerLanguage", name: "Python" },
  author: [
    {
      "@type": "Person",
      "@id": "https://orcid.org/0000-0002-1825-0097",
      givenName: "Marie",
      familyName: "Curie",
      affiliation: { "@type": "Organization", name: "Sorbonne Université" },
    },
    { "@type": "Person", givenName: "Jane", familyName: "Doe", affiliation: [{ "@type": "Organization", name: "CERN" }, { "@type": "Organization", name: "LAPP" }] },
  ],
  maintainer: { "@type": "Person", givenName: "Jane", familyName: "Doe" },
  contributor: [{ "@type": "Organization", name: "ESCAPE" }],
  citation: ["https://doi.org/10.1000/xyz"],
};

describe("codemeta.json → Zenodo deposit metadata", () => {
  it("converts a realistic codemeta file into valid metadata", () => {
    const { metadata, ignored, report } = codemetaToZenodo(CODEMETA);
    expect(metadata).toEqual({
      upload_type: "software",
      title: "dimuon-analysis",
      description: "Dimuon spectrum analysis for the ESCAPE VRE.",
      version: "1.2.0",
      keywords: ["CMS", "REANA"],
      notes: "Release Notes: First public release.",
      references: ["https://doi.org/10.1000/xyz"],
      publication_date: "2026-11-20",
      creators: [
        { name: "Curie, Marie", affiliation: "Sorbonne Université", orcid: "0000-0002-1825-0097" },
        { name: "Doe, Jane", affiliation: "CERN; LAPP" },
      ],
      contributors: [
        { name: "Doe, Jane", type: "ContactPerson" },
        { name: "ESCAPE", type: "Other" },
      ],
      related_identifiers: [
        { scheme: "url", identifier: "https://github.com/example/dimuon-analysis", relation: "isDerivedFrom", resource_type: "software" },
        { scheme: "url", identifier: "https://github.com/example/dimuon-analysis/blob/main/README.md", relation: "isDocumentedBy", resource_type: "publication-softwaredocumentation" },
      ],
      license: "mit",
      access_right: "open",
    });
    expect(ignored).toEqual(["programmingLanguage"]);
    expect(report.errors).toEqual([]);
  });

  it("defaults the publication date to today and adds the ESCAPE community and grant on request", () => {
    const { datePublished: _d, ...rest } = CODEMETA;
    const { metadata } = codemetaToZenodo(rest, { escape2020: true, today: new Date("2026-11-25T10:00:00Z") });
    expect(metadata.publication_date).toBe("2026-11-25");
    expect(metadata.communities).toEqual([{ identifier: "escape2020" }]);
    expect(metadata.grants).toEqual([{ id: "10.13039/501100000780::824064" }]);
  });

  it("maps licences: SPDX URL or id → lower-case id, several → other-open, none → a validation error", () => {
    expect(licenseId("https://spdx.org/licenses/Apache-2.0.html")).toBe("apache-2.0");
    expect(licenseId("GPL-3.0-or-later")).toBe("gpl-3.0-or-later");
    expect(codemetaToZenodo({ ...CODEMETA, license: ["https://spdx.org/licenses/MIT", "https://spdx.org/licenses/BSD-3-Clause"] }).metadata.license).toBe("other-open");
    const { license: _l, ...noLicense } = CODEMETA;
    const r = codemetaToZenodo(noLicense);
    expect(r.report.valid).toBe(false);
    expect(r.report.errors.map((e) => e.field)).toEqual(["metadata.license"]);
  });

  it("refuses what eOSSR refuses", () => {
    expect(() => codemetaToZenodo({ ...CODEMETA, softwareVersion: "2.0.0" })).toThrow(/"version" \(1\.2\.0\) and "softwareVersion" \(2\.0\.0\) differ/);
    expect(() => codemetaToZenodo({ ...CODEMETA, "@type": "Dataset" })).toThrow(/must be "SoftwareSourceCode"/);
    expect(() => codemetaToZenodo({ ...CODEMETA, author: [{ "@type": "Person" }] })).toThrow(/needs familyName or givenName/);
    expect(() => codemetaToZenodo([1, 2])).toThrow(/JSON object/);
  });

  it("reads codemeta.json files and reports bad JSON clearly", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "codemeta-"));
    try {
      const f = path.join(dir, "codemeta.json");
      writeFileSync(f, JSON.stringify(CODEMETA));
      expect((await codemetaFileToZenodo(f)).metadata.title).toBe("dimuon-analysis");
      writeFileSync(f, "{ not json");
      await expect(codemetaFileToZenodo(f)).rejects.toMatchObject({ code: "ZENODO_CODEMETA", message: expect.stringContaining("not valid JSON") });
      await expect(codemetaFileToZenodo(path.join(dir, "none.json"))).rejects.toMatchObject({ code: "ZENODO_CODEMETA", message: expect.stringContaining("no such file") });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
