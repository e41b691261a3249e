#!/usr/bin/env bash
# The main job: executes the lifecycle example notebook end to end over the real Jupyter protocol, against a fresh
# embedded sandbox, in a copy of notebooks/examples under out/notebooks/ (the repository is never written to).
# The executed notebook is saved as out/lifecycle.ipynb.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-apt
bash scripts/test-notebooks.sh "${1:-notebooks/examples/lifecycle.ipynb}"
