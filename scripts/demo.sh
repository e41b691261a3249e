#!/usr/bin/env bash
# The main job: executes the lifecycle example notebook end to end against the embedded sandbox
# (a fresh one under out/sandbox), over the real Jupyter protocol. The executed notebook is written to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-apt
mkdir -p out
rm -rf out/sandbox
export VRE_SANDBOX_DIR="$PWD/out/sandbox"
notebook="${1:-notebooks/examples/lifecycle.ipynb}"
name="$(basename "$notebook" .ipynb)"
node dist/cli/main.js run "$notebook" -o "out/$name.ipynb"
echo "demo: executed notebook written to out/$name.ipynb"
