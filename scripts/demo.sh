#!/usr/bin/env bash
# The main job: executes the lifecycle example notebook end to end over the real Jupyter protocol, against a fresh
# embedded sandbox, in a copy of notebooks/examples under out/notebooks/ (the repository is never written to).
# The executed notebook is saved as out/lifecycle.ipynb. Needs nothing but Node: the notebook is run by our own Jupyter
# client and checked against the nbformat schema in Node (see scripts/setup.sh --demo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --demo
bash scripts/test-notebooks.sh "${1:-notebooks/examples/lifecycle.ipynb}"
