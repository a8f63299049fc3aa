#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Instructions per successful verify, under callgrind (docs/benchmarks.md, "Where the time goes").
# Instruction counts do not depend on what else runs on the machine, so this is the way to compare
# the verify path with the bare Pistache handler on a busy box.
#
#   bench/profile.sh [--requests N] [--build-dir DIR] [--keep] [-- MFA-MOCK ARGS...]
#
# Needs a Release build (bench/run.sh makes one in build-bench/), valgrind, wrk and curl.
# N codes are generated and exported by a plain mfa-mock, then loaded with --seed into an
# mfa-mock running under callgrind, so that only verify requests are counted; each request is a
# first-time successful verify (bench/wrk/verify.lua, no wrap). Collection is limited to
# Pistache's input handling (Transport::handleIncoming: parse, handler, reply). The bare
# handler gets the same requests. Prints Ir per request for both and the ratio; with --keep the
# callgrind.out files stay for callgrind_annotate.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REQUESTS=20000
BUILD_DIR="$ROOT/build-bench"
KEEP=0
MOCK_ARGS=(--access-log off)
while (($#)); do
  case "$1" in
    --requests) REQUESTS=$2; shift ;;
    --build-dir) BUILD_DIR=$(realpath -m "$2"); shift ;;
    --keep) KEEP=1 ;;
    --) shift; MOCK_ARGS=("$@"); break ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "bench/profile.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
for tool in valgrind callgrind_annotate wrk curl; do
  command -v "$tool" >/dev/null || { echo "bench/profile.sh: '$tool' is not installed" >&2; exit 2; }
done
MOCK="$BUILD_DIR/app/mfa-mock"
BARE="$BUILD_DIR/bench/bare_pistache"
[[ -x $MOCK && -x $BARE ]] || { echo "bench/profile.sh: build first (bench/run.sh or cmake --build $BUILD_DIR)" >&2; exit 2; }

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if ((KEEP)); then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # URL SECONDS
  for _ in $(seq 1 $(($2 * 10))); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "bench/profile.sh: $1 did not answer" >&2
  exit 1
}

# 1. The codes: generated and exported by a plain instance.
pub=$(free_port); adm=$(free_port)
"$MOCK" --listen "127.0.0.1:$pub" --admin-listen "127.0.0.1:$adm" --access-log off >"$TMP/gen.log" 2>&1 &
gen_pid=$!; PIDS+=("$gen_pid")
wait_http "http://127.0.0.1:$adm/healthz" 10
batch=$(curl -fsS -X POST -H 'Content-Type: application/json' \
  -d "{\"count\":$REQUESTS,\"identifierType\":\"email\"}" \
  "http://127.0.0.1:$adm/admin/verifications/generate" | sed -n 's/.*"batchId" *: *"\([^"]*\)".*/\1/p')
curl -fsS -o "$TMP/codes.csv" "http://127.0.0.1:$adm/admin/verifications/export?batch=$batch&format=csv"
kill "$gen_pid"; wait "$gen_pid" 2>/dev/null || true

# run NAME PORT: drive every code once (1 wrk thread, 4 connections) and read the Ir total.
run() {
  local name=$1 port=$2
  # wrk runs its whole duration even after the script stopped its thread: size it to the work
  # (under callgrind a verify takes ~0.5 ms; the four requests left when a thread stops are
  # counted as "late", never as ok).
  wrk -t1 -c4 -d"$((REQUESTS / 1500 + 3))s" -s "$ROOT/bench/wrk/verify.lua" "http://127.0.0.1:$port" -- "$TMP/codes.csv" 1 \
    >"$TMP/$name.wrk" 2>&1
  grep -q "errors=0 " "$TMP/$name.wrk" || { echo "bench/profile.sh: $name saw errors:" >&2; cat "$TMP/$name.wrk" >&2; exit 1; }
}
VG=(valgrind --tool=callgrind --collect-atstart=no
  "--toggle-collect=Pistache::Tcp::Transport::handleIncoming*")

# 2. mfa-mock under callgrind, codes loaded at start-up.
pub=$(free_port); adm=$(free_port)
"${VG[@]}" --callgrind-out-file="$TMP/callgrind.out.mfa-mock" "$MOCK" --listen "127.0.0.1:$pub" \
  --admin-listen "127.0.0.1:$adm" --seed "$TMP/codes.csv" "${MOCK_ARGS[@]}" >"$TMP/mock.log" 2>&1 &
PIDS+=("$!"); mock_pid=$!
wait_http "http://127.0.0.1:$adm/healthz" 120
run mfa-mock "$pub"
kill -INT "$mock_pid"; wait "$mock_pid" 2>/dev/null || true

# 3. The bare handler, same requests (it ignores the body).
port=$(free_port)
"${VG[@]}" --callgrind-out-file="$TMP/callgrind.out.bare" "$BARE" "$port" 2 >"$TMP/bare.log" 2>&1 &
PIDS+=("$!"); bare_pid=$!
wait_http "http://127.0.0.1:$port/" 60
run bare "$port"
kill -INT "$bare_pid"; wait "$bare_pid" 2>/dev/null || true

ir() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done {gsub(",", "", $1); print $1; done = 1}'; }
requests() { sed -n 's/.*ok=\([0-9]*\).*/\1/p' "$1"; }
mock_ir=$(ir "$TMP/callgrind.out.mfa-mock"); mock_n=$(requests "$TMP/mfa-mock.wrk")
bare_ir=$(ir "$TMP/callgrind.out.bare"); bare_n=$(requests "$TMP/bare.wrk")
# The bare handler answers 200 to every request, so all of them are "ok".
awk -v mi="$mock_ir" -v mn="$mock_n" -v bi="$bare_ir" -v bn="$bare_n" -v args="${MOCK_ARGS[*]}" 'BEGIN {
  m = mi / mn; b = bi / bn
  printf "| server | requests | Ir per request | vs bare |\n|---|---|---|---|\n"
  printf "| bare Pistache handler | %d | %.1fk | 1.00 |\n", bn, b / 1000
  printf "| mfa-mock %s | %d | %.1fk | %.2f |\n", args, mn, m / 1000, m / b
}'
