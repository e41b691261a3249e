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
state="${VRE_UI_STATE_DIR:-$ui/.state}"
artifacts="$repo/ci-artifacts/ui-tests"
export VRE_UI_STATE_DIR="$state"

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
rm -rf test-results playwright-report test-results-summary.json "$artifacts" "$state/server.log"
status=0
npx --no-install playwright test "$@" || status=$?

# Keep what is needed to look at a failure: traces, screenshots, the HTML report, server log.
mkdir -p "$artifacts"
[ -d test-results ] && cp -r test-results "$artifacts/"
[ -d playwright-report ] && cp -r playwright-report "$artifacts/"
[ -f "$state/server.log" ] && cp "$state/server.log" "$artifacts/"
[ -f test-results-summary.json ] && cp test-results-summary.json "$artifacts/results.json"
report_timings
if [ -f test-results-summary.json ]; then
  node -e '
    const s = require(process.argv[1]).stats;
    console.log(`ui-tests: ${s.expected + s.flaky} passed, ${s.unexpected} failed, ${s.skipped} skipped`);
  ' "$ui/test-results-summary.json"
fi
if [ "$status" -ne 0 ]; then
  [ -f "$state/server.log" ] && tail -n 30 "$state/server.log" | sed 's/^/ui-tests: server: /' >&2
  echo "ui-tests: FAILED (traces and screenshots in ${artifacts#$repo/})" >&2
fi
exit "$status"
