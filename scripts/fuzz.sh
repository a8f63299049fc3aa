#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets (clang, -DMFA_MOCK_FUZZ=ON, ASan+UBSan) in build-fuzz and runs each
# for a bounded time on a copy of its committed seed corpus.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target, default 30 (what CI runs); e.g. 3600 for a longer run.
#   TARGET   a subset of: fuzz_public_request fuzz_admin_seed fuzz_config_patch (default: all).
# Environment:
#   MFA_MOCK_FUZZ_BUILD_DIR  build directory (default build-fuzz)
#   MFA_MOCK_FUZZ_JOBS       parallel compile jobs (default 2)
#   MFA_MOCK_FUZZ_ARGS       extra libFuzzer flags, e.g. "-max_len=65536" or "-only_ascii=1"
#
# Exits non-zero if any target crashes (a sanitizer report, a violated invariant, a timeout over
# 5 s or more than 2 GB of RSS). The crashing input is kept as
#   <build>/fuzz-runs/<target>/artifacts/crash-<sha1> (or timeout-/oom-/leak-)
# and can be replayed and minimized with
#   <build>/tests/fuzz/<target> <file>
#   <build>/tests/fuzz/<target> -minimize_crash=1 -runs=10000 <file>
# New inputs found during a run go to <build>/fuzz-runs/<target>/corpus, never into the repository;
# copy an interesting one into tests/fuzz/corpus/<target>/ by hand (run -merge=1 to keep it small).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/lib/build-flags.sh

seconds=${1:-30}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
shift || true
all_targets=(fuzz_public_request fuzz_admin_seed fuzz_config_patch)
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

build=${MFA_MOCK_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${MFA_MOCK_FUZZ_JOBS:-2}

for tool in clang clang++; do
  command -v "$tool" >/dev/null || { echo "fuzz.sh: $tool not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
done

# tests/fuzz/project_include.cmake works around the top-level fuzz branch not finding Threads.
CC=clang CXX=clang++ cmake -S . -B "$build" -DMFA_MOCK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$MFA_MOCK_SANITIZER_CXX_FLAGS" \
  -DCMAKE_PROJECT_mfa_mock_INCLUDE="$root/tests/fuzz/project_include.cmake" >/dev/null
cmake --build "$build" -j"$jobs" --target "${targets[@]}"

# halt_on_error: the fuzz build's UBSan checks are recoverable, so without it UB would only be
# printed, never reported as a crash. The suppression file lists third-party findings only.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$root/tests/sanitizers/ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

declare -A execs status
failed=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/$t"
  [[ -x "$bin" ]] || { echo "fuzz.sh: no such target $t" >&2; exit 2; }
  run="$build/fuzz-runs/$t"
  rm -rf "$run"
  mkdir -p "$run/corpus" "$run/artifacts"
  # A copy: libFuzzer writes the inputs it finds into the first corpus directory.
  cp -a "tests/fuzz/corpus/$t/." "$run/corpus/"
  dict=()
  [[ -f "tests/fuzz/$t.dict" ]] && dict=(-dict="tests/fuzz/$t.dict")
  echo "=== $t: ${seconds}s, corpus $(find "$run/corpus" -type f | wc -l) files, log $run/fuzz.log"
  set +e
  # shellcheck disable=SC2086  # MFA_MOCK_FUZZ_ARGS is a list of flags
  "$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$run/artifacts/" "${dict[@]}" ${MFA_MOCK_FUZZ_ARGS:-} "$run/corpus" \
    >"$run/fuzz.log" 2>&1
  rc=$?
  set -e
  # libFuzzer prints its totals at exit (-print_final_stats=1), also after a crash.
  n=$(awk '/^stat::number_of_executed_units:/ {n = $2} END {print n == "" ? "?" : n}' "$run/fuzz.log")
  execs[$t]=$n
  crashes=$(find "$run/artifacts" -type f | wc -l)
  if ((rc != 0 || crashes > 0)); then
    status[$t]="FAILED (exit $rc)"
    failed=1
    echo "--- $t failed; the end of its log:"
    grep -a -E -m1 -A14 "ERROR: |INVARIANT VIOLATED|runtime error" "$run/fuzz.log" || tail -n 40 "$run/fuzz.log"
    find "$run/artifacts" -type f -printf "artifact: %p (%s bytes)\n"
  else
    status[$t]=ok
  fi
done

echo
echo "fuzz summary (${seconds}s per target):"
for t in "${targets[@]}"; do
  printf '  %-22s %-18s executions: %s\n' "$t" "${status[$t]}" "${execs[$t]}"
done
exit "$failed"
