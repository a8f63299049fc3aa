#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Prints what failed in the given ctest build trees, so the cause of a failed run is visible at
# its end without the full log: the names of the failing tests (from ctest's
# Testing/Temporary/LastTestsFailed.log) and the first lines of every sanitizer report
# (<build>/sanitizer-logs/*, written by scripts/test-sanitizers.sh).
#
# Usage: scripts/failure-summary.sh [--newer FILE] [--lines N] BUILD_DIR...
#   --newer FILE  only evidence written after FILE (a marker touched when the run began), so a
#                 stale log from an earlier run in the same tree is not reported
#   --lines N     lines per sanitizer report (default 12)
# Exit status: 0 if it found nothing to report, 1 if it printed a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
newer=""
lines=12
builds=()
while (($#)); do
  case "$1" in
    --newer) newer=$2; shift 2 ;;
    --lines) lines=$2; shift 2 ;;
    *) builds+=("$1"); shift ;;
  esac
done

fresh() {  # fresh FILE: true if FILE exists and is newer than the marker (or there is none)
  [[ -f $1 ]] || return 1
  [[ -z $newer || ! -e $newer || $1 -nt $newer ]]
}

found=0
for build in "${builds[@]}"; do
  failed_log=$build/Testing/Temporary/LastTestsFailed.log
  if fresh "$failed_log" && [[ -s $failed_log ]]; then
    found=1
    echo "--- $build: failing tests ($(wc -l <"$failed_log")):"
    # Lines are "N:name"; the per-test output is in $build/Testing/Temporary/LastTest.log.
    sed 's/^[0-9]*:/    /' "$failed_log"
  fi
  logs=$build/sanitizer-logs
  if [[ -d $logs ]]; then
    while IFS= read -r report; do
      fresh "$report" || continue
      found=1
      echo "--- $build: sanitizer report $report (first $lines lines):"
      head -n "$lines" "$report" | sed 's/^/    /'
    done < <(find "$logs" -type f -size +0 | sort)
  fi
done
if ((found == 0)); then
  echo "--- no failing test and no sanitizer report recorded in ${builds[*]} during this run (a build"
  echo "    or script error, or a stage without ctest: see the output above)"
fi
exit "$found"
