#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The OpenAPI test: lints docs/openapi.yaml (Redocly CLI) and checks the answers of a real mfa-mock
# against it (Ajv). Installs what is missing (apt: nodejs, npm; npm ci here from the committed
# package-lock.json), builds mfa-mock unless given, and runs openapi.test.mjs with Node's runner.
#
# Usage: tests/openapi/run.sh [--no-install] [path/to/mfa-mock]
#   The binary may also come from MFA_MOCK_BINARY; without either, it is built in build-openapi/.
#   --no-install   fail instead of installing a missing tool (exit 77 = "skipped" for CTest)
# Exit status: 0 all passed, 1 a test failed, 77 a tool is missing and --no-install was given.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
install=1
binary=${MFA_MOCK_BINARY:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) binary=$1 ;;
  esac
  shift
done

say() { echo "[openapi-test] $*" >&2; }
missing() {
  say "$1 is missing"
  if [ "$install" = 0 ]; then say "skipped (--no-install)"; exit 77; fi
}

# 1. Node.js 20.19+ (Redocly CLI's floor) and npm.
source "$root/tests/lib/node.sh"
ensure_node 20 19 "$here" "Redocly CLI"

# 2. npm packages, exactly as package-lock.json pins them; again when the lock changed.
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$here/node_modules/ajv/package.json" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
  missing "node_modules (npm ci)"
  say "npm ci in tests/openapi"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# 3. The mock.
if [ -z "$binary" ]; then
  build="$root/build-openapi"
  say "building mfa-mock in $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" --target mfa-mock -j"${MFA_MOCK_BUILD_JOBS:-2}" >/dev/null
  binary="$build/app/mfa-mock"
fi
if [ ! -x "$binary" ]; then
  say "no mfa-mock binary at '$binary'"
  exit 1
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")

# 4. The test.
cd "$here"
say "mfa-mock: $binary"
if ! MFA_MOCK_BINARY="$binary" node --test --test-reporter=spec openapi.test.mjs; then
  say "FAILED"
  exit 1
fi
