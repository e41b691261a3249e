// Rich outputs in JupyterLab at 800 px, light and dark: the provenance table stays inside the output area
// (its DOI column in reach, times and checksums on one line), and the example notebook's mass-spectrum plot scales to the
// output's width and takes the theme's text colour.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contrastOf, expect, keepWidgetShots, notebookDocument, openNotebook, runCell, setTheme, test } from './fixtures';

const VRE_TS = { name: 'vre-ts', display_name: 'TypeScript (vre-ts)', language: 'typescript' };
const REPO = join(__dirname, '..', '..');
const DIMUON = join(REPO, 'notebooks', 'examples', 'dimuon', 'code', 'dimuon.py');

/** The example notebook's own cell that shows the results and the plot. */
function plotCell(): string {
  const nb = JSON.parse(readFileSync(join(REPO, 'notebooks', 'examples', 'lifecycle.ipynb'), 'utf8'));
  const cell = nb.cells.find((c: any) => c.cell_type === 'code' && c.source.join('').includes('mass_spectrum.svg'));
  return cell.source.join('');
}

const RESULTS = {
  events: 5000,
  histogram: { edges_gev: [2, 3, 5, 10, 20, 50, 120], counts: [120, 900, 300, 80, 40, 400] },
  resonances: [
    { name: 'J/psi', pdg_mass_gev: 3.097, observed: true, mass_gev: 3.1, mass_error_gev: 0.002, width_gev: 0.05, candidates: 900 },
    { name: 'Z', pdg_mass_gev: 91.19, observed: true, mass_gev: 91.0, mass_error_gev: 0.1, width_gev: 2.5, candidates: 400 }
  ]
};

// The imports the example notebook makes in its earlier cells.
const MAKE_PLOT = `import { table, display } from "vre-ts";
import * as fs from "node:fs";
import { mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
mkdirSync("dimuon/results", { recursive: true });
writeFileSync("dimuon/results/results.json", ${JSON.stringify(JSON.stringify(RESULTS))});
execFileSync("/usr/bin/python3", [${JSON.stringify(DIMUON)}, "plot", "--input", "dimuon/results/results.json", "--output", "dimuon/results/mass_spectrum.svg"]);
const min_pt = 3;`;

test.describe('outputs', () => {
  test('the provenance table and the spectrum plot fit 800 px in both themes', async ({ page, tmpPath, problems }) => {
    await openNotebook(
      page,
      `${tmpPath}/outputs.ipynb`,
      notebookDocument(VRE_TS, ['%rucio download open:dimuon_run001.csv', '%vre provenance', MAKE_PLOT, plotCell()])
    );
    await expect(await runCell(page, 0)).toContainText('dimuon_run001.csv');
    const provenance = (await runCell(page, 1)).locator('.vre-result').first();
    await expect(provenance.locator('th', { hasText: 'doi' })).toHaveCount(1);
    await expect(provenance.locator('.vre-table-scroll')).toHaveCSS('overflow-x', 'auto');
    await page.setViewportSize({ width: 800, height: 1000 });
    // One line per time; hashes shortened, whole in the tooltip.
    const time = provenance.locator('tbody tr').first().locator('td').nth(2);
    await expect(time).toHaveCSS('white-space', 'nowrap');
    const lines = await time.evaluate(e => {
      const range = document.createRange();
      range.selectNodeContents(e);
      return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
    });
    expect(lines, 'the time is on one line').toBe(1);
    // Checksums in monospace on one line (long hashes are shortened: see vre-format.test.ts).
    await expect(provenance.locator('td code').first()).toContainText('adler32:');
    await expect(provenance.locator('td', { has: page.locator('code') }).first()).toHaveCSS('white-space', 'nowrap');
    await keepWidgetShots(page, provenance, 'provenance-table');

    await runCell(page, 2);
    const plotOutput = await runCell(page, 3);
    const svg = plotOutput.locator('.jp-RenderedHTMLCommon svg').first();
    await expect(svg).toBeVisible();
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(page, theme);
      const fits = await svg.evaluate(e => {
        const area = e.closest('.jp-OutputArea-output')!;
        return e.getBoundingClientRect().width <= area.getBoundingClientRect().width + 1;
      });
      expect(fits, `the plot fits its output at 800 px (${theme})`).toBe(true);
      expect(await contrastOf(svg), `the plot's axes and labels read in the ${theme} theme`).toBeGreaterThanOrEqual(4.5);
    }
    await keepWidgetShots(page, svg, 'mass-spectrum');

    expect(problems.messages).toEqual([]);
  });
});
