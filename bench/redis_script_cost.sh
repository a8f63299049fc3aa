#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Redis CPU per verify when Redis is the bottleneck (issue 13): the verify scripts themselves,
# driven by redis-benchmark at a fixed pipeline depth against a lone redis-server, no mfa-mock.
# bench/run.sh --store cluster measures the same cost through two nodes, where Redis idles most of
# the time and pays a wake-up for every few commands; this is the capacity figure for sizing
# (docs/scale-out.md): verifies per second per Redis core = 1 / (CPU per verify).
#
#   bench/redis_script_cost.sh [--records N] [--requests N] [--pipeline P]
#
# stored:  N records made by redis/scripts/create.lua (ids 000000000000.., one code), then
#          redis/scripts/verify.lua on random ids; a repeated id takes the cheaper
#          "already consumed" path, and the script prints how many did.
# derived: redis/scripts/verify_derived.lua on random state words of one 64k-record chunk, with a
#          wrong code: the same commands as the success path (read, write the word), and the word
#          stays writable for 1,000,000 tries.
# CPU per call = the redis-server's utime + stime over the run / calls, so it includes reading
# and parsing the commands and writing the replies; "in script" is INFO commandstats' usec.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECORDS=2000000
REQUESTS=300000
PIPELINE=16
while (($#)); do
  case "$1" in
    --records) RECORDS=$2; shift ;;
    --requests) REQUESTS=$2; shift ;;
    --pipeline) PIPELINE=$2; shift ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "bench/redis_script_cost.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
  shift
done
for v in RECORDS REQUESTS PIPELINE; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench/redis_script_cost.sh: --${v,,} must be a positive integer" >&2; exit 2; }
done
((RECORDS <= 100000000)) || { echo "bench/redis_script_cost.sh: --records must be at most 100000000" >&2; exit 2; }
for tool in redis-server redis-cli redis-benchmark awk; do
  command -v "$tool" >/dev/null || { echo "bench/redis_script_cost.sh: '$tool' is not installed (apt-get install redis-server)" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/mfa-redis-cost.XXXXXX)
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for ((attempt = 0; attempt < 20; attempt++)); do
  PORT=$((20000 + RANDOM % 35000))
  port_in_use "$PORT" || break
done
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" --logfile '' \
  >"$TMP/redis.err" 2>&1 &
PID=$!
for ((i = 0; i < 50; i++)); do
  [[ $(redis-cli -p "$PORT" ping 2>/dev/null) == PONG ]] && break
  sleep 0.1
done
rcli() { redis-cli -p "$PORT" "$@"; }
ticks() { sed 's/^.*) //' "/proc/$PID/stat" | awk '{ print $12 + $13 }'; }
CLK_TCK=$(getconf CLK_TCK)
NOW=$(date +%s%3N)

# run NAME PATH_NOTE RANGE COMMAND...: one measured run (__rand_int__ below RANGE).
run() {
  local name=$1 note=$2 range=$3
  shift 3
  rcli config resetstat >/dev/null
  local t0 t1 calls usec
  t0=$(ticks)
  redis-benchmark -p "$PORT" -n "$REQUESTS" -c 8 -P "$PIPELINE" -r "$range" -q "$@" >/dev/null
  t1=$(ticks)
  read -r calls usec < <(rcli info commandstats | tr -d '\r' |
    awk -F'[=,:]' '/^cmdstat_evalsha:/ { print $3, $5 }')
  awk -v name="$name" -v t=$((t1 - t0)) -v tck="$CLK_TCK" -v n="$calls" -v us="$usec" -v note="$note" 'BEGIN {
    cpu = t * 1e6 / tck / n
    printf "%-8s %12.2f us %14.2f us %18.0f   %s\n", name, cpu, us / n, 1e6 / cpu, note }'
}

echo "Redis CPU per verify script call, Redis the bottleneck (bench/redis_script_cost.sh)"
echo "redis-server $(redis-server --version | awk '{ sub(/^v=/, "", $3); print $3 }'), redis-benchmark -c 8 -P $PIPELINE, $REQUESTS calls each, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the start"

# Stored records through create.lua itself, so the hash is the one mfa-mock writes (%.0f: mawk's
# %d stops at 2^31).
CREATE=$(rcli script load "$(cat "$ROOT/redis/scripts/create.lua")")
awk -v n="$RECORDS" -v sha="$CREATE" -v now="$NOW" 'BEGIN {
  for (i = 0; i < n; i++)
    printf "EVALSHA %s 1 mfa:v:{%012d} email 123456 user%d@example.com %.0f %.0f 1 1800000\r\n", sha, i, i, now, now + 600000
}' | rcli --pipe >"$TMP/pipe.log"
got=$(rcli dbsize)
((got == RECORDS)) || { cat "$TMP/pipe.log" >&2; echo "bench/redis_script_cost.sh: $got records created, not $RECORDS" >&2; exit 1; }

VERIFY=$(rcli script load "$(cat "$ROOT/redis/scripts/verify.lua")")
DERIVED=$(rcli script load "$(cat "$ROOT/redis/scripts/verify_derived.lua")")
printf '\n%-8s %15s %17s %18s   %s\n' "script" "CPU per call" "in script" "calls/s per core" "path"
# verify.lua ARGV: type, code, now, max attempts, documented, retention, session, blocked.
run stored "random ids over $RECORDS records" "$RECORDS" \
  evalsha "$VERIFY" 1 'mfa:v:{__rand_int__}' email 123456 $((NOW + 1000)) 1000 1 600000 0 0
consumed=$(rcli eval "local n = 0 for _, k in ipairs(redis.call('KEYS', 'mfa:v:*')) do if redis.call('HGET', k, 'ca') then n = n + 1 end end return n" 0)
echo "         ($consumed of $REQUESTS calls consumed a record; the other $((REQUESTS - consumed)) found it consumed already)"
# verify_derived.lua ARGV: word, code given, code expected, now, created, expires, retention,
# max attempts, unit, expire after.
run derived "random words of one chunk, wrong code" 65535 \
  evalsha "$DERIVED" 1 'mfa:dc:{7:3}' __rand_int__ 111111 123456 $((NOW + 1000)) "$NOW" $((NOW + 600000)) 600000 1000000 1000 1800000
