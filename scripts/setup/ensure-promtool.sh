#!/usr/bin/env bash
# Makes sure promtool (Debian's prometheus package) is installed for the rule tests of `make test`
# (tests/unit/test_prometheus.py). Idempotent and quiet: prints promtool's path. PROMTOOL
# overrides it (default: promtool on PATH). Only the package is installed (as root or through
# sudo: scripts/setup/apt-install.sh); its service is not started, and --no-install-recommends leaves
# out the node exporter.
set -euo pipefail
here=$(dirname "$0")
promtool=${PROMTOOL:-$(command -v promtool || true)}
if [ -z "$promtool" ]; then
  "$here/apt-install.sh" --no-install-recommends prometheus || exit 1
  promtool=$(command -v promtool)
fi
"$promtool" --version >/dev/null 2>&1 || { echo "ensure-promtool: $promtool does not run" >&2; exit 1; }
echo "$promtool"
