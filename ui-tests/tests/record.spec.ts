// The research record saved by JupyterLab: `%vre record` shows a compact summary of the notebook's record and
// writes it into the notebook's metadata as the kernel records entries, so that saving the notebook in
// JupyterLab keeps it under metadata["vre-ts"].record, as `vre-ts run` does.
import { expect, keepWidgetShots, notebookDocument, openNotebook, runCell, savedNotebook, test, waitForKernelIdle } from './fixtures';

const VRE_TS = { name: 'vre-ts', display_name: 'TypeScript (vre-ts)', language: 'typescript' };
const FILE = 'open:dimuon_run001.csv';
const SECOND = 'open:dimuon_run002.csv';

const WRITE_RESULTS = `import * as fs from "node:fs";
fs.mkdirSync("results", { recursive: true });
fs.writeFileSync("results/mass.csv", "mass,count\\n3.1,42\\n");`;

const DEPOSIT = `%%zenodo deposit --publish --yes --no-record
title: Mass fit
upload_type: dataset
description: A fit of the dimuon mass.
creators:
  - name: Doe, Jane
license: cc-by-4.0
files: [results/mass.csv]`;

test.describe('research record', () => {
  // galata's kernel-tracking mock answers a restart's POST itself (see widget-lifecycle.spec.ts): let it reach the server.
  test.use({ kernels: null });

  test('JupyterLab saves the record into the notebook metadata', async ({ page, tmpPath, problems }) => {
    const path = `${tmpPath}/record.ipynb`;
    await openNotebook(page, path, notebookDocument(VRE_TS, ['%vre record', `%rucio download ${FILE}`, WRITE_RESULTS, DEPOSIT, `%rucio download ${SECOND}`]));
    const widget = (await runCell(page, 0)).locator('.vre-record');
    await expect(widget).toContainText('nothing recorded yet');

    // The kernel updates the widget as entries are recorded, in cells below it.
    await expect(await runCell(page, 1)).toContainText('dimuon_run001.csv');
    await expect(widget.locator('.vre-record-count')).toContainText('1 entry from 1 kernel session');
    await expect(widget.locator('.vre-record-service')).toHaveText(['rucio 1']);
    // The kernel found its notebook through the server that started it: the record has its file beside it too.
    await expect(widget.locator('.vre-record-where')).toContainText('Kept in record.provenance.jsonl and saved with this notebook');
    await runCell(page, 2);
    await expect(await runCell(page, 3)).toContainText('10.5072/');
    const doi = widget.locator('.vre-record-doi-link');
    await expect(doi).toHaveText(/^10\.5072\//);
    await expect(doi).toHaveAttribute('href', /^https:\/\/doi\.org\/10\.5072\//);
    await expect(widget.locator('.vre-record-service').first()).toHaveText('rucio 1');
    await expect(widget.locator('.vre-record-service').last()).toHaveText(/^zenodo \d+$/);

    // Saved by JupyterLab (no vre-ts run): the file on the server holds the record, paths relative to the notebook.
    await page.notebook.save();
    const nb = await savedNotebook(page, path);
    const saved = nb.metadata['vre-ts'];
    expect(saved.record.version).toBe(1);
    expect(saved.record.sessions).toHaveLength(1);
    expect(saved.record.sessions[0].environment.node).toMatch(/^v\d+\./);
    const read = saved.record.entries.find((e: any) => e.service === 'rucio');
    expect(read).toMatchObject({ seq: 1, action: 'read', kind: 'did', id: FILE, via: '%rucio download' });
    expect(read.paths).toEqual(['open/dimuon_run001.csv']);
    const published = saved.record.entries.find((e: any) => e.action === 'publish');
    expect(published).toMatchObject({ service: 'zenodo', kind: 'deposit', doi: await doi.textContent() });
    expect(saved.record.entries.every((e: any) => e.session === saved.record.sessions[0].session)).toBe(true);
    // No folder of the server's machine in the saved notebook.
    expect(JSON.stringify(saved)).not.toContain(process.cwd().split('/').slice(0, 3).join('/') + '/');
    // The record file next to the notebook holds the same entries.
    const file = await page.request.get(`/api/contents/${tmpPath}/record.provenance.jsonl?content=1&type=file&format=text`);
    expect(file.ok()).toBe(true);
    const lines = String((await file.json()).content).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l: any) => l.seq !== undefined).map((l: any) => l.id)).toContain(FILE);

    // A restarted kernel reloads the record: the saved sessions are kept, the new kernel's entries follow them,
    // numbered after them.
    await page.evaluate(() => void (window as any).jupyterapp.commands.execute('notebook:restart-kernel'));
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(widget.locator('.vre-stale')).toContainText('Kernel restarted');
    await waitForKernelIdle(page);
    const live = (await runCell(page, 0)).locator('.vre-record');
    await expect(live.locator('.vre-stale')).toBeHidden();
    await expect(await runCell(page, 4)).toContainText('dimuon_run002.csv');
    const total = saved.record.entries.length + 1;
    await expect(live.locator('.vre-record-count')).toContainText(`${total} entries from 2 kernel sessions`);
    await expect(live.locator('.vre-record-service').first()).toHaveText('rucio 2');
    await page.notebook.save();
    const after = (await savedNotebook(page, path)).metadata['vre-ts'].record;
    expect(after.sessions).toHaveLength(2);
    expect(after.sessions[0]).toEqual(saved.record.sessions[0]);
    expect(after.entries.slice(0, total - 1)).toEqual(saved.record.entries);
    expect(after.entries.map((e: any) => e.seq)).toEqual([...Array(total).keys()].map(i => i + 1));
    expect(after.entries[total - 1]).toMatchObject({ id: SECOND, session: after.sessions[1].session, paths: ['open/dimuon_run002.csv'] });

    await keepWidgetShots(page, live, 'research-record');
    expect(problems.messages).toEqual([]);
  });
});
