#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The JS client's tests (node --test) against the real binary: the client's calls, the
# Playwright fixture (@playwright/test's runner, no browser), tsc over the declarations, and
# npm pack's tarball installed into a scratch project. Installs the pinned dev dependencies
# with `npm ci` from package-lock.json when they are missing or older than the lock.
#
# Usage: clients/js/run-tests.sh [--no-install] path/to/mfa-mock   (or MFA_MOCK_BIN)
# Exit status: 0 passed, 1 failed, 77 node/npm or node_modules missing with --no-install.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
install=1
binary=${MFA_MOCK_BIN:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "run-tests.sh: unknown option $1" >&2; exit 2 ;;
    *) binary=$1 ;;
  esac
  shift
done
say() { echo "[js-client] $*" >&2; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "node/npm missing (scripts/install-deps.sh test installs them)"
  exit 77
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 18 ]; then
  say "Node.js $(node --version) is too old: the client needs 18 or newer"
  exit 1
fi
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
  say "no mfa-mock binary: pass its path or set MFA_MOCK_BIN (got '$binary')"
  exit 2
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")

stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$here/node_modules/typescript/package.json" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
  if [ "$install" = 0 ]; then say "node_modules missing; skipped (--no-install)"; exit 77; fi
  say "npm ci in clients/js"
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

cd "$here"
MFA_MOCK_BIN="$binary" node --test --test-reporter=spec test/*.test.mjs
