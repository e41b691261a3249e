// The Zenodo deposit form (`%%zenodo form`) in JupyterLab, against the kernel's embedded sandbox: prefilled
// from the cell body, checked as the user types, saved as a draft, and published after a confirming second
// click, once.
import { expect, keepScreenshot, keepWidgetShots, notebookDocument, openNotebook, runCell, test } from './fixtures';

const VRE_TS = { name: 'vre-ts', display_name: 'TypeScript (vre-ts)', language: 'typescript' };

const MAKE_RESULT = `import { mkdirSync, writeFileSync } from "node:fs";
mkdirSync("results", { recursive: true });
writeFileSync("results/mass.csv", "mass,count\\n3.1,42\\n");`;

const FORM = `%%zenodo form ui-deposit
title: Dimuon invariant mass spectrum
upload_type: dataset
description: Histogram of the simulated dimuon sample.
creators:
  - name: Doe, Jane
    affiliation: CERN
license: cc-by-4.0
files: [results/mass.csv]`;

test.describe('deposit form', () => {
  test('is prefilled, checks edits, saves a draft and publishes once', async ({ page, tmpPath, problems }) => {
    await openNotebook(page, `${tmpPath}/deposit.ipynb`, notebookDocument(VRE_TS, [MAKE_RESULT, FORM]));
    await runCell(page, 0);
    const form = (await runCell(page, 1)).locator('.vre-form');
    await expect(form.locator('.vre-form-instance')).toContainText('local sandbox');
    await expect(form.locator('.vre-form-title')).toHaveValue('Dimuon invariant mass spectrum');
    await expect(form.locator('.vre-form-type')).toHaveValue('dataset');
    await expect(form.locator('.vre-form-creator-name')).toHaveValue('Doe, Jane');
    await expect(form.locator('.vre-form-files')).toHaveValue('results/mass.csv');
    await expect(form.locator('.vre-form-errors li')).toHaveCount(0);

    // An empty title is caught before anything is sent, on the field and in words.
    await form.locator('.vre-form-title').fill('');
    await expect(form.locator('.vre-form-errors')).toContainText('Title: required');
    await expect(form.locator('.vre-form-errors')).not.toContainText('metadata.');
    await expect(form.locator('.vre-form-field[data-field="title"]')).toHaveClass(/vre-form-invalid/);
    await expect(form.locator('.vre-form-field[data-field="title"] .vre-form-field-error')).toContainText('required');
    await expect(form.locator('.vre-form-publish')).toBeDisabled();
    await form.locator('.vre-form-title').fill('Dimuon invariant mass spectrum (sandbox)');
    await expect(form.locator('.vre-form-errors li')).toHaveCount(0);

    // A wrong ORCID iD is marked on that creator's ORCID field, which shows a whole iD.
    const orcid = form.locator('.vre-form-creator-orcid').first();
    await orcid.fill('0000-0002-1825-0098');
    await expect(form.locator('.vre-form-errors')).toContainText('Creator 1, ORCID iD');
    await expect(orcid).toHaveAttribute('aria-invalid', 'true');
    await expect(form.locator('.vre-form-field[data-field="creators"] .vre-form-field-error')).toContainText('Creator 1, ORCID iD');
    await keepWidgetShots(page, form, 'deposit-form-invalid-orcid');
    await orcid.fill('0000-0002-1825-0097');
    await expect(form.locator('.vre-form-errors li')).toHaveCount(0);
    expect(await orcid.evaluate((e: HTMLInputElement) => e.scrollWidth <= e.clientWidth)).toBe(true);
    // An unknown licence is flagged on the licence field.
    await form.locator('.vre-form-license').fill('cc-by-5.0');
    await expect(form.locator('.vre-form-field[data-field="license"] .vre-form-field-error')).toContainText('not a licence id');
    await form.locator('.vre-form-license').fill('cc-by-4.0');
    await expect(form.locator('.vre-form-errors li')).toHaveCount(0);

    await form.locator('.vre-form-save').click();
    await expect(form.locator('.vre-form-task-state')).toHaveText('Save: done');
    await expect(form.locator('.vre-form-deposition-state')).toHaveText(/^Draft \d+$/);

    const publish = form.locator('.vre-form-publish');
    await publish.click();
    await expect(publish).toContainText('Click again to publish');
    await expect(form.locator('.vre-form-deposition-state')).toHaveText(/^Draft \d+$/);
    await publish.click();
    await expect(form.locator('.vre-form-task-state')).toHaveText('Publish: done', { timeout: 60_000 });
    await expect(form.locator('.vre-form-deposition-state')).toHaveText('Published');
    await expect(form.locator('.vre-form-doi')).toHaveText(/^DOI 10\.5072\//);
    // The DOI is a doi.org link, with its badge and copy buttons.
    const doi = (await form.locator('.vre-form-doi').textContent())!.replace(/^DOI /, '');
    await expect(form.locator('.vre-form-doi')).toHaveAttribute('href', `https://doi.org/${doi}`);
    await expect(form.locator('.vre-form-badge')).toHaveAttribute('href', `https://doi.org/${doi}`);
    await expect(form.locator('.vre-form-badge-value')).toHaveText(doi);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await form.locator('.vre-form-copy-doi').click();
    await expect(form.locator('.vre-form-copy-doi')).toHaveText('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`https://doi.org/${doi}`);
    await form.locator('.vre-form-copy-badge').click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(new RegExp(`^\\[!\\[DOI\\]\\(.+\\)\\]\\(https://doi\\.org/${doi.replace(/[./]/g, '\\$&')}\\)$`));
    await expect(publish).toBeDisabled();
    await expect(form.locator('.vre-form-title')).toBeDisabled();
    // Disabled fields look disabled.
    await expect(form.locator('.vre-form-title')).toHaveCSS('cursor', 'not-allowed');
    await expect(form.locator('.vre-form-title')).toHaveCSS('border-top-style', 'dashed');
    await keepScreenshot(page, 'deposit-form-published');
    await keepWidgetShots(page, form, 'deposit-form-published');

    expect(problems.messages).toEqual([]);
  });
});
