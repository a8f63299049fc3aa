#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's quick start, tried as a new user would: in a clean Debian bookworm root filesystem
# (debootstrap --variant=minbase, cached as a tarball), a clean clone of this repository's HEAD is
# copied to /src and `scripts/quickstart.sh` runs there under chroot. It installs its own
# dependencies with its own apt, builds, and must print its ready line; then a send and a verify on
# loopback (tests/deploy/smoke.py) and mfa-mock is stopped by PID. With --tests, the README's test
# command (`scripts/test.sh`) runs in the same chroot afterwards. The only things taken from the
# host: apt's Debian mirror, /etc/resolv.conf, /etc/hosts, and the CA certificates the host added
# in /usr/local/share/ca-certificates (a TLS-inspecting proxy before the npm registry needs them).
#
# Usage: scripts/fresh-machine-check.sh [--tests]
#   Run as root on Debian bookworm. Only committed files are checked (it clones HEAD).
# Environment: MFA_MOCK_QUICKSTART_TIMEOUT (s, default 2400), MFA_MOCK_TESTS_TIMEOUT (s, default
#   5400), MFA_MOCK_KEEP_ROOTFS=1 keeps the root filesystem, plus those of scripts/lib/bookworm-rootfs.sh.
# Exit status: 0 passed, 1 failed, 2 usage.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
run_tests=0
for arg in "$@"; do
  case $arg in
    --tests) run_tests=1 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "fresh-machine-check: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "fresh-machine-check: run as root (debootstrap, chroot, mount)" >&2; exit 2; }

# shellcheck source=lib/bookworm-rootfs.sh
source "$ROOT/scripts/lib/bookworm-rootfs.sh"
log() { echo "[fresh-machine-check $(date -u +%H:%M:%S)] $*" >&2; }
die() { echo "[fresh-machine-check] FAILED: $*" >&2; exit 1; }

MOCK_PID=
WORK=
cleanup() {
  local rc=$?
  if [[ -n $MOCK_PID ]] && kill -0 "$MOCK_PID" 2>/dev/null; then
    kill -TERM "$MOCK_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$MOCK_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$MOCK_PID" 2>/dev/null || true
  fi
  rootfs_cleanup
  [[ -n $WORK && -d $WORK ]] && rm -rf --one-file-system "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in git python3 timeout chroot mount; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done
if ! command -v debootstrap >/dev/null; then
  "$ROOT/scripts/install-deps.sh" package
fi

t0=$SECONDS
WORK=$(mktemp -d /tmp/mfa-mock-fresh.XXXXXX)
R=$WORK/root
rootfs_make "$R"
log "clean bookworm root in $R ($((SECONDS - t0)) s)"
git clone -q --no-hardlinks "$ROOT" "$R/src"
git -C "$R/src" checkout -q --detach "$(git -C "$ROOT" rev-parse HEAD)"
log "clean clone of $(git -C "$ROOT" rev-parse --short HEAD) in /src"
rootfs_mount "$R"

# 1. The quick start: ports 0 (free ports; the ready line names them) so that it cannot collide
#    with a mock already running on 3001/3002.
t1=$SECONDS
out=$WORK/quickstart.log
log "chroot: cd /src && scripts/quickstart.sh --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 (log: $out)"
ROOTFS_EXEC=1 rootfs_chroot "$R" /bin/bash -c 'cd /src && exec scripts/quickstart.sh --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0' \
  >"$out" 2>&1 &
MOCK_PID=$!
limit=${MFA_MOCK_QUICKSTART_TIMEOUT:-2400}
ready=
while [[ -z $ready ]]; do
  ready=$(grep -m1 '^mfa-mock ready ' "$out" || true)
  [[ -n $ready ]] && break
  if ! kill -0 "$MOCK_PID" 2>/dev/null; then
    tail -n 40 "$out" >&2
    wait "$MOCK_PID" && rc=0 || rc=$?
    MOCK_PID=
    die "scripts/quickstart.sh exited ($rc) before its ready line (last lines above)"
  fi
  ((SECONDS - t1 < limit)) || { tail -n 40 "$out" >&2; die "no ready line after ${limit} s"; }
  sleep 1
done
quickstart_s=$((SECONDS - t1))
log "ready after ${quickstart_s} s: $ready"
public=$(sed -E 's/.* public=([^ ]+).*/\1/' <<<"$ready")
admin=$(sed -E 's/.* admin=([^ ]+).*/\1/' <<<"$ready")
python3 "$ROOT/tests/deploy/smoke.py" "http://$public" "http://$admin" || { tail -n 20 "$out" >&2; die "send/verify against the quick start's mock"; }
kill -TERM "$MOCK_PID"
rc=0
timeout 30 tail --pid="$MOCK_PID" -f /dev/null || true
wait "$MOCK_PID" || rc=$?
MOCK_PID=
[[ $rc -eq 0 ]] || die "mfa-mock exited $rc on SIGTERM (expected 0)"
log "quick start passed: ready after ${quickstart_s} s (clean root, apt, build), send+verify 200, SIGTERM exit 0"

if ((run_tests)); then
  t2=$SECONDS
  log "chroot: cd /src && scripts/test.sh (log: $WORK/test.log)"
  if ! ROOTFS_TIMEOUT=${MFA_MOCK_TESTS_TIMEOUT:-5400} rootfs_chroot "$R" /bin/bash -c 'cd /src && scripts/test.sh' \
      >"$WORK/test.log" 2>&1; then
    tail -n 80 "$WORK/test.log" >&2
    cp "$WORK/test.log" "${TMPDIR:-/tmp}/mfa-mock-fresh-test.log" 2>/dev/null || true
    die "scripts/test.sh in the clean root (last lines above; full log in ${TMPDIR:-/tmp}/mfa-mock-fresh-test.log)"
  fi
  tail -n 5 "$WORK/test.log" >&2
  log "scripts/test.sh passed in $((SECONDS - t2)) s"
fi
log "passed in $((SECONDS - t0)) s"
