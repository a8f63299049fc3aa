#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the Debian package dist/mfa-mock_<version>_amd64.deb with dpkg-buildpackage (debhelper,
# dependencies from dpkg-shlibdeps) in a clean copy of HEAD: the server, a man page generated from
# --help (help2man), /etc/default/mfa-mock and a hardened systemd unit. See docs/deployment.md.
#
# Usage: scripts/build-deb.sh [--check] [--no-build]
#   --check     then: lintian --fail-on error,warning; apt-get install ./dist/*.deb in a clean
#               bookworm root filesystem (scripts/lib/bookworm-rootfs.sh), where the installed
#               binary, started with /etc/default/mfa-mock's variables, serves a send and a verify;
#               systemd-analyze verify on the installed unit
#   --no-build  only the checks, on the .deb already in dist/
# Run as root on Debian bookworm (installs what is missing: scripts/install-deps.sh package).
# Only committed files are packaged (it clones HEAD). Exit status: 0 passed, 1 failed, 2 usage.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
check=0
build=1
for arg in "$@"; do
  case $arg in
    --check) check=1 ;;
    --no-build) build=0; check=1 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-deb: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done
log() { echo "[build-deb $(date -u +%H:%M:%S)] $*" >&2; }
die() { echo "[build-deb] FAILED: $*" >&2; exit 1; }

# shellcheck source=lib/bookworm-rootfs.sh
source "$ROOT/scripts/lib/bookworm-rootfs.sh"
WORK=
MOCK_PID=
cleanup() {
  local rc=$?
  if [[ -n $MOCK_PID ]]; then kill -TERM "$MOCK_PID" 2>/dev/null || true; fi
  rootfs_cleanup
  [[ -n $WORK && -d $WORK ]] && rm -rf --one-file-system "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/scripts/install-deps.sh" package
WORK=$(mktemp -d /tmp/mfa-mock-deb.XXXXXX)

version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
cmake_version=$(sed -nE 's/^project\(mfa_mock VERSION ([0-9.]+).*/\1/p' "$ROOT/CMakeLists.txt")
[[ $version == "$cmake_version" ]] ||
  die "debian/changelog says $version, CMakeLists.txt's project() says $cmake_version: make them agree"
arch=$(dpkg --print-architecture)
deb=$ROOT/dist/mfa-mock_${version}_${arch}.deb

if ((build)); then
  t0=$SECONDS
  src=$WORK/mfa-mock-$version
  git clone -q --no-hardlinks "$ROOT" "$src"
  git -C "$src" checkout -q --detach "$(git -C "$ROOT" rev-parse HEAD)"
  log "dpkg-buildpackage -b in a clean clone of $(git -C "$ROOT" rev-parse --short HEAD) (log: $WORK/build.log)"
  if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" timeout 1800 nice -n 5 \
      dpkg-buildpackage -b -us -uc) >"$WORK/build.log" 2>&1; then
    tail -n 60 "$WORK/build.log" >&2
    die "dpkg-buildpackage (last lines above)"
  fi
  mkdir -p "$ROOT/dist"
  cp "$WORK/mfa-mock_${version}_${arch}.deb" "$deb"
  log "built $deb ($(du -k "$deb" | cut -f1) KiB) in $((SECONDS - t0)) s"
  dpkg-deb --info "$deb" | sed -n '/Package:/,$p' >&2
  dpkg-deb --contents "$deb" | awk '{print "  " $1, $NF}' >&2
fi
((check)) || exit 0
[[ -f $deb ]] || die "$deb is missing (build it first)"

# 1. lintian: no errors, no warnings (info and pedantic tags are printed, not fatal).
log "lintian --fail-on error,warning --display-info --pedantic $deb"
lintian --fail-on error,warning --display-info --pedantic "$deb" | tee "$WORK/lintian.txt" >&2 ||
  die "lintian reported errors or warnings (above)"
log "lintian: $(grep -c '' "$WORK/lintian.txt") tag(s), none an error or a warning"

# 2. apt-get install ./dist/*.deb in a clean bookworm root filesystem.
t1=$SECONDS
R=$WORK/root
rootfs_make "$R"
rootfs_mount "$R"
mkdir -p "$R/dist"
cp "$deb" "$R/dist/"
log "chroot: apt-get install ./dist/$(basename "$deb") (clean bookworm root, policy-rc.d refuses starts)"
if ! ROOTFS_TIMEOUT=900 rootfs_chroot "$R" /bin/sh -c \
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends ./dist/$(basename "$deb")" \
    >"$WORK/install.log" 2>&1; then
  tail -n 40 "$WORK/install.log" >&2
  die "apt-get install of the .deb in a clean root (last lines above)"
fi
for f in /usr/bin/mfa-mock /usr/share/man/man1/mfa-mock.1.gz /etc/default/mfa-mock \
    /lib/systemd/system/mfa-mock.service /usr/share/doc/mfa-mock/copyright; do
  [[ -e $R$f ]] || die "$f is not installed"
done
grep -qx /etc/default/mfa-mock "$R/var/lib/dpkg/info/mfa-mock.conffiles" || die "/etc/default/mfa-mock is not a conffile"
log "installed in $((SECONDS - t1)) s: $(rootfs_chroot "$R" mfa-mock --version)"

# 3. The installed binary with the conffile's variables (as the unit starts it; ports 0 so that
#    nothing collides here, snapshot in the state directory) serves a send and a verify.
mkdir -p "$R/var/lib/mfa-mock"
ROOTFS_EXEC=1 rootfs_chroot "$R" /bin/sh -c 'set -a; . /etc/default/mfa-mock; set +a;
  export MFA_MOCK_LISTEN=127.0.0.1:0 MFA_MOCK_ADMIN_LISTEN=127.0.0.1:0; exec /usr/bin/mfa-mock' \
  >"$WORK/mock.log" 2>&1 &
MOCK_PID=$!
for _ in $(seq 100); do
  grep -q '^mfa-mock ready ' "$WORK/mock.log" && break
  kill -0 "$MOCK_PID" 2>/dev/null || { cat "$WORK/mock.log" >&2; die "the installed mfa-mock exited before its ready line"; }
  sleep 0.2
done
ready=$(grep -m1 '^mfa-mock ready ' "$WORK/mock.log") || { cat "$WORK/mock.log" >&2; die "no ready line in 20 s"; }
log "$ready"
public=$(sed -E 's/.* public=([^ ]+).*/\1/' <<<"$ready")
admin=$(sed -E 's/.* admin=([^ ]+).*/\1/' <<<"$ready")
python3 "$ROOT/tests/deploy/smoke.py" "http://$public" "http://$admin" || die "send/verify against the installed binary"
kill -TERM "$MOCK_PID"
rc=0
wait "$MOCK_PID" || rc=$?
MOCK_PID=
[[ $rc -eq 0 ]] || { cat "$WORK/mock.log" >&2; die "the installed mfa-mock exited $rc on SIGTERM"; }
[[ -s $R/var/lib/mfa-mock/snapshot.bin ]] || die "no snapshot in /var/lib/mfa-mock at stop (MFA_MOCK_SNAPSHOT)"
log "installed binary: send+verify 200, SIGTERM exit 0, snapshot written to /var/lib/mfa-mock/snapshot.bin"

# 4. systemd-analyze verify on the installed unit (systemd installed into the same root: its
#    postinst must not start anything either; man-db so that Documentation=man:mfa-mock(1) is
#    checked against the installed page).
if ! ROOTFS_TIMEOUT=900 rootfs_chroot "$R" /bin/sh -c \
    'apt-get install -y -qq --no-install-recommends systemd man-db' >"$WORK/systemd.log" 2>&1; then
  tail -n 40 "$WORK/systemd.log" >&2
  die "apt-get install systemd man-db in the chroot"
fi
if ! rootfs_chroot "$R" systemd-analyze verify /lib/systemd/system/mfa-mock.service >"$WORK/verify.log" 2>&1 ||
    [[ -s $WORK/verify.log ]]; then
  cat "$WORK/verify.log" >&2
  die "systemd-analyze verify mfa-mock.service"
fi
log "systemd-analyze verify mfa-mock.service: no complaint"
rootfs_chroot "$R" systemd-analyze security --offline=yes /lib/systemd/system/mfa-mock.service 2>/dev/null |
  tail -n 1 >&2 || true
log "passed"
