/**
 * Fixed vocabularies of the sandbox Zenodo: a selection of the SPDX licences Zenodo offers (ids as Zenodo uses them,
 * lower case) and a few communities for deposits and record search.
 */

export interface License {
  id: string;
  title: string;
  url: string;
  osi_approved: boolean;
  tags: string[];
}

export const LICENSES: License[] = [
  { id: "cc-by-4.0", title: "Creative Commons Attribution 4.0 International", url: "https://creativecommons.org/licenses/by/4.0/legalcode", osi_approved: false, tags: ["recommended", "all", "data"] },
  { id: "cc-by-sa-4.0", title: "Creative Commons Attribution Share Alike 4.0 International", url: "https://creativecommons.org/licenses/by-sa/4.0/legalcode", osi_approved: false, tags: ["all", "data"] },
  { id: "cc-by-nc-4.0", title: "Creative Commons Attribution Non Commercial 4.0 International", url: "https://creativecommons.org/licenses/by-nc/4.0/legalcode", osi_approved: false, tags: ["all", "data"] },
  { id: "cc0-1.0", title: "Creative Commons Zero v1.0 Universal", url: "https://creativecommons.org/publicdomain/zero/1.0/legalcode", osi_approved: false, tags: ["recommended", "all", "data"] },
  { id: "mit", title: "MIT License", url: "https://opensource.org/licenses/MIT", osi_approved: true, tags: ["recommended", "all", "software"] },
  { id: "apache-2.0", title: "Apache License 2.0", url: "https://www.apache.org/licenses/LICENSE-2.0", osi_approved: true, tags: ["recommended", "all", "software"] },
  { id: "bsd-3-clause", title: 'BSD 3-Clause "New" or "Revised" License', url: "https://opensource.org/licenses/BSD-3-Clause", osi_approved: true, tags: ["all", "software"] },
  { id: "gpl-3.0-or-later", title: "GNU General Public License v3.0 or later", url: "https://www.gnu.org/licenses/gpl-3.0-standalone.html", osi_approved: true, tags: ["all", "software"] },
  { id: "lgpl-3.0-or-later", title: "GNU Lesser General Public License v3.0 or later", url: "https://www.gnu.org/licenses/lgpl-3.0-standalone.html", osi_approved: true, tags: ["all", "software"] },
  { id: "mpl-2.0", title: "Mozilla Public License 2.0", url: "https://www.mozilla.org/en-US/MPL/2.0/", osi_approved: true, tags: ["all", "software"] },
  { id: "odc-by-1.0", title: "Open Data Commons Attribution License v1.0", url: "https://opendatacommons.org/licenses/by/1-0/", osi_approved: false, tags: ["all", "data"] },
  { id: "odbl-1.0", title: "Open Data Commons Open Database License v1.0", url: "https://opendatacommons.org/licenses/odbl/1-0/", osi_approved: false, tags: ["all", "data"] },
];

/** Finds a licence by id, case-insensitively (the legacy API accepts e.g. `CC-BY-4.0`). */
export function licenseById(id: string): License | undefined {
  const wanted = id.toLowerCase();
  return LICENSES.find((l) => l.id === wanted);
}

export interface Community {
  id: string;
  slug: string;
  title: string;
  description: string;
  type: string;
  created: string;
}

export const COMMUNITIES: Community[] = [
  {
    id: "6a2c3b8e-2f1d-4c61-9a43-0d7e1f5b9c01",
    slug: "escape2020",
    title: "ESCAPE 2020",
    description: "European Science Cluster of Astronomy & Particle physics ESFRI research infrastructures.",
    type: "project",
    created: "2020-02-01T00:00:00+00:00",
  },
  {
    id: "0f4e7d29-8b3a-4f0c-b8d2-5e6a9c1d2b02",
    slug: "vre-sandbox",
    title: "Virtual Research Environment sandbox",
    description: "Records deposited from the local vre-ts sandbox.",
    type: "project",
    created: "2024-01-01T00:00:00+00:00",
  },
  {
    id: "9d1b2c3e-4f5a-4b6c-8d7e-1f2a3b4c5d03",
    slug: "astronomy-general",
    title: "Astronomy and Astrophysics",
    description: "Datasets, software and publications in astronomy and astrophysics.",
    type: "topic",
    created: "2021-05-10T00:00:00+00:00",
  },
];

export function communityBySlugOrId(ref: string): Community | undefined {
  return COMMUNITIES.find((c) => c.slug === ref || c.id === ref);
}
