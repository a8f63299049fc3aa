#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The browser test: docs/examples/mfa-flow.html end to end in headless Debian Chromium, driven by
# Playwright (playwright-core from npm, no browser download). Installs what is missing (apt:
# chromium, nodejs, npm; npm ci in this directory), builds mfa-mock unless given, runs
# mfa-flow.test.mjs with Node's test runner and leaves screenshots in artifacts/.
#
# Usage: tests/browser/run.sh [--no-install] [--test FILE]... [path/to/mfa-mock]
#   The binary may also come from MFA_MOCK_BINARY; without either, it is built in build-browser/.
#   --no-install   fail instead of installing a missing tool (exit 77 = "skipped" for CTest)
#   --test FILE    run this test file of tests/browser (repeatable; default mfa-flow.test.mjs)
# Environment: CHROMIUM_PATH (default: chromium on PATH), ARTIFACTS_DIR (default <repo>/artifacts).
# Exit status: 0 all passed, 1 a test failed, 77 a tool is missing and --no-install was given.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
install=1
binary=${MFA_MOCK_BINARY:-}
tests=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    --test) [ $# -ge 2 ] || { echo "run.sh: --test needs a file" >&2; exit 2; }; tests+=("$2"); shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) binary=$1 ;;
  esac
  shift
done

say() { echo "[browser-test] $*" >&2; }

missing() {  # missing TOOL: explains and exits 77 when installing is not allowed
  say "$1 is missing"
  if [ "$install" = 0 ]; then say "skipped (--no-install)"; exit 77; fi
}

apt_install() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  say "apt-get install $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. Chromium (Debian's package; Playwright downloads nothing).
chromium_path=${CHROMIUM_PATH:-$(command -v chromium || true)}
if [ -z "$chromium_path" ]; then
  missing chromium
  apt_install chromium
  chromium_path=$(command -v chromium)
fi

# 2. Node.js 18+ and npm.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing "node/npm"
  apt_install nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  say "Node.js $(node --version) is too old: the test runner needs 18 or newer"
  exit 1
fi

# 3. playwright-core, exactly as package-lock.json pins it. Re-run npm ci when the lock changed.
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$here/node_modules/playwright-core/package.json" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
  missing "node_modules (npm ci)"
  say "npm ci in tests/browser"
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# 4. The mock.
if [ -z "$binary" ]; then
  build="$root/build-browser"
  say "building mfa-mock in $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target mfa-mock -j"${MFA_MOCK_BUILD_JOBS:-2}" >/dev/null
  binary=$(find "$build" -name mfa-mock -type f -perm -u+x | head -n 1)
fi
if [ ! -x "$binary" ]; then
  say "no mfa-mock binary at '$binary'"
  exit 1
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")

# 5. The test.
artifacts=${ARTIFACTS_DIR:-$root/artifacts}
mkdir -p "$artifacts"
say "mfa-mock: $binary"
say "chromium: $chromium_path ($("$chromium_path" --version 2>/dev/null || echo unknown version))"
cd "$here"
if [ ${#tests[@]} -eq 0 ]; then tests=(mfa-flow.test.mjs); fi
status=0
MFA_MOCK_BINARY="$binary" CHROMIUM_PATH="$chromium_path" ARTIFACTS_DIR="$artifacts" \
  node --test --test-reporter=spec "${tests[@]}" || status=$?
say "screenshots: $artifacts/"
if [ "$status" != 0 ]; then
  say "FAILED (node --test exit $status)"
  exit 1
fi
