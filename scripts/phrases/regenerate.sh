#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Rewrites i18n/phrases_table.inc from the @logto/phrases version package-lock.json pins. To move
# to a newer package: cd scripts/phrases && npm install @logto/phrases@X.Y.Z --save-exact, then
# run this, rebuild and run the i18n, wire and integration suites.
# Usage: scripts/phrases/regenerate.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/install.sh"
node "$here/generate.mjs" "$here/../../i18n/phrases_table.inc"
