#!/usr/bin/env bash
# Runs a command as root: directly when root already, else through sudo without a password
# prompt (GitHub's runner user and a developer's laptop have passwordless sudo). Every install
# and engine step of the scripts goes through here, so none assumes it runs as root.
#   scripts/setup/as-root.sh COMMAND [ARGS…]
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/setup/as-root.sh COMMAND [ARGS…]" >&2; exit 64; }
if [ "$(id -u)" = 0 ]; then exec "$@"; fi
if ! sudo -n true 2>/dev/null; then
  echo "as-root: '$*' needs root, and sudo asks for a password (or is missing): run it once by hand" \
    "with sudo, or give this user passwordless sudo" >&2
  exit 1
fi
exec sudo -n "$@"
