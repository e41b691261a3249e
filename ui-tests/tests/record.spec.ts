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

  test('the saved record is merged by time as vre-ts run merges it: an older session before the kernel\'s, a newer one after', async ({ page, tmpPath, problems }) => {
    const path = `${tmpPath}/merged.ipynb`;
    const environment = { vreTs: '0.1.0', tslab: '1.0.22', typescript: '5.9.3', node: 'v20.18.1', os: { platform: 'linux', release: '6.1.0', arch: 'x64' } };
    const session = (id: string, started: string) => ({ type: 'session', session: id, started, notebook: 'merged.ipynb', environment });
    const entry = (id: string, session: string, time: string) => ({ seq: 1, time, session, action: 'read', kind: 'did', service: 'rucio', id, via: '%rucio download' });
    // The notebook comes with the record of an earlier run, which this kernel's record file does not hold.
    const doc: any = notebookDocument(VRE_TS, ['%vre record', `%rucio download ${FILE}`, `%rucio download ${SECOND}`]);
    doc.metadata['vre-ts'] = { record: { version: 1, notebook: 'merged.ipynb', sessions: [session('older-run', '2026-01-05T10:00:00.000Z')], entries: [entry('open:older.csv', 'older-run', '2026-01-05T10:01:00.000Z')] } };
    await openNotebook(page, path, doc);
    const widget = (await runCell(page, 0)).locator('.vre-record');
    await expect(widget.locator('.vre-record-count')).toContainText('1 entry from 1 kernel session');
    await expect(await runCell(page, 1)).toContainText('dimuon_run001.csv');
    await expect(widget.locator('.vre-record-count')).toContainText('2 entries from 2 kernel sessions');

    // Meanwhile a `vre-ts run` in a terminal saved the notebook with a session of its own, and JupyterLab reloaded
    // it: the notebook's record gains a session that started after this kernel's.
    const newer = await page.evaluate(() => {
      const model = (window as any).jupyterapp.shell.currentWidget.context.model;
      const own = model.getMetadata('vre-ts');
      const now = new Date().toISOString();
      const record = own.record;
      const session = { ...record.sessions[0], session: 'newer-run', started: now };
      const entry = { seq: record.entries.length + 1, time: now, session: 'newer-run', action: 'read', kind: 'did', service: 'rucio', id: 'open:newer.csv' };
      model.setMetadata('vre-ts', { ...own, record: { ...record, sessions: [...record.sessions, session], entries: [...record.entries, entry] } });
      return now;
    });
    await expect(await runCell(page, 2)).toContainText('dimuon_run002.csv');
    await expect(widget.locator('.vre-record-count')).toContainText('4 entries from 3 kernel sessions');
    await page.notebook.save();
    const record = (await savedNotebook(page, path)).metadata['vre-ts'].record;
    const kernel = record.sessions[1].session;
    expect(record.sessions.map((s: any) => s.session)).toEqual(['older-run', kernel, 'newer-run']);
    expect(record.sessions[2].started).toBe(newer);
    expect(record.entries.map((e: any) => e.id)).toEqual(['open:older.csv', FILE, 'open:newer.csv', SECOND]);
    expect(record.entries.map((e: any) => e.session)).toEqual(['older-run', kernel, 'newer-run', kernel]);
    expect(record.entries.map((e: any) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(problems.messages).toEqual([]);
  });
});
