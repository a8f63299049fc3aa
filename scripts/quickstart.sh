#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds Release and starts mfa-mock with its defaults
# (public API on 127.0.0.1:3001, admin API on 127.0.0.1:3002). Extra arguments go to mfa-mock.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DMFA_MOCK_BUILD_TESTS=OFF -DMFA_MOCK_BUILD_BENCH=OFF >/dev/null
cmake --build build-release --target mfa-mock -j"$(nproc)"
exec build-release/app/mfa-mock "$@"
