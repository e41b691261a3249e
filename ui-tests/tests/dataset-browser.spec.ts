// The Rucio dataset browser (`%rucio browse`) in JupyterLab, against the kernel's embedded sandbox: search
// by name pattern and metadata filter, a dataset's details, download, and making it available (a rule,
// after a confirming second click) with the mounted paths.
import { cellText, contrastOf, expect, keepScreenshot, keepWidgetShots, notebookDocument, openNotebook, runCell, savedNotebook, setTheme, test, waitForKernelIdle } from './fixtures';

const VRE_TS = { name: 'vre-ts', display_name: 'TypeScript (vre-ts)', language: 'typescript' };
const DATASET = 'open:dimuon-sim.v1';

test.describe('dataset browser', () => {
  test('searches, shows a dataset, downloads it and makes it available', async ({ page, tmpPath, problems }) => {
    await openNotebook(page, `${tmpPath}/browse.ipynb`, notebookDocument(VRE_TS, ['%rucio browse open:dimuon*', '']));
    const browser = (await runCell(page, 0)).locator('.vre-browse');
    const row = browser.locator('.vre-browse-name', { hasText: DATASET });
    await expect(row).toBeVisible();
    await expect(browser.locator('.vre-browse-scope')).toHaveValue('open');
    await expect(browser.locator('.vre-browse-pattern')).toHaveValue('dimuon*');

    // Enter in the pattern field searches; a search that finds nothing says so.
    await browser.locator('.vre-browse-pattern').fill('no-such-name*');
    await browser.locator('.vre-browse-pattern').press('Enter');
    await expect(browser.locator('.vre-browse-status')).toContainText('No match for open:no-such-name*');
    await expect(browser.locator('.vre-browse-row')).toHaveCount(0);
    // The notebook stayed in command mode on this cell: Enter did not open the cell editor instead.
    await expect(page.locator('.jp-Notebook.jp-mod-editMode')).toHaveCount(0);

    // A search of files by metadata, typed into the form; Enter in the filter field searches too.
    await browser.locator('.vre-browse-pattern').fill('*');
    await browser.locator('.vre-browse-type').selectOption('file');
    await browser.locator('.vre-browse-filter').fill('run_number=2');
    await browser.locator('.vre-browse-filter').press('Enter');
    await expect(browser.locator('.vre-browse-row')).toHaveCount(1);
    await expect(browser.locator('.vre-browse-name')).toHaveText('open:dimuon_run002.csv');
    // Numbers are right-aligned under right-aligned headings.
    await expect(browser.locator('.vre-browse-results th').nth(3)).toHaveCSS('text-align', 'right');
    await expect(browser.locator('.vre-browse-row td').nth(3)).toHaveCSS('text-align', 'right');
    // A malformed filter is explained next to the filter field, and nothing is lost.
    await browser.locator('.vre-browse-filter').fill('run_number');
    await browser.locator('.vre-browse-go').click();
    await expect(browser.locator('.vre-browse-filter-error')).toContainText('has no operator');
    await expect(browser.locator('.vre-browse-filter')).toHaveValue('run_number');
    await keepWidgetShots(page, browser, 'dataset-browser-filter-error');

    // Back to the datasets; the dataset's details.
    await browser.locator('.vre-browse-pattern').fill('dimuon*');
    await browser.locator('.vre-browse-type').selectOption('collection');
    await browser.locator('.vre-browse-filter').fill('');
    await browser.locator('.vre-browse-go').click();
    await expect(browser.locator('.vre-browse-error')).toBeHidden();
    await expect(browser.locator('.vre-browse-filter-error')).toBeEmpty();
    // Selecting a row marks it without moving the columns.
    const columns = () => browser.locator('.vre-browse-results th').evaluateAll(ths => ths.map(th => Math.round(th.getBoundingClientRect().left)));
    const before = await columns();
    await browser.locator('.vre-browse-name', { hasText: DATASET }).click();
    await expect(browser.locator('.vre-browse-did')).toHaveText(DATASET);
    await expect(browser.locator('.vre-browse-selected')).toHaveCount(1);
    expect(await columns()).toEqual(before);

    // A bookmark keeps the DID in the notebook's metadata (it travels with the notebook); a click shows it.
    await browser.locator('.vre-browse-bookmark-toggle').click();
    await expect(browser.locator('.vre-browse-bookmark-toggle')).toHaveText('★ Bookmarked');
    await expect(browser.locator('.vre-browse-bookmarks .vre-browse-bookmark')).toHaveText([DATASET]);
    expect(await page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.context.model.getMetadata('vre-ts'))).toEqual({ bookmarks: [DATASET] });
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

    // The paths can be put into a new cell below the widget, as a TypeScript array.
    await task.locator('.vre-browse-insert').click();
    await expect.poll(() => page.notebook.getCellCount()).toBe(3);
    expect(await page.notebook.getCellType(1)).toBe('code');
    await expect(page.locator('.jp-Cell').nth(1).locator('.jp-InputArea')).toContainText('const paths = [');

    // Status pills stay readable in both themes.
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(page, theme);
      const pill = browser.locator('.vre-browse-rule .vre-browse-pill');
      expect(await contrastOf(pill), `pill contrast in the ${theme} theme`).toBeGreaterThanOrEqual(4.5);
    }
    await keepWidgetShots(page, browser, 'dataset-browser');

    expect(problems.messages).toEqual([]);
  });

  test.describe('attached DIDs', () => {
    // galata's kernel-tracking mock answers a restart's POST itself (see widget-lifecycle.spec.ts): let it reach the server.
    test.use({ kernels: null });

    test('a DID attached as a variable is declared by the kernel after a restart', async ({ page, tmpPath, problems }) => {
      const path = `${tmpPath}/attach.ipynb`;
      await openNotebook(page, path, notebookDocument(VRE_TS, [`%rucio browse ${DATASET}`, 'const n: number = sim.length;\nn', '%rucio attachments']));
      const browser = (await runCell(page, 0)).locator('.vre-browse');
      await browser.locator('.vre-browse-name', { hasText: DATASET }).click();
      await expect(browser.locator('.vre-browse-did')).toHaveText(DATASET);

      // The name field starts from the DID's name; a name that is not a TypeScript identifier is refused on the spot.
      await browser.locator('.vre-browse-attach').click();
      const name = browser.locator('.vre-browse-attach-name');
      await expect(name).toHaveValue('dimuon_sim_v1');
      await name.fill('3rd');
      await expect(browser.locator('.vre-browse-attach-error')).toContainText('not starting with a digit');
      await expect(browser.locator('.vre-browse-attach-ok')).toBeDisabled();
      await name.fill('sim');
      await name.press('Enter');
      await expect(browser.locator('.vre-browse-attached')).toHaveText('Attached as sim');
      await expect(browser.locator('.vre-browse-attach-note')).toContainText('const sim: string[]');
      await expect(browser.locator('.vre-browse-bookmarks .vre-browse-attachment')).toHaveText([`sim = ${DATASET}`]);
      expect(await page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.context.model.getMetadata('vre-ts'))).toEqual({ attachments: [{ did: DATASET, variable: 'sim' }] });
      await keepWidgetShots(page, browser, 'dataset-browser-attached');

      // The data on the mounted RSE, the notebook saved with its attachment, the kernel restarted.
      const make = browser.locator('.vre-browse-make');
      await make.click();
      await make.click();
      await expect(browser.locator('.vre-browse-task-state')).toHaveText('Make available: done', { timeout: 60_000 });
      await page.notebook.save();
      expect((await savedNotebook(page, path)).metadata['vre-ts'].attachments).toEqual([{ did: DATASET, variable: 'sim' }]);
      await page.evaluate(() => void (window as any).jupyterapp.commands.execute('notebook:restart-kernel'));
      await page.locator('.jp-Dialog .jp-mod-accept').click();
      await waitForKernelIdle(page);

      // The first cell of the new kernel uses the variable, typed string[] (its length is a number).
      await runCell(page, 1);
      // (after the sandbox's one-line announcement: the attachment found the files, so no line about it)
      await expect.poll(() => cellText(page, 1), { timeout: 60_000 }).toMatch(/(^|\n)4$/);
      expect(await cellText(page, 1)).not.toContain('attached DID');
      await runCell(page, 2);
      await expect.poll(() => cellText(page, 2)).toContain('declared: 4 files on the mounted RSE');

      expect(problems.messages).toEqual([]);
    });
  });
});
