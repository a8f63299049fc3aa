#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what generate.mjs needs into scripts/phrases/node_modules: Node.js and npm from
# Debian's apt when missing, then the package exactly as package-lock.json pins it (npm ci from
# the npm registry; nothing else is downloaded). Skips npm ci when node_modules is up to date.
# Usage: scripts/phrases/install.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
say() { echo "[phrases] $*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "node/npm missing: apt-get install nodejs npm"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$here/node_modules/@logto/phrases/package.json" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
  say "npm ci in scripts/phrases"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
