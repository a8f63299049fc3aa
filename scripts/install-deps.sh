#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what mfa-mock needs from Debian bookworm's packages. Run as root (or with sudo).
# Usage: scripts/install-deps.sh [build|test|package|image]
#   build    (default) what scripts/quickstart.sh needs to build the server
#   test     adds the test-only tools (scripts/test.sh, the sanitizers, fuzzing, benchmarks)
#   package  build + what scripts/build-deb.sh and scripts/fresh-machine-check.sh need
#            (debhelper, help2man, lintian, systemd-analyze, debootstrap)
#   image    package + what scripts/build-image.sh needs (buildah, podman, runc)
set -euo pipefail

want=(g++ cmake make pkg-config git libpistache-dev rapidjson-dev prometheus-cpp-dev libcli11-dev libspdlog-dev libhiredis-dev libssl-dev libicu-dev python3 python3-yaml)
case "${1:-build}" in
  build) ;;
  test)
    want+=(libgtest-dev libgmock-dev libbenchmark-dev redis-server prometheus curl python3 python3-yaml python3-locust wrk nginx-light clang libclang-rt-14-dev)
    # The browser and OpenAPI tests: installed here, before ctest runs them in parallel (each
    # installing its own would race for apt's lock). Node.js only when there is none (a machine
    # may have another distribution's nodejs, with its own npm).
    want+=(chromium)
    command -v node >/dev/null || want+=(nodejs)
    command -v npm >/dev/null || want+=(npm)
    ;;
  package | image)
    want+=(debhelper dpkg-dev fakeroot help2man lintian systemd debootstrap curl)
    if [[ $1 == image ]]; then
      want+=(buildah podman runc fuse-overlayfs uidmap slirp4netns containernetworking-plugins)
    fi
    ;;
  *) echo "install-deps.sh: unknown set '$1' (build, test, package or image)" >&2; exit 2 ;;
esac

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
