#!/usr/bin/env bash
# Prints the path of the file holding Streamlit's cookie secret (COOKIE_SECRET_FILE, default
# deploy/secrets/cookie_secret), making a random one first when the file is missing or empty.
# The compose stack (scripts/deploy/stack.sh) bind-mounts it; the Swarm stack (scripts/deploy/swarm.sh) copies
# it into a Swarm secret.
set -euo pipefail
cd "$(dirname "$0")/../.."
file=${COOKIE_SECRET_FILE:-$PWD/deploy/secrets/cookie_secret}
if [ ! -s "$file" ]; then
  mkdir -p "$(dirname "$file")"
  chmod 700 "$(dirname "$file")"
  python3 -c 'import secrets; print(secrets.token_hex(32))' >"$file"
  # Readable by the app's UID inside a container (a compose bind mount keeps host permissions);
  # the directory above stays private to this user.
  chmod 644 "$file"
  echo "cookie-secret: made a new cookie secret in $file" >&2
fi
echo "$file"
