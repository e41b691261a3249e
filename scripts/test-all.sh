#!/usr/bin/env bash
# Runs every test suite of vre-ts on this machine, installing what they need first.
#   1. setup: apt packages (Jupyter protocol peers, Chromium), npm ci, build
#   2. unit, contract and sandbox tests (vitest)
#   3. kernel protocol tests with Debian's jupyter_client / nbclient / jupyter_kernel_test
#   4. the example notebooks executed end to end with `vre-ts run`
#   5. browser tests: JupyterLab 4 in headless Chromium (galata)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== unit, contract and sandbox tests"
npx vitest run

echo "== kernel protocol tests"
bash scripts/test-protocol.sh

echo "== example notebooks"
bash scripts/test-notebooks.sh

echo "== browser tests"
bash ui-tests/run.sh
