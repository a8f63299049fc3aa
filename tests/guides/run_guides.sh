#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the shell commands of the guides in docs/guides/ so they cannot rot.
#
# Every ```bash block of a guide carries a marker (see extract_blocks.py): <!-- test: run --> blocks
# run in order, in one bash (set -euo pipefail), per guide; a block without a marker fails the
# test. Each guide runs in its own scratch directory that looks like the repository root (bench/,
# clients/ and scripts/ are symlinks, docs/ a copy), with `mfa-mock` on PATH and fresh free ports:
#
#   MFA_MOCK_LISTEN / MFA_MOCK_ADMIN_LISTEN   where any mfa-mock the guide starts listens
#   PUBLIC, ADMIN, PROM                       their URLs (the guides default to :3001, :3002, :9090)
#   DURATION=2s, COUNT=300000                 a short load test instead of the guides' 10 s / 1M
#
# A guide fails on any non-zero exit, or when it runs longer than GUIDE_TIMEOUT seconds (60);
# whatever it left running (its process group) is stopped afterwards.
#
# Usage: tests/guides/run_guides.sh [--binary PATH] [docs/guides/NAME.md ...]
#   The binary may also come from MFA_MOCK_BINARY. Default guides: docs/guides/*.md.
#   GUIDES_VERBOSE=1 prints every guide's output, not only a failing one's.
# Needs: bash, curl, python3, wrk, promtool and prometheus (Debian `prometheus`), node and npm,
# locust (Debian `python3-locust`).
# Exit status: 0 every guide passed, 1 a guide failed, 2 bad usage or a missing tool.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
binary=${MFA_MOCK_BINARY:-}
guide_timeout=${GUIDE_TIMEOUT:-60}
guides=()
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=${2:?--binary needs a path}; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "run_guides.sh: unknown option $1" >&2; exit 2 ;;
    *) guides+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")") ;;
  esac
  shift
done
if [ ${#guides[@]} -eq 0 ]; then
  guides=("$root"/docs/guides/*.md)
fi

say() { echo "[guides] $*" >&2; }

if [ -z "$binary" ] || [ ! -x "$binary" ]; then
  say "no mfa-mock binary: pass --binary PATH or set MFA_MOCK_BINARY (got '$binary')"
  exit 2
fi
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
missing=()
for tool in curl python3 wrk promtool prometheus node npm locust setsid; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "missing tools: ${missing[*]} (scripts/install-deps.sh test installs curl, python3, wrk," \
      "prometheus, python3-locust, and node and npm when there are none)"
  exit 2
fi

free_ports() {  # prints N distinct free loopback ports
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# Stops what a guide left running: its whole process group (it ran in its own session).
stop_group() {
  local pgid=$1
  kill -TERM -- "-$pgid" 2>/dev/null || return 0
  for _ in $(seq 1 30); do
    kill -0 -- "-$pgid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pgid" 2>/dev/null || true
}

failed=()
elapsed() {  # seconds since $1 (an $EPOCHREALTIME value), one decimal
  local us=$(( ${EPOCHREALTIME/./} - ${1/./} ))
  printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}
total_start=$EPOCHREALTIME
for guide in "${guides[@]}"; do
  name=$(basename "$guide" .md)
  work=$(mktemp -d "${TMPDIR:-/tmp}/mfa-guide-$name.XXXXXX")
  mkdir "$work/bin"
  ln -s "$binary" "$work/bin/mfa-mock"
  # docs/ is copied, not linked: node resolves symlinks in import.meta.url, which would stop
  # docs/examples/serve.mjs from recognising itself as the main module.
  for d in bench clients scripts; do ln -s "$root/$d" "$work/$d"; done
  cp -R "$root/docs" "$work/docs"
  script="$work/.guide.sh"
  {
    echo 'set -euo pipefail'
    echo '__guide_block() { printf "\n[guide %s] block %s (%s:%s)\n" "$GUIDE" "$1" "$GUIDE_FILE" "$2" >&2; }'
    echo '__guide_skip() { printf "[guide %s] not run (%s:%s): %s\n" "$GUIDE" "$GUIDE_FILE" "$1" "$2" >&2; }'
    echo '__guide_done() { printf "[guide %s] %s blocks ran, %s not run\n" "$GUIDE" "$1" "$2" >&2; }'
    echo 'cd "$GUIDE_WORK"'
  } >"$script"
  if ! python3 "$here/extract_blocks.py" "$guide" >>"$script"; then
    say "FAIL $name: bad markers"
    failed+=("$name")
    continue
  fi
  read -r pub adm prom <<<"$(free_ports 3)"
  start=$EPOCHREALTIME
  log="$work/.guide.log"
  env PATH="$work/bin:$PATH" GUIDE="$name" GUIDE_FILE="docs/guides/$name.md" GUIDE_WORK="$work" \
      MFA_MOCK_LISTEN="127.0.0.1:$pub" MFA_MOCK_ADMIN_LISTEN="127.0.0.1:$adm" \
      PUBLIC="http://127.0.0.1:$pub" ADMIN="http://127.0.0.1:$adm" PROM="http://127.0.0.1:$prom" \
      DURATION=2s COUNT=300000 \
      setsid bash "$script" >"$log" 2>&1 </dev/null &
  pid=$!  # setsid does not fork here (a background job is no group leader): pid = session = group
  status=0
  deadline=$(( $(date +%s) + guide_timeout ))
  timed_out=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      timed_out=1
      stop_group "$pid"
      break
    fi
    sleep 0.1
  done
  wait "$pid" || status=$?
  stop_group "$pid"
  seconds=$(elapsed "$start")
  if [ "$timed_out" = 1 ] || [ "$status" != 0 ]; then
    why="exit $status"
    [ "$timed_out" = 1 ] && why="timed out after ${guide_timeout}s"
    say "FAIL $name ($why, ${seconds}s); its output:"
    tail -n 80 "$log" | sed 's/^/    /' >&2
    failed+=("$name")
    say "scratch directory kept: $work"
  else
    say "ok   $name (${seconds}s, $(grep -o '[0-9]* blocks ran, [0-9]* not run' "$log" | tail -n 1))"
    if [ -n "${GUIDES_VERBOSE:-}" ]; then sed 's/^/    /' "$log" >&2; fi
    rm -rf "$work"
  fi
done
total=$(elapsed "$total_start")
if [ ${#failed[@]} -gt 0 ]; then
  say "${#failed[@]} guide(s) failed: ${failed[*]} (${total}s)"
  exit 1
fi
say "all ${#guides[@]} guides passed (${total}s)"
