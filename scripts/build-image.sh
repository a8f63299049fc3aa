#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the container image (Dockerfile) offline with Debian's buildah, then runs it with podman
# and sends and verifies a code through its published ports. No registry is needed: unless
# debian:bookworm-slim is already in the local store, a debootstrap'd bookworm root
# (scripts/lib/bookworm-rootfs.sh, slimmed like the official -slim image) is imported as
# docker.io/library/debian:bookworm-slim. The build's apt-get uses the host's network.
#
# Usage: scripts/build-image.sh [--no-run] [--tag NAME]
#   --tag NAME  image name (default localhost/mfa-mock:<version>)
#   --no-run    build only
#   --base-only only import the base image (when missing) and stop
# Environment: BUILDAH_ISOLATION (default chroot), MFA_MOCK_PODMAN_RUNTIME (default runc),
#   MFA_MOCK_IMAGE_ULIMITS (default "--ulimit nofile=1024:1024 --ulimit nproc=4096:4096").
# Run as root on Debian bookworm. Only committed files go into the image (it clones HEAD).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
run=1
base_only=0
tag=
while (($#)); do
  case $1 in
    --no-run) run=0 ;;
    --base-only) base_only=1 ;;
    --tag) tag=${2:?--tag needs a name}; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "[build-image $(date -u +%H:%M:%S)] $*" >&2; }
die() { echo "[build-image] FAILED: $*" >&2; exit 1; }
version=$(sed -nE 's/^project\(mfa_mock VERSION ([0-9.]+).*/\1/p' "$ROOT/CMakeLists.txt")
tag=${tag:-localhost/mfa-mock:$version}
base=docker.io/library/debian:bookworm-slim
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
runtime=${MFA_MOCK_PODMAN_RUNTIME:-runc}
read -r -a ulimits <<<"${MFA_MOCK_IMAGE_ULIMITS:---ulimit nofile=1024:1024 --ulimit nproc=4096:4096}"

# shellcheck source=lib/bookworm-rootfs.sh
source "$ROOT/scripts/lib/bookworm-rootfs.sh"
WORK=
CONTAINER=
cleanup() {
  local rc=$?
  if [[ -n $CONTAINER ]]; then
    podman --runtime "$runtime" stop -t 15 "$CONTAINER" >/dev/null 2>&1 || true
    podman --runtime "$runtime" rm -f "$CONTAINER" >/dev/null 2>&1 || true
  fi
  rootfs_cleanup
  [[ -n $WORK && -d $WORK ]] && rm -rf --one-file-system "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$ROOT/scripts/install-deps.sh" image
WORK=$(mktemp -d /tmp/mfa-mock-image.XXXXXX)

# 1. The base image, made here when there is none.
if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
  log "no $base in the local store: importing a debootstrap'd bookworm (minbase, slimmed)"
  R=$WORK/base
  rootfs_make "$R"
  rm -f "$R/usr/sbin/policy-rc.d" "$R/etc/hosts"
  : >"$R/etc/resolv.conf"
  # As the official -slim images: no documentation, man pages or translations from now on.
  cat >"$R/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CFG
  find "$R/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$R/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$R/usr/share/man/"* "$R/usr/share/info/"* "$R/var/lib/apt/lists/"* "$R/var/cache/apt/"*.bin
  find "$R/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  tar -C "$R" --numeric-owner -cf "$WORK/base.tar" .
  rm -rf --one-file-system "$R"
  podman import --change 'CMD ["bash"]' "$WORK/base.tar" "$base" >/dev/null
  rm -f "$WORK/base.tar"
  log "imported $base ($(podman image inspect --format '{{.Size}}' "$base" | numfmt --to=iec))"
fi

((base_only)) && exit 0

# 2. The image, from a clean clone of HEAD.
ctx=$WORK/src
git clone -q --no-hardlinks "$ROOT" "$ctx"
git -C "$ctx" checkout -q --detach "$(git -C "$ROOT" rev-parse HEAD)"
t0=$SECONDS
log "buildah bud --pull=never --format docker -t $tag (isolation $BUILDAH_ISOLATION; log: $WORK/build.log)"
if ! timeout 2400 nice -n 5 buildah bud --pull=never --format docker --network host --layers=false \
    --jobs 1 -t "$tag" -f "$ctx/Dockerfile" "$ctx" >"$WORK/build.log" 2>&1; then
  tail -n 60 "$WORK/build.log" >&2
  die "buildah bud (last lines above)"
fi
size=$(podman image inspect --format '{{.Size}}' "$tag")
log "built $tag in $((SECONDS - t0)) s: $(numfmt --to=iec "$size") ($size bytes; base $(numfmt --to=iec "$(podman image inspect --format '{{.Size}}' "$base")"))"
log "runtime packages (dpkg-shlibdeps): $(awk '/&& cat \/out\/runtime-packages/ { on = 1; next }
  on && /^\[/ { exit } on && !/^dpkg-shlibdeps/ { printf "%s ", $0 }' "$WORK/build.log")"
podman image inspect --format 'user={{.Config.User}} ports={{.Config.ExposedPorts}} healthcheck={{.Config.Healthcheck.Test}}' "$tag" >&2 ||
  podman image inspect --format 'user={{.Config.User}} ports={{.Config.ExposedPorts}}' "$tag" >&2
((run)) || exit 0

# 3. podman run with published ports and a token; a send and a verify through them.
pick_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pub=$(pick_port)
adm=$(pick_port)
token=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
log "podman --runtime $runtime run -d ${ulimits[*]} -p 127.0.0.1:$pub:3001 -p 127.0.0.1:$adm:3002 -e MFA_MOCK_ADMIN_TOKEN=*** $tag"
if ! CONTAINER=$(podman --runtime "$runtime" run -d "${ulimits[@]}" -p "127.0.0.1:$pub:3001" -p "127.0.0.1:$adm:3002" \
    -e MFA_MOCK_ADMIN_TOKEN="$token" "$tag" 2>"$WORK/run.err"); then
  CONTAINER=
  cat "$WORK/run.err" >&2
  die "podman run (error above)"
fi
if ! python3 "$ROOT/tests/deploy/smoke.py" "http://127.0.0.1:$pub" "http://127.0.0.1:$adm" --token "$token"; then
  podman logs "$CONTAINER" 2>&1 | tail -n 20 >&2
  die "send/verify through the published ports"
fi
podman --runtime "$runtime" healthcheck run "$CONTAINER" && log "HEALTHCHECK: healthy" ||
  die "the image's HEALTHCHECK failed"
podman --runtime "$runtime" exec "$CONTAINER" id >&2
podman --runtime "$runtime" stop -t 15 "$CONTAINER" >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$CONTAINER")
[[ $code == 0 ]] || die "the container exited $code on stop (expected 0)"
podman logs "$CONTAINER" 2>&1 | grep -m1 'mfa-mock ready' >&2 || true
podman rm "$CONTAINER" >/dev/null
CONTAINER=
log "passed: $tag, $(numfmt --to=iec "$size")"
