#!/usr/bin/env bash
# Kernel protocol tests with Debian's Jupyter stack (jupyter_client, jupyter_kernel_test, nbclient), run by
# /usr/bin/python3 against the kernelspec that `vre-ts install --prefix` writes into a private folder.
#   scripts/test-protocol.sh                       # every suite
#   scripts/test-protocol.sh test_widget_protocol  # one module (or module.Class[.test])
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NODE=$(command -v node)

[ -f dist/cli/main.js ] || npm run --silent build

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vre-ts-protocol.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$NODE" dist/cli/main.js install --prefix "$WORK/prefix" >/dev/null
spec=$(find "$WORK/prefix" -path '*/kernels/*/kernel.json' | head -n 1)
if [ -z "$spec" ]; then
  echo "test-protocol: \`vre-ts install --prefix\` wrote no kernels/*/kernel.json under $WORK/prefix" >&2
  exit 1
fi
spec_dir=$(dirname "$spec")
export VRE_TS_KERNEL_NAME
VRE_TS_KERNEL_NAME=$(basename "$spec_dir")
# Only our private folders: no user or system kernelspec, config or runtime file can interfere.
export JUPYTER_PATH
JUPYTER_PATH=$(dirname "$(dirname "$spec_dir")")
export JUPYTER_DATA_DIR="$WORK/data" JUPYTER_CONFIG_DIR="$WORK/config" JUPYTER_RUNTIME_DIR="$WORK/runtime" IPYTHONDIR="$WORK/ipython"
export VRE_TS_NODE="$NODE" VRE_TS_ROOT="$ROOT"
export PATH=/usr/bin:/bin PYTHONNOUSERSITE=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

suites=("$@")
[ "${#suites[@]}" -gt 0 ] || suites=(test_conformance test_widget_protocol test_nbclient)

cd test/protocol
failed=()
for suite in "${suites[@]}"; do
  echo "== protocol: $suite (kernel $VRE_TS_KERNEL_NAME)"
  if ! timeout 1200 /usr/bin/python3 -m unittest -v "$suite"; then
    failed+=("$suite")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "test-protocol: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test-protocol: all suites passed"
