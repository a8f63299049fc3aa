#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails when the checked-in i18n/phrases_table.inc is not what generate.mjs writes from the pinned
# @logto/phrases (a hand edit, a changed generator or a new pin without a regeneration). CTest
# runs it in the default suite (phrases_table_matches_package). Installs what is missing first
# (install.sh: apt's nodejs/npm, npm ci from the npm registry).
# Usage: scripts/phrases/check.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
table="$here/../../i18n/phrases_table.inc"
"$here/install.sh"
fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
node "$here/generate.mjs" "$fresh" >/dev/null
if ! diff -u "$table" "$fresh" >&2; then
  echo "[phrases] i18n/phrases_table.inc differs from @logto/phrases as generated (diff above):" \
       "run scripts/phrases/regenerate.sh" >&2
  exit 1
fi
echo "[phrases] i18n/phrases_table.inc matches @logto/phrases $(node -p "require('$here/node_modules/@logto/phrases/package.json').version")"
