#!/bin/sh
# Starts PostgreSQL as the registry's postgres image does, for the variables it reads:
#   POSTGRES_PASSWORD_FILE  a file holding the password (mounted at run time; required here: the
#                           password is never an environment value, a build argument or a layer)
#   POSTGRES_USER           the superuser (default postgres)
#   POSTGRES_DB             a database made at the first start (default: POSTGRES_USER's name)
#   PGDATA                  the data directory (default /var/lib/postgresql/data)
# The first start makes the cluster there; connections from the network need the password
# (scram-sha-256), the container's own socket is trusted (docker exec ... psql).
set -eu
bin=/usr/lib/postgresql/15/bin
data=${PGDATA:-/var/lib/postgresql/data}
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
password_file=${POSTGRES_PASSWORD_FILE:-}
for name in "$user" "$db"; do
  case $name in
    "" | [!a-z_]* | *[!a-z0-9_]*)
      echo "db: POSTGRES_USER and POSTGRES_DB must be lower-case names ([a-z_][a-z0-9_]*), got '$name'" >&2
      exit 64
      ;;
  esac
done
if [ -z "$password_file" ] || [ ! -r "$password_file" ] || [ ! -s "$password_file" ]; then
  echo "db: POSTGRES_PASSWORD_FILE='$password_file' is not a readable, non-empty file (the password, mounted at run time)" >&2
  exit 64
fi
if [ ! -s "$data/PG_VERSION" ]; then
  "$bin/initdb" --pgdata="$data" --username="$user" --pwfile="$password_file" --encoding=UTF8 \
    --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  echo "host all all all scram-sha-256" >>"$data/pg_hba.conf"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE $db OWNER $user;" | "$bin/postgres" --single -D "$data" postgres >/dev/null
  fi
  echo "db: made the cluster in $data: user $user, database $db" >&2
fi
exec "$bin/postgres" -D "$data" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql
