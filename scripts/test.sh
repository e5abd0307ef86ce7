#!/usr/bin/env bash
# Runs the test tiers in order (default: all). Any failure or skip fails the run.
#   scripts/test.sh [unit|integration|load|container|browser ...]
set -euo pipefail
cd "$(dirname "$0")/.."
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit integration load container browser)
for tier in "${tiers[@]}"; do
  [ -d "tests/$tier" ] || { echo "no such tier: tests/$tier" >&2; exit 2; }
  # The container and load tiers run the compose stack (the load gate measures it through the proxy).
  if [ "$tier" = container ] || [ "$tier" = load ]; then scripts/ensure-docker.sh >/dev/null; fi
  case $tier in integration | load) scripts/ensure-node.sh ;; esac  # the development OpenID provider
  if [ "$tier" = browser ]; then CHROMIUM=$(scripts/ensure-browser.sh); export CHROMIUM; fi
  echo "=== tier: $tier ==="
  .venv/bin/python -m pytest "tests/$tier"
done
