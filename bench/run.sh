#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One command for the mfa-mock HTTP benchmark (docs/benchmarks.md explains every number):
#
#   bench/run.sh            full run: 1k, 1M and 10M seeded codes, 10 s runs, 2 rounds (~8 min)
#   bench/run.sh --smoke    CI: 1k codes, 2 s runs, 1 round (well under a minute once built)
#   bench/run.sh --store redis   the same, plus a block comparing one mfa-mock node over a local
#                                redis-server (started and stopped here) with the in-memory store
#   bench/run.sh --store cluster only the Redis Cluster block (issue 13, bench/cluster.sh): two
#                                nodes over one redis-server and over a local cluster of 3 masters
#
# Generated batches are derived (issue 17): every size also verifies a walked batch of stored
# records (generate "derived": false) beside the derived one, and a block of its own generates 1M
# and --derived-records (default 100M) codes into a fresh process: time, RSS, and a verify run.
#
# It builds Release into build-bench/, starts nginx (the box's ceiling), a bare Pistache handler
# (the framework's ceiling) and mfa-mock on 127.0.0.1, seeds codes through the admin API, drives
# them with wrk (same settings for every target, targets alternated A/B/C/A/B/C), and prints one
# table. Exit status 1 if the success mode (or send) saw any answer other than 200, or the
# wrong-code mode anything other than 400; 2 on bad usage or a missing tool.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  cat <<'EOF'
usage: bench/run.sh [options]
  --smoke               CI mode: --sizes 1k --duration 2 --rounds 1 --no-store-bench
                        --derived-records 1M (with --store redis or cluster: --redis-records 10k)
  --sizes LIST          seeded population sizes, comma-separated: 1k,1M,10M (default) or numbers
  --duration S          seconds per wrk run (default 10)
  --rounds N            rounds of the A/B/C alternation (default 2)
  --threads N           server threads and nginx workers (default: nproc)
  --wrk-threads N       wrk -t (default 2)
  --connections N       wrk -c (default 64)
  --max-rate R          req/s the walked batch is sized for (default 200000): each success run
                        gets a fresh batch of R x duration codes; a run faster than R fails
  --sample N            rows of the population walked by the wrong-code mode (default 100000)
  --server-args "ARGS"  extra mfa-mock options for every instance (default "--access-log off";
                        the verify-access-log mode turns it back on for its own instance)
  --build-dir DIR       build directory (default build-bench)
  --no-build            use the binaries already in the build directory
  --jobs N              parallel compile jobs (default: nproc)
  --no-store-bench      skip the Google Benchmark store micro-benchmark
  --store memory|redis  redis: also run the shared-store block: a local redis-server (free
                        loopback port, no persistence), one mfa-mock node with --store redis://,
                        one in-memory node with the same options, the ceilings, alternated
  --store cluster       instead of all the above: two mfa-mock nodes over one redis-server and
                        over a local Redis Cluster of --cluster-masters masters (no replicas),
                        one wrk over both nodes, alternated; req/s, p99, node and Redis CPU per
                        verify, where the cores went (bench/cluster.sh)
  --cluster-masters N   masters of the --store cluster block (default 3)
  --cluster-max-rate R  req/s the --store cluster block's walked batch is sized for (default
                        100000): R x duration codes per run
  --cluster-records K   records the --store cluster block verifies: stored (one hash each, as
                        sends and seeds make them), derived (a generated batch, the default of
                        generate) or both (default: both, each kind in every round)
  --redis-records N     population generated in the shared-store block (default 1M; 1k, 1M or
                        a number): Redis used_memory per record and generate time are read on it
  --derived-records N   the large derived batch of the issue-17 block (default 100M; 1M, 100M,
                        1000M or a number up to 1,000,000,000)
  --enforce-targets     also exit 1 when an issue-4 target (and, with --store redis, an
                        issue-12 target; with --store cluster, an issue-13 target) is missed
  --keep                keep the temp directory (wrk outputs, CSVs, server logs)
  -h, --help            this text
EOF
}

# ---- options ---------------------------------------------------------------------------------
SIZES="1k,1M,10M"
DURATION=10
ROUNDS=2
THREADS=$(nproc)
WRK_THREADS=2
CONNECTIONS=64
MAX_RATE=200000
SAMPLE=100000
SERVER_ARGS="--access-log off"
BUILD_DIR="$ROOT/build-bench"
DO_BUILD=1
JOBS=$(nproc)
STORE_BENCH=1
ENFORCE=0
KEEP=0
SMOKE=0
STORE=memory
REDIS_RECORDS=""
DERIVED_RECORDS=""
REDIS_PREFIX=mfa
CLUSTER_MASTERS=3
CLUSTER_RATE=100000
CLUSTER_KINDS="stored derived"
REDIS_CODE=135790 # the fixed code of the Redis node's walked batch (its ids are read from Redis)

while (($#)); do
  case "$1" in
    --smoke) SMOKE=1; SIZES=1k; DURATION=2; ROUNDS=1; STORE_BENCH=0 ;;
    --sizes) SIZES=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --wrk-threads) WRK_THREADS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --max-rate) MAX_RATE=$2; shift ;;
    --sample) SAMPLE=$2; shift ;;
    --server-args) SERVER_ARGS=$2; shift ;;
    --build-dir) BUILD_DIR=$(realpath -m "$2"); shift ;;
    --no-build) DO_BUILD=0 ;;
    --jobs) JOBS=$2; shift ;;
    --no-store-bench) STORE_BENCH=0 ;;
    --store) STORE=$2; shift ;;
    --redis-records) REDIS_RECORDS=$2; shift ;;
    --cluster-masters) CLUSTER_MASTERS=$2; shift ;;
    --cluster-max-rate) CLUSTER_RATE=$2; shift ;;
    --cluster-records)
      case $2 in
        stored | derived) CLUSTER_KINDS=$2 ;;
        both) CLUSTER_KINDS="stored derived" ;;
        *) echo "bench/run.sh: --cluster-records must be stored, derived or both, got '$2'" >&2; exit 2 ;;
      esac
      shift ;;
    --derived-records) DERIVED_RECORDS=$2; shift ;;
    --enforce-targets) ENFORCE=1 ;;
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  local name status
  for name in "${!PID[@]}"; do # say which server is gone, and what it printed
    if kill -0 "${PID[$name]}" 2>/dev/null; then continue; fi
    status=0
    wait "${PID[$name]}" 2>/dev/null || status=$?
    log "server '$name' (pid ${PID[$name]}) is not running (exit status $status); its stderr:"
    tail -n 20 "$TMP/$name.err" >&2 2>/dev/null || true
  done
  exit 1
}
usage_error() { echo "bench/run.sh: $*" >&2; exit 2; }

for v in DURATION ROUNDS THREADS WRK_THREADS CONNECTIONS MAX_RATE SAMPLE JOBS CLUSTER_MASTERS CLUSTER_RATE; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || usage_error "--${v,,} must be a positive integer, got '${!v}'"
done

# "1k" -> 1000, "1M" -> 1000000, "250000" -> 250000
parse_size() {
  local s=${1,,}
  case "$s" in
    *k) s=$((${s%k} * 1000)) ;;
    *m) s=$((${s%m} * 1000000)) ;;
  esac
  [[ $s =~ ^[1-9][0-9]*$ && $s -le 10000000 ]] || usage_error "bad size '$1' (1..10M)"
  echo "$s"
}
SIZE_LABELS=()
SIZE_COUNTS=()
IFS=',' read -r -a _sizes <<<"$SIZES"
for s in "${_sizes[@]}"; do
  SIZE_COUNTS+=("$(parse_size "$s")")
  SIZE_LABELS+=("$s")
done

[[ $STORE == memory || $STORE == redis || $STORE == cluster ]] ||
  usage_error "--store must be memory, redis or cluster, got '$STORE'"
if [[ $STORE == cluster ]]; then
  ((WRK_THREADS % 2 == 0)) || usage_error "--store cluster splits wrk's threads over two nodes: --wrk-threads must be even"
  ((CLUSTER_MASTERS >= 3)) || usage_error "--cluster-masters must be at least 3 (redis-cli --cluster create)"
  CLUSTER_WALK=$((CLUSTER_RATE * DURATION))
  ((CLUSTER_WALK <= 10000000)) || usage_error "--cluster-max-rate x --duration must be at most 10,000,000 codes"
  STORE_BENCH=0 # the block is about the store over the network, not the in-process one
fi
if [[ -z $REDIS_RECORDS ]]; then
  if ((SMOKE)); then REDIS_RECORDS=10k; else REDIS_RECORDS=1M; fi
fi
REDIS_LABEL=$REDIS_RECORDS
REDIS_N=$(parse_size "$REDIS_RECORDS")
if [[ -z $DERIVED_RECORDS ]]; then
  if ((SMOKE)); then DERIVED_RECORDS=1M; else DERIVED_RECORDS=100M; fi
fi
DERIVED_LABEL=$DERIVED_RECORDS
DERIVED_N=${DERIVED_RECORDS,,}
case "$DERIVED_N" in
  *k) DERIVED_N=$((${DERIVED_N%k} * 1000)) ;;
  *m) DERIVED_N=$((${DERIVED_N%m} * 1000000)) ;;
esac
[[ $DERIVED_N =~ ^[1-9][0-9]*$ && $DERIVED_N -le 1000000000 ]] ||
  usage_error "bad --derived-records '$DERIVED_RECORDS' (1..1000M)"

WALK=$((MAX_RATE * DURATION))
((WALK <= 10000000)) || usage_error "--max-rate x --duration must be at most 10,000,000 codes"

tools=(wrk nginx curl cmake awk sed timeout)
[[ $STORE == cluster ]] && tools=(wrk curl cmake awk sed timeout) # no ceilings in that block
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || usage_error "'$tool' is not installed (apt-get install wrk nginx-light curl cmake)"
done
if [[ $STORE == redis || $STORE == cluster ]]; then
  for tool in redis-server redis-cli; do
    command -v "$tool" >/dev/null || usage_error "'$tool' is not installed (apt-get install redis-server)"
  done
fi

# ---- processes and temp files, cleaned up on any exit ----------------------------------------
declare -A PID PUB ADM
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mfa-bench.XXXXXX")
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid i
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((KEEP)); then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# ---- machine ---------------------------------------------------------------------------------
CPU_MODEL=$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)
log "machine: $(nproc) cores, ${CPU_MODEL:-unknown CPU}, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if awk '{exit !($1 > 0.5)}' /proc/loadavg; then
  log "WARNING: the machine is busy (load $(cut -d' ' -f1 /proc/loadavg)); numbers will be noisy"
fi

# ---- build -----------------------------------------------------------------------------------
if ((DO_BUILD)); then
  log "building Release into $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DMFA_MOCK_BUILD_TESTS=OFF -DMFA_MOCK_BUILD_BENCH=ON >"$TMP/cmake.log" 2>&1 ||
    { cat "$TMP/cmake.log" >&2; die "cmake configure failed"; }
  targets=(mfa-mock)
  [[ $STORE == cluster ]] || targets+=(bare_pistache)
  ((STORE_BENCH)) && targets+=(store_bench)
  cmake --build "$BUILD_DIR" -j "$JOBS" --target "${targets[@]}" >"$TMP/build.log" 2>&1 ||
    { tail -n 50 "$TMP/build.log" >&2; die "build failed"; }
fi
MFA_BIN="$BUILD_DIR/app/mfa-mock"
BARE_BIN="$BUILD_DIR/bench/bare_pistache"
STORE_BIN="$BUILD_DIR/bench/store_bench"
[[ -x $MFA_BIN ]] || die "$MFA_BIN is missing (build first or drop --no-build)"
[[ $STORE == cluster || -x $BARE_BIN ]] || die "$BARE_BIN is missing"
WRK_DIR="$ROOT/bench/wrk"

# ---- servers ---------------------------------------------------------------------------------

# start_mfa NAME [extra mfa-mock options...]: ephemeral loopback ports, waits for "ready".
# stdout and stderr (the access log, when on) go to files in the temp directory.
start_mfa() {
  local name=$1 i line
  shift
  # --server-args, minus any option this instance sets itself (CLI11 refuses repeats).
  local given=() server_args=() j
  read -r -a given <<<"$SERVER_ARGS"
  for ((j = 0; j < ${#given[@]}; j++)); do
    if [[ ${given[j]} == --* && " $* " == *" ${given[j]} "* ]]; then
      [[ $((j + 1)) -lt ${#given[@]} && ${given[j + 1]} != --* ]] && j=$((j + 1))
      continue
    fi
    server_args+=("${given[j]}")
  done
  # --max-records does not apply to a node over Redis (mfa-mock refuses it there).
  local uncapped=(--max-records 0)
  [[ " $* " == *" --store redis://"* ]] && uncapped=()
  "$MFA_BIN" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --threads "$THREADS" \
    "${uncapped[@]}" --max-attempts 1000 --log-level warn "${server_args[@]}" "$@" \
    >"$TMP/$name.out" 2>>"$TMP/$name.err" &
  PID[$name]=$!
  PIDS+=("${PID[$name]}")
  for ((i = 0; i < 150; i++)); do
    line=$(grep -m1 '^mfa-mock ready ' "$TMP/$name.out" 2>/dev/null || true)
    [[ -n $line ]] && break
    kill -0 "${PID[$name]}" 2>/dev/null || { cat "$TMP/$name.err" >&2; die "mfa-mock ($name) exited at start-up"; }
    sleep 0.1
  done
  [[ $line =~ public=127\.0\.0\.1:([0-9]+)\ admin=127\.0\.0\.1:([0-9]+) ]] ||
    die "mfa-mock ($name) printed no ready line: '$line'"
  PUB[$name]=${BASH_REMATCH[1]}
  ADM[$name]=${BASH_REMATCH[2]}
  log "mfa-mock $name: pid ${PID[$name]} public :${PUB[$name]} admin :${ADM[$name]} ($*)"
}

start_bare() {
  local i line
  "$BARE_BIN" 0 "$THREADS" >"$TMP/bare.out" 2>"$TMP/bare.err" &
  PID[bare]=$!
  PIDS+=("${PID[bare]}")
  for ((i = 0; i < 100; i++)); do
    line=$(grep -m1 'ready' "$TMP/bare.out" 2>/dev/null || true)
    [[ -n $line ]] && break
    kill -0 "${PID[bare]}" 2>/dev/null || { cat "$TMP/bare.err" >&2; die "bare_pistache exited"; }
    sleep 0.1
  done
  [[ $line =~ 127\.0\.0\.1:([0-9]+) ]] || die "bare_pistache printed no ready line"
  PUB[bare]=${BASH_REMATCH[1]}
  log "bare_pistache: pid ${PID[bare]} :${PUB[bare]}"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_nginx() {
  local prefix="$TMP/nginx" attempt port i
  mkdir -p "$prefix"
  for ((attempt = 0; attempt < 10; attempt++)); do
    port=$((20000 + RANDOM % 40000))
    port_in_use "$port" && continue
    sed -e "s#@PREFIX@#$prefix#g" -e "s#@PORT@#$port#g" -e "s#@WORKERS@#$THREADS#g" \
      "$ROOT/bench/nginx.conf.template" >"$prefix/nginx.conf"
    nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" >"$prefix/stdout" 2>&1 &
    PID[nginx]=$!
    PIDS+=("${PID[nginx]}")
    for ((i = 0; i < 50; i++)); do
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
        PUB[nginx]=$port
        log "nginx: pid ${PID[nginx]} :$port, $THREADS workers"
        return
      fi
      kill -0 "${PID[nginx]}" 2>/dev/null || break
      sleep 0.1
    done
    stop_pid "${PID[nginx]}"
  done
  cat "$prefix/error.log" >&2 || true
  die "nginx did not start"
}

# start_redis: a redis-server of our own on a free loopback port, no persistence, files in the
# temp directory; stopped by PID like every other server (cleanup covers failures).
start_redis() {
  local dir="$TMP/redis" attempt port i
  mkdir -p "$dir"
  for ((attempt = 0; attempt < 10; attempt++)); do
    port=$((20000 + RANDOM % 40000))
    port_in_use "$port" && continue
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
      --dir "$dir" --logfile '' >"$TMP/redis-server.err" 2>&1 &
    PID[redis-server]=$!
    PIDS+=("${PID[redis-server]}")
    for ((i = 0; i < 50; i++)); do
      if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then
        REDIS_PORT=$port
        log "redis-server: pid ${PID[redis-server]} :$port ($(redis-server --version | awk '{ sub(/^v=/, "", $3); print $3 }'))"
        return
      fi
      kill -0 "${PID[redis-server]}" 2>/dev/null || break
      sleep 0.1
    done
    stop_pid "${PID[redis-server]}"
  done
  cat "$TMP/redis-server.err" >&2 || true
  die "redis-server did not start"
}

rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

redis_used_memory() { rcli info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'; }

# wait_ready NAME: GET /readyz answers 200 (a node over Redis answers 503 until it is connected).
wait_ready() {
  local i
  for ((i = 0; i < 100; i++)); do
    curl -fsS -o /dev/null "http://127.0.0.1:${ADM[$1]}/readyz" 2>/dev/null && return
    sleep 0.1
  done
  die "mfa-mock ($1) is not ready after 10 s (GET /readyz)"
}

# cpu_ticks PID: utime and stime of the whole process (all its threads), in clock ticks.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12, $13 }'; }
CLK_TCK=$(getconf CLK_TCK)
# tick_delta "U0 S0" "U1 S1": "dU<TAB>dS"
tick_delta() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d\t%d", y[1] - x[1], y[2] - x[2] }'; }

# ---- admin API helpers -----------------------------------------------------------------------
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }

admin_url() { echo "http://127.0.0.1:${ADM[$1]}/admin$2"; }

# generate NAME COUNT [CODE]: sets GEN_BATCH and GEN_SECONDS (curl's time_total for the request).
# CODE: every record gets that code (default: random codes, as a load test's population).
# GEN_STORED=1: one stored record per code ("derived": false) instead of a derived batch.
generate() {
  local name=$1 count=$2 fixed=${3:+,\"code\":\"$3\"} res code stored=""
  [[ ${GEN_STORED:-0} == 1 ]] && stored=',"derived":false'
  res=$(curl -sS -o "$TMP/generate.json" -w '%{http_code} %{time_total}' -X POST \
    -H 'Content-Type: application/json' \
    --data "{\"count\":$count,\"identifierType\":\"email\",\"identifier\":\"user{n}@example.com\"$fixed$stored}" \
    "$(admin_url "$name" /verifications/generate)")
  code=${res%% *}
  GEN_SECONDS=${res#* }
  GEN_STATUS=$code
  # GEN_OK_408=1: a 408 returns 1 (the caller waits for the records) instead of failing the run.
  [[ $code == 408 && ${GEN_OK_408:-0} == 1 ]] && return 1
  [[ $code == 201 ]] || die "generate $count on $name answered $code: $(cat "$TMP/generate.json")"
  GEN_BATCH=$(sed -n 's/.*"batchId" *: *"\([^"]*\)".*/\1/p' "$TMP/generate.json")
  [[ $(sed -n 's/.*"created" *: *\([0-9]*\).*/\1/p' "$TMP/generate.json") == "$count" ]] ||
    die "generate $count on $name created another count: $(cat "$TMP/generate.json")"
  [[ -n $GEN_BATCH ]] || die "generate answered no batchId: $(cat "$TMP/generate.json")"
}

# export_csv NAME BATCH FILE [ROWS]: the batch's CSV (header + rows); ROWS = only the first ROWS.
export_csv() {
  local name=$1 batch=$2 file=$3 rows=${4:-0} url
  url="$(admin_url "$name" "/verifications/export?batch=$batch&format=csv")"
  if ((rows > 0)); then
    # head closes the pipe early on purpose; curl then exits 23.
    { curl -sS "$url" 2>/dev/null || true; } | head -n $((rows + 1)) >"$file"
  else
    curl -fsS -o "$file" "$url" || die "export of $batch failed"
  fi
  [[ $(head -n1 "$file") == verificationId,code,identifierType,identifier* ]] ||
    die "export of $batch has no CSV header: $(head -c 200 "$file")"
  # Write the file out now: otherwise the kernel flushes its ~120 MB of dirty pages during the
  # wrk run that follows, and that run (always an mfa-mock one) pays for the harness's I/O.
  sync "$file" 2>/dev/null || sync
}

# generate_chunked NAME COUNT [CODE]: COUNT codes in requests of at most 500,000 (a node over
# Redis answers a generate when its records are written; a request open longer than the admin
# listener's 10 s timeout is answered 408 while the writing goes on). GEN_SECONDS = the sum.
generate_chunked() {
  local name=$1 left=$2 code=${3:-} total=0 n
  while ((left > 0)); do
    n=$((left < 500000 ? left : 500000))
    generate "$name" "$n" "$code"
    total=$(awk -v a="$total" -v b="$GEN_SECONDS" 'BEGIN { printf "%.6f", a + b }')
    left=$((left - n))
  done
  GEN_SECONDS=$total
}

clear_store() {
  curl -fsS -o /dev/null -X DELETE "$(admin_url "$1" /verifications)" || die "DELETE /admin/verifications failed on $1"
}

store_records() {
  curl -fsS "$(admin_url "$1" /stats)" | sed -n 's/.*"records" *: *\([0-9]*\).*/\1/p'
}

# ---- wrk runs and their results --------------------------------------------------------------
RESULTS="$TMP/results.tsv"
: >"$RESULTS"
mkdir -p "$TMP/runs"

# run_wrk PHASE MODE TARGET ROUND STORE_RECORDS PORT SCRIPT [script args...]
run_wrk() {
  local phase=$1 mode=$2 target=$3 round=$4 records=$5 port=$6 script=$7
  shift 7
  local out="$TMP/runs/$phase.$mode.$target.$round.txt"
  log "wrk $mode -> $target (size $phase, round $round, store $records records)"
  timeout $((DURATION + 60)) wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -s "$WRK_DIR/$script" "http://127.0.0.1:$port" -- "$@" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk failed ($mode -> $target)"; }
  awk -v phase="$phase" -v mode="$mode" -v target="$target" -v round="$round" -v records="$records" '
    function us(v) {
      if (v ~ /us$/) return v + 0
      if (v ~ /ms$/) return v * 1000
      if (v ~ /s$/) return v * 1000000
      return v + 0
    }
    /^Requests\/sec:/ { rps = $2 }
    / requests in / { requests = $1 }
    /^ +50% / { p50 = us($2) }
    /^ +99% / { p99 = us($2) }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
    /^MFA_RESULT/ {
      for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
    }
    END {
      if (rps == "") { print "no Requests/sec in wrk output" > "/dev/stderr"; exit 1 }
      printf "%s\t%s\t%s\t%s\t%.2f\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n",
        phase, mode, target, round, rps, p50, p99, non2xx + 0, sock + 0,
        r["ok"] + 0, r["expected"] + 0, r["errors"] + 0, r["exhausted"] + 0, r["late"] + 0,
        requests + 0, records
    }' "$out" >>"${RESULTS_TO:-$RESULTS}" || die "could not parse $out"
}

# ---- the Redis Cluster block (issue 13): runs alone and exits -------------------------------
if [[ $STORE == cluster ]]; then
  # shellcheck source=bench/cluster.sh
  source "$ROOT/bench/cluster.sh"
  run_cluster_block
fi

# ---- the run ---------------------------------------------------------------------------------
GEN_NOTES="$TMP/generate.tsv" # phase count seconds rss_before_kb rss_after_kb
: >"$GEN_NOTES"

start_nginx
start_bare

CEILING_CSV="$TMP/ceiling.csv"

for idx in "${!SIZE_COUNTS[@]}"; do
  N=${SIZE_COUNTS[$idx]}
  P=${SIZE_LABELS[$idx]}
  first=$((idx == 0))
  log "=== size $P: $N seeded codes (+ a fresh walked batch of $WALK per success run) ==="

  start_mfa on --metrics on
  if ((first)); then
    start_mfa off --metrics off
    start_mfa log --metrics on --access-log logfmt
    start_mfa send --metrics on --send-limit 0
  fi

  # Population: timed, with RSS before and after (fresh process).
  rss0=$(rss_kb "${PID[on]}")
  generate on "$N"
  rss1=$(rss_kb "${PID[on]}")
  printf '%s\t%s\t%s\t%s\t%s\n' "$P" "$N" "$GEN_SECONDS" "$rss0" "$rss1" >>"$GEN_NOTES"
  log "generate $N: ${GEN_SECONDS}s, RSS ${rss0} kB -> ${rss1} kB"

  for ((round = 1; round <= ROUNDS; round++)); do
    # Every round starts from the same store: the population of N plus one walked batch.
    if ((round > 1)); then
      clear_store on
      generate on "$N"
      printf '%s\t%s\t%s\t\t\n' "$P" "$N" "$GEN_SECONDS" >>"$GEN_NOTES"
    fi
    pop_batch=$GEN_BATCH
    export_csv on "$pop_batch" "$TMP/sample.csv" "$SAMPLE"
    generate on "$WALK"
    export_csv on "$GEN_BATCH" "$TMP/walk.csv"
    [[ -s $CEILING_CSV ]] || head -n $((SAMPLE + 1)) "$TMP/walk.csv" >"$CEILING_CSV"
    recs=$(store_records on)

    # A: mfa-mock verify, every request a first-time correct code (a derived batch).
    run_wrk "$P" verify mfa-mock "$round" "$recs" "${PUB[on]}" verify.lua "$TMP/walk.csv" "$WRK_THREADS"
    rm -f "$TMP/walk.csv"
    # A': the same over a walked batch of stored records (issue 17: derived vs stored).
    GEN_STORED=1 generate on "$WALK"
    export_csv on "$GEN_BATCH" "$TMP/walk.csv"
    run_wrk "$P" verify-stored mfa-mock "$round" "$(store_records on)" "${PUB[on]}" verify.lua "$TMP/walk.csv" "$WRK_THREADS"
    rm -f "$TMP/walk.csv"
    # B, C: the ceilings, same script and request shape (they ignore the body; rows wrap).
    run_wrk "$P" ceiling nginx "$round" - "${PUB[nginx]}" verify.lua "$CEILING_CSV" "$WRK_THREADS" wrap
    run_wrk "$P" ceiling bare-pistache "$round" - "${PUB[bare]}" verify.lua "$CEILING_CSV" "$WRK_THREADS" wrap
    # D: the same success mode with metrics off (first size only).
    if ((first)); then
      clear_store off
      generate off "$N"
      generate off "$WALK"
      export_csv off "$GEN_BATCH" "$TMP/walk.csv"
      recs_off=$(store_records off)
      run_wrk "$P" verify-metrics-off mfa-mock "$round" "$recs_off" "${PUB[off]}" verify.lua "$TMP/walk.csv" "$WRK_THREADS"
      rm -f "$TMP/walk.csv"
    fi
    # E: the same success mode with the access log on (logfmt to stderr, here a file; first size only).
    if ((first)); then
      clear_store log
      generate log "$N"
      generate log "$WALK"
      export_csv log "$GEN_BATCH" "$TMP/walk.csv"
      recs_log=$(store_records log)
      run_wrk "$P" verify-access-log mfa-mock "$round" "$recs_log" "${PUB[log]}" verify.lua "$TMP/walk.csv" "$WRK_THREADS"
      rm -f "$TMP/walk.csv"
      : >"$TMP/log.err" # the access log of this round is not needed
    fi
    # F: wrong codes on the population (the failure path; 400 expected).
    run_wrk "$P" verify-wrong mfa-mock "$round" "$(store_records on)" "${PUB[on]}" verify_wrong.lua "$TMP/sample.csv" "$WRK_THREADS" wrap
    # G: the public send route (first size only; its own instance, --send-limit 0).
    if ((first)); then
      run_wrk "$P" send mfa-mock "$round" "$(store_records send)" "${PUB[send]}" send.lua email
    fi
  done

  stop_pid "${PID[on]}"
  if ((first)); then
    stop_pid "${PID[off]}"
    stop_pid "${PID[log]}"
    stop_pid "${PID[send]}"
  fi
done

# ---- derived batches (issue 17): 1M and DERIVED_N codes into a fresh process --------------------
# Generate time (curl time_total) and RSS around each generate, then a verify run on a fresh
# walked batch with the large batch in the store, and the RSS after it (state words touched by
# the walk are resident then). The ceilings run beside it, as in the size blocks.
DERIVED_NOTES="$TMP/derived.tsv" # what count seconds rss_before_kb rss_after_kb
: >"$DERIVED_NOTES"
log "=== derived batches: generate 1M and $DERIVED_N codes into a fresh process ==="
start_mfa big --metrics on
rss0=$(rss_kb "${PID[big]}")
generate big 1000000
rss1=$(rss_kb "${PID[big]}")
printf 'generate\t1000000\t%s\t%s\t%s\n' "$GEN_SECONDS" "$rss0" "$rss1" >>"$DERIVED_NOTES"
log "generate 1M (derived): ${GEN_SECONDS}s, RSS $rss0 -> $rss1 kB"
rss1=$(rss_kb "${PID[big]}")
generate big "$DERIVED_N"
rss2=$(rss_kb "${PID[big]}")
printf 'generate\t%s\t%s\t%s\t%s\n' "$DERIVED_N" "$GEN_SECONDS" "$rss1" "$rss2" >>"$DERIVED_NOTES"
log "generate $DERIVED_N (derived): ${GEN_SECONDS}s, RSS $rss1 -> $rss2 kB"
for ((round = 1; round <= ROUNDS; round++)); do
  generate big "$WALK"
  export_csv big "$GEN_BATCH" "$TMP/walk.csv"
  run_wrk "$DERIVED_LABEL+" verify mfa-mock "$round" "$(store_records big)" "${PUB[big]}" verify.lua "$TMP/walk.csv" "$WRK_THREADS"
  rm -f "$TMP/walk.csv"
  ((SMOKE)) && continue # CI checks the path, not the ratios: the ceilings ran in the size block
  run_wrk "$DERIVED_LABEL+" ceiling nginx "$round" - "${PUB[nginx]}" verify.lua "$CEILING_CSV" "$WRK_THREADS" wrap
  run_wrk "$DERIVED_LABEL+" ceiling bare-pistache "$round" - "${PUB[bare]}" verify.lua "$CEILING_CSV" "$WRK_THREADS" wrap
done
printf 'after-walk\t%s\t\t%s\t%s\n' "$(store_records big)" "$rss1" "$(rss_kb "${PID[big]}")" >>"$DERIVED_NOTES"
stop_pid "${PID[big]}"

# ---- the shared store (issue 12): one node over Redis vs one node in memory --------------------
# Same options for both nodes (--sessions off for both: the load test's verifies are open mode),
# the same population and walked-batch sizes, alternated with the ceilings, which stay up.
# The Redis node's walked batch is generated with one fixed code into an empty Redis and its ids
# read from Redis (GET /admin/verifications/export is node-local: 501 over Redis).
RESULTS_REDIS="$TMP/results-redis.tsv"
CPU_NOTES="$TMP/cpu.tsv" # mode round requests node_utime node_stime redis_utime redis_stime (ticks)
REDIS_GEN="$TMP/redis-generate.tsv" # first|round count seconds used_before used_after mem_node_seconds 408_after
: >"$RESULTS_REDIS"
: >"$CPU_NOTES"
: >"$REDIS_GEN"
if [[ $STORE == redis ]]; then
  P=$REDIS_LABEL
  N=$REDIS_N
  log "=== shared store: $N codes over Redis and in memory (+ a fresh walked batch of $WALK per success run) ==="
  start_redis
  start_mfa redis --metrics on --sessions off --store "redis://127.0.0.1:$REDIS_PORT?prefix=$REDIS_PREFIX"
  wait_ready redis
  start_mfa mem --metrics on --sessions off
  RESULTS_TO=$RESULTS_REDIS

  # Memory per record and generate time: N codes into the fresh Redis (random codes, as a load
  # test's population), INFO memory before and after; then deleted for the rounds.
  # One request, timed by curl. If it is answered 408 (the admin listener's 10 s request timeout;
  # the records are still being written), the time is instead until Redis holds all N records.
  mem0=$(redis_used_memory)
  keys0=$(rcli dbsize)
  t0=$(date +%s.%N)
  GEN_408=""
  # Stored records ("derived": false): this block measures Redis per record (a derived batch is
  # a rule: docs/admin-api.md).
  if ! GEN_OK_408=1 GEN_STORED=1 generate redis "$N"; then
    GEN_408=$GEN_SECONDS
    log "generate $N over Redis answered 408 after ${GEN_408}s; waiting for the records in Redis"
    for ((i = 0; i < 1200; i++)); do
      (($(rcli dbsize) >= keys0 + N)) && break
      sleep 0.1
    done
    (($(rcli dbsize) >= keys0 + N)) || die "Redis holds $(rcli dbsize) keys 120 s after generate $N answered 408"
    GEN_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.6f", b - a }')
    sleep 1 # the batch's last script calls: used_memory below is read once they are done
  fi
  mem1=$(redis_used_memory)
  printf '%s\t%s\t%s\t%s\t%s\t\t%s\n' first "$N" "$GEN_SECONDS" "$mem0" "$mem1" "$GEN_408" >>"$REDIS_GEN"
  log "generate $N over Redis: ${GEN_SECONDS}s, used_memory $mem0 -> $mem1 bytes"
  # One record as Redis holds it (a random key of those).
  for ((i = 0; i < 20; i++)); do
    SAMPLE_KEY=$(rcli randomkey)
    [[ $SAMPLE_KEY == "$REDIS_PREFIX:v:{"* ]] && break
  done
  SAMPLE_USAGE=$(rcli memory usage "$SAMPLE_KEY")
  SAMPLE_ENCODING=$(rcli object encoding "$SAMPLE_KEY")
  SAMPLE_FIELDS=$(rcli hgetall "$SAMPLE_KEY" | paste -sd' ' | awk '{ for (i = 1; i < NF; i += 2) printf "%s%s=%s", (i > 1 ? " " : ""), $i, $(i + 1) }')
  SAMPLE_TTL=$(rcli pttl "$SAMPLE_KEY")

  for ((round = 1; round <= ROUNDS; round++)); do
    # Every round starts from the same state: no records in Redis (DELETE /admin/verifications,
    # which leaves the nodes' shared settings alone) nor in memory; then the walked batch (over
    # Redis: first, so that every record id in Redis is one of it), then the population. Redis
    # then holds N + walk records, as the memory node does.
    clear_store redis
    ((round == 1)) || clear_store mem
    GEN_STORED=1 generate_chunked redis "$WALK" "$REDIS_CODE"
    # The batch's ids: KEYS, not SCAN: this Redis is ours and idle here, and one reply is much
    # faster than redis-cli's SCAN loop (COUNT 10); it also never repeats a key.
    rcli --raw keys "$REDIS_PREFIX:v:*" | sed -n "s/^$REDIS_PREFIX:v:{\(.*\)}\$/\1/p" |
      awk -v code="$REDIS_CODE" 'BEGIN { print "verificationId,code,identifierType,identifier" } { print $0 "," code ",email," }' \
        >"$TMP/redis-walk.csv"
    got=$(($(wc -l <"$TMP/redis-walk.csv") - 1))
    ((got == WALK)) || die "the walked batch over Redis has $got ids, not $WALK"
    sync "$TMP/redis-walk.csv" 2>/dev/null || sync
    GEN_STORED=1 generate_chunked redis "$N"
    redis_seconds=$GEN_SECONDS
    recs_redis=$(rcli dbsize)

    generate mem "$N"
    printf '%s\t%s\t%s\t\t\t%s\n' "$round" "$N" "$redis_seconds" "$GEN_SECONDS" >>"$REDIS_GEN"
    generate mem "$WALK"
    export_csv mem "$GEN_BATCH" "$TMP/walk.csv"
    recs_mem=$(store_records mem)

    # A: the memory node; B: the Redis node (CPU of the node and of redis-server around the run).
    c0=$(cpu_ticks "${PID[mem]}")
    run_wrk "$P" verify-memory mfa-mock "$round" "$recs_mem" "${PUB[mem]}" verify.lua "$TMP/walk.csv" "$WRK_THREADS"
    c1=$(cpu_ticks "${PID[mem]}")
    printf '%s\t%s\t%s\t%s\t%s\n' verify-memory "$round" "$(tail -n1 "$RESULTS_REDIS" | cut -f15)" \
      "$(tick_delta "$c0" "$c1")" \
      $'-\t-' >>"$CPU_NOTES"
    rm -f "$TMP/walk.csv"
    c0=$(cpu_ticks "${PID[redis]}")
    r0=$(cpu_ticks "${PID[redis-server]}")
    run_wrk "$P" verify-redis mfa-mock "$round" "$recs_redis" "${PUB[redis]}" verify.lua "$TMP/redis-walk.csv" "$WRK_THREADS"
    c1=$(cpu_ticks "${PID[redis]}")
    r1=$(cpu_ticks "${PID[redis-server]}")
    printf '%s\t%s\t%s\t%s\t%s\n' verify-redis "$round" "$(tail -n1 "$RESULTS_REDIS" | cut -f15)" \
      "$(tick_delta "$c0" "$c1")" \
      "$(tick_delta "$r0" "$r1")" >>"$CPU_NOTES"
    rm -f "$TMP/redis-walk.csv"
    # C, D: the ceilings, as in the blocks above.
    run_wrk "$P" ceiling nginx "$round" - "${PUB[nginx]}" verify.lua "$CEILING_CSV" "$WRK_THREADS" wrap
    run_wrk "$P" ceiling bare-pistache "$round" - "${PUB[bare]}" verify.lua "$CEILING_CSV" "$WRK_THREADS" wrap
  done
  unset RESULTS_TO

  stop_pid "${PID[redis]}"
  stop_pid "${PID[mem]}"
  REDIS_VERSION=$(rcli info server | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }')
  stop_pid "${PID[redis-server]}"
fi

stop_pid "${PID[nginx]}"
stop_pid "${PID[bare]}"

# ---- the table -------------------------------------------------------------------------------
echo
MODE_NOTE=""
((SMOKE)) && MODE_NOTE=" (smoke)"
echo "mfa-mock benchmark$MODE_NOTE: $(nproc) cores, ${CPU_MODEL:-unknown CPU}; wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s, $ROUNDS round(s), servers $THREADS threads/workers; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# print_table FILE [FOOTER]: one row per (size, mode, target) of FILE; FOOTER=0 drops the notes.
print_table() {
awk -F'\t' -v rounds="$ROUNDS" -v footer="${2:-1}" '
  function fmt_us(v) { return v >= 1000 ? sprintf("%.2fms", v / 1000) : sprintf("%.0fus", v) }
  function fmt_n(v) {
    if (v == "-" || v == "") return "-"
    if (v >= 1000000) return sprintf("%.1fM", v / 1000000)
    if (v >= 1000) return sprintf("%.0fk", v / 1000)
    return v
  }
  {
    key = $1 SUBSEP $2 SUBSEP $3
    if (!(key in n)) { order[++nk] = key; phase_of[key] = $1; mode_of[key] = $2; target_of[key] = $3; recs[key] = $16; minr[key] = $5; maxr[key] = $5 }
    n[key]++; sum[key] += $5; p50[key] += $6
    if ($7 > p99[key]) p99[key] = $7
    if ($5 < minr[key]) minr[key] = $5
    if ($5 > maxr[key]) maxr[key] = $5
    non2xx[key] += $8; sock[key] += $9
    bad[key] += $12 + $13 + $14
    expected[key] += $11
  }
  END {
    for (i = 1; i <= nk; i++) { k = order[i]; mean[k] = sum[k] / n[k] }
    printf "%-6s %-19s %-13s %8s %10s %17s %8s %8s %8s %8s %7s %7s\n", "size", "mode", "target", "store", "req/s", "min..max", "p50", "p99", "non-200", "sockerr", "x nginx", "x bare"
    for (i = 1; i <= nk; i++) {
      k = order[i]; ph = phase_of[k]
      ng = mean[ph SUBSEP "ceiling" SUBSEP "nginx"]; bp = mean[ph SUBSEP "ceiling" SUBSEP "bare-pistache"]
      rn = (target_of[k] == "mfa-mock" && ng > 0) ? sprintf("%.2f", mean[k] / ng) : "-"
      rb = (target_of[k] == "mfa-mock" && bp > 0) ? sprintf("%.2f", mean[k] / bp) : "-"
      # non-200: for the wrong-code mode, 400 is expected and not counted here.
      if (mode_of[k] == "verify-wrong") errs = bad[k]
      else if (target_of[k] == "mfa-mock") errs = bad[k] + non2xx[k]
      else errs = non2xx[k]
      printf "%-6s %-19s %-13s %8s %10.0f %17s %8s %8s %8d %8d %7s %7s\n", ph, mode_of[k], target_of[k], fmt_n(recs[k]), mean[k],
        sprintf("%.0f..%.0f", minr[k], maxr[k]), fmt_us(p50[k] / n[k]), fmt_us(p99[k]), errs, sock[k], rn, rb
      if (mode_of[k] == "verify-wrong") wrong_note = wrong_note sprintf("  %s: %d answers 400 as expected\n", ph, expected[k])
    }
    if (!footer) exit
    printf "\nreq/s = mean of the rounds; p50 = mean, p99 = worst round; store = records at the start of round 1;\n"
    printf "x nginx / x bare = mfa-mock req/s over the ceiling measured in the same size block.\n"
    if (wrong_note != "") printf "verify-wrong (400 is the right answer there, counted apart):\n%s", wrong_note
  }' "$1"
}
print_table "$RESULTS"

echo
echo "generate (POST /admin/verifications/generate, curl time_total) and RSS of the fresh process:"
awk -F'\t' '
  $4 != "" {
    per = ($5 - $4) * 1024 / $2
    printf "  %-5s %9d codes: first generate %.3f s; RSS %d -> %d kB = %.1f bytes/record\n", $1, $2, $3, $4, $5, per
    next
  }
  { printf "  %-5s %9d codes: regenerated in %.3f s\n", $1, $2, $3 }' "$GEN_NOTES"

# ---- derived batches (issue 17) ----------------------------------------------------------------
echo
echo "derived batches (issue 17): generate into a fresh process (curl time_total), RSS around it:"
awk -F'\t' '
  $1 == "generate" { printf "  generate %10d codes: %.3f s; RSS %d -> %d kB = %.2f bytes/record\n", $2, $3, $4, $5, ($5 - $4) * 1024 / $2 }
  $1 == "after-walk" { printf "  after the verify runs (%d records held): RSS %d kB = %.2f bytes/record over the 1M-batch baseline\n", $2, $5, ($5 - $4) * 1024 / $2 }' "$DERIVED_NOTES"
awk -F'\t' '
  $3 == "mfa-mock" && ($2 == "verify" || $2 == "verify-stored") { s[$1 SUBSEP $2] += $5; n[$1 SUBSEP $2]++; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
  END {
    for (i = 1; i <= k; i++) {
      p = order[i]; d = p SUBSEP "verify"; t = p SUBSEP "verify-stored"
      if (n[d] && n[t]) printf "  verify [%s]: derived %.0f req/s, stored %.0f req/s, derived/stored %.3f\n", p, s[d] / n[d], s[t] / n[t], (s[d] / n[d]) / (s[t] / n[t])
    }
  }' "$RESULTS"

# ---- the shared store (issue 12) -------------------------------------------------------------
if [[ $STORE == redis ]]; then
  echo
  echo "shared store (--store redis, issue 12): $REDIS_N codes generated in each store (+ a walked batch of $WALK per success run);"
  echo "redis-server ${REDIS_VERSION:-?} on the same cores, no persistence; both mfa-mock nodes --sessions off, otherwise as above:"
  echo
  print_table "$RESULTS_REDIS" 0
  echo
  awk -F'\t' '
    $3 == "mfa-mock" { s[$2] += $5; n[$2]++ }
    END {
      if (n["verify-memory"] && n["verify-redis"] && s["verify-memory"] > 0) {
        m = s["verify-memory"] / n["verify-memory"]; r = s["verify-redis"] / n["verify-redis"]
        printf "verify over Redis / in memory: %.2f (%.0f vs %.0f req/s, mean of the rounds)\n", r / m, r, m
      }
    }' "$RESULTS_REDIS"
  echo "CPU per verify (utime + stime of the whole process from /proc/PID/stat across each wrk run, over its requests; all rounds):"
  awk -F'\t' -v tck="$CLK_TCK" '
    function line(name, u, s, req) {
      printf "  %-27s %6.1f us (%.1f user + %.1f system)\n", name, (u + s) * 1e6 / tck / req, u * 1e6 / tck / req, s * 1e6 / tck / req
    }
    { req[$1] += $3; nu[$1] += $4; ns[$1] += $5; if ($6 != "-") { ru[$1] += $6; rs[$1] += $7 } }
    END {
      if (req["verify-memory"] > 0) line("memory node (mfa-mock)", nu["verify-memory"], ns["verify-memory"], req["verify-memory"])
      if (req["verify-redis"] > 0) {
        k = "verify-redis"
        line("Redis node (mfa-mock)", nu[k], ns[k], req[k])
        line("redis-server", ru[k], rs[k], req[k])
        line("Redis node + redis-server", nu[k] + ru[k], ns[k] + rs[k], req[k])
      }
    }' "$CPU_NOTES"
  awk -F'\t' '
    $1 == "first" {
      printf "Redis used_memory (INFO memory) before and after generating %d records into the fresh redis-server:\n", $2
      printf "  %d -> %d bytes = %.1f bytes/record\n", $4, $5, ($5 - $4) / $2
    }' "$REDIS_GEN"
  echo "  one record ($SAMPLE_KEY): MEMORY USAGE ${SAMPLE_USAGE:-?} bytes, OBJECT ENCODING ${SAMPLE_ENCODING:-?}, PTTL ${SAMPLE_TTL:-?} ms"
  echo "  its fields: $SAMPLE_FIELDS"
  echo "generate (POST /admin/verifications/generate, curl time_total), $REDIS_N codes:"
  awk -F'\t' '
    $1 == "first" && $7 != "" { printf "  into the fresh redis-server: answered 408 after %.3f s; all records in Redis after %.3f s\n", $7, $3; next }
    $1 == "first" { printf "  into the fresh redis-server: %.3f s (one request)\n", $3; next }
    { printf "  round %d, after the walked batch: over Redis %.3f s (requests of at most 500k), in memory %.3f s\n", $1, $3, $6 }' "$REDIS_GEN"
fi

# ---- targets (issue 4) -----------------------------------------------------------------------
echo
echo "issue-4 targets:"
MISSED=0
target_line() { # name status detail
  printf '  %-40s %-7s %s\n' "$1" "$2" "$3"
  [[ $2 == MISSED ]] && MISSED=1
  return 0
}
mean_rps() { # phase mode target [results file]
  awk -F'\t' -v p="$1" -v m="$2" -v t="$3" '$1 == p && $2 == m && $3 == t { s += $5; n++ } END { if (n) printf "%.2f", s / n }' "${4:-$RESULTS}"
}
ratio_check() { # name a b floor
  local r
  if [[ -z $2 || -z $3 ]]; then target_line "$1" "n/a" "(not measured in this run)"; return; fi
  r=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.3f", a / b }')
  if awk -v r="$r" -v f="$4" 'BEGIN { exit !(r >= f) }'; then
    target_line "$1" holds "$r (floor $4)"
  else
    target_line "$1" MISSED "$r (floor $4)"
  fi
}
for P in "${SIZE_LABELS[@]}"; do
  v=$(mean_rps "$P" verify mfa-mock)
  ratio_check "verify >= 0.95x bare Pistache [$P]" "$v" "$(mean_rps "$P" ceiling bare-pistache)" 0.95
  ratio_check "verify >= 0.5x nginx [$P]" "$v" "$(mean_rps "$P" ceiling nginx)" 0.5
done
small=""
big=""
for idx in "${!SIZE_COUNTS[@]}"; do
  [[ -z $small && ${SIZE_COUNTS[$idx]} == 1000 ]] && small=${SIZE_LABELS[$idx]}
  [[ -z $big && ${SIZE_COUNTS[$idx]} == 10000000 ]] && big=${SIZE_LABELS[$idx]}
done
if [[ -n $small && -n $big ]]; then
  ratio_check "10M-code verify >= 0.9x 1k-code verify" "$(mean_rps "$big" verify mfa-mock)" "$(mean_rps "$small" verify mfa-mock)" 0.9
else
  target_line "10M-code verify >= 0.9x 1k-code verify" "n/a" "(needs --sizes with 1k and 10M)"
fi
rss10=$(awk -F'\t' '$2 == 10000000 && $4 != "" { printf "%.1f", ($5 - $4) * 1024 / $2 }' "$GEN_NOTES")
if [[ -n $rss10 ]]; then
  if awk -v r="$rss10" 'BEGIN { exit !(r <= 100) }'; then target_line "RSS <= 100 bytes/record at 10M" holds "$rss10"; else target_line "RSS <= 100 bytes/record at 10M" MISSED "$rss10"; fi
else
  target_line "RSS <= 100 bytes/record at 10M" "n/a" "(needs the 10M size)"
fi
gen1m=$(awk -F'\t' '$2 == 1000000 && $4 != "" { print $3 }' "$GEN_NOTES")
if [[ -n $gen1m ]]; then
  if awk -v s="$gen1m" 'BEGIN { exit !(s <= 1.5) }'; then target_line "generate 1M codes <= 1.5 s" holds "${gen1m}s"; else target_line "generate 1M codes <= 1.5 s" MISSED "${gen1m}s"; fi
else
  target_line "generate 1M codes <= 1.5 s" "n/a" "(needs the 1M size)"
fi
p99=$(awk -F'\t' '$3 == "mfa-mock" && $2 == "verify" && $7 > m { m = $7 } END { printf "%.0f", m }' "$RESULTS")
if ((p99 <= 5000)); then target_line "verify p99 <= 5 ms at $CONNECTIONS connections" holds "${p99}us (worst run)"; else target_line "verify p99 <= 5 ms at $CONNECTIONS connections" MISSED "${p99}us (worst run)"; fi

# ---- targets (issue 17) ------------------------------------------------------------------------
echo
echo "issue-17 targets (derived batches):"
for P in "${SIZE_LABELS[@]}"; do
  ratio_check "derived verify >= 0.98x stored [$P]" "$(mean_rps "$P" verify mfa-mock)" "$(mean_rps "$P" verify-stored mfa-mock)" 0.98
done
ratio_check "derived verify >= 1.0x bare Pistache [$DERIVED_LABEL+]" "$(mean_rps "$DERIVED_LABEL+" verify mfa-mock)" \
  "$(mean_rps "$DERIVED_LABEL+" ceiling bare-pistache)" 1.0
if [[ -n $small ]]; then
  ratio_check "verify at $DERIVED_LABEL >= 0.9x at 1k (flat)" "$(mean_rps "$DERIVED_LABEL+" verify mfa-mock)" "$(mean_rps "$small" verify mfa-mock)" 0.9
else
  target_line "verify at $DERIVED_LABEL >= 0.9x at 1k (flat)" "n/a" "(needs the 1k size)"
fi
g1=$(awk -F'\t' '$1 == "generate" && $2 == 1000000 { print $3; exit }' "$DERIVED_NOTES")
if awk -v s="$g1" 'BEGIN { exit !(s <= 0.020) }'; then st=holds; else st=MISSED; fi
target_line "generate 1M <= 20 ms" "$st" "${g1}s (curl time_total)"
gN=$(awk -F'\t' -v n="$DERIVED_N" '$1 == "generate" && $2 == n { print $3 }' "$DERIVED_NOTES" | tail -n1)
if ((DERIVED_N < 100000000)); then
  target_line "generate 100M <= 1 s" "n/a" "${gN}s for $DERIVED_N (needs --derived-records 100M)"
elif awk -v s="$gN" 'BEGIN { exit !(s <= 1) }'; then
  target_line "generate 100M <= 1 s" holds "${gN}s for $DERIVED_N"
else
  target_line "generate 100M <= 1 s" MISSED "${gN}s for $DERIVED_N"
fi
perN=$(awk -F'\t' '$1 == "after-walk" { printf "%.2f", ($5 - $4) * 1024 / $2 }' "$DERIVED_NOTES")
if ((DERIVED_N < 100000000)); then
  target_line "RSS <= 4 bytes/record at 100M" "n/a" "$perN at $DERIVED_N (needs --derived-records 100M)"
elif awk -v r="$perN" 'BEGIN { exit !(r <= 4) }'; then
  target_line "RSS <= 4 bytes/record at 100M" holds "$perN (after the verify runs)"
else
  target_line "RSS <= 4 bytes/record at 100M" MISSED "$perN (after the verify runs)"
fi
p99d=$(awk -F'\t' -v p="$DERIVED_LABEL+" '$1 == p && $2 == "verify" && $7 > m { m = $7 } END { printf "%.0f", m }' "$RESULTS")
if ((p99d <= 3000)); then st=holds; else st=MISSED; fi
target_line "derived verify p99 <= 3 ms at $CONNECTIONS connections" "$st" "${p99d}us (worst round, $DERIVED_LABEL+)"

# ---- targets (issue 12, --store redis) -----------------------------------------------------------
if [[ $STORE == redis ]]; then
  echo
  echo "issue-12 targets (--store redis):"
  ratio_check "Redis verify >= 0.5x memory verify" "$(mean_rps "$REDIS_LABEL" verify-redis mfa-mock "$RESULTS_REDIS")" \
    "$(mean_rps "$REDIS_LABEL" verify-memory mfa-mock "$RESULTS_REDIS")" 0.5
  p99r=$(awk -F'\t' '$2 == "verify-redis" && $7 > m { m = $7 } END { printf "%.0f", m }' "$RESULTS_REDIS")
  if ((p99r <= 5000)); then st=holds; else st=MISSED; fi
  target_line "Redis p99 <= 5 ms at $CONNECTIONS connections" "$st" "${p99r}us (worst round)"
  per=$(awk -F'\t' '$1 == "first" { printf "%.1f", ($5 - $4) / $2 }' "$REDIS_GEN")
  if ((REDIS_N < 1000000)); then
    target_line "Redis used_memory <= 256 bytes/record" "n/a" "$per at $REDIS_N records (needs --redis-records 1M or more)"
  elif awk -v r="$per" 'BEGIN { exit !(r <= 256) }'; then
    target_line "Redis used_memory <= 256 bytes/record" holds "$per"
  else
    target_line "Redis used_memory <= 256 bytes/record" MISSED "$per"
  fi
  genr=$(awk -F'\t' '$1 == "first" { print $3 }' "$REDIS_GEN")
  if ((REDIS_N != 1000000)); then
    target_line "generate 1M over Redis <= 10 s" "n/a" "${genr}s for $REDIS_N (needs --redis-records 1M)"
  elif awk -v s="$genr" 'BEGIN { exit !(s <= 10) }'; then
    target_line "generate 1M over Redis <= 10 s" holds "${genr}s"
  else
    target_line "generate 1M over Redis <= 10 s" MISSED "${genr}s${GEN_408:+ (answered 408 after ${GEN_408}s: until all records were in Redis)}"
  fi
fi

# ---- failures --------------------------------------------------------------------------------
# Success modes (verify, send): every answer must be 200, no socket errors, no exhausted walk.
# Wrong-code mode: every answer must be 400.
FAIL=0
while IFS=$'\t' read -r phase mode target round _rps _p50 _p99 non2xx sock ok expected errors exhausted late requests _recs; do
  [[ $target == mfa-mock ]] || continue
  if ((errors + exhausted + late + sock > 0)) || { [[ $mode != verify-wrong ]] && ((non2xx > 0)); }; then
    log "FAIL: $mode size $phase round $round: errors=$errors non-2xx=$non2xx socket=$sock exhausted=$exhausted late=$late (ok=$ok expected=$expected of $requests)"
    ((exhausted + late > 0)) && log "      the walked batch ran out: raise --max-rate (now $MAX_RATE req/s)"
    FAIL=1
  fi
done < <(cat "$RESULTS" "$RESULTS_REDIS")

# ---- store micro-benchmark -------------------------------------------------------------------
if ((STORE_BENCH)); then
  echo
  echo "store micro-benchmark (bench/store_bench.cc):"
  "$STORE_BIN" --benchmark_counters_tabular=false 2>&1 | grep -v '^\*\*\*WARNING' || die "store_bench failed"
fi

if ((FAIL)); then
  log "result: FAILED (a success run saw non-200 answers)"
  exit 1
fi
if ((ENFORCE && MISSED)); then
  log "result: a target was missed (--enforce-targets)"
  exit 1
fi
log "result: ok"
