#!/usr/bin/env bash
# Makes sure promtool (Debian's prometheus package) is installed for the rule tests of `make test`
# (tests/unit/test_prometheus.py). Idempotent and quiet: prints promtool's path. PROMTOOL
# overrides it (default: promtool on PATH). Only the package is installed: its service is not
# started (no init system runs it in a container; --no-install-recommends leaves out node-exporter).
set -euo pipefail
promtool=${PROMTOOL:-$(command -v promtool || true)}
if [ -z "$promtool" ]; then
  echo "ensure-promtool: installing prometheus (for promtool) from Debian's archive" >&2
  log=$(mktemp)
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
         $sudo apt-get install -y -qq --no-install-recommends prometheus; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "ensure-promtool: could not install prometheus" >&2
    exit 1
  fi
  rm -f "$log"
  promtool=$(command -v promtool)
fi
"$promtool" --version >/dev/null 2>&1 || { echo "ensure-promtool: $promtool does not run" >&2; exit 1; }
echo "$promtool"
