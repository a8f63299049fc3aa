#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The connector test: Logto's real HTTP email and SMS connectors (npm: @logto/connector-http-email,
# @logto/connector-http-sms) send to a real mfa-mock, and the codes are read from its inbox.
# Installs what is missing (apt: nodejs, npm; npm ci here from the committed package-lock.json),
# builds mfa-mock unless given, and runs connectors.test.mjs with Node's test runner.
#
# Usage: tests/connectors/run.sh [--no-install] [path/to/mfa-mock]
#   The binary may also come from MFA_MOCK_BINARY; without either, it is built in build-connectors/.
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
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) binary=$1 ;;
  esac
  shift
done

say() { echo "[connectors-test] $*" >&2; }
missing() {
  say "$1 is missing"
  if [ "$install" = 0 ]; then say "skipped (--no-install)"; exit 77; fi
}

# 1. Node.js 20+ (the connectors' HTTP client, got 14, needs it) and npm.
source "$root/tests/lib/node.sh"
ensure_node 20 0 "$here" "the connectors (their HTTP client, got 14)"

# 2. The connectors, exactly as package-lock.json pins them, and the JS client (clients/js, linked);
#    again when the lock changed.
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$here/node_modules/@logto/connector-http-email/package.json" ] ||
  [ ! -f "$here/node_modules/@logto/connector-http-sms/package.json" ] ||
  [ ! -e "$here/node_modules/mfa-mock-client" ] ||
  [ "$here/package-lock.json" -nt "$stamp" ]; then
  missing "node_modules (npm ci)"
  say "npm ci in tests/connectors"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

# 3. The mock.
if [ -z "$binary" ]; then
  build="$root/build-connectors"
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
if ! MFA_MOCK_BINARY="$binary" node --test --test-reporter=spec connectors.test.mjs; then
  say "FAILED"
  exit 1
fi
