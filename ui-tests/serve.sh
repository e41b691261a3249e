#!/usr/bin/env bash
# Starts the JupyterLab test server on 127.0.0.1:PORT (default 8899), serving ./build.
# Its log goes to .state/server.log.
# Used by playwright.config.js (webServer) and handy by hand:  bash serve.sh 8899
# Jupyter's configuration, data and runtime folders are private to ui-tests/.state,
# so nothing from the user's own Jupyter setup (kernels, settings) leaks in.
set -euo pipefail
cd "$(dirname "$0")"
here="$PWD"
port="${1:-8899}"
state="${VRE_UI_STATE_DIR:-$here/.state}"
root="$state/notebooks"

mkdir -p "$state/jupyter/config" "$state/jupyter/data" "$state/jupyter/runtime" "$root"
# Every server start gets fresh settings, workspaces and notebook folder.
rm -rf "$state/user-settings" "$state/workspaces" "$state/sandbox" "$root"/*

export VRE_UI_STATE_DIR="$state"
# The kernel's embedded sandbox (used by the %reana tests) and its config file live here too, and the
# sandbox runs workflow steps on the host: no image pulls.
export VRE_SANDBOX_DIR="$state/sandbox"
export VRE_TS_CONFIG="$state/vre-ts-config.json"
export VRE_SANDBOX_CONTAINER_RUNTIME=none
unset REANA_SERVER_URL REANA_ACCESS_TOKEN RUCIO_CONFIG RUCIO_HOME ZENODO_TOKEN
export JUPYTER_CONFIG_DIR="$state/jupyter/config"
export JUPYTER_DATA_DIR="$state/jupyter/data"
export JUPYTER_RUNTIME_DIR="$state/jupyter/runtime"
export JUPYTER_NO_CONFIG=1
export JUPYTER_PLATFORM_DIRS=0
export PYTHONNOUSERSITE=1
export PYDEVD_DISABLE_FILE_VALIDATION=1
unset PYTHONPATH PYTHONHOME JUPYTER_PATH VIRTUAL_ENV
# Debian's python3 and the node that built the repository, nothing from pyenv or venvs.
node_dir="$(dirname "$(command -v node)")"
export PATH="/usr/bin:/bin:$node_dir"

cd server
exec /usr/bin/python3 main.py \
  --ServerApp.ip=127.0.0.1 \
  --ServerApp.port="$port" \
  --ServerApp.port_retries=0 \
  --ServerApp.token= \
  --ServerApp.password= \
  --ServerApp.open_browser=False \
  --ServerApp.allow_root=True \
  --ServerApp.disable_check_xsrf=True \
  --ServerApp.root_dir="$root" \
  --ServerApp.log_level=WARN \
  >>"$state/server.log" 2>&1
