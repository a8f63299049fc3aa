#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Lists the project's source files (C++, shell, CMake, Python, Lua, JavaScript) that do not carry
# "SPDX-License-Identifier: Apache-2.0" in their first 3 lines. With --fix, inserts the header as
# the first line (after a shebang): "// ..." in C++ and JavaScript, "# ..." in shell, CMake and
# Python, "-- ..." in Lua.
#
# Usage: scripts/check-spdx.sh [--fix] [PATH...]
#   PATH: files or folders (default: every file git tracks). Only tracked files are looked at.
# Exit status: 0 none missing (or all fixed), 1 some missing (listed on stdout), 2 usage.
set -euo pipefail
cd "$(dirname "$0")/.."
fix=0
paths=()
for arg in "$@"; do
  case $arg in
    --fix) fix=1 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    -*) echo "check-spdx: unknown option $arg" >&2; exit 2 ;;
    *) paths+=("$arg") ;;
  esac
done

TAG='SPDX-License-Identifier: Apache-2.0'

# comment_for FILE: the comment leader for FILE, or nothing when it is not a source file.
comment_for() {
  local f=$1 base=${1##*/} first
  case $base in
    *.cc | *.h | *.cpp | *.hpp | *.c | *.js | *.mjs | *.cjs) echo '//'; return ;;
    *.sh | *.bash | *.py | *.cmake | CMakeLists.txt) echo '#'; return ;;
    *.lua) echo '--'; return ;;
    Dockerfile | *.Dockerfile | *.service | *.yaml | *.yml) echo '#'; return ;;
    *.*) return ;;
  esac
  # Extension-less files: scripts by their shebang (e.g. .ci/run, debian/rules).
  IFS= read -r first <"$f" || true
  case $first in
    '#!'*sh* | '#!'*python* | '#!'*make*) echo '#' ;;
  esac
}

mapfile -d '' files < <(git ls-files -z -- "${paths[@]}")
missing=()
for f in "${files[@]}"; do
  [[ -f $f && ! -L $f ]] || continue
  leader=$(comment_for "$f")
  [[ -n $leader ]] || continue
  head -n 3 "$f" | grep -qF "$TAG" && continue
  if ((fix)); then
    IFS= read -r first <"$f" || true
    if [[ $first == '#!'* ]]; then
      { printf '%s\n' "$first"; printf '%s %s\n' "$leader" "$TAG"; tail -n +2 "$f"; } >"$f.spdx.tmp"
    else
      { printf '%s %s\n' "$leader" "$TAG"; cat "$f"; } >"$f.spdx.tmp"
    fi
    chmod --reference="$f" "$f.spdx.tmp"
    mv "$f.spdx.tmp" "$f"
    echo "fixed: $f"
  else
    missing+=("$f")
  fi
done
if ((${#missing[@]})); then
  printf '%s\n' "${missing[@]}"
  echo "check-spdx: ${#missing[@]} file(s) without '$TAG' in their first 3 lines (scripts/check-spdx.sh --fix PATH... adds it)" >&2
  exit 1
fi
