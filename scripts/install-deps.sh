#!/usr/bin/env bash
# Installs what mfa-mock needs from Debian bookworm's packages. Run as root (or with sudo).
# Usage: scripts/install-deps.sh [build|test]   (test adds the test-only tools)
set -euo pipefail

want=(g++ cmake make pkg-config git libpistache-dev rapidjson-dev prometheus-cpp-dev libcli11-dev libspdlog-dev python3 python3-yaml)
if [[ "${1:-build}" == "test" ]]; then
  want+=(libgtest-dev libgmock-dev libbenchmark-dev prometheus curl python3 python3-yaml wrk nginx-light clang libclang-rt-14-dev)
fi

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
