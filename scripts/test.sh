#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds and runs every test suite (unit, integration, metrics).
# Usage: scripts/test.sh            the default suite (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/build-flags.sh
scripts/install-deps.sh test
build=${MFA_MOCK_TEST_BUILD_DIR:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$MFA_MOCK_TEST_CXX_FLAGS" >/dev/null
cmake --build "$build" -j"$(nproc)"
rc=0
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 300 || rc=$?
if ((rc != 0)); then
  echo
  echo "=== default suite: what failed"
  scripts/failure-summary.sh "$build" || true
fi
exit "$rc"
