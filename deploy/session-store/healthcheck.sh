#!/bin/sh
# The session store's health check (the image's HEALTHCHECK, the Kubernetes probes): PONG to a PING
# after AUTH. The password goes to redis-cli on its standard input (printf is a shell builtin),
# never in a process argument or the environment.
set -eu
password=$(cat "${SESSION_STORE_PASSWORD_FILE:-/run/secrets/session_store_password}")
printf 'AUTH %s\nPING\n' "$password" | redis-cli -p 6379 | grep -qx PONG
