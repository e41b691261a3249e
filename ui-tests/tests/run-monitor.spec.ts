// The REANA run monitor (`%reana monitor`) in JupyterLab: the anywidget view follows a workflow of the
// kernel's embedded sandbox to its end, shows each step's log on click, and stops a run after a
// confirming second click.
import { contrastOf, expect, keepScreenshot, keepWidgetShots, notebookDocument, openNotebook, runCell, setTheme, test } from './fixtures';

const VRE_TS = { name: 'vre-ts', display_name: 'TypeScript (vre-ts)', language: 'typescript' };

const workflow = (name: string, steps: [string, string][]) =>
  `%%reana run -n ${name}\nworkflow:\n  type: serial\n  specification:\n    steps:\n` +
  steps
    .map(([step, cmd]) => `      - name: ${step}\n        environment: docker.io/library/bash:5.2\n        commands: [${JSON.stringify(cmd)}]\n`)
    .join('');

test.describe('run monitor', () => {
  test('follows a run to its end, shows step logs, and stops a run on a confirmed click', async ({
    page,
    tmpPath,
    problems
  }) => {
    const path = `${tmpPath}/monitor.ipynb`;
    await openNotebook(
      page,
      path,
      notebookDocument(VRE_TS, [
        workflow('ui-monitor', [
          ['prepare', 'echo step one && sleep 2'],
          ['analyse', 'echo step two && sleep 2 && echo analysis done']
        ]),
        '%reana monitor -w ui-monitor --every 0.3',
        workflow('ui-long', [['wait', 'sleep 120']]),
        '%reana monitor -w ui-long --every 0.3',
        workflow('ui-ticks', [['tick', 'for i in $$(seq 1 60); do echo tick-$$i; sleep 0.5; done']]),
        '%reana monitor -w ui-ticks --every 0.3'
      ])
    );

    // The first magic also announces the sandbox; then the run is started.
    await expect(await runCell(page, 0)).toContainText('started');
    const monitor = (await runCell(page, 1)).locator('.vre-run');
    await expect(monitor.locator('.vre-run-name')).toHaveText(/^ui-monitor\.\d+$/); // REANA's name.run
    // The cell has ended; the widget keeps following the run.
    const pill = monitor.locator('.vre-run-head .vre-run-pill');
    await expect(pill).toHaveText('finished', { timeout: 60_000 });
    await expect(monitor.locator('.vre-run-counts')).toHaveText('2 of 2 jobs finished');
    await expect(monitor.locator('.vre-run-live')).toHaveText('');
    // The widget's stylesheet is applied: a full, green progress bar.
    await expect(monitor.locator('.vre-run-bar .vre-bar-fill')).toHaveCSS('width', await monitor.locator('.vre-run-bar').evaluate((e) => getComputedStyle(e).width));
    await expect(monitor.locator('.vre-run-bar .vre-bar-fill')).not.toHaveCSS('background-color', 'rgba(0, 0, 0, 0)');
    await expect(monitor.locator('.vre-run-job')).toHaveCount(2);
    // Each step with its duration; times are ISO-like local times with their zone.
    await expect(monitor.locator('.vre-run-duration').first()).toHaveText(/^\d+s$/);
    await expect(monitor.locator('.vre-run-times')).toHaveText(/^started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+ · ended .+ · took \d+s$/);
    await expect(monitor.locator('.vre-run-log-title')).toHaveText('Log of analyse');
    await expect(monitor.locator('.vre-run-log')).toContainText('analysis done');
    await monitor.locator('.vre-run-job-name', { hasText: 'prepare' }).click();
    await expect(monitor.locator('.vre-run-log-title')).toHaveText('Log of prepare');
    await expect(monitor.locator('.vre-run-log')).toContainText('step one');
    await expect(monitor.locator('.vre-run-log')).not.toContainText('step two');
    await expect(monitor.locator('.vre-run-stop')).toBeDisabled();
    await keepScreenshot(page, 'run-monitor-finished');
    for (const theme of ['light', 'dark'] as const) {
      await setTheme(page, theme);
      expect(await contrastOf(monitor.locator('.vre-run-head .vre-run-pill')), `pill contrast in the ${theme} theme`).toBeGreaterThanOrEqual(4.5);
    }
    await keepWidgetShots(page, monitor, 'run-monitor-finished');

    await runCell(page, 2);
    const long = (await runCell(page, 3)).locator('.vre-run');
    await expect(long.locator('.vre-run-head .vre-run-pill')).toHaveText('running', { timeout: 60_000 });
    await expect(long.locator('.vre-run-live')).toHaveText('following');

    const stop = long.locator('.vre-run-stop');
    await stop.click();
    await expect(stop).toHaveText('Click again to stop');
    await expect(long.locator('.vre-run-head .vre-run-pill')).toHaveText('running');
    await stop.click();
    await expect(long.locator('.vre-run-head .vre-run-pill')).toHaveText('stopped', { timeout: 30_000 });
    await expect(stop).toBeDisabled();
    await expect(long.locator('.vre-run-error')).toBeHidden();
    await keepScreenshot(page, 'run-monitor-stopped');

    // The running step's log is tailed live: its lines appear while the run's status and progress stay the same.
    await runCell(page, 4);
    const ticks = (await runCell(page, 5)).locator('.vre-run');
    await expect(ticks.locator('.vre-run-log')).toContainText('tick-3', { timeout: 60_000 });
    await expect(ticks.locator('.vre-run-head .vre-run-pill')).toHaveText('running');
    await expect(ticks.locator('.vre-run-log')).toContainText('tick-6');
    await expect(ticks.locator('.vre-run-head .vre-run-pill')).toHaveText('running');
    await expect(ticks.locator('.vre-run-counts')).toHaveText(/^0 of 1 jobs finished/);

    expect(problems.messages).toEqual([]);
  });
});
