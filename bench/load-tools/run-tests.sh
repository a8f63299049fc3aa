#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tests of the load tools' scripts (test/load-tools.test.mjs): short bounded autocannon and Locust
# runs against the real binary asserting zero non-200 answers, and k6's script type-checked plus
# its data preparation run under node. Installs the pinned npm packages (`npm ci`) when missing;
# Locust comes from Debian (python3-locust, in scripts/install-deps.sh test).
#
# Usage: bench/load-tools/run-tests.sh path/to/mfa-mock   (or MFA_MOCK_BIN)
# Environment: LOAD_SECONDS (default 5), the length of each tool's run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
binary=${1:-${MFA_MOCK_BIN:-}}
say() { echo "[load-tools] $*" >&2; }
for tool in node npm locust; do
  command -v "$tool" >/dev/null || { say "$tool missing (scripts/install-deps.sh test installs it)"; exit 1; }
done
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
  say "no mfa-mock binary: pass its path or set MFA_MOCK_BIN (got '$binary')"
  exit 2
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$here/node_modules/autocannon/package.json" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
  say "npm ci in bench/load-tools"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
cd "$here"
MFA_MOCK_BIN="$binary" node --test --test-reporter=spec test/*.test.mjs
