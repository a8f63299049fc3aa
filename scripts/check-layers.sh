#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails on an #include that crosses the project's layers (docs/architecture.md):
#   core     -> core                         (the domain: no HTTP, JSON, metrics or I/O library)
#   metrics  -> metrics core                 (prometheus-cpp only here)
#   i18n     -> i18n                         (Logto's phrases, language negotiation; ICU only here)
#   wire     -> wire i18n core               (JSON in and out; RapidJSON only here)
#   http     -> http wire i18n metrics core  (the seam; Pistache only in http/pistache_listener.cc)
#   admin    -> admin http wire i18n metrics core
#   redis    -> redis core                   (hiredis only here)
#   app      -> app admin redis http wire i18n metrics core
# Usage: scripts/check-layers.sh   (exit 1 and one line per violation)
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [core]="core"
  [metrics]="metrics core"
  [i18n]="i18n"
  [wire]="wire i18n core"
  [http]="http wire i18n metrics core"
  [admin]="admin http wire i18n metrics core"
  [redis]="redis core"
  [app]="app admin redis http wire i18n metrics core"
)
# Third-party headers and the only places that may include them.
declare -A library_home=(
  [pistache]="http/pistache_listener.cc"
  [rapidjson]="wire/"
  [prometheus]="metrics/"
  [spdlog]="http/log.h http/log.cc http/access_log.cc"
  [CLI]="app/options.cc"
  [unicode]="i18n/"
  [hiredis]="redis/ tests/support/redis_server.h tests/support/redis_server.cc"
)

violations=0
report() {
  echo "check-layers: $1" >&2
  violations=$((violations + 1))
}

for folder in "${!allowed[@]}"; do
  while IFS= read -r -d '' file; do
    while IFS=: read -r line text; do
      if [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([a-z_]+)/ ]]; then
        target=${BASH_REMATCH[1]}
        [[ " ${allowed[$folder]} " == *" $target "* ]] ||
          report "$file:$line includes $target/ (a $folder/ file may include: ${allowed[$folder]})"
      elif [[ $text =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([A-Za-z_]+)/ ]]; then
        library=${BASH_REMATCH[1]}
        homes=${library_home[$library]:-}
        [[ -z $homes ]] && continue
        ok=0
        for home in $homes; do
          [[ $file == "$home" || ($home == */ && $file == "$home"*) ]] && ok=1
        done
        ((ok)) || report "$file:$line includes <$library/...> (only in: $homes)"
      fi
    done < <(grep -n '#[[:space:]]*include' "$file" || true)
  done < <(find "$folder" -name '*.h' -print0 -o -name '*.cc' -print0)
done

if ((violations > 0)); then
  echo "check-layers: $violations forbidden include(s)" >&2
  exit 1
fi
echo "check-layers: ok (${!allowed[*]})"
