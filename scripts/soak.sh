#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Soak: verify + send + generate load against a Release build of mfa-mock for SECONDS (default
# 60), sampling its RSS. Fails if the RSS leaves its bound or if any request fails.
#
#   scripts/soak.sh            60 s (what CI runs)
#   scripts/soak.sh 1800       a longer run
#
# Everything runs on 127.0.0.1 (ports picked by the kernel) and is stopped by the exit trap.
#
# Load, all at once for the whole duration:
#   verify    wrk -t1 -c$SOAK_VERIFY_CONNECTIONS (16) with bench/wrk/verify.lua, in segments of
#             $SOAK_SEGMENT (10) s. Before each segment a fresh batch is generated and exported
#             (1.5x the previous segment's rate x the segment, at least 50,000, at most 2,000,000
#             codes, ttlSeconds = segment + 10); every request verifies a real (id, code) pair
#             once, so every answer must be 200. A segment that runs out of pairs stops early
#             and is reported as "exhausted" (a sizing miss, not a failure).
#   send      wrk -t1 -c$SOAK_SEND_CONNECTIONS (4) with bench/wrk/send.lua: every answer 200.
#   generate  a curl loop: POST /admin/verifications/generate {"count":1000,"ttlSeconds":20}
#             every 0.25 s: every answer 201.
#   e2e       a curl loop: public send -> GET /admin/verifications/{id} (the code) -> verify
#             with it: 200, 200, 200 and the same verificationId back.
# Failure: any other answer, any wrk socket error (connect/read/write/timeout), the server dying,
# the RSS bound broken, or the final SIGTERM not exiting 0.
#
# The server runs with --send-limit 0 (sends unlimited), --code-ttl 30 (sent codes expire),
# --retention 1 --sweep-interval 1 (consumed and expired codes are swept within ~2 s) and
# --access-log off, so the store stays bounded while records keep being created.
#
# RSS bound, checked on every sample (every $SOAK_SAMPLE (2) s):
#   RSS <= baseline + 96 MiB + 128 B x (largest record count seen so far)
# The baseline is the RSS after start-up and a small warm-up. 1,000,000 generated records cost
# 83-89 MB of RSS (docs/admin-api.md), under 90 B each (128 B leaves 40 % headroom); the store
# keeps freed record slots for reuse rather than returning them, so the high-water mark of records
# is what RSS follows; the 96 MiB covers allocator arenas, export and request buffers, the inbox.
#
# Environment: MFA_MOCK_SOAK_BINARY (use this binary, skip the build), MFA_MOCK_SOAK_BUILD_DIR
# (default build-soak), MFA_MOCK_SOAK_JOBS (compile jobs, default nproc), SOAK_SEGMENT,
# SOAK_SAMPLE, SOAK_VERIFY_CONNECTIONS, SOAK_SEND_CONNECTIONS, SOAK_KEEP=1 (keep the temp dir).
# Exit status: 0 pass, 1 fail, 2 bad usage or a missing tool.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${1:-60}
SEGMENT=${SOAK_SEGMENT:-10}
SAMPLE=${SOAK_SAMPLE:-2}
VERIFY_CONNECTIONS=${SOAK_VERIFY_CONNECTIONS:-16}
SEND_CONNECTIONS=${SOAK_SEND_CONNECTIONS:-4}
SLACK_KB=$((96 * 1024))
BYTES_PER_RECORD=128

usage_error() { echo "scripts/soak.sh: $*" >&2; exit 2; }
[[ ${1:-} == "-h" || ${1:-} == "--help" ]] && { sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
(($# <= 1)) || usage_error "usage: scripts/soak.sh [SECONDS]"
for v in DURATION SEGMENT SAMPLE VERIFY_CONNECTIONS SEND_CONNECTIONS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || usage_error "$v must be a positive integer, got '${!v}'"
done
((DURATION >= 5)) || usage_error "SECONDS must be at least 5"

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- the binary ------------------------------------------------------------------------------
if [[ -n ${MFA_MOCK_SOAK_BINARY:-} ]]; then
  BIN=$MFA_MOCK_SOAK_BINARY
else
  "$ROOT/scripts/install-deps.sh" test
  BUILD_DIR=${MFA_MOCK_SOAK_BUILD_DIR:-$ROOT/build-soak}
  log "building mfa-mock (Release) in $BUILD_DIR"
  mkdir -p "$BUILD_DIR"
  if ! { cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DMFA_MOCK_BUILD_TESTS=OFF &&
    cmake --build "$BUILD_DIR" -j"${MFA_MOCK_SOAK_JOBS:-$(nproc)}" --target mfa-mock; } \
    >"$BUILD_DIR/soak-build.log" 2>&1; then
    tail -n 30 "$BUILD_DIR/soak-build.log" >&2
    echo "scripts/soak.sh: the build failed (log: $BUILD_DIR/soak-build.log)" >&2
    exit 1
  fi
  BIN=$BUILD_DIR/app/mfa-mock
fi
[[ -x $BIN ]] || usage_error "no executable at $BIN"
for tool in wrk curl awk timeout; do
  command -v "$tool" >/dev/null || usage_error "'$tool' is not installed (scripts/install-deps.sh test)"
done
WRK_DIR=$ROOT/bench/wrk
[[ -f $WRK_DIR/verify.lua && -f $WRK_DIR/send.lua ]] || usage_error "bench/wrk/*.lua not found"

# ---- processes and temp files, cleaned up on any exit ----------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mfa-soak.XXXXXX")
SERVER_PID=
LOOP_PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid i
  for pid in "${LOOP_PIDS[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true # its wrk/curl/sleep children, by parent id
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${LOOP_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ ${SOAK_KEEP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { log "FAIL: $*"; exit 1; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0; }

# ---- the server ------------------------------------------------------------------------------
"$BIN" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --send-limit 0 --code-ttl 30 \
  --retention 1 --sweep-interval 1 --access-log off >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
for ((i = 0; i < 100; i++)); do
  grep -q '^mfa-mock ready ' "$TMP/server.out" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.err" >&2; fail "mfa-mock did not start"; }
  sleep 0.1
done
READY=$(grep '^mfa-mock ready ' "$TMP/server.out") || fail "no ready line from mfa-mock"
PUB=$(sed -n 's/.* public=\([^ ]*\).*/\1/p' <<<"$READY")
ADM=$(sed -n 's/.* admin=\([^ ]*\).*/\1/p' <<<"$READY")
PUB_URL=http://$PUB
ADM_URL=http://$ADM
VERIFY_PATH=/api/experience/verification/mfa-verification-code/verify
SEND_PATH=/api/experience/verification/mfa-verification-code
log "mfa-mock pid $SERVER_PID: public $PUB, admin $ADM; soak for ${DURATION} s"

records() { curl -fsS --max-time 5 "$ADM_URL/admin/stats" | sed -n 's/.*"records":\([0-9]*\).*/\1/p'; }

# Warm-up, then the baseline.
curl -fsS -o /dev/null -X POST "$ADM_URL/admin/verifications/generate" \
  -H 'Content-Type: application/json' -d '{"count":1000,"identifierType":"email","ttlSeconds":5}' ||
  fail "warm-up generate failed"
curl -fsS -o /dev/null "$ADM_URL/admin/verifications/export" || fail "warm-up export failed"
sleep 1
BASE_KB=$(rss_kb)
log "baseline RSS $((BASE_KB / 1024)) MiB"

START=$SECONDS
END=$((START + DURATION))

# ---- load: verify segments -------------------------------------------------------------------
# Each segment appends "verify ok errors exhausted socket_errors rows seconds" to verify.tsv.
verify_loop() {
  local rate=5000 seg=0 left n batch out r
  while true; do
    left=$((END - SECONDS))
    ((left >= 2)) || break
    ((left < SEGMENT)) && seg_len=$left || seg_len=$SEGMENT
    n=$((rate * seg_len * 3 / 2))
    ((n < 50000)) && n=50000
    ((n > 2000000)) && n=2000000
    batch=$(curl -fsS --max-time 30 -X POST "$ADM_URL/admin/verifications/generate" \
      -H 'Content-Type: application/json' \
      -d "{\"count\":$n,\"identifierType\":\"email\",\"ttlSeconds\":$((seg_len + 10))}" |
      sed -n 's/.*"batchId":"\([^"]*\)".*/\1/p') || true
    if [[ -z $batch ]]; then echo "verify-setup generate_failed" >>"$TMP/failures"; break; fi
    if ! curl -fsS --max-time 60 -o "$TMP/walk.csv" "$ADM_URL/admin/verifications/export?batch=$batch"; then
      echo "verify-setup export_failed" >>"$TMP/failures"
      break
    fi
    left=$((END - SECONDS))
    ((left >= 1)) || break
    ((left < seg_len)) && seg_len=$left
    out=$TMP/verify.$seg.txt
    timeout $((seg_len + 30)) wrk -t1 -c"$VERIFY_CONNECTIONS" -d"${seg_len}s" --timeout 10s \
      -s "$WRK_DIR/verify.lua" "$PUB_URL" -- "$TMP/walk.csv" 1 >"$out" 2>&1 ||
      echo "verify wrk_exit_status segment=$seg" >>"$TMP/failures"
    r=$(awk -v secs="$seg_len" '
      /Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
      /^MFA_RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
      END { printf "verify %d %d %d %d %d %d\n", v["ok"], v["errors"], v["exhausted"], sock, v["rows"], secs }
    ' "$out")
    echo "$r" >>"$TMP/verify.tsv"
    # The next batch is sized from this segment's rate.
    rate=$(awk '{ r = $2 / ($7 > 0 ? $7 : 1); printf "%d", (r < 1000 ? 1000 : r) }' <<<"$r")
    rm -f "$TMP/walk.csv"
    seg=$((seg + 1))
  done
}

# ---- load: sends -----------------------------------------------------------------------------
send_load() {
  local out=$TMP/send.txt
  timeout $((DURATION + 30)) wrk -t1 -c"$SEND_CONNECTIONS" -d"${DURATION}s" --timeout 10s \
    -s "$WRK_DIR/send.lua" "$PUB_URL" -- email >"$out" 2>&1 ||
    echo "send wrk_exit_status" >>"$TMP/failures"
}

# ---- load: generate loop ---------------------------------------------------------------------
generate_loop() {
  local code
  while ((SECONDS < END)); do
    code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST \
      "$ADM_URL/admin/verifications/generate" -H 'Content-Type: application/json' \
      -d '{"count":1000,"identifierType":"phone","ttlSeconds":20}') || code=curl_error
    echo "$code" >>"$TMP/generate.codes"
    sleep 0.25
  done
}

# ---- load: end-to-end send + verify through curl ---------------------------------------------
e2e_loop() {
  local sent id record code verified
  while ((SECONDS < END)); do
    sent=$(curl -sS --max-time 10 -w '\n%{http_code}' -X POST "$PUB_URL$SEND_PATH" \
      -H 'Content-Type: application/json' -d '{"identifierType":"phone"}') || sent=$'\ncurl_error'
    id=$(sed -n 's/.*"verificationId":"\([^"]*\)".*/\1/p' <<<"$sent")
    if [[ ${sent##*$'\n'} != 200 || -z $id ]]; then
      echo "send ${sent##*$'\n'}" >>"$TMP/e2e.codes"
      continue
    fi
    record=$(curl -sS --max-time 10 "$ADM_URL/admin/verifications/$id") || record=
    code=$(sed -n 's/.*"code":"\([^"]*\)".*/\1/p' <<<"$record")
    if [[ -z $code ]]; then
      echo "lookup missing" >>"$TMP/e2e.codes"
      continue
    fi
    verified=$(curl -sS --max-time 10 -w '\n%{http_code}' -X POST "$PUB_URL$VERIFY_PATH" \
      -H 'Content-Type: application/json' \
      -d "{\"verificationId\":\"$id\",\"code\":\"$code\",\"identifierType\":\"phone\"}") ||
      verified=$'\ncurl_error'
    if [[ ${verified##*$'\n'} == 200 && $verified == *"\"verificationId\":\"$id\""* ]]; then
      echo "ok" >>"$TMP/e2e.codes"
    else
      echo "verify ${verified##*$'\n'}" >>"$TMP/e2e.codes"
    fi
    sleep 0.05
  done
}

# ---- RSS sampler -----------------------------------------------------------------------------
sampler() {
  local rec
  while ((SECONDS < END)); do
    rec=$(records) || rec=
    echo "$((SECONDS - START)) $(rss_kb) ${rec:-0}" >>"$TMP/samples"
    sleep "$SAMPLE"
  done
}

: >"$TMP/failures"
: >"$TMP/verify.tsv"
: >"$TMP/samples"
: >"$TMP/generate.codes"
: >"$TMP/e2e.codes"
verify_loop &
LOOP_PIDS+=($!)
send_load &
LOOP_PIDS+=($!)
generate_loop &
LOOP_PIDS+=($!)
e2e_loop &
LOOP_PIDS+=($!)
sampler &
LOOP_PIDS+=($!)

# Watch the server while the load runs.
while ((SECONDS < END)); do
  kill -0 "$SERVER_PID" 2>/dev/null || {
    tail -n 20 "$TMP/server.err" >&2
    fail "mfa-mock died during the soak"
  }
  sleep 1
done
for pid in "${LOOP_PIDS[@]}"; do wait "$pid" || true; done
LOOP_PIDS=()
kill -0 "$SERVER_PID" 2>/dev/null || fail "mfa-mock died during the soak"
echo "$((SECONDS - START)) $(rss_kb) $(records || echo 0)" >>"$TMP/samples"
END_KB=$(rss_kb)
END_RECORDS=$(records || echo 0)

# Final SIGTERM: exit 0.
kill -TERM "$SERVER_PID"
status=0
for ((i = 0; i < 300; i++)); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SERVER_PID" || status=$?
SERVER_PID=
ELAPSED=$((SECONDS - START))

# ---- verdict ---------------------------------------------------------------------------------
problems=()
((status == 0)) || problems+=("SIGTERM exit status $status")
while read -r what detail; do
  [[ -n $what ]] && problems+=("$what: $detail")
done <"$TMP/failures"

read -r V_OK V_ERR V_EXH V_SOCK V_SEGS <<<"$(awk '{ ok += $2; err += $3; exh += $4; sock += $5; n++ }
  END { printf "%d %d %d %d %d", ok, err, exh, sock, n }' "$TMP/verify.tsv")"
((V_SEGS > 0)) || problems+=("verify: no segment ran")
((V_OK > 0)) || problems+=("verify: no successful verify")
((V_ERR == 0)) || problems+=("verify: $V_ERR answers other than 200")
((V_SOCK == 0)) || problems+=("verify: $V_SOCK socket errors")

read -r S_OK S_ERR S_SOCK <<<"$(awk '
  /Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
  /^MFA_RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
  END { printf "%d %d %d", v["ok"], v["errors"], sock }' "$TMP/send.txt" 2>/dev/null || echo "0 0 0")"
((S_OK > 0)) || problems+=("send: no successful send")
((S_ERR == 0)) || problems+=("send: $S_ERR answers other than 200")
((S_SOCK == 0)) || problems+=("send: $S_SOCK socket errors")

G_OK=$(grep -c '^201$' "$TMP/generate.codes" || true)
G_BAD=$(grep -vc '^201$' "$TMP/generate.codes" || true)
((G_OK > 0)) || problems+=("generate: no successful generate")
((G_BAD == 0)) || problems+=("generate: $G_BAD answers other than 201 ($(grep -v '^201$' "$TMP/generate.codes" | sort | uniq -c | tr -s ' ' | tr '\n' ';'))")

E_OK=$(grep -c '^ok$' "$TMP/e2e.codes" || true)
E_BAD=$(grep -vc '^ok$' "$TMP/e2e.codes" || true)
((E_OK > 0)) || problems+=("e2e: no successful send+verify")
((E_BAD == 0)) || problems+=("e2e: $E_BAD failures ($(grep -v '^ok$' "$TMP/e2e.codes" | sort | uniq -c | tr -s ' ' | tr '\n' ';'))")

# RSS: every sample within baseline + slack + bytes x max records so far.
read -r PEAK_KB PEAK_RECORDS WORST <<<"$(awk -v base="$BASE_KB" -v slack="$SLACK_KB" -v per="$BYTES_PER_RECORD" '
  { if ($3 > maxrec) maxrec = $3
    bound = base + slack + maxrec * per / 1024
    if ($2 > peak) peak = $2
    if ($2 - bound > worst || n == 0) { worst = $2 - bound; at = $1 }
    n++ }
  END { printf "%d %d %d", peak, maxrec, worst }' "$TMP/samples")"
BOUND_KB=$((BASE_KB + SLACK_KB + PEAK_RECORDS * BYTES_PER_RECORD / 1024))
((WORST <= 0)) || problems+=("RSS: a sample exceeded its bound by $((WORST / 1024)) MiB (see samples below)")
SAMPLES=$(wc -l <"$TMP/samples")

echo
echo "mfa-mock soak: ${ELAPSED} s (load ${DURATION} s), $BIN"
printf '  %-9s %s\n' \
  verify "$V_OK ok, $V_ERR other answers, $V_SOCK socket errors, $V_SEGS segments ($V_EXH requests after a segment ran out of pairs)" \
  send "$S_OK ok, $S_ERR other answers, $S_SOCK socket errors" \
  generate "$G_OK x 1000 codes ok, $G_BAD other answers" \
  e2e "$E_OK send+lookup+verify ok, $E_BAD failures"
echo "  RSS       baseline $((BASE_KB / 1024)) MiB, peak $((PEAK_KB / 1024)) MiB, end $((END_KB / 1024)) MiB; bound at the peak record count $((BOUND_KB / 1024)) MiB (baseline + 96 MiB + 128 B x $PEAK_RECORDS records); $SAMPLES samples"
echo "  records   peak $PEAK_RECORDS, end $END_RECORDS"
echo "  samples   (seconds RSS-MiB records): $(awk '{ printf "%s %d %s; ", $1, $2 / 1024, $3 }' "$TMP/samples")"
if ((${#problems[@]})); then
  for p in "${problems[@]}"; do echo "  FAIL      $p"; done
  echo "soak: FAIL"
  exit 1
fi
echo "soak: PASS"
