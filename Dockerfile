# SPDX-License-Identifier: Apache-2.0
# mfa-mock's container image. Build: `docker build -t mfa-mock .` (or scripts/build-image.sh,
# which builds it offline with buildah). Run: docs/deployment.md.
#   docker run -p 3001:3001 -p 3002:3002 -e MFA_MOCK_ADMIN_TOKEN=change-me mfa-mock
# Both listeners are on 0.0.0.0 in the container, so the admin API (which hands out codes) needs
# MFA_MOCK_ADMIN_TOKEN; without it mfa-mock refuses to start (exit 2). On a developer's machine,
# publish the ports on loopback only and allow the admin API without a token:
#   docker run -p 127.0.0.1:3001:3001 -p 127.0.0.1:3002:3002 -e MFA_MOCK_ADMIN_INSECURE=1 mfa-mock

# ---- build: the server only (no tests, no benchmarks), Release -------------------------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config git dpkg-dev python3 python3-yaml \
      libpistache-dev rapidjson-dev prometheus-cpp-dev libcli11-dev libspdlog-dev libhiredis-dev libicu-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DMFA_MOCK_BUILD_TESTS=OFF -DMFA_MOCK_BUILD_BENCH=OFF >/dev/null \
 && cmake --build /build --target mfa-mock -j"$(nproc)" \
 && cmake --install /build --prefix /out/usr --strip \
 && /out/usr/bin/mfa-mock --version
# The runtime packages, as dpkg-shlibdeps computes them for the .deb (first of any alternatives).
RUN dpkg-shlibdeps -O -e /out/usr/bin/mfa-mock \
    | sed -e 's/^shlibs:Depends=//' | tr ',' '\n' \
    | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' | grep . | sort -u > /out/runtime-packages \
 && cat /out/runtime-packages

# ---- run: bookworm-slim with only the runtime libraries, a non-root user ---------------------
FROM debian:bookworm-slim
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(cat /tmp/runtime-packages) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/runtime-packages \
 && groupadd --system --gid 10001 mfa-mock \
 && useradd --system --uid 10001 --gid mfa-mock --home-dir /var/lib/mfa-mock --no-create-home \
      --shell /usr/sbin/nologin mfa-mock \
 && install -d -o mfa-mock -g mfa-mock -m 0750 /var/lib/mfa-mock
COPY --from=build /out/usr/bin/mfa-mock /usr/bin/mfa-mock
COPY LICENSE /usr/share/doc/mfa-mock/LICENSE
USER 10001:10001
WORKDIR /var/lib/mfa-mock
# Every option is an MFA_MOCK_* variable (docs/configuration.md). Snapshots: mount a volume on
# /var/lib/mfa-mock and set MFA_MOCK_SNAPSHOT=/var/lib/mfa-mock/snapshot.bin.
ENV MFA_MOCK_LISTEN=0.0.0.0:3001 \
    MFA_MOCK_ADMIN_LISTEN=0.0.0.0:3002
EXPOSE 3001 3002
# /healthz on the admin listener needs no token. No curl in the image: bash's /dev/tcp.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${MFA_MOCK_ADMIN_LISTEN##*:} && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r -t 2 status <&3 && [[ $status == *' 200 '* ]]"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/mfa-mock"]
