# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# bench/run.sh --store cluster (issue 13): sourced by bench/run.sh, which it needs (start_mfa,
# start_redis, run_wrk, generate_chunked, cpu_ticks, ...). docs/benchmarks.md explains it.
#
# Two mfa-mock nodes over (a) one standalone redis-server and (b) a local Redis Cluster of
# CLUSTER_MASTERS masters (no replicas), the same success-mode verify through both nodes, the
# topologies alternated round by round. One wrk drives both nodes (verify.lua's MFA_BENCH_PORTS:
# thread i -> node i % 2): one client process and one latency histogram, as in the one-node
# blocks, instead of a second wrk competing for the same two cores.
#
# CPU is read around every wrk run, in CPU seconds (other load is not charged to it; req/s and
# p99 depend on it): /proc/PID/stat of both nodes and of every redis-server of the topology, the shell's
# children times (wrk), and /proc/stat (the whole box: what is left is other people's load).

# start_cluster: CLUSTER_MASTERS cluster-enabled redis-servers on free loopback ports (the bus
# port, port + 10000, free too), one temp dir each, no persistence; redis-cli --cluster create;
# waits until every node reports cluster_state:ok with all 16384 slots. Sets CL_PORTS, CL_PIDS.
CL_PORTS=()
CL_PIDS=()
start_cluster() {
  local i attempt port dir pid j ok
  for ((i = 0; i < CLUSTER_MASTERS; i++)); do
    for ((attempt = 0; attempt < 20; attempt++)); do
      port=$((20000 + RANDOM % 35000))
      port_in_use "$port" && continue
      port_in_use $((port + 10000)) && continue
      [[ " ${CL_PORTS[*]} " == *" $port "* ]] && continue
      dir="$TMP/cluster/$port"
      mkdir -p "$dir"
      redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
        --dir "$dir" --logfile '' --cluster-enabled yes --cluster-config-file nodes.conf \
        --cluster-node-timeout 5000 >"$dir/stderr" 2>&1 &
      pid=$!
      PIDS+=("$pid")
      ok=0
      for ((j = 0; j < 50; j++)); do
        if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then ok=1; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if ((ok)); then
        CL_PORTS+=("$port")
        CL_PIDS+=("$pid")
        PID["cluster-$port"]=$pid
        break
      fi
      stop_pid "$pid"
    done
    ((${#CL_PORTS[@]} == i + 1)) || { cat "$dir/stderr" >&2 || true; die "cluster redis-server $((i + 1)) did not start"; }
  done
  local addrs=()
  for port in "${CL_PORTS[@]}"; do addrs+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$TMP/cluster/create.log" 2>&1 ||
    { cat "$TMP/cluster/create.log" >&2; die "redis-cli --cluster create failed"; }
  for ((j = 0; j < 200; j++)); do
    ok=1
    for port in "${CL_PORTS[@]}"; do
      redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | tr -d '\r' |
        awk -F: '$1 == "cluster_state" { s = $2 } $1 == "cluster_slots_ok" { n = $2 } END { exit !(s == "ok" && n == 16384) }' ||
        { ok=0; break; }
    done
    ((ok)) && break
    sleep 0.1
  done
  ((ok)) || die "the cluster did not reach cluster_state:ok in 20 s"
  log "redis cluster: ${#CL_PORTS[@]} masters, pids ${CL_PIDS[*]}, ports ${CL_PORTS[*]}, cluster_state:ok"
}

MISSED=0
target_line() { # name status detail (as bench/run.sh's, which is defined after this block runs)
  printf '  %-44s %-7s %s\n' "$1" "$2" "$3"
  [[ $2 == MISSED ]] && MISSED=1
  return 0
}

# sum_ticks PID...: utime + stime of all of them, in clock ticks.
sum_ticks() {
  local pid t=0 u s
  for pid in "$@"; do
    read -r u s < <(cpu_ticks "$pid")
    t=$((t + u + s))
  done
  echo "$t"
}
# usc PID...: "UTIME STIME SWITCHES" summed over them: ticks, and the context switches of every
# thread (/proc/PID/task/*/status; a process's own status counts its main thread only).
usc() {
  local pid u s c=0 t=0 x=0
  for pid in "$@"; do
    read -r u s < <(cpu_ticks "$pid")
    t=$((t + u))
    x=$((x + s))
    c=$((c + $(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches:/ { n += $2 } END { print n + 0 }')))
  done
  echo "$t $x $c"
}
# each_ticks PID...: "T1 T2 ..." (utime + stime of each).
each_ticks() {
  local pid out=() u s
  for pid in "$@"; do
    read -r u s < <(cpu_ticks "$pid")
    out+=($((u + s)))
  done
  echo "${out[*]}"
}
# children_cs: CHILD_CS = user + system CPU of this shell's reaped children (wrk), in
# centiseconds. Called as a command, not in $(...): a subshell's `times` has its own, empty,
# children.
children_cs() {
  times >"$TMP/times.txt"
  CHILD_CS=$(awk 'NR == 2 {
    t = 0
    for (i = 1; i <= 2; i++) { split($i, a, "m"); sub(/s$/, "", a[2]); t += a[1] * 60 + a[2] }
    printf "%d", t * 100 + 0.5
  }' "$TMP/times.txt")
}
# box_ticks: "BUSY TOTAL" of the whole box from /proc/stat (all cores; idle and iowait are not busy).
box_ticks() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat; }

# cluster_round TOPOLOGY ROUND KIND: fresh walked batch and population through node TOPOLOGY-1,
# one wrk over both nodes, CPU around it. Appends a row to CL_NOTES (its topology column is
# TOPOLOGY for stored records, TOPOLOGY-derived for derived ones).
#   KIND stored: one hash per record ("derived": false, as sends and seeds make them), one fixed
#                code; the walk's ids are read with KEYS from every redis-server of the topology.
#   KIND derived: a derived batch (what generate makes by default, issue 17: a rule and a state
#                word per record in 64k-record chunks); the walk is the batch's export.
cluster_round() {
  local topo=$1 round=$2 kind=$3 ports pids port got recs n1="$1-1" n2="$1-2" label=$1
  [[ $kind == derived ]] && label="$topo-derived"
  if [[ $topo == standalone ]]; then
    ports=("$REDIS_PORT")
    pids=("${PID[redis-server]}")
  else
    ports=("${CL_PORTS[@]}")
    pids=("${CL_PIDS[@]}")
  fi
  clear_store "$n1"
  if [[ $kind == derived ]]; then
    generate "$n1" "$CLUSTER_WALK"
    export_csv "$n1" "$GEN_BATCH" "$TMP/cluster-export.csv"
    # Shuffled: the export lists the batch in sequence order, one 64k-record chunk (one slot)
    # after another, and wrk walks the file in order.
    { head -n1 "$TMP/cluster-export.csv"; tail -n +2 "$TMP/cluster-export.csv" | shuf; } >"$TMP/cluster-walk.csv"
    rm -f "$TMP/cluster-export.csv"
    generate "$n1" "$REDIS_N"
    recs=$((CLUSTER_WALK + REDIS_N))
  else
    # Stored records ("derived": false): the walk reads their ids from Redis's keys.
    GEN_STORED=1 generate_chunked "$n1" "$CLUSTER_WALK" "$REDIS_CODE"
    {
      echo "verificationId,code,identifierType,identifier"
      # Shuffled: KEYS lists one master after another, and wrk walks the file in order (a short
      # run would verify on the first master only).
      for port in "${ports[@]}"; do
        redis-cli -h 127.0.0.1 -p "$port" --raw keys "$REDIS_PREFIX:v:*"
      done | sed -n "s/^$REDIS_PREFIX:v:{\(.*\)}\$/\1,$REDIS_CODE,email,/p" | shuf
    } >"$TMP/cluster-walk.csv"
    GEN_STORED=1 generate_chunked "$n1" "$REDIS_N"
    recs=0
    for port in "${ports[@]}"; do recs=$((recs + $(redis-cli -h 127.0.0.1 -p "$port" dbsize))); done
  fi
  got=$(($(wc -l <"$TMP/cluster-walk.csv") - 1))
  ((got == CLUSTER_WALK)) || die "the walked batch ($label) has $got rows, not $CLUSTER_WALK"
  sync "$TMP/cluster-walk.csv" 2>/dev/null || sync

  local c0 c1 r0 r1 w0 w1 b0 b1 t0 t1 x0 x1 y0 y1 calls=()
  for port in "${ports[@]}"; do redis-cli -h 127.0.0.1 -p "$port" config resetstat >/dev/null; done
  c0=$(sum_ticks "${PID[$n1]}" "${PID[$n2]}")
  r0=$(each_ticks "${pids[@]}")
  x0=$(usc "${PID[$n1]}" "${PID[$n2]}")
  y0=$(usc "${pids[@]}")
  b0=$(box_ticks)
  children_cs
  w0=$CHILD_CS
  t0=$(date +%s.%N)
  MFA_BENCH_PORTS="${PUB[$n1]},${PUB[$n2]}" run_wrk "$REDIS_LABEL" "verify-$label" mfa-mock "$round" "$recs" \
    "${PUB[$n1]}" verify.lua "$TMP/cluster-walk.csv" "$WRK_THREADS"
  t1=$(date +%s.%N)
  children_cs
  w1=$CHILD_CS
  b1=$(box_ticks)
  y1=$(usc "${pids[@]}")
  x1=$(usc "${PID[$n1]}" "${PID[$n2]}")
  r1=$(each_ticks "${pids[@]}")
  c1=$(sum_ticks "${PID[$n1]}" "${PID[$n2]}")
  rm -f "$TMP/cluster-walk.csv"
  for port in "${ports[@]}"; do
    calls+=("$(redis-cli -h 127.0.0.1 -p "$port" info commandstats | tr -d '\r' |
      sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p')")
  done
  # topo round requests rps p99 node_ticks redis_ticks busiest_redis_ticks wrk_cs wall busy total
  # masters evalsha_calls_per_server (INFO commandstats, reset before the run: the spread)
  # node_utime node_stime node_switches redis_utime redis_stime redis_switches
  awk -v x0="$x0" -v x1="$x1" -v y0="$y0" -v y1="$y1" -v topo="$label" -v calls="$(IFS=/; echo "${calls[*]:-0}")" -v round="$round" -v row="$(tail -n1 "$RESULTS_CLUSTER")" -v c="$((c1 - c0))" \
    -v r0="$r0" -v r1="$r1" -v w="$((w1 - w0))" -v wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    -v b0="$b0" -v b1="$b1" 'BEGIN {
      split(row, f, "\t"); n = split(r0, x, " "); split(r1, y, " "); split(b0, p, " "); split(b1, q, " ")
      sum = 0; max = 0
      for (i = 1; i <= n; i++) { d = y[i] - x[i]; sum += d; if (d > max) max = d }
      split(x0, a0, " "); split(x1, a1, " "); split(y0, e0, " "); split(y1, e1, " ")
      printf "%s\t%s\t%d\t%.2f\t%.1f\t%d\t%d\t%d\t%d\t%.3f\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", topo, round, f[15], f[5], f[7], c, sum, max, w, wall, q[1] - p[1], q[2] - p[2], n, calls,
        a1[1] - a0[1], a1[2] - a0[2], a1[3] - a0[3], e1[1] - e0[1], e1[2] - e0[2], e1[3] - e0[3]
    }' >>"$CL_NOTES"
}

run_cluster_block() {
  RESULTS_CLUSTER="$TMP/results-cluster.tsv"
  CL_NOTES="$TMP/cluster-cpu.tsv"
  : >"$RESULTS_CLUSTER"
  : >"$CL_NOTES"
  log "=== Redis Cluster (issue 13): two nodes over one redis-server and over $CLUSTER_MASTERS masters; $REDIS_N codes + a walked batch of $CLUSTER_WALK per run ==="
  start_redis
  start_cluster
  local cluster_url="redis://" port
  for port in "${CL_PORTS[@]}"; do cluster_url+="127.0.0.1:$port,"; done
  cluster_url="${cluster_url%,}?prefix=$REDIS_PREFIX"
  # Both topologies' nodes stay up; only the pair under load is measured.
  start_mfa standalone-1 --metrics on --sessions off --store "redis://127.0.0.1:$REDIS_PORT?prefix=$REDIS_PREFIX"
  start_mfa standalone-2 --metrics on --sessions off --store "redis://127.0.0.1:$REDIS_PORT?prefix=$REDIS_PREFIX"
  start_mfa cluster-1 --metrics on --sessions off --store "$cluster_url"
  start_mfa cluster-2 --metrics on --sessions off --store "$cluster_url"
  local n round
  for n in standalone-1 standalone-2 cluster-1 cluster-2; do wait_ready "$n"; done
  RESULTS_TO=$RESULTS_CLUSTER
  local kind
  for ((round = 1; round <= ROUNDS; round++)); do
    for kind in $CLUSTER_KINDS; do
      cluster_round standalone "$round" "$kind"
      cluster_round cluster "$round" "$kind"
    done
  done
  unset RESULTS_TO
  REDIS_VERSION=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server | tr -d '\r' | awk -F: '$1 == "redis_version" { print $2 }')
  for n in standalone-1 standalone-2 cluster-1 cluster-2; do stop_pid "${PID[$n]}"; done
  for port in "${CL_PORTS[@]}"; do stop_pid "${PID["cluster-$port"]}"; done
  stop_pid "${PID[redis-server]}"
  cluster_report
}

# cluster_report: the tables, the targets and the exit status, from RESULTS_CLUSTER and CL_NOTES.
cluster_report() {
  local mode_note=""
  ((SMOKE)) && mode_note=" (smoke)"
  echo
  echo "Redis Cluster benchmark$mode_note (bench/run.sh --store cluster, issue 13): $(nproc) cores, ${CPU_MODEL:-unknown CPU}"
  echo "two mfa-mock nodes ($THREADS threads, --sessions off) driven by one wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s (thread i -> node i % 2),"
  echo "$ROUNDS round(s), topologies alternated; redis-server ${REDIS_VERSION:-?}, no persistence; $REDIS_N codes + a walked batch of $CLUSTER_WALK per run;"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg). req/s and p99 depend on the box's other load; CPU per verify is"
  echo "in CPU seconds (utime + stime over wrk's requests), so other load is not charged to it, but a slower run batches"
  echo "fewer commands per syscall and costs more per verify: compare the topologies within one run, round by round."
  echo
  awk -F'\t' -v tck="$CLK_TCK" '
    {
      k = $1; if (!(k in n)) order[++nk] = k
      n[k]++; rps[k] += $4; if ($5 > p99[k]) p99[k] = $5; req[k] += $3; node[k] += $6; red[k] += $7
      big[k] += $8; wrk[k] += $9; wall[k] += $10; busy[k] += $11; tot[k] += $12; masters[k] = $13
      if (!(k in lo) || $4 < lo[k]) lo[k] = $4; if ($4 > hi[k]) hi[k] = $4
      spread[k] = spread[k] (spread[k] == "" ? "" : ", ") $14
      run[++nr] = $0
    }
    END {
      printf "%-33s %9s %15s %9s %15s %16s\n", "topology (records)", "req/s", "min..max", "p99", "node CPU/verify", "Redis CPU/verify"
      for (i = 1; i <= nk; i++) {
        k = order[i]
        name = (k ~ /^standalone/ ? "one redis-server" : sprintf("cluster, %d masters", masters[k])) (k ~ /derived/ ? ", derived" : "")
        printf "%-33s %9.0f %15s %9s %13.1f us %14.1f us\n", name, rps[k] / n[k], sprintf("%.0f..%.0f", lo[k], hi[k]),
          (p99[k] >= 1000 ? sprintf("%.2fms", p99[k] / 1000) : sprintf("%.0fus", p99[k])),
          node[k] * 1e6 / tck / req[k], red[k] * 1e6 / tck / req[k]
      }
      printf "\nreq/s = mean of the rounds, p99 = worst round; node CPU = both nodes, Redis CPU = every redis-server of\n"
      printf "the topology (the cluster: the sum over its masters), per verify over all rounds.\n"
      printf "\nwhere the 2 cores went during the wrk runs (share of the box: %d cores x wall time = 100%%):\n", ncores
      printf "%-33s %7s %7s %7s %9s %7s %17s\n", "topology (records)", "nodes", "Redis", "wrk", "not ours", "idle", "busiest Redis"
      for (i = 1; i <= nk; i++) {
        k = order[i]; cap = tot[k]
        fn = node[k] / cap; fr = red[k] / cap; fw = (wrk[k] / 100 * tck) / cap; fb = busy[k] / cap
        fo = fb - fn - fr - fw; if (fo < 0) fo = 0
        core = big[k] / (wall[k] * tck)
        name = (k ~ /^standalone/ ? "one redis-server" : sprintf("cluster, %d masters", masters[k])) (k ~ /derived/ ? ", derived" : "")
        printf "%-33s %6.0f%% %6.0f%% %6.0f%% %8.0f%% %6.0f%% %9.0f%% of a core\n", name, fn * 100, fr * 100, fw * 100, fo * 100, (1 - fb) * 100, core * 100
        # The bottleneck: a single-threaded redis-server near a full core; else, with the cores
        # busy, the biggest CPU user of ours (and how much other load took); else not CPU.
        if (fn >= fw && fn >= fr) ours = sprintf("the mfa-mock nodes'"'"' CPU (%.0f%% of the box, vs Redis %.0f%%, wrk %.0f%%)", fn * 100, fr * 100, fw * 100)
        else if (fw >= fr) ours = sprintf("wrk'"'"'s CPU (%.0f%% of the box, vs nodes %.0f%%, Redis %.0f%%)", fw * 100, fn * 100, fr * 100)
        else ours = sprintf("Redis'"'"' CPU (%.0f%% of the box, vs nodes %.0f%%, wrk %.0f%%)", fr * 100, fn * 100, fw * 100)
        if (core >= 0.9) what = sprintf("Redis: one redis-server uses %.0f%% of a core (single-threaded)", core * 100)
        else if (1 - fb > 0.2) what = sprintf("not CPU (%.0f%% idle): the connections and round trips", (1 - fb) * 100)
        else what = sprintf("the 2 cores (%.0f%% idle, other load %.0f%%); of ours, %s", (1 - fb) * 100, fo * 100, ours)
        bott[k] = what
      }
      for (i = 1; i <= nk; i++) { k = order[i]; printf "bottleneck [%s]: %s\n", k, bott[k] }
      for (i = 1; i <= nk; i++) {
        k = order[i]
        if (masters[k] > 1) printf "verify scripts per master [%s] (EVALSHA calls, each run): %s\n", k, spread[k]
      }
      printf "\neach run (CPU per verify = user + system; switches = context switches of every thread, per verify):\n"
      printf "%-18s %5s %9s %22s %22s %11s %11s\n", "topology", "round", "req/s", "node CPU/verify", "Redis CPU/verify", "node sw", "Redis sw"
      for (j = 1; j <= nr; j++) {
        split(run[j], r, "\t")
        printf "%-18s %5s %9.0f %8.1f us (%4.1f+%4.1f) %8.1f us (%4.1f+%4.1f) %11.2f %11.2f\n", r[1], r[2], r[4],
          (r[15] + r[16]) * 1e6 / tck / r[3], r[15] * 1e6 / tck / r[3], r[16] * 1e6 / tck / r[3],
          (r[18] + r[19]) * 1e6 / tck / r[3], r[18] * 1e6 / tck / r[3], r[19] * 1e6 / tck / r[3], r[17] / r[3], r[20] / r[3]
      }
    }' ncores="$(nproc)" "$CL_NOTES"

  # Targets (issue 13).
  echo
  echo "issue-13 targets (--store cluster):"
  local per_s per_c red_s red_c core_c fn_c fr_c kind suffix tag ratio
  for kind in $CLUSTER_KINDS; do
    suffix="" tag=""
    [[ $kind == derived ]] && suffix=-derived tag=", derived"
    read -r per_s red_s < <(awk -F'\t' -v tck="$CLK_TCK" -v k="standalone$suffix" '$1 == k { r += $3; c += $6; d += $7 } END { if (r) printf "%.2f %.2f\n", c * 1e6 / tck / r, d * 1e6 / tck / r }' "$CL_NOTES")
    read -r per_c red_c core_c fn_c fr_c < <(awk -F'\t' -v tck="$CLK_TCK" -v k="cluster$suffix" '$1 == k { r += $3; c += $6; d += $7; b += $8; w += $10; t += $12 }
      END { if (r) printf "%.2f %.2f %.5f %.5f %.5f\n", c * 1e6 / tck / r, d * 1e6 / tck / r, b / (w * tck), c / t, d / t }' "$CL_NOTES")
    ratio=$(awk -v a="$per_c" -v b="$per_s" 'BEGIN { printf "%.3f", a / b }')
    if awk -v r="$ratio" 'BEGIN { exit !(r <= 1.20) }'; then st=holds; else st=MISSED; fi
    target_line "cluster node CPU <= 1.20x standalone${tag:+ [derived]}" "$st" "$ratio ($per_c vs $per_s us per verify)"
    if awk -v r="$red_s" 'BEGIN { exit !(r <= 15) }'; then st=holds; else st=MISSED; fi
    target_line "Redis CPU per verify <= 15 us [standalone$tag]" "$st" "$red_s us"
    if awk -v r="$red_c" 'BEGIN { exit !(r <= 15) }'; then st=holds; else st=MISSED; fi
    target_line "Redis CPU per verify <= 15 us [cluster$tag]" "$st" "$red_c us (sum over $CLUSTER_MASTERS masters)"
    # Not the bottleneck: the busiest master under half a core, and Redis below the nodes.
    if awk -v c="$core_c" -v n="$fn_c" -v r="$fr_c" 'BEGIN { exit !(c < 0.5 && r < n) }'; then st=holds; else st=MISSED; fi
    target_line "$CLUSTER_MASTERS masters: Redis is not the bottleneck${tag:+ [derived]}" "$st" "$(awk -v c="$core_c" -v n="$fn_c" -v r="$fr_c" 'BEGIN { printf "busiest master %.0f%% of a core; Redis %.0f%% vs nodes %.0f%% of the box", c * 100, r * 100, n * 100 }')"
  done

  local fail=0 topo round _rps _p50 _p99 non2xx sock ok expected errors exhausted late requests _recs phase mode target
  while IFS=$'\t' read -r phase mode target round _rps _p50 _p99 non2xx sock ok expected errors exhausted late requests _recs; do
    if ((errors + exhausted + late + sock + non2xx > 0)); then
      log "FAIL: $mode round $round: errors=$errors non-2xx=$non2xx socket=$sock exhausted=$exhausted late=$late (ok=$ok of $requests)"
      ((exhausted + late > 0)) && log "      the walked batch ran out: raise --cluster-max-rate (now $CLUSTER_RATE req/s)"
      fail=1
    fi
  done <"$RESULTS_CLUSTER"
  if ((fail)); then
    log "result: FAILED (a success run saw non-200 answers)"
    exit 1
  fi
  if ((ENFORCE && MISSED)); then
    log "result: a target was missed (--enforce-targets)"
    exit 1
  fi
  log "result: ok"
  exit 0
}
