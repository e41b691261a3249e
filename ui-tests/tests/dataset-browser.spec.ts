// The Rucio dataset browser (`%rucio browse`) in JupyterLab, against the kernel's embedded sandbox: search
// by name pattern and metadata filter, a dataset's details, download, and making it available (a rule,
// after a confirming second click) with the mounted paths.
import { expect, keepScreenshot, notebookDocument, openNotebook, runCell, test } from './fixtures';

const VRE_TS = { name: 'vre-ts', display_name: 'TypeScript (vre-ts)', language: 'typescript' };
const DATASET = 'open:dimuon-sim.v1';

test.describe('dataset browser', () => {
  test('searches, shows a dataset, downloads it and makes it available', async ({ page, tmpPath, problems }) => {
    await openNotebook(page, `${tmpPath}/browse.ipynb`, notebookDocument(VRE_TS, ['%rucio browse open:dimuon*']));
    const browser = (await runCell(page, 0)).locator('.vre-browse');
    const row = browser.locator('.vre-browse-name', { hasText: DATASET });
    await expect(row).toBeVisible();
    await expect(browser.locator('.vre-browse-scope')).toHaveValue('open');
    await expect(browser.locator('.vre-browse-pattern')).toHaveValue('dimuon*');

    // A search of files by metadata, typed into the form.
    await browser.locator('.vre-browse-pattern').fill('*');
    await browser.locator('.vre-browse-type').selectOption('file');
    await browser.locator('.vre-browse-filter').fill('run_number=2');
    await browser.locator('.vre-browse-go').click();
    await expect(browser.locator('.vre-browse-row')).toHaveCount(1);
    await expect(browser.locator('.vre-browse-name')).toHaveText('open:dimuon_run002.csv');
    // A malformed filter is explained, and nothing is lost.
    await browser.locator('.vre-browse-filter').fill('run_number');
    await browser.locator('.vre-browse-go').click();
    await expect(browser.locator('.vre-browse-error')).toContainText('has no operator');

    // Back to the datasets; the dataset's details.
    await browser.locator('.vre-browse-pattern').fill('dimuon*');
    await browser.locator('.vre-browse-type').selectOption('collection');
    await browser.locator('.vre-browse-filter').fill('');
    await browser.locator('.vre-browse-go').click();
    await expect(browser.locator('.vre-browse-error')).toBeHidden();
    await browser.locator('.vre-browse-name', { hasText: DATASET }).click();
    await expect(browser.locator('.vre-browse-did')).toHaveText(DATASET);
    await expect(browser.locator('.vre-browse-facts')).toContainText('dataset · 4 files');
    await expect(browser.locator('.vre-browse-rse').first()).toContainText('4/4 files available');

    // Download into the notebook's folder.
    await browser.locator('.vre-browse-download').click();
    const task = browser.locator('.vre-browse-task');
    await expect(task.locator('.vre-browse-task-state')).toHaveText('Download: done');
    await expect(task.locator('.vre-browse-paths li')).toHaveCount(4);
    await expect(task.locator('.vre-browse-paths')).toContainText('open/dimuon_run001.csv');

    // Make available: a rule is created only on the second click.
    const make = browser.locator('.vre-browse-make');
    await make.click();
    await expect(make).toContainText('Click again to add a rule on');
    await make.click();
    await expect(task.locator('.vre-browse-task-state')).toHaveText('Make available: done', { timeout: 60_000 });
    await expect(task.locator('.vre-browse-task-message')).toContainText('Available on');
    await expect(task.locator('.vre-browse-paths li')).toHaveCount(4);
    await expect(browser.locator('.vre-browse-rule .vre-browse-pill')).toHaveText('OK');
    await keepScreenshot(page, 'dataset-browser');

    expect(problems.messages).toEqual([]);
  });
});
