# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/fresh-machine-check.sh, scripts/build-deb.sh and scripts/build-image.sh:
# a clean Debian bookworm root filesystem (debootstrap --variant=minbase) cached as a tarball,
# unpacked into a folder and entered with chroot. Every mount is undone by rootfs_cleanup, which
# the caller runs from an EXIT trap; every process left in the chroot is stopped by PID.
#
# Environment: MFA_MOCK_DEBIAN_MIRROR (default: the first Debian mirror in apt's sources),
#   MFA_MOCK_CACHE_DIR (default ${XDG_CACHE_HOME:-/var/cache}/mfa-mock).

ROOTFS_CACHE_DIR=${MFA_MOCK_CACHE_DIR:-${XDG_CACHE_HOME:-/var/cache}/mfa-mock}
ROOTFS_TARBALL=$ROOTFS_CACHE_DIR/bookworm-minbase-amd64.tar.gz
ROOTFS_MOUNTS=()   # mount points, in the order they were mounted
ROOTFS_DIRS=()     # root folders to delete at cleanup

rootfs_log() { echo "[rootfs $(date -u +%H:%M:%S)] $*" >&2; }
rootfs_die() { echo "[rootfs] ERROR: $*" >&2; exit 1; }

# rootfs_apt_uri SUITE_REGEX: the first deb URI of apt's sources whose suite matches.
rootfs_apt_uri() {
  local want=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    awk -v want="$want" '
      /^[[:space:]]*$/ { if (uri != "" && suites ~ want && types ~ /(^| )deb( |$)/) { print uri; exit } uri = ""; suites = ""; types = ""; next }
      /^URIs:/ { uri = $2 } /^Suites:/ { $1 = ""; suites = $0 } /^Types:/ { $1 = ""; types = $0 " " }
      END { if (uri != "" && suites ~ want && types ~ /(^| )deb( |$)/) print uri }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    awk -v want="$want" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) ~ want) print $i }' "$f"
  done
}

rootfs_mirror() {
  if [[ -n ${MFA_MOCK_DEBIAN_MIRROR:-} ]]; then echo "$MFA_MOCK_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(rootfs_apt_uri '(^| )bookworm( |$)' | head -n 1)
  [[ -n $uri ]] || rootfs_die "no Debian bookworm mirror in /etc/apt/sources.list{,.d}; set MFA_MOCK_DEBIAN_MIRROR"
  echo "${uri%/}"
}

# rootfs_tarball: makes the cached tarball of a finished minbase bootstrap unless it exists.
rootfs_tarball() {
  [[ -s $ROOTFS_TARBALL ]] && return 0
  command -v debootstrap >/dev/null || rootfs_die "debootstrap is missing (scripts/install-deps.sh package)"
  local mirror tmp
  mirror=$(rootfs_mirror)
  mkdir -p "$ROOTFS_CACHE_DIR"
  tmp=$(mktemp -d "$ROOTFS_CACHE_DIR/bootstrap.XXXXXX")
  ROOTFS_DIRS+=("$tmp")
  rootfs_log "debootstrap --variant=minbase bookworm from $mirror (once; cached in $ROOTFS_TARBALL)"
  if ! timeout 1200 debootstrap --variant=minbase --arch=amd64 bookworm "$tmp/root" "$mirror" \
      >"$tmp/debootstrap.log" 2>&1; then
    tail -n 30 "$tmp/debootstrap.log" >&2
    [[ -f $tmp/root/debootstrap/debootstrap.log ]] && tail -n 30 "$tmp/root/debootstrap/debootstrap.log" >&2
    rootfs_die "debootstrap failed (log above)"
  fi
  rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*_Packages
  tar -C "$tmp/root" --numeric-owner -czf "$tmp/rootfs.tar.gz" .
  mv "$tmp/rootfs.tar.gz" "$ROOTFS_TARBALL"
  rm -rf --one-file-system "$tmp"
  rootfs_log "cached $(du -h "$ROOTFS_TARBALL" | cut -f1) in $ROOTFS_TARBALL"
}

# rootfs_make DIR: DIR becomes a fresh bookworm root, with apt sources, DNS and a policy-rc.d that
# refuses every service start.
rootfs_make() {
  local dir=$1 mirror security
  rootfs_tarball
  mirror=$(rootfs_mirror)
  security=$(rootfs_apt_uri '(^| )bookworm-security( |$)' | head -n 1)
  mkdir -p "$dir"
  ROOTFS_DIRS+=("$dir")
  tar -C "$dir" --numeric-owner -xzf "$ROOTFS_TARBALL"
  {
    echo "deb $mirror bookworm main"
    echo "deb $mirror bookworm-updates main"
    [[ -n $security ]] && echo "deb ${security%/} bookworm-security main"
  } >"$dir/etc/apt/sources.list"
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
  cp /etc/hosts "$dir/etc/hosts" 2>/dev/null || true
  # Certificate authorities the host added itself (e.g. a TLS-inspecting proxy in front of the npm
  # registry): without them npm fails in the chroot with SELF_SIGNED_CERT_IN_CHAIN. They join the
  # system bundle when ca-certificates is installed; Node.js reads them through
  # NODE_EXTRA_CA_CERTS (rootfs_chroot) from the start.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$dir/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
    cat /usr/local/share/ca-certificates/*.crt >"$dir/usr/local/share/host-extra-ca.pem"
  fi
  printf '#!/bin/sh\n# no service starts in this chroot\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
}

rootfs_mount() {  # rootfs_mount DIR: /proc, /sys, /dev, /dev/pts, /dev/shm for chroot
  local dir=$1
  mount -t proc proc "$dir/proc" && ROOTFS_MOUNTS+=("$dir/proc")
  mount -t sysfs sysfs "$dir/sys" && ROOTFS_MOUNTS+=("$dir/sys")
  mount --bind /dev "$dir/dev" && ROOTFS_MOUNTS+=("$dir/dev")
  mount --bind /dev/pts "$dir/dev/pts" && ROOTFS_MOUNTS+=("$dir/dev/pts")
  if [[ -d /dev/shm ]]; then
    mount -t tmpfs -o mode=1777 shm "$dir/dev/shm" && ROOTFS_MOUNTS+=("$dir/dev/shm")
  fi
  ROOTFS_MOUNTED_DIR=$dir
}

# rootfs_chroot DIR CMD...: CMD in the chroot, niced, with a clean environment (and at most
# ROOTFS_TIMEOUT seconds when that is set).
rootfs_chroot() {
  local dir=$1 limit=() extra=()
  shift
  [[ -n ${ROOTFS_TIMEOUT:-} ]] && limit=(timeout "$ROOTFS_TIMEOUT")
  [[ -f $dir/usr/local/share/host-extra-ca.pem ]] && extra=(NODE_EXTRA_CA_CERTS=/usr/local/share/host-extra-ca.pem)
  local cmd=("${limit[@]}" nice -n 5 chroot "$dir" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
    "${extra[@]}" "$@")
  # In the background (`ROOTFS_EXEC=1 rootfs_chroot ... &`) the subshell becomes the command, so
  # that $! is the PID of the process itself (signals reach it, `wait` gets its exit status).
  if [[ ${ROOTFS_EXEC:-0} == 1 ]]; then exec "${cmd[@]}"; fi
  "${cmd[@]}"
}

# Stops (by PID) every process whose root is one of our chroots, then unmounts, then deletes.
rootfs_cleanup() {
  local dir pid root i m
  for dir in "${ROOTFS_DIRS[@]}"; do
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
      root=$(readlink "/proc/$pid/root" 2>/dev/null) || continue
      [[ $root == "$dir" || $root == "$dir"/* ]] && kill -TERM "$pid" 2>/dev/null
    done
  done
  sleep 0.5
  for dir in "${ROOTFS_DIRS[@]}"; do
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
      root=$(readlink "/proc/$pid/root" 2>/dev/null) || continue
      [[ $root == "$dir" || $root == "$dir"/* ]] && kill -KILL "$pid" 2>/dev/null
    done
  done
  for ((i = ${#ROOTFS_MOUNTS[@]} - 1; i >= 0; i--)); do
    m=${ROOTFS_MOUNTS[i]}
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "[rootfs] WARNING: could not unmount $m" >&2
  done
  ROOTFS_MOUNTS=()
  if [[ ${MFA_MOCK_KEEP_ROOTFS:-0} == 1 ]]; then
    ((${#ROOTFS_DIRS[@]})) && echo "[rootfs] kept ${ROOTFS_DIRS[*]} (MFA_MOCK_KEEP_ROOTFS=1)" >&2
    return 0
  fi
  for dir in "${ROOTFS_DIRS[@]}"; do
    [[ -d $dir ]] || continue
    # Never delete through a mount that is still there (a bound /dev above all).
    if grep -qF " $dir/" /proc/self/mounts; then
      echo "[rootfs] WARNING: $dir still has mounts; not deleted" >&2
      continue
    fi
    rm -rf --one-file-system "$dir"
  done
  ROOTFS_DIRS=()
}
