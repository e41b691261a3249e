#!/usr/bin/env bash
# Browser tests of vre-ts: JupyterLab 4 (built from npm) in headless Chromium, driven
# by galata, on Debian's ipykernel (reference) and on the vre-ts kernel.
#
#   bash ui-tests/run.sh [playwright args...]     e.g.  bash ui-tests/run.sh -g reference
#
# Installs what is missing (apt packages, npm ci, rspack build), installs the vre-ts
# kernelspec into a private Jupyter data folder and runs `playwright test`.
# Expects the repository to be built (dist/cli/main.js), as scripts/setup.sh does.
# Traces and screenshots of failures end up in <repo>/ci-artifacts/ui-tests.
set -euo pipefail
ui="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$ui")"
artifacts="$repo/ci-artifacts/ui-tests"
# Each run gets its own server port, Jupyter folders, notebook folder and results, so
# that two runs in one working tree (two developers' test scripts) cannot disturb
# each other. The run folder is removed at the end; the artifacts are kept.
mkdir -p "$ui/.state"
state="${VRE_UI_STATE_DIR:-$(mktemp -d "$ui/.state/run-XXXXXX")}"
[ -n "${VRE_UI_STATE_DIR:-}" ] || trap 'rm -rf "$state"' EXIT
export VRE_UI_STATE_DIR="$state"
export VRE_UI_RESULTS_DIR="$state/results"
if [ -z "${VRE_UI_PORT:-}" ]; then
  VRE_UI_PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
export VRE_UI_PORT

# ---- phase timing -----------------------------------------------------------
timings=()
phase_name=""; phase_start=0
phase() {
  local now ms; now=$(date +%s%N)
  if [ -n "$phase_name" ]; then
    ms=$(( (now - phase_start) / 1000000 ))
    timings+=("$(printf '%-12s %4d.%d s' "$phase_name" $((ms / 1000)) $((ms % 1000 / 100)))")
  fi
  phase_name="$1"; phase_start=$now
  [ -n "$1" ] && echo "ui-tests: $1"
  return 0
}
report_timings() {
  phase ""
  mkdir -p "$artifacts"
  printf '%s\n' "${timings[@]}" | tee "$artifacts/timings.txt" | sed 's/^/ui-tests: time /'
}
# Serialises npm with other jobs of this machine when flock is available.
locked_npm() {
  if command -v flock >/dev/null; then flock /tmp/vre-npm.lock npm "$@"; else npm "$@"; fi
}
# Install and build under a lock of this folder: a concurrent run waits for them.
if command -v flock >/dev/null; then
  exec 9>"$ui/.state/install.lock"
  flock 9
fi

# ---- 1. system packages -----------------------------------------------------
phase apt
apt_packages=(chromium python3-jupyter-server python3-jupyterlab-server python3-ipykernel)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "ui-tests: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- 2. npm dependencies of the test package -----------------------------------
phase npm-ci
cd "$ui"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  locked_npm ci --no-audit --no-fund --loglevel=error
fi

# ---- 3. frontend build ------------------------------------------------------------
phase build
stamp=build/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find app rspack.config.js package-lock.json -newer "$stamp" -print -quit)" ]; then
  rm -rf build
  npx --no-install rspack --mode production
  touch "$stamp"
fi

if command -v flock >/dev/null; then flock -u 9; fi

# ---- 4. kernels -------------------------------------------------------------------
phase kernelspec
jupyter_data="$state/jupyter/data"
rm -rf "$jupyter_data/kernels"
mkdir -p "$jupyter_data/kernels"
if [ ! -f "$repo/dist/cli/main.js" ]; then
  echo "ui-tests: $repo/dist/cli/main.js is missing: build the repository first (npm run build)" >&2
  exit 1
fi
JUPYTER_DATA_DIR="$jupyter_data" node "$repo/dist/cli/main.js" install --prefix "$state/kernel-prefix" >/dev/null
# `install --prefix P` follows Jupyter's layout: P/share/jupyter/kernels/<name>.
cp -r "$state/kernel-prefix/share/jupyter/kernels/." "$jupyter_data/kernels/"
echo "ui-tests: kernels: $(ls "$jupyter_data/kernels" | tr '\n' ' ')"

# ---- 5. browser tests ---------------------------------------------------------------
phase playwright
results="$VRE_UI_RESULTS_DIR"
rm -rf "$results" "$artifacts"
status=0
npx --no-install playwright test "$@" || status=$?

# Keep what is needed to look at a failure: traces, screenshots, the HTML report, server log.
mkdir -p "$artifacts"
[ -d "$results/test-results" ] && cp -r "$results/test-results" "$artifacts/"
[ -d "$results/playwright-report" ] && cp -r "$results/playwright-report" "$artifacts/"
[ -f "$results/summary.json" ] && cp "$results/summary.json" "$artifacts/results.json"
[ -f "$state/server.log" ] && cp "$state/server.log" "$artifacts/"
report_timings
if [ -f "$artifacts/results.json" ]; then
  node -e '
    const s = require(process.argv[1]).stats;
    console.log(`ui-tests: ${s.expected + s.flaky} passed, ${s.unexpected} failed, ${s.skipped} skipped`);
  ' "$artifacts/results.json"
fi
if [ "$status" -ne 0 ]; then
  [ -f "$artifacts/server.log" ] && tail -n 30 "$artifacts/server.log" | sed 's/^/ui-tests: server: /' >&2
  echo "ui-tests: FAILED (traces and screenshots in ${artifacts#$repo/})" >&2
fi
exit "$status"
