#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the project with sanitizers and runs the test suites under them:
#   build-asan  -DMFA_MOCK_SANITIZE=address  (AddressSanitizer + LeakSanitizer + UBSan)
#   build-tsan  -DMFA_MOCK_SANITIZE=thread   (ThreadSanitizer)
#
# Usage: scripts/test-sanitizers.sh [asan|tsan|all]        (default: all)
# Environment:
#   MFA_MOCK_SANITIZER_JOBS  compile jobs and ctest parallelism (default: nproc)
#   MFA_MOCK_ASAN_LABELS     ctest label regex for the ASan run (default: every suite)
#   MFA_MOCK_TSAN_LABELS     ctest label regex for the TSan run (default: every suite;
#                            e.g. 'core|metrics|i18n|wire|http|redis|app|admin' for the unit suites only)
#   MFA_MOCK_SANITIZER_CTEST_ARGS  extra ctest arguments (e.g. "-R Verify")
#   MFA_MOCK_SANITIZER_BUILD_ONLY  1: configure and build, run nothing (scripts/test-under-load.sh)
#
# Every process, including the mfa-mock servers the integration tests start, writes its sanitizer
# reports to <build>/sanitizer-logs/<tool>.<pid>; the script prints them and fails if there are
# any, even when the test that caused them passed (a server's leak report is only written at exit).
# Third-party findings are suppressed in tests/sanitizers/*.supp, each entry with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/lib/build-flags.sh
which=${1:-all}
jobs=${MFA_MOCK_SANITIZER_JOBS:-$(nproc)}

case "$which" in
  asan | address) kinds=(asan) ;;
  tsan | thread) kinds=(tsan) ;;
  all) kinds=(asan tsan) ;;
  *) echo "usage: scripts/test-sanitizers.sh [asan|tsan|all]" >&2; exit 2 ;;
esac

supp=$root/tests/sanitizers
failed=0
declare -A summary
declare -A failed_kind
marker=$(mktemp)  # ctest failure lists older than this run are not reported
trap 'rm -f "$marker"' EXIT

run_one() {
  local kind=$1 build=build-$1 sanitize labels
  if [[ $kind == asan ]]; then
    sanitize=address
    labels=${MFA_MOCK_ASAN_LABELS:-}
  else
    sanitize=thread
    labels=${MFA_MOCK_TSAN_LABELS:-}
  fi
  local logs=$root/$build/sanitizer-logs
  echo "=== $kind: configure and build $build (-DMFA_MOCK_SANITIZE=$sanitize, -j$jobs)"
  local t0=$SECONDS
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMFA_MOCK_SANITIZE="$sanitize" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$MFA_MOCK_SANITIZER_CXX_FLAGS" >/dev/null
  # With a label set made of suite names, only those suites' executables are built (plus the
  # server for the integration suite): TSan on the unit suites needs neither the integration
  # tests nor the server. Any other label (openapi, guides, browser) builds everything.
  local targets=() label
  if [[ -n $labels ]]; then
    local IFS='|'
    for label in $labels; do
      case "$label" in
        core | metrics | i18n | wire | http | redis | app | admin)
          # A folder without *_test.cc files has no suite target (tests/CMakeLists.txt).
          if compgen -G "tests/$label/*_test.cc" >/dev/null; then targets+=("${label}_tests"); fi ;;
        integration) targets+=(integration_tests mfa-mock) ;;
        *) targets=(); break ;;
      esac
    done
    unset IFS
  fi
  if ((${#targets[@]})); then
    cmake --build "$build" -j"$jobs" --target "${targets[@]}"
  else
    cmake --build "$build" -j"$jobs"
  fi
  local build_time=$((SECONDS - t0))
  if [[ ${MFA_MOCK_SANITIZER_BUILD_ONLY:-} == 1 ]]; then
    summary[$kind]="built in ${build_time}s (tests not run)"
    return 0
  fi

  rm -rf "$logs"
  mkdir -p "$logs"
  local lsan_supp="" tsan_supp=""
  [[ -f $supp/lsan.supp ]] && lsan_supp=":suppressions=$supp/lsan.supp"
  [[ -f $supp/tsan.supp ]] && tsan_supp=":suppressions=$supp/tsan.supp"
  # abort_on_error / halt_on_error: the first finding stops the process, so the test fails.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$logs/asan"
  export LSAN_OPTIONS="print_suppressions=0${lsan_supp}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan:suppressions=$supp/ubsan.supp"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$logs/tsan${tsan_supp}"

  local ctest_args=(--test-dir "$build" --output-on-failure -j"$jobs" --timeout 900)
  [[ -n $labels ]] && ctest_args+=(-L "$labels")
  # shellcheck disable=SC2206  # a list of ctest flags
  [[ -n ${MFA_MOCK_SANITIZER_CTEST_ARGS:-} ]] && ctest_args+=(${MFA_MOCK_SANITIZER_CTEST_ARGS})
  echo "=== $kind: ctest ${labels:+-L \"$labels\" }(sanitizer logs in $logs)"
  t0=$SECONDS
  local rc=0
  ctest "${ctest_args[@]}" || rc=$?
  local test_time=$((SECONDS - t0))
  unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS

  local reports
  reports=$(find "$logs" -type f -size +0 | sort)
  if [[ -n $reports ]]; then
    echo "=== $kind: sanitizer reports:"
    local f
    for f in $reports; do
      echo "--- $f"
      head -n 60 "$f"
    done
    rc=1
  fi
  if ((rc != 0)); then
    failed=1
    failed_kind[$kind]=1
    summary[$kind]="FAILED; build ${build_time}s, tests ${test_time}s${labels:+ (labels $labels)}"
  else
    summary[$kind]="ok; build ${build_time}s, tests ${test_time}s${labels:+ (labels $labels)}"
  fi
}

for kind in "${kinds[@]}"; do
  run_one "$kind"
done

echo
echo "sanitizer summary ($(nproc) cores, -j$jobs):"
for kind in "${kinds[@]}"; do
  echo "  $kind: ${summary[$kind]}"
done
if ((failed)); then
  # The cause at the end of the log: failing tests and the first lines of each report.
  for kind in "${kinds[@]}"; do
    [[ -n ${failed_kind[$kind]:-} ]] || continue
    echo
    echo "=== $kind: what failed"
    "$root/scripts/failure-summary.sh" --newer "$marker" "build-$kind" ||
      true
  done
fi
exit "$failed"
