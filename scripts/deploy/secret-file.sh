#!/usr/bin/env bash
# Prints the path of a secret file made on this machine, making a random secret in it first when
# the file is missing or empty:
#   scripts/deploy/secret-file.sh cookie_secret           Streamlit's cookie secret (COOKIE_SECRET_FILE)
#   scripts/deploy/secret-file.sh session_store_password  the session store's password
#                                                         (SESSION_STORE_PASSWORD_FILE)
# The file: the variable when set, else deploy/secrets/NAME. The compose stack (scripts/deploy/stack.sh)
# bind-mounts it; the Swarm stack (scripts/deploy/swarm.sh) copies it into a Swarm secret.
set -euo pipefail
cd "$(dirname "$0")/../.."
case ${1:-} in
  cookie_secret) file=${COOKIE_SECRET_FILE:-} ;;
  session_store_password) file=${SESSION_STORE_PASSWORD_FILE:-} ;;
  *) echo "usage: scripts/deploy/secret-file.sh cookie_secret|session_store_password" >&2; exit 64 ;;
esac
file=${file:-$PWD/deploy/secrets/$1}
if [ ! -s "$file" ]; then
  mkdir -p "$(dirname "$file")"
  chmod 700 "$(dirname "$file")"
  python3 -c 'import secrets; print(secrets.token_hex(32))' >"$file"
  # Readable by the containers' UIDs (a compose bind mount keeps host permissions); the directory
  # above stays private to this user.
  chmod 644 "$file"
  echo "secret-file: made a new $1 in $file" >&2
fi
echo "$file"
