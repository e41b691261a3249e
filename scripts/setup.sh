#!/usr/bin/env bash
# Installs everything the test suite and the demo need on a fresh Debian machine:
# Debian's Jupyter tooling (the real protocol peers), Chromium for the browser tests,
# the npm dependencies from the lockfile, and the compiled package.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3-jupyter-client python3-nbclient python3-nbformat python3-nbconvert
  python3-jupyter-kernel-test
  chromium python3-jupyter-server python3-jupyterlab-server python3-ipykernel
  cwltool snakemake
)

# --demo: only what `npm run demo` needs, which is Node and the npm packages, plus python3 when the host has none
# (the example workflow's steps run `python3` on the host when no container runtime answers).
# --no-apt: no apt packages at all.
case "${1:-}" in
  --no-apt) APT_PACKAGES=() ;;
  --demo)
    APT_PACKAGES=()
    command -v python3 >/dev/null 2>&1 || APT_PACKAGES=(python3)
    ;;
esac

missing=()
for p in "${APT_PACKAGES[@]+"${APT_PACKAGES[@]}"}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi
echo "setup: building"
npm run --silent build
