"""nbclient (Debian python3-nbclient) executes a notebook with magics and a widget on the vre-ts kernel, and
`vre-ts run` executes the same notebook with the same results."""

import json
import os
import subprocess
import tempfile
import unittest

import nbformat
from nbclient import NotebookClient

from support import KERNEL_NAME, TIMEOUT

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ESM = "export default { render({ model, el }) { el.textContent = `count: ${model.get('count')}`; } };"


def demo_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "TypeScript (vre-ts)", "language": "typescript"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A notebook with magics and a widget"),
        nbformat.v4.new_code_cell("%lsmagic"),
        nbformat.v4.new_code_cell("%%bash\necho from bash"),
        nbformat.v4.new_code_cell('const xs: number[] = [1, 2, 3].map((x) => x * 2);\nconsole.log("sum", xs.reduce((a, b) => a + b, 0));\nxs'),
        nbformat.v4.new_code_cell(
            'import { widget } from "vre-ts";\nconst counter = widget({ esm: %s, state: { count: 0 } });\ncounter' % json.dumps(ESM)
        ),
        nbformat.v4.new_code_cell('for (let i = 0; i < 4; i++) counter.set("count", counter.get("count") + 1);\ncounter.get("count")'),
    ]
    return nb


class NbclientTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="vre-ts-nbclient-")
        cls.nb = demo_notebook()
        client = NotebookClient(cls.nb, kernel_name=KERNEL_NAME, timeout=int(TIMEOUT), startup_timeout=int(TIMEOUT), resources={"metadata": {"path": cls.dir}})
        client.execute()
        path = os.path.join(cls.dir, "executed.ipynb")
        nbformat.write(cls.nb, path)
        cls.saved = nbformat.read(path, as_version=4)

    def test_saved_notebook_is_valid_nbformat(self):
        nbformat.validate(self.saved)

    def test_cells_ran_in_order_with_execution_counts(self):
        counts = [c.execution_count for c in self.saved.cells if c.cell_type == "code"]
        self.assertEqual(counts, [1, 2, 3, 4, 5])

    def test_magics_produce_output(self):
        lsmagic = self.saved.cells[1].outputs
        self.assertTrue(lsmagic, "%lsmagic produced no output")
        text = json.dumps([o.get("data", o.get("text")) for o in lsmagic])
        self.assertIn("lsmagic", text)
        bash = self.saved.cells[2].outputs
        self.assertEqual("".join(o.get("text", "") for o in bash if o.output_type == "stream"), "from bash\n")

    def test_typescript_cell_result_and_stream(self):
        outputs = self.saved.cells[3].outputs
        self.assertEqual(outputs[0].output_type, "stream")
        self.assertEqual(outputs[0].text, "sum 12\n")
        self.assertEqual(outputs[-1].output_type, "execute_result")
        self.assertEqual(outputs[-1].data["text/plain"], "[ 2, 4, 6 ]")

    def test_widget_state_is_saved(self):
        view = [o for o in self.saved.cells[4].outputs if WIDGET_VIEW in o.get("data", {})]
        self.assertEqual(len(view), 1)
        model_id = view[0].data[WIDGET_VIEW]["model_id"]
        state = self.saved.metadata["widgets"][WIDGET_STATE]
        self.assertEqual((state["version_major"], state["version_minor"]), (2, 0))
        model = state["state"][model_id]
        self.assertEqual(model["model_name"], "AnyModel")
        self.assertEqual(model["model_module"], "anywidget")
        self.assertEqual(model["state"]["count"], 4)
        self.assertEqual(model["state"]["_esm"], ESM)
        self.assertEqual(self.saved.cells[5].outputs[-1].data["text/plain"], "4")


class RunnerMatchesNbclient(unittest.TestCase):
    """`vre-ts run` (our TypeScript client) saves what nbclient saves for the same notebook."""

    def test_same_outputs_and_widget_state(self):
        work = tempfile.mkdtemp(prefix="vre-ts-run-vs-nbclient-")
        src = os.path.join(work, "demo.ipynb")
        nbformat.write(demo_notebook(), src)
        out = os.path.join(work, "demo.out.ipynb")
        proc = subprocess.run(
            [os.environ.get("VRE_TS_NODE", "node"), os.path.join(ROOT, "dist", "cli", "main.js"), "run", src, "-o", out, "--kernel", KERNEL_NAME, "--timeout", str(int(TIMEOUT))],
            capture_output=True,
            text=True,
            timeout=TIMEOUT * 5,
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        ours = nbformat.read(out, as_version=4)
        nbformat.validate(ours)
        reference = demo_notebook()
        NotebookClient(reference, kernel_name=KERNEL_NAME, timeout=int(TIMEOUT), resources={"metadata": {"path": work}}).execute()

        def shape(nb):
            return [
                (c.execution_count, [(o.output_type, sorted(o.get("data", {}).keys()), o.get("name")) for o in c.outputs])
                for c in nb.cells
                if c.cell_type == "code"
            ]

        self.assertEqual(shape(ours), shape(reference))
        ours_state = ours.metadata["widgets"][WIDGET_STATE]["state"]
        ref_state = reference.metadata["widgets"][WIDGET_STATE]["state"]
        self.assertEqual(len(ours_state), len(ref_state))
        strip = lambda s: sorted((m["model_name"], m["state"]["count"], m["state"]["_esm"]) for m in s.values())
        self.assertEqual(strip(ours_state), strip(ref_state))


if __name__ == "__main__":
    unittest.main()
