// Shared test fixtures: galata's JupyterLab page plus a record of every console
// error and uncaught page error, and helpers to build and open notebooks.
import { expect, galata, test as base, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

export { expect };

export interface PageProblems {
  messages: string[];
}

// Messages the page may log that are not faults of the frontend or the kernel.
const BENIGN = [
  // Chromium logs failed sub-resource loads of the deliberately absent favicon.
  /favicon\.ico/
];

export const test = base.extend<{ problems: PageProblems }>({
  // Auto fixture: attached to the browser context before galata's `page` fixture
  // loads JupyterLab, so errors raised during start-up are seen too.
  problems: [
    async ({ context }, use) => {
      const problems: PageProblems = { messages: [] };
      const record = (text: string) => {
        if (!BENIGN.some(pattern => pattern.test(text))) {
          problems.messages.push(text);
        }
      };
      context.on('console', message => {
        if (message.type() === 'error') {
          record(`console.error: ${message.text()}`);
        }
      });
      context.on('weberror', error => record(`uncaught: ${error.error().message}`));
      await use(problems);
    },
    { auto: true }
  ]
});

/** A code cell for a notebook document. */
export function codeCell(source: string) {
  return {
    cell_type: 'code',
    execution_count: null,
    metadata: {},
    outputs: [],
    source
  };
}

export interface KernelChoice {
  name: string;
  display_name: string;
  language: string;
}

/** An nbformat 4 notebook document with the given kernel and code cells. */
export function notebookDocument(kernel: KernelChoice, sources: string[]) {
  return {
    cells: sources.map(codeCell),
    metadata: {
      kernelspec: kernel,
      language_info: { name: kernel.language }
    },
    nbformat: 4,
    nbformat_minor: 5
  };
}

/** Writes a notebook into the server's folder and opens it in JupyterLab. */
export async function openNotebook(
  page: IJupyterLabPageFixture,
  path: string,
  document: object
): Promise<void> {
  expect(await page.contents.uploadContent(JSON.stringify(document), 'text', path)).toBe(true);
  expect(await page.notebook.openByPath(path)).toBe(true);
  await page.notebook.activate(path.split('/').pop()!);
  await waitForKernelIdle(page);
}

/** Waits until the current notebook's kernel is started and idle. */
export async function waitForKernelIdle(page: Page, timeout = 60_000): Promise<void> {
  await page.locator('#jp-main-statusbar >> text=Idle').waitFor({ timeout });
}

/**
 * Reloads the page; JupyterLab restores its workspace, with `name` as the current tab.
 * (galata's own reload waits for the Launcher, which a restored workspace does not show.)
 */
export async function reloadWithNotebook(page: IJupyterLabPageFixture, name: string): Promise<void> {
  await page.reload({ waitForIsReady: false });
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
  await expect(page.getByRole('main').getByRole('tab', { name })).toHaveClass(/jp-mod-current/);
  expect(await page.notebook.isActive(name)).toBe(true);
  await waitForKernelIdle(page);
}

/**
 * Saves a screenshot of the whole page into the test's output folder (copied to the
 * CI artifacts), so that what the test saw can be looked at after a run.
 */
export async function keepScreenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: test.info().outputPath(`${name}.png`) });
}

/** Runs one cell and returns its output area. */
export async function runCell(page: IJupyterLabPageFixture, index: number) {
  expect(await page.notebook.runCell(index)).toBe(true);
  const output = await page.notebook.getCellOutputLocator(index);
  return output!;
}

/** Joined text of a cell's outputs. */
export async function cellText(page: IJupyterLabPageFixture, index: number): Promise<string> {
  return ((await page.notebook.getCellTextOutput(index)) ?? []).join('\n').trim();
}

export { galata };
