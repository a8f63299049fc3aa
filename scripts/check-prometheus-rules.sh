#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the Prometheus alert rules in docs/prometheus/: syntax (promtool check rules) and
# behaviour (promtool test rules on alerts_test.yml). Exits non-zero on any failure.
# Needs promtool (Debian package `prometheus`): apt-get install -y --no-install-recommends prometheus
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rules_dir="${root}/docs/prometheus"
promtool="${PROMTOOL:-$(command -v promtool || true)}"

if [[ -z "${promtool}" || ! -x "${promtool}" ]]; then
  echo "check-prometheus-rules: promtool not found (install the Debian package 'prometheus' or set PROMTOOL)" >&2
  exit 2
fi

echo "== promtool check rules"
"${promtool}" check rules "${rules_dir}/alerts.yml"
echo "== promtool test rules"
"${promtool}" test rules "${rules_dir}/alerts_test.yml"
echo "check-prometheus-rules: OK"
