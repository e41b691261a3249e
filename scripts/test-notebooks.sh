#!/usr/bin/env bash
# Executes every example notebook end to end with `vre-ts run` (our own Jupyter client over ZeroMQ), each in a fresh
# copy of notebooks/examples/ under out/notebooks/<name>/ with its own embedded sandbox, so runs never write into
# the repository and never share state. Executed notebooks are saved to out/<name>.ipynb. Stops at the first failure.
#   scripts/test-notebooks.sh                                   # every notebook
#   scripts/test-notebooks.sh notebooks/examples/foo.ipynb      # some of them
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

[ -f dist/cli/main.js ] || npm run --silent build

notebooks=("$@")
if [ "${#notebooks[@]}" -eq 0 ]; then
  shopt -s nullglob
  notebooks=(notebooks/examples/*.ipynb)
  shopt -u nullglob
fi
if [ "${#notebooks[@]}" -eq 0 ]; then
  echo "test-notebooks: no notebooks in notebooks/examples/" >&2
  exit 1
fi

# Use this checkout's kernel, not whatever kernelspec the user has installed.
PRIVATE=$(mktemp -d "${TMPDIR:-/tmp}/vre-ts-notebooks.XXXXXX")
trap 'rm -rf "$PRIVATE"' EXIT
export JUPYTER_PATH="$PRIVATE/share/jupyter" JUPYTER_DATA_DIR="$PRIVATE/data"

mkdir -p out/notebooks
for nb in "${notebooks[@]}"; do
  name=$(basename "$nb" .ipynb)
  work="$ROOT/out/notebooks/$name"
  rm -rf "$work" "$work.sandbox"
  mkdir -p "$work"
  cp -R "$(dirname "$nb")/." "$work/"
  echo "== notebook: $nb"
  started=$(date +%s)
  # The kernel starts the sandbox as a process of its own (it would stop by itself once unused); stop it now.
  run_ok=1
  VRE_SANDBOX_DIR="$work.sandbox" node dist/cli/main.js run "$work/$name.ipynb" -o "$ROOT/out/$name.ipynb" --timeout "${VRE_TS_CELL_TIMEOUT:-600}" || run_ok=0
  node dist/cli/main.js sandbox --stop --data "$work.sandbox" >/dev/null || true
  if [ "$run_ok" = 0 ]; then
    echo "test-notebooks: FAILED: $nb (partial output in out/$name.ipynb)" >&2
    exit 1
  fi
  # The saved notebook must be valid nbformat: checked in Node against nbformat's own schemas (nothing beyond Node
  # needed), and also by Jupyter's reader (Debian's nbformat) on machines that have it, as the test suite's do.
  if ! node dist/cli/main.js validate --quiet "$ROOT/out/$name.ipynb"; then
    echo "test-notebooks: FAILED: out/$name.ipynb is not valid nbformat" >&2
    exit 1
  fi
  if PYTHONNOUSERSITE=1 /usr/bin/python3 -c 'from nbformat import read, validate' >/dev/null 2>&1 &&
    ! PYTHONNOUSERSITE=1 /usr/bin/python3 -c 'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))' "$ROOT/out/$name.ipynb"; then
    echo "test-notebooks: FAILED: Jupyter's nbformat rejects out/$name.ipynb" >&2
    exit 1
  fi
  echo "   ok in $(( $(date +%s) - started )) s -> out/$name.ipynb (valid nbformat)"
done
echo "test-notebooks: all ${#notebooks[@]} notebooks ran"
