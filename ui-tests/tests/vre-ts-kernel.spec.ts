// The vre-ts kernel in JupyterLab: TypeScript and magic cells, and an anywidget
// created from TypeScript that syncs both ways and survives a page reload.
import {
  BADGE_COLOR,
  BADGE_CSS,
  BADGE_ESM,
  COUNTER_BACKGROUND,
  COUNTER_CSS,
  COUNTER_ESM
} from './counter-widget';
import {
  cellText,
  expect,
  keepScreenshot,
  notebookDocument,
  openNotebook,
  reloadWithNotebook,
  runCell,
  test,
  waitForKernelIdle
} from './fixtures';

const VRE_TS = { name: 'vre-ts', display_name: 'TypeScript (vre-ts)', language: 'typescript' };

const CREATE_WIDGET = `
import { widget } from "vre-ts";
const counter = widget({
  esm: ${JSON.stringify(COUNTER_ESM)},
  css: ${JSON.stringify(COUNTER_CSS)},
  state: { count: 0 },
});
counter
`.trim();

const CREATE_BADGE = `
const badge = widget({ esm: ${JSON.stringify(BADGE_ESM)}, css: ${JSON.stringify(BADGE_CSS)}, state: { text: "vre" } });
badge
`.trim();

test.describe('vre-ts kernel', () => {
  test('is offered by the Launcher and runs what is typed into a new notebook', async ({ page, problems }) => {
    const card = page.locator('.jp-LauncherCard[data-category="Notebook"][title="TypeScript (vre-ts)"]');
    await expect(card).toBeVisible();
    // The kernelspec's logo is served and shown.
    const logo = card.locator('img.jp-Launcher-kernelIcon');
    await expect.poll(() => logo.evaluate(img => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);

    await card.click();
    await expect(page.getByRole('main').getByRole('tab', { name: 'Untitled.ipynb' })).toBeVisible();
    await waitForKernelIdle(page);
    await expect(page.locator('#jp-main-statusbar')).toContainText('TypeScript (vre-ts) | Idle');

    expect(await page.notebook.setCell(0, 'code', 'const word: string = "vre";\nword.toUpperCase().split("")')).toBe(true);
    await runCell(page, 0);
    expect(await cellText(page, 0)).toBe("[ 'V', 'R', 'E' ]");

    expect(problems.messages).toEqual([]);
  });

  test('runs TypeScript and magic cells with rich output', async ({ page, tmpPath, problems }) => {
    const path = `${tmpPath}/cells.ipynb`;
    await openNotebook(
      page,
      path,
      notebookDocument(VRE_TS, [
        '[1, 2, 3].map(x => x * 2)',
        '%lsmagic',
        'const label: number = "not a number";',
        'interface Point { x: number; y: number }\nconst p: Point = { x: 3, y: 4 };\nMath.hypot(p.x, p.y)'
      ])
    );

    // A TypeScript expression: an execute_result with its Out prompt.
    const result = await runCell(page, 0);
    await expect(result.locator('.jp-OutputArea-executeResult')).toHaveCount(1);
    await expect(result.locator('.jp-OutputPrompt')).toHaveText('[1]:');
    expect(await cellText(page, 0)).toBe('[ 2, 4, 6 ]');
    expect(await result.screenshot()).toMatchSnapshot('vre-ts-map-result.png');

    // A magic: its rich (HTML) table, listing the built-in magics.
    const magics = await runCell(page, 1);
    const table = magics.locator('.jp-RenderedHTMLCommon table');
    await expect(table).toBeVisible();
    await expect(table).toContainText('lsmagic');
    await expect(table).toContainText('time');

    // A type error is reported in the cell, as an error output; the kernel stays usable.
    const error = await runCell(page, 2);
    await expect(error.locator('[data-mime-type="application/vnd.jupyter.stderr"]')).toContainText(
      /not assignable to type 'number'/
    );
    await runCell(page, 3);
    expect(await cellText(page, 3)).toBe('5');
    await keepScreenshot(page, 'cells');

    expect(problems.messages).toEqual([]);
  });

  test('anywidget from TypeScript: clicks reach the kernel, kernel changes reach the view, reload restores it', async ({
    page,
    tmpPath,
    problems
  }) => {
    const path = `${tmpPath}/widget.ipynb`;
    await openNotebook(
      page,
      path,
      notebookDocument(VRE_TS, [
        CREATE_WIDGET,
        CREATE_BADGE,
        'counter.get("count")',
        'counter.set("count", 42)'
      ])
    );

    const output = await runCell(page, 0);
    const button = output.locator('button.vre-counter');
    await expect(button).toHaveText('count is 0');
    // anywidget 0.11 applies `_css` only to models that also carry an `_anywidget_id`.
    await expect(button, 'the widget\'s _css is applied (needs _anywidget_id in the model state)').toHaveCSS(
      'background-color',
      COUNTER_BACKGROUND
    );

    // A second widget with its own stylesheet; the first one keeps its style.
    const badge = (await runCell(page, 1)).locator('span.vre-badge');
    await expect(badge).toHaveText('vre');
    await expect(badge).toHaveCSS('color', BADGE_COLOR);
    await expect(button, 'one widget\'s _css does not replace another\'s').toHaveCSS(
      'background-color',
      COUNTER_BACKGROUND
    );

    // Frontend → kernel.
    await button.click();
    await button.click();
    await button.click();
    await expect(button).toHaveText('count is 3');
    await runCell(page, 2);
    expect(await cellText(page, 2)).toBe('3');

    // Kernel → frontend.
    await runCell(page, 3);
    await expect(button).toHaveText('count is 42');
    expect(await button.screenshot()).toMatchSnapshot('vre-ts-counter-42.png');
    await keepScreenshot(page, 'widget-before-reload');

    // Reload: the widget manager restores the model from the running kernel and the
    // restored view is live in both directions.
    expect(await page.notebook.save()).toBe(true);
    await reloadWithNotebook(page, 'widget.ipynb');
    const restored = (await page.notebook.getCellOutputLocator(0))!.locator('button.vre-counter');
    await expect(restored).toHaveText('count is 42');
    await expect(restored).toHaveCSS('background-color', COUNTER_BACKGROUND);
    const restoredBadge = (await page.notebook.getCellOutputLocator(1))!.locator('span.vre-badge');
    await expect(restoredBadge).toHaveCSS('color', BADGE_COLOR);
    await restored.click();
    await expect(restored).toHaveText('count is 43');
    await runCell(page, 2);
    expect(await cellText(page, 2)).toBe('43');
    await keepScreenshot(page, 'widget-after-reload');

    expect(problems.messages).toEqual([]);
  });
});
