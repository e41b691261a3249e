// Reference: the frontend on Debian's ipykernel, with an anywidget opened by a raw
// `jupyter.widget` comm (no Python widget packages). It shows that the frontend,
// the widget manager and the anywidget registration work, independently of the
// vre-ts kernel.
import { COUNTER_BACKGROUND, COUNTER_CSS, COUNTER_ESM } from './counter-widget';
import {
  cellText,
  expect,
  keepScreenshot,
  notebookDocument,
  openNotebook,
  runCell,
  reloadWithNotebook,
  test
} from './fixtures';

const PYTHON = { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' };

// ipykernel 6.17 predates the `comm` package integration: use ipykernel's Comm.
const OPEN_WIDGET = `
from ipykernel.comm import Comm
from IPython.display import display

state = {
    "_model_module": "anywidget", "_model_name": "AnyModel", "_model_module_version": "~0.11.0",
    "_view_module": "anywidget", "_view_name": "AnyView", "_view_module_version": "~0.11.0",
    "_view_count": None, "_dom_classes": [], "_anywidget_id": "ui_tests.Counter",
    "_esm": ${JSON.stringify(COUNTER_ESM)},
    "_css": ${JSON.stringify(COUNTER_CSS)},
    "count": 0,
}
comm = Comm(target_name="jupyter.widget", data={"state": state, "buffer_paths": []},
            metadata={"version": "2.1.0"})

def on_msg(msg):
    data = msg["content"]["data"]
    if data.get("method") == "update":
        state.update(data.get("state", {}))
    elif data.get("method") == "request_state":
        comm.send({"method": "update", "state": state, "buffer_paths": []})

comm.on_msg(on_msg)
display({"application/vnd.jupyter.widget-view+json":
         {"model_id": comm.comm_id, "version_major": 2, "version_minor": 1},
         "text/plain": "Counter()"}, raw=True)
`.trim();

test.describe('reference: ipykernel + raw anywidget comm', () => {
  test('renders, syncs both ways, and leaves no console error', async ({ page, tmpPath, problems }) => {
    const path = `${tmpPath}/reference.ipynb`;
    await openNotebook(
      page,
      path,
      notebookDocument(PYTHON, [
        'print(6 * 7)',
        OPEN_WIDGET,
        'print("kernel count =", state["count"])',
        'comm.send({"method": "update", "state": {"count": 100}, "buffer_paths": []}); state["count"] = 100'
      ])
    );

    await runCell(page, 0);
    expect(await cellText(page, 0)).toBe('42');

    const output = await runCell(page, 1);
    const button = output.locator('button.vre-counter');
    await expect(button).toHaveText('count is 0');
    await expect(button).toHaveCSS('background-color', COUNTER_BACKGROUND);

    await button.click();
    await button.click();
    await expect(button).toHaveText('count is 2');
    await runCell(page, 2);
    expect(await cellText(page, 2)).toBe('kernel count = 2');

    await runCell(page, 3);
    await expect(button).toHaveText('count is 100');
    expect(await button.screenshot()).toMatchSnapshot('reference-counter-100.png');

    // After a reload the widget manager restores the model from the running kernel.
    expect(await page.notebook.save()).toBe(true);
    await reloadWithNotebook(page, 'reference.ipynb');
    const restored = (await page.notebook.getCellOutputLocator(1))!.locator('button.vre-counter');
    await expect(restored).toHaveText('count is 100');
    await expect(restored).toHaveCSS('background-color', COUNTER_BACKGROUND);
    await restored.click();
    await expect(restored).toHaveText('count is 101');
    await runCell(page, 2);
    expect(await cellText(page, 2)).toBe('kernel count = 101');
    await keepScreenshot(page, 'reference-after-reload');

    expect(problems.messages).toEqual([]);
  });
});
