// A widget across the notebook's life: saving keeps its state and a static HTML copy in the file, a kernel
// restart turns it into a clear "re-run the cell" state, and a reopened notebook shows its saved state
// instead of "Error displaying widget: model not found".
import {
  expect,
  keepWidgetShots,
  notebookDocument,
  openNotebook,
  reloadWithNotebook,
  runCell,
  savedNotebook,
  test,
  waitForKernelIdle
} from './fixtures';

const VRE_TS = { name: 'vre-ts', display_name: 'TypeScript (vre-ts)', language: 'typescript' };
const DATASET = 'open:dimuon-sim.v1';
const WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json';
const WIDGET_STATE = 'application/vnd.jupyter.widget-state+json';

test.describe('widget lifecycle', () => {
  // galata's kernel-tracking mock answers every POST under /api/kernels, a restart included, with
  // "201 Created", which JupyterLab reports as a failed restart: let the requests reach the server
  // (the session fixture still shuts the kernel down).
  test.use({ kernels: null });

  test('saving keeps a static copy, a restart and a reopened notebook show a clear state', async ({
    page,
    browser: chromium,
    tmpPath,
    problems
  }) => {
    const path = `${tmpPath}/lifecycle.ipynb`;
    await openNotebook(page, path, notebookDocument(VRE_TS, ['%rucio browse open:dimuon*']));
    const widget = (await runCell(page, 0)).locator('.vre-browse');
    await expect(widget.locator('.vre-browse-name', { hasText: DATASET })).toBeVisible();
    await expect(widget.locator('.vre-stale')).toBeHidden();

    // Saving writes the widget's state into the notebook's widget metadata and a static copy beside the view.
    await page.notebook.save();
    const nb = await savedNotebook(page, path);
    const output = nb.cells[0].outputs.find((o: any) => o.data?.[WIDGET_VIEW]);
    const modelId = output.data[WIDGET_VIEW].model_id;
    const html = String(output.data['text/html']);
    expect(html).toContain(DATASET);
    expect(html).toContain('saved view of');
    expect(html).not.toMatch(/<script|\son\w+=/i);
    const saved = nb.metadata.widgets[WIDGET_STATE].state[modelId];
    expect(saved.state._vre_saved).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(saved.state.results.length).toBeGreaterThan(0);

    // The static copy stands on its own, as in an export or on nbviewer: a plain page shows the results.
    const plain = await chromium.newPage({ viewport: { width: 800, height: 600 } });
    await plain.setContent(`<!doctype html><meta charset="utf-8"><body>${html}</body>`);
    await expect(plain.locator('.vre-browse-name', { hasText: DATASET })).toBeVisible();
    await expect(plain.locator('.vre-browse-go')).toBeDisabled();
    await plain.screenshot({ path: test.info().outputPath('static-copy-800px.png') });
    await plain.close();

    // A kernel restart: the view says so, keeps its last state and disables its controls.
    // (not awaited: the command resolves only once its dialog is answered)
    await page.evaluate(() => void (window as any).jupyterapp.commands.execute('notebook:restart-kernel'));
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(widget.locator('.vre-stale')).toContainText('Kernel restarted');
    await expect(widget.locator('.vre-stale')).toContainText('re-run the cell');
    await expect(widget.locator('.vre-browse-go')).toBeDisabled();
    await expect(widget.locator('.vre-browse-pattern')).toBeDisabled();
    await expect(widget.locator('.vre-browse-name', { hasText: DATASET })).toBeVisible();
    await waitForKernelIdle(page);
    await keepWidgetShots(page, widget, 'widget-after-restart');

    // The notebook reopened on the new kernel: the saved state, marked as such, not "model not found".
    await reloadWithNotebook(page, 'lifecycle.ipynb');
    const restored = (await page.notebook.getCellOutputLocator(0))!.locator('.vre-browse');
    await expect(restored.locator('.vre-stale')).toContainText('Saved view');
    await expect(restored.locator('.vre-browse-name', { hasText: DATASET })).toBeVisible();
    await expect(restored.locator('.vre-browse-go')).toBeDisabled();
    await expect(page.getByText('Error displaying widget')).toHaveCount(0);
    await keepWidgetShots(page, restored, 'widget-reopened');

    // Re-running the cell gives a live widget again.
    const live = (await runCell(page, 0)).locator('.vre-browse');
    await expect(live.locator('.vre-browse-name', { hasText: DATASET })).toBeVisible();
    await expect(live.locator('.vre-stale')).toBeHidden();
    await expect(live.locator('.vre-browse-go')).toBeEnabled();

    expect(problems.messages).toEqual([]);
  });
});
