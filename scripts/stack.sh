#!/usr/bin/env bash
# The compose stack on this host (deploy/compose.yaml): `make up` / `make down`.
#   scripts/stack.sh up     build both images, start, wait until every container is healthy,
#                           print the URL
#   scripts/stack.sh down   stop and remove the stack's containers and network
#   scripts/stack.sh ps|logs|compose ARGS…   look at it
# Environment:
#   STACK_PROJECT  compose project name (default sales-dashboard); several stacks can coexist
#   APP_REPLICAS   app replicas behind the proxy (default 1)
#   SKIP_BUILD=1   use APP_IMAGE/PROXY_IMAGE as they are (e.g. pulled from a registry)
#   STACK_TIMEOUT  seconds to wait for health (default 120)
#   OBSERVABILITY=1  also Prometheus and the proxy's metrics (compose profile `observability`);
#                  `up` prints Prometheus' URL (PROMETHEUS_PORT, default 9090, on 127.0.0.1)
#                  before the app's. `down` removes them either way; `down --volumes` also
#                  Prometheus' data.
# and those deploy/compose.yaml reads (PROXY_PORT, PROXY_BIND, APP_IMAGE, PROXY_IMAGE, SALES_*, …).
set -euo pipefail
cd "$(dirname "$0")/.."
# APP_IMAGE, PROXY_IMAGE, … for compose: as set, else their defaults in deploy/images.tsv.
while IFS='=' read -r variable tag; do export "$variable=$tag"; done < <(scripts/images.sh --env)
project=${STACK_PROJECT:-sales-dashboard}
replicas=${APP_REPLICAS:-1}
# Checked before anything is built or started: compose's own errors come late and say less.
if ! [[ $project =~ ^[a-z0-9][a-z0-9_-]*$ ]]; then
  echo "stack: STACK_PROJECT='$project' is not a compose project name (lower-case letters, digits, '-', '_')" >&2
  exit 2
fi
if ! [[ $replicas =~ ^[1-9][0-9]{0,2}$ ]]; then
  echo "stack: APP_REPLICAS='$replicas' is not a whole number from 1 to 999" >&2
  exit 2
fi
observability=${OBSERVABILITY:-0}
if ! [[ $observability =~ ^[01]$ ]]; then
  echo "stack: OBSERVABILITY='$observability' is not 0 or 1" >&2
  exit 2
fi
docker=$(scripts/ensure-docker.sh)

# Compose v2 (`docker compose`) where installed, else Debian's docker-compose 1.29.
if $docker compose version >/dev/null 2>&1; then
  compose=("$docker" compose)
else
  command -v docker-compose >/dev/null || scripts/apt-install.sh docker-compose
  compose=(docker-compose)
fi
compose+=(--project-name "$project" --file deploy/compose.yaml)
# The observability profile's services: started with OBSERVABILITY=1, always stopped by `down`.
profile=()
[ "$observability" = 1 ] && profile=(--profile observability)

cookie_secret() {
  COOKIE_SECRET_FILE=$(scripts/cookie-secret.sh)
  export COOKIE_SECRET_FILE
}

wait_healthy() {
  local deadline=$((SECONDS + ${STACK_TIMEOUT:-120})) ids states
  while :; do
    mapfile -t ids < <("${compose[@]}" "${profile[@]}" ps -q)
    if [ ${#ids[@]} -gt 0 ]; then
      states=$($docker inspect -f '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "${ids[@]}")
      if ! grep -qv ' healthy$' <<<"$states"; then return 0; fi
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "stack: not healthy after ${STACK_TIMEOUT:-120} s:" >&2
      echo "$states" >&2
      "${compose[@]}" "${profile[@]}" logs --tail 40 >&2 || true
      return 1
    fi
    sleep 1
  done
}

case ${1:-} in
  up)
    [ "${SKIP_BUILD:-0}" = 1 ] || scripts/build-images.sh >/dev/null
    cookie_secret
    "${compose[@]}" "${profile[@]}" up --detach --no-build --scale "app=$replicas" >&2
    wait_healthy
    if [ "$observability" = 1 ]; then
      address=$("${compose[@]}" "${profile[@]}" port prometheus 9090)
      host=${address%:*} port=${address##*:}
      [ "$host" = 0.0.0.0 ] && host=localhost
      echo "stack: Prometheus (targets, rules, alerts, graphs) at http://$host:$port/" >&2
      echo "http://$host:$port/"  # before the app's URL, which stays the last line
    fi
    address=$("${compose[@]}" port proxy 8080)
    host=${address%:*} port=${address##*:}
    [ "$host" = 0.0.0.0 ] && host=localhost
    echo "stack: $project is up with $replicas app replica(s)" >&2
    echo "http://$host:$port/"
    ;;
  down)
    shift
    export COOKIE_SECRET_FILE=${COOKIE_SECRET_FILE:-/dev/null}
    "${compose[@]}" --profile observability down --remove-orphans --timeout 20 "$@" >&2
    ;;
  ps | logs)
    export COOKIE_SECRET_FILE=${COOKIE_SECRET_FILE:-/dev/null}
    "${compose[@]}" "${profile[@]}" "$@"
    ;;
  compose)
    shift
    cookie_secret
    "${compose[@]}" "${profile[@]}" "$@"
    ;;
  *)
    echo "usage: scripts/stack.sh up|down|ps|logs|compose ARGS…" >&2
    exit 2
    ;;
esac
