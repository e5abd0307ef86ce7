#!/bin/sh
# Entry point of the session store's image: Redis requiring a password (requirepass) that is never
# on a command line (`ps`, `docker inspect`), in the environment or in the image. It is read from a
# secret file (SESSION_STORE_PASSWORD_FILE, default where compose and Swarm mount the secret) and
# written, with printf (a shell builtin: no process argument), into a config file of this user
# alone on the tmpfs, which includes the image's redis.conf. The image's arguments (CMD:
# --maxmemory) follow it.
set -eu
file=${SESSION_STORE_PASSWORD_FILE:-/run/secrets/session_store_password}
if [ ! -r "$file" ]; then
  echo "session-store: SESSION_STORE_PASSWORD_FILE=$file cannot be read (the store's password, a secret file)" >&2
  exit 64
fi
password=$(cat "$file")
if [ -z "$password" ]; then
  echo "session-store: SESSION_STORE_PASSWORD_FILE=$file is empty (the store's password, one line)" >&2
  exit 64
fi
# Letters, digits and . _ ~ + / = - only (hex or base64, as `make up` and openssl make them): a
# config value needing no quotes, and one line.
case $password in
  *[!A-Za-z0-9._~+/=-]*)
    echo "session-store: SESSION_STORE_PASSWORD_FILE=$file must be one line of letters, digits and . _ ~ + / = - (e.g. openssl rand -hex 32)" >&2
    exit 64
    ;;
esac
conf=${SESSION_STORE_CONF_DIR:-/tmp}/session-store.conf
umask 077
printf 'include %s\nrequirepass %s\n' "${SESSION_STORE_BASE_CONF:-/etc/session-store/redis.conf}" "$password" >"$conf"
exec redis-server "$conf" "$@"
