#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the test suites while the machine is deliberately busy, to find tests whose verdict depends
# on load (issue 18). An on-request run, not a CI stage: it takes an hour or more on 2 cores.
#
# For each round it starts `stress-ng --cpu L` (L = 1 or 2 workers, normal priority, so they
# compete with the tests as other work on a CI machine does), runs one suite under it, stops
# stress-ng (by PID) and records the verdict, the failing tests and the duration in a Markdown
# report. Suites:
#   default  the default ctest suite (what scripts/test.sh runs), in build-test
#   asan     scripts/test-sanitizers.sh asan with CI's labels (unit + integration suites)
#   tsan     scripts/test-sanitizers.sh tsan with CI's labels (unit suites)
# Every build happens first, with no stress running; the rounds reuse the trees.
#
# Usage: scripts/test-under-load.sh [options]
#   --suites LIST       comma-separated subset of default,asan,tsan (default: all three)
#   --one N             rounds per suite with one core busy (default 3)
#   --two M             rounds per suite with both cores busy (default 1)
#   --round-timeout S   bound for one suite run, in seconds (default 2400); past it the round is
#                       killed and recorded as TIMEOUT
#   --ctest-args ARGS   extra ctest arguments for every suite (e.g. "-R Fault" for a short form)
#   --report FILE       the Markdown report (default build-load/report.md; logs beside it)
#   --no-build          use the existing trees as they are
# Short form, e.g. one round of the default suite with one busy core:
#   scripts/test-under-load.sh --suites default --one 1 --two 0
# Loopback only (the suites' own servers); everything it starts is stopped by PID on exit.
# Exit status: 0 if every round passed, 1 if any failed or timed out, 2 bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/lib/build-flags.sh

suites="default,asan,tsan"
one=3
two=1
round_timeout=2400
ctest_extra=""
report=$root/build-load/report.md
do_build=1
while (($#)); do
  case "$1" in
    --suites) suites=$2; shift 2 ;;
    --one) one=$2; shift 2 ;;
    --two) two=$2; shift 2 ;;
    --round-timeout) round_timeout=$2; shift 2 ;;
    --ctest-args) ctest_extra=$2; shift 2 ;;
    --report) report=$(realpath -m "$2"); shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "scripts/test-under-load.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
IFS=',' read -r -a suite_list <<<"$suites"
for s in "${suite_list[@]}"; do
  case "$s" in default | asan | tsan) ;; *) echo "unknown suite '$s'" >&2; exit 2 ;; esac
done
[[ $one =~ ^[0-9]+$ && $two =~ ^[0-9]+$ && $round_timeout =~ ^[0-9]+$ ]] ||
  { echo "--one, --two and --round-timeout take whole numbers" >&2; exit 2; }

# CI's label sets (.ci/run).
export MFA_MOCK_ASAN_LABELS=${MFA_MOCK_ASAN_LABELS:-'core|metrics|i18n|wire|http|redis|app|admin|integration'}
export MFA_MOCK_TSAN_LABELS=${MFA_MOCK_TSAN_LABELS:-'core|metrics|i18n|wire|http|redis|app|admin'}
default_build=${MFA_MOCK_TEST_BUILD_DIR:-build-test}
jobs=$(nproc)

log() { echo "[load $(date -u +%H:%M:%S)] $*"; }

# ---- tools -------------------------------------------------------------------------------------
scripts/install-deps.sh test
if ! command -v stress-ng >/dev/null; then
  log "installing stress-ng"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends stress-ng >/dev/null
fi

# ---- stress-ng, stopped by PID whatever happens --------------------------------------------------
stress_pid=""
suite_pid=""
stop_stress() {
  if [[ -n $stress_pid ]]; then
    kill -TERM "$stress_pid" 2>/dev/null || true
    wait "$stress_pid" 2>/dev/null || true
    stress_pid=""
  fi
}
cleanup() {
  if [[ -n $suite_pid ]]; then
    kill -TERM -- "-$suite_pid" 2>/dev/null || kill -TERM "$suite_pid" 2>/dev/null || true
    wait "$suite_pid" 2>/dev/null || true
  fi
  stop_stress
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- builds (no stress running) -----------------------------------------------------------------
mkdir -p "$(dirname "$report")/logs"
logdir=$(dirname "$report")/logs
declare -A build_secs
if ((do_build)); then
  for s in "${suite_list[@]}"; do
    t0=$SECONDS
    case "$s" in
      default)
        log "building $default_build"
        cmake -S . -B "$default_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$MFA_MOCK_TEST_CXX_FLAGS" >/dev/null
        cmake --build "$default_build" -j"$jobs" >"$logdir/build-default.log" 2>&1 ||
          { tail -n 40 "$logdir/build-default.log"; exit 1; }
        ;;
      asan | tsan)
        # The same configuration and targets as the rounds (and CI) use.
        log "building build-$s"
        MFA_MOCK_SANITIZER_BUILD_ONLY=1 scripts/test-sanitizers.sh "$s" >"$logdir/build-$s.log" 2>&1 ||
          { tail -n 40 "$logdir/build-$s.log"; exit 1; }
        ;;
    esac
    build_secs[$s]=$((SECONDS - t0))
  done
fi

# ---- the report ---------------------------------------------------------------------------------
others() {  # what else runs: the busiest processes that are not this run's stress-ng
  top -bn1 -w 200 | awk 'NR > 7 && $9 + 0 >= 20 && $12 != "stress-ng" && $12 != "top" {
    printf "%s%s %s%%", sep, $12, $9; sep = ", " } END { if (!sep) printf "none above 20%% CPU" }'
}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | head -c1 || true)
{
  echo "# Test suites under load"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit${dirty:+ (with uncommitted changes)};"
  echo "$jobs cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo);"
  echo "ctest -j$jobs; stress-ng --cpu L at normal priority (nice 0) during each round; round bound ${round_timeout} s."
  echo "Load before the first round: $(cut -d' ' -f1-3 /proc/loadavg); other processes: $(others)."
  for s in "${!build_secs[@]}"; do echo "Build $s: ${build_secs[$s]} s (no stress)."; done
  echo
  echo "| suite | busy cores | round | verdict | duration | tests | failing tests | load avg (start → end) | other busy processes at start |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$report"
log "report: $report"

# run_suite SUITE LOGFILE: runs one suite in its own process group, bounded by round_timeout.
run_suite() {
  local s=$1 out=$2 rc=0
  case "$s" in
    default)
      # shellcheck disable=SC2086  # extra ctest flags
      setsid timeout --signal=TERM --kill-after=30 "$round_timeout" \
        ctest --test-dir "$default_build" --output-on-failure -j"$jobs" --timeout 300 \
        $ctest_extra >"$out" 2>&1 &
      ;;
    asan | tsan)
      MFA_MOCK_SANITIZER_CTEST_ARGS=$ctest_extra setsid timeout --signal=TERM --kill-after=30 \
        "$round_timeout" scripts/test-sanitizers.sh "$s" >"$out" 2>&1 &
      ;;
  esac
  suite_pid=$!
  wait "$suite_pid" || rc=$?
  suite_pid=""
  return "$rc"
}

failures=0
declare -A passes_one passes_two runs_one runs_two
round_no=0
for level in 1 2; do
  rounds=$one; ((level == 2)) && rounds=$two
  for ((r = 1; r <= rounds; r++)); do
    for s in "${suite_list[@]}"; do
      round_no=$((round_no + 1))
      out=$logdir/$s-cpu$level-round$r.log
      build=$default_build; [[ $s != default ]] && build=build-$s
      touch "$out.start"  # a ctest failure list older than this round is not reported
      load_start=$(cut -d' ' -f1 /proc/loadavg)
      other_start=$(others)
      stress-ng --cpu "$level" --timeout "$((round_timeout + 120))s" --quiet &
      stress_pid=$!
      log "round $round_no: $s with $level busy core(s) (stress-ng pid $stress_pid), log $out"
      t0=$SECONDS
      rc=0
      run_suite "$s" "$out" || rc=$?
      secs=$((SECONDS - t0))
      load_end=$(cut -d' ' -f1 /proc/loadavg)
      stop_stress
      verdict=pass
      ((rc == 124 || rc == 137)) && verdict=TIMEOUT
      ((rc != 0 && rc != 124 && rc != 137)) && verdict=FAIL
      # "100% tests passed, 0 tests failed out of 797"
      counts=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -n1 |
        sed -E 's/.*passed, ([0-9]+) tests? failed out of ([0-9]+)/\2 run, \1 failed/' || true)
      failing=""
      if [[ $verdict != pass ]]; then
        failures=$((failures + 1))
        failed_log=$build/Testing/Temporary/LastTestsFailed.log
        if [[ -s $failed_log && $failed_log -nt $out.start ]]; then
          failing=$(sed 's/^[0-9]*://' "$failed_log" | paste -sd' ' | cut -c1-400)
        fi
        reports=0
        [[ -d $build/sanitizer-logs ]] && reports=$(find "$build/sanitizer-logs" -type f -size +0 | wc -l)
        ((reports > 0)) && failing="$failing; $reports sanitizer report(s)"
        [[ -z $failing ]] && failing="(none recorded: see $(basename "$out"))"
        cp "$failed_log" "$out.failed" 2>/dev/null || true
      fi
      if [[ $verdict == pass ]]; then
        if ((level == 1)); then passes_one[$s]=$((${passes_one[$s]:-0} + 1)); else passes_two[$s]=$((${passes_two[$s]:-0} + 1)); fi
      fi
      if ((level == 1)); then runs_one[$s]=$((${runs_one[$s]:-0} + 1)); else runs_two[$s]=$((${runs_two[$s]:-0} + 1)); fi
      printf '| %s | %d | %d | %s | %d s | %s | %s | %s → %s | %s |\n' "$s" "$level" "$r" "$verdict" \
        "$secs" "${counts:-?}" "${failing:--}" "$load_start" "$load_end" "$other_start" >>"$report"
      log "round $round_no: $s, $level busy core(s): $verdict in $secs s (${counts:-no ctest summary})"
    done
  done
done

{
  echo
  echo "Summary (passes / rounds):"
  for s in "${suite_list[@]}"; do
    echo "- $s: one busy core ${passes_one[$s]:-0}/${runs_one[$s]:-0}, both busy ${passes_two[$s]:-0}/${runs_two[$s]:-0}"
  done
  echo
  echo "Finished $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)."
} >>"$report"
cat "$report"
((failures == 0))
