// Shared test fixtures: galata's JupyterLab page plus a record of every console
// error and uncaught page error, and helpers to build and open notebooks.
import { expect, galata, test as base, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator, Page } from '@playwright/test';

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

/** Switches JupyterLab's theme and waits until it applies. */
export async function setTheme(page: IJupyterLabPageFixture, theme: 'light' | 'dark'): Promise<void> {
  await page.theme.setTheme(theme === 'dark' ? 'JupyterLab Dark' : 'JupyterLab Light');
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-light', theme === 'dark' ? 'false' : 'true');
}

/**
 * Screenshots of a widget at 800 px wide in the light and the dark theme, kept with the test's artifacts
 * (ci-artifacts/ui-tests/test-results) and attached to the HTML report. Fails when the widget overflows
 * its output area at that width. Ends in the light theme at the test's own viewport.
 */
export async function keepWidgetShots(page: IJupyterLabPageFixture, widget: Locator, name: string): Promise<void> {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 800, height: 1000 });
  try {
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(page, theme);
      await widget.scrollIntoViewIfNeeded();
      const overflow = await widget.evaluate(e => {
        const area = e.closest('.jp-OutputArea-output') ?? e;
        const right = area.getBoundingClientRect().right;
        const wide = [...area.querySelectorAll('*')]
          .filter(c => c.getBoundingClientRect().right > right + 1 && !c.closest('.vre-table-box, .vre-table-scroll'))
          .map(c => `${c.tagName.toLowerCase()}.${[...c.classList].join('.')}`);
        return { by: area.scrollWidth - area.clientWidth, wide: wide.slice(0, 5) };
      });
      expect(overflow.by, `${name} overflows its output area at 800 px: ${overflow.wide.join(', ')}`).toBeLessThanOrEqual(1);
      const path = test.info().outputPath(`${name}-${theme}-800px.png`);
      await widget.screenshot({ path, animations: 'disabled' });
      await test.info().attach(`${name}-${theme}-800px`, { path, contentType: 'image/png' });
    }
  } finally {
    await setTheme(page, 'light');
    if (before) await page.setViewportSize(before);
  }
}

/** WCAG contrast ratio of an element's text over what is painted behind it (backgrounds composited). */
export async function contrastOf(element: Locator): Promise<number> {
  return element.evaluate(el => {
    type RGBA = [number, number, number, number];
    const probe = document.createElement('canvas').getContext('2d')!;
    // The canvas normalises any CSS colour (rgb(), color(srgb …), color-mix results) to rgba().
    const parse = (css: string): RGBA => {
      probe.clearRect(0, 0, 1, 1);
      probe.fillStyle = 'rgba(0,0,0,0)';
      probe.fillStyle = css;
      probe.fillRect(0, 0, 1, 1);
      const d = probe.getImageData(0, 0, 1, 1).data;
      return [d[0] / 255, d[1] / 255, d[2] / 255, d[3] / 255];
    };
    const over = (top: RGBA, bottom: RGBA): RGBA => {
      const a = top[3] + bottom[3] * (1 - top[3]);
      if (a === 0) return [0, 0, 0, 0];
      const c = (i: number) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a;
      return [c(0), c(1), c(2), a];
    };
    const layers: RGBA[] = [];
    for (let n: Element | null = el; n; n = n.parentElement) layers.push(parse(getComputedStyle(n).backgroundColor));
    let bg: RGBA = [1, 1, 1, 1];
    for (const layer of layers.reverse()) bg = over(layer, bg);
    const fg = over(parse(getComputedStyle(el).color), bg);
    const lum = (c: RGBA) => {
      const ch = (v: number) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2]);
    };
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  });
}

/** The notebook file as saved on the server. */
export async function savedNotebook(page: IJupyterLabPageFixture, path: string): Promise<any> {
  const response = await page.request.get(`/api/contents/${path}?content=1&type=notebook`);
  expect(response.ok()).toBe(true);
  return (await response.json()).content;
}
