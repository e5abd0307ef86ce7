#!/usr/bin/env bash
# The Swarm stack (deploy/swarm/stack.yaml) on this node: `make swarm-up` / `make swarm-down`.
#   scripts/deploy/swarm.sh up     build both images, make this node a swarm manager if it is in no
#                           swarm, deploy the stack, wait until every replica is healthy and the
#                           proxy answers, print the URL
#   scripts/deploy/swarm.sh down   remove the stack and wait until its containers and network are gone;
#                           leave the swarm if `up` created it and no other stack runs on it
#   scripts/deploy/swarm.sh ps     the stack's tasks
# Environment:
#   SWARM_STACK    stack name (default: the app's name, streamlit_serving/app_settings.py);
#                  several stacks can coexist, one per app by default
#   APP_ENV_FILE   a file of the app's own non-secret settings (KEY=value lines) for its tasks
#                  (env_file, read on this manager); empty: none
#   APP_REPLICAS   app replicas (default: the app's serving.toml [replicas] count, else 3, in the
#                  stack file); its [replicas] cpus and memory_mb are each replica's limits
#   PROXY_PORT     plain-HTTP port the proxy publishes on the node (default 8080, in the stack file)
#   PROXY_TLS_PORT HTTPS port the proxy publishes on the node (default 8443, in the stack file)
#   TLS_CERT_FILE, TLS_KEY_FILE  your certificate and key; unset: a local CA's certificate for
#                  localhost (scripts/deploy/tls-cert.sh), served with a 5-minute HSTS max-age
#   SKIP_BUILD=1   use APP_IMAGE/PROXY_IMAGE as they are (e.g. pulled from a registry)
#   SWARM_TIMEOUT  seconds to wait for health (default 180)
#   OBSERVABILITY=1  also Prometheus and the proxy's metrics (deploy/swarm/observability.yaml);
#                  `up` prints Prometheus' URL (PROMETHEUS_PORT, default 9090) before the app's
#   APP_SECRETS_FILE  the app's secrets (TOML, st.secrets); default: APP_DIR's .streamlit/secrets.toml
#                  when it has one. Checked (exit 64 naming it) and deployed as a Swarm secret named
#                  after its hash (deploy/swarm/app-secrets.yaml; streamlit_serving/app_secrets.py)
#   SERVE_AUTH     required: oidc (sign-in; OIDC_FILE: the provider's settings, deploy/swarm/oidc.yaml)
#                  or none-public (open to anyone who reaches the proxy)
#   SESSION_STORE=1  also the session store (deploy/swarm/session-store.yaml: Redis, and
#                  SERVE_SESSION_STORE pointing at it); its password: SESSION_STORE_PASSWORD_FILE,
#                  made (random) in deploy/secrets/session_store_password when missing
#   APP_NETWORK    an overlay network of yours (made before: docker network create --driver overlay
#                  --attachable NAME) that the app's tasks join besides the stack's own
#                  (deploy/swarm/app-network.yaml): how they reach a database you run beside the
#                  stack, by its name. A bad name, a network this swarm lacks or one that is no
#                  overlay exits 64
#   APP_DATA=1     also a named volume for the app's data (deploy/swarm/data.yaml) at /srv/data,
#                  SERVE_DATA_DIR pointing at it; a local volume is per node (see that file)
# and those deploy/swarm/stack.yaml reads (APP_IMAGE, PROXY_IMAGE, COOKIE_SECRET_FILE, SERVE_*, …).
set -euo pipefail
cd "$(dirname "$0")/../.."
# APP_IMAGE, PROXY_IMAGE, …: as set, else deploy/images.tsv's, named after the app (a bad name
# in its serving.toml stops here: exit 64).
images=$(scripts/deploy/images.sh --env) || exit $?
while IFS='=' read -r variable tag; do export "$variable=$tag"; done <<<"$images"
stack=${SWARM_STACK:-$(scripts/deploy/images.sh --name)}
# The proxy's browser policy (extra CSP origins, permissions) and upload size from the app's
# serving.toml, their one home ([browser] and [limits], streamlit_serving/app_settings.py): every
# PROXY_CSP_* and PROXY_PERMISSIONS, empty when the file names none (the strict default), and
# PROXY_UPLOAD_MB (16 unless [limits] upload_mb says), whatever the shell says; and its [replicas]:
# APP_CPUS and APP_MEMORY_MB (empty: the stack file's 1.0 and 1024), SERVING_TOML_REPLICAS (the
# count, which APP_REPLICAS overrides). A bad value stops here (exit 64); an [egress] table is
# logged as what it is here: not enforced (no egress control on compose or Swarm).
policy=$(python3 -m streamlit_serving.app_source --stack-env) || exit $?
while IFS='=' read -r variable value; do export "$variable=$value"; done <<<"$policy"
# APP_REPLICAS from the shell wins over the file's count; neither: the stack file's 3.
[ -z "${APP_REPLICAS:-}" ] && [ -n "$SERVING_TOML_REPLICAS" ] && export APP_REPLICAS=$SERVING_TOML_REPLICAS
# The app's own settings file, absolute (the stack file's paths are read from deploy/swarm/).
if [ -n "${APP_ENV_FILE:-}" ]; then
  [ -f "$APP_ENV_FILE" ] && [ -r "$APP_ENV_FILE" ] \
    || { echo "swarm: APP_ENV_FILE='$APP_ENV_FILE' is not a readable file" >&2; exit 64; }
  APP_ENV_FILE=$(realpath "$APP_ENV_FILE")
fi
export APP_ENV_FILE=${APP_ENV_FILE:-$PWD/deploy/app-settings.env}
observability=${OBSERVABILITY:-0}
[[ $observability =~ ^[01]$ ]] || { echo "swarm: OBSERVABILITY='$observability' is not 0 or 1" >&2; exit 64; }
[[ ${APP_DATA:-0} =~ ^[01]$ ]] || { echo "swarm: APP_DATA='${APP_DATA}' is not 0 or 1" >&2; exit 64; }
if [ -n "${APP_NETWORK:-}" ] && ! [[ $APP_NETWORK =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
  echo "swarm: APP_NETWORK='$APP_NETWORK' is not a Docker network name (letters, digits, '_', '.', '-')" >&2
  exit 64
fi
# Checked before an engine is needed: a deployment states who may see the figures.
if [ "${1:-}" = up ]; then
  case ${SERVE_AUTH:-} in
    oidc) [ -r "${OIDC_FILE:-}" ] || { echo "swarm: SERVE_AUTH=oidc needs OIDC_FILE, the provider's settings file (docs/deploy.md)" >&2; exit 64; } ;;
    none-public) ;;
    *) echo "swarm: set SERVE_AUTH=oidc (sign-in, with OIDC_FILE) or SERVE_AUTH=none-public (open to anyone who reaches the proxy)" >&2; exit 64 ;;
  esac
fi
docker=$(scripts/setup/ensure-docker.sh)
# Marks a swarm this script initialised, on the node itself: it is gone once the node leaves.
init_label=streamlit-serving.swarm-init

swarm_state() { $docker info --format '{{.Swarm.LocalNodeState}}'; }

ensure_swarm() {
  case $(swarm_state) in
    active)
      [ "$($docker info --format '{{.Swarm.ControlAvailable}}')" = true ] \
        || { echo "swarm: this node is a swarm worker; run this on a manager" >&2; exit 1; }
      ;;
    inactive)
      # The bridge a swarm adds for host-mode ports and egress; removed on leave if it is ours.
      local gwbridge=made
      $docker network inspect docker_gwbridge >/dev/null 2>&1 && gwbridge=kept
      echo "swarm: initialising a single-node swarm on 127.0.0.1" >&2
      $docker swarm init --advertise-addr 127.0.0.1 >/dev/null
      $docker node update --label-add "$init_label=$gwbridge" "$($docker info --format '{{.Swarm.NodeID}}')" >/dev/null
      ;;
    *)
      echo "swarm: this node's swarm state is '$(swarm_state)'; fix it first (docker info)" >&2
      exit 1
      ;;
  esac
}

leave_swarm_if_ours() {
  [ "$(swarm_state)" = active ] || return 0
  local made
  made=$($docker node inspect self --format "{{index .Spec.Labels \"$init_label\"}}" 2>/dev/null || true)
  [ -n "$made" ] || return 0
  if [ -n "$($docker stack ls --format '{{.Name}}')" ]; then
    echo "swarm: other stacks still run on the swarm this script made; not leaving it" >&2
    return 0
  fi
  echo "swarm: leaving the swarm this script made" >&2
  $docker swarm leave --force >/dev/null
  [ "$made" = made ] && { $docker network rm docker_gwbridge >/dev/null 2>&1 || true; }
  return 0
}

# APP_NETWORK must be an overlay network of this swarm: Swarm tasks join no other kind, and
# `docker stack deploy` would say so only after the build and the secrets. Checked before both.
app_network_exists() {
  [ -n "${APP_NETWORK:-}" ] || return 0
  local found
  if ! found=$($docker network inspect --format '{{.Driver}} {{.Scope}}' "$APP_NETWORK" 2>/dev/null); then
    echo "swarm: APP_NETWORK='$APP_NETWORK': no such network on this swarm; make it first" \
      "(docker network create --driver overlay --attachable $APP_NETWORK) and start your database on it" \
      "(docs/your-app.md)" >&2
    exit 64
  fi
  if [ "$found" != "overlay swarm" ]; then
    echo "swarm: APP_NETWORK='$APP_NETWORK' is a ${found% *} network; Swarm tasks join overlay networks only" \
      "(docker network create --driver overlay --attachable NAME)" >&2
    exit 64
  fi
  echo "swarm: the app's tasks join APP_NETWORK=$APP_NETWORK besides the stack's own network" >&2
}

port_free() {
  python3 - "$1" <<'EOF'
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
EOF
}

deploy() {
  local args=(stack deploy --prune --resolve-image never) files=(deploy/swarm/stack.yaml) file
  # OBSERVABILITY=1: Prometheus and the proxy's metrics, merged in from their own file.
  [ "$observability" = 1 ] && files+=(deploy/swarm/observability.yaml)
  # Sign-in: the provider's settings file as a Swarm secret too.
  [ "${SERVE_AUTH:-}" = oidc ] && files+=(deploy/swarm/oidc.yaml)
  # The app's own secrets.toml (app_secrets below): a Swarm secret, a new one when it changes.
  [ -n "${APP_SECRETS_FILE:-}" ] && files+=(deploy/swarm/app-secrets.yaml)
  # SESSION_STORE=1: Redis for SERVE_SESSION_STORE, merged in from its own file.
  [ "${SESSION_STORE:-0}" = 1 ] && files+=(deploy/swarm/session-store.yaml)
  # APP_DATA=1: a volume for the app's data at /srv/data (SERVE_DATA_DIR), from its own file.
  [ "${APP_DATA:-0}" = 1 ] && files+=(deploy/swarm/data.yaml)
  # APP_NETWORK: your overlay network, joined by the app's tasks (app_network_exists checked it).
  [ -n "${APP_NETWORK:-}" ] && files+=(deploy/swarm/app-network.yaml)
  # Docker before 23 reads only compose files with a `version:` (format 3.x); the stack files are
  # Compose-spec files without one, so older clients get copies with the last 3.x version added
  # (beside the originals: the stack file's relative paths stay right).
  local copies=() status=0
  if [ "$($docker version --format '{{.Client.Version}}' | cut -d. -f1)" -lt 23 ]; then
    for file in "${files[@]}"; do
      copies+=("$(mktemp deploy/swarm/.deploy-XXXXXX.yaml)")
      { echo 'version: "3.9"'; cat "$file"; } >"${copies[-1]}"
    done
    files=("${copies[@]}")
  fi
  for file in "${files[@]}"; do args+=(-c "$file"); done
  $docker "${args[@]}" "$stack" >&2 || status=$?
  [ ${#copies[@]} -eq 0 ] || rm -f "${copies[@]}"
  return "$status"
}

# Every service at its wanted task count (tasks with a health check count once healthy), then
# the proxy answering `probe` (the app's health through HTTPS when the local CA can verify it;
# with your own certificate, whose names are not 127.0.0.1, the proxy's own /healthz).
wait_ready() {
  local probe=$1 ca=$2 deadline=$((SECONDS + ${SWARM_TIMEOUT:-180})) counts
  while :; do
    counts=$($docker service ls --filter "label=com.docker.stack.namespace=$stack" --format '{{.Name}} {{.Replicas}}')
    if [ -n "$counts" ] && awk '{ split($2, n, "/"); if (n[1] != n[2] || n[2] == 0) bad = 1 } END { exit bad }' <<<"$counts" \
      && python3 -c 'import ssl, sys, urllib.request as u
context = ssl.create_default_context(cafile=sys.argv[2] or None)
sys.exit(u.urlopen(sys.argv[1], timeout=3, context=context).status != 200)' \
        "$probe" "$ca" 2>/dev/null; then
      return 0
    fi
    if [ $SECONDS -ge "$deadline" ]; then
      echo "swarm: $stack not ready after ${SWARM_TIMEOUT:-180} s:" >&2
      echo "$counts" >&2
      $docker stack ps "$stack" --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' >&2 || true
      return 1
    fi
    sleep 1
  done
}

# Waits until the stack's containers and network are gone (`docker stack rm` returns at once).
wait_removed() {
  local deadline=$((SECONDS + 60))
  while [ -n "$($docker ps -aq --filter "label=com.docker.stack.namespace=$stack")" ] \
    || [ -n "$($docker network ls -q --filter "label=com.docker.stack.namespace=$stack")" ]; do
    if [ $SECONDS -ge $deadline ]; then
      echo "swarm: $stack's containers or network still there after 60 s" >&2
      return 1
    fi
    # A network is sometimes left behind when its last container went away after `stack rm`.
    $docker network ls -q --filter "label=com.docker.stack.namespace=$stack" | xargs -r $docker network rm >/dev/null 2>&1 || true
    sleep 1
  done
}

case ${1:-} in
  up)
    port=${PROXY_PORT:-8080} tls_port=${PROXY_TLS_PORT:-8443}  # the stack file's defaults
    for value in "$port" "$tls_port"; do
      [[ $value =~ ^[1-9][0-9]*$ && $value -le 65535 ]] \
        || { echo "swarm: PROXY_PORT and PROXY_TLS_PORT must be port numbers, got '$value'" >&2; exit 64; }
    done
    prometheus_port=${PROMETHEUS_PORT:-9090}  # observability.yaml's default
    [[ $prometheus_port =~ ^[1-9][0-9]*$ && $prometheus_port -le 65535 ]] \
      || { echo "swarm: PROMETHEUS_PORT must be a port number, got '$prometheus_port'" >&2; exit 64; }
    # The app's secrets.toml, checked before the build (exit 64 naming it); none: nothing mounted.
    [ -n "${APP_SECRETS_FILE:-}" ] || APP_SECRETS_FILE=$(python3 -m streamlit_serving.app_source --secrets) || exit $?
    if [ -n "$APP_SECRETS_FILE" ]; then
      python3 -m streamlit_serving.app_secrets "$APP_SECRETS_FILE" || exit $?
      APP_SECRETS_FILE=$(realpath "$APP_SECRETS_FILE")
      APP_SECRETS_NAME=${stack}_app_secrets_$(sha256sum "$APP_SECRETS_FILE" | cut -c1-12)
      export APP_SECRETS_FILE APP_SECRETS_NAME
    fi
    app_network_exists
    [ "${SKIP_BUILD:-0}" = 1 ] || scripts/deploy/build-images.sh >/dev/null
    ensure_swarm
    # A port held by another process would leave the proxy task failing to start, over and over.
    for value in "$port" "$tls_port"; do
      if ! $docker stack ls --format '{{.Name}}' | grep -qx "$stack" && ! port_free "$value"; then
        echo "swarm: port $value is in use on this host; set PROXY_PORT and PROXY_TLS_PORT to free ones" >&2
        leave_swarm_if_ours
        exit 1
      fi
    done
    COOKIE_SECRET_FILE=$(scripts/deploy/secret-file.sh cookie_secret)
    export COOKIE_SECRET_FILE
    if [ "${SESSION_STORE:-0}" = 1 ]; then  # the store's password, a Swarm secret (session-store.yaml)
      SESSION_STORE_PASSWORD_FILE=$(scripts/deploy/secret-file.sh session_store_password)
      export SESSION_STORE_PASSWORD_FILE
    fi
    # The proxy's certificate: yours, or the local CA's for localhost (short HSTS, see stack.sh).
    ca=""
    if [ -z "${TLS_CERT_FILE:-}${TLS_KEY_FILE:-}" ]; then
      export PROXY_HSTS_MAX_AGE=${PROXY_HSTS_MAX_AGE:-300}
      ca=$(realpath "${LOCAL_TLS_DIR:-deploy/secrets/local-tls}")/ca.pem
    fi
    files=$(scripts/deploy/tls-cert.sh)
    TLS_CERT_FILE=$(sed -n 1p <<<"$files") TLS_KEY_FILE=$(sed -n 2p <<<"$files")
    export TLS_CERT_FILE TLS_KEY_FILE
    deploy
    if [ "${PROXY_TLS:-on}" = off ]; then
      url="http://127.0.0.1:$port/" probe="${url}_stcore/health"
    else
      url="https://127.0.0.1:$tls_port/" probe="${url}_stcore/health"
      [ -n "$ca" ] || probe="http://127.0.0.1:$port/healthz"
    fi
    wait_ready "$probe" "$ca"
    # The app's main script run once in one replica: an app that fails on its first page load
    # stops `up` with its own traceback (exit 64); the stack stays up for its logs.
    replica=$($docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_app" | head -n 1)
    DOCKER=$docker scripts/deploy/first-run.sh "$replica" \
      || { echo "swarm: the stack is still up: scripts/deploy/swarm.sh down removes it" >&2; exit 64; }
    if [ "$observability" = 1 ]; then
      echo "swarm: Prometheus at http://127.0.0.1:$prometheus_port/ (published on every address of its node)" >&2
      echo "http://127.0.0.1:$prometheus_port/"  # before the app's URL, which stays the last line
    fi
    echo "swarm: $stack is up with ${APP_REPLICAS:-3} app replica(s)" >&2
    echo "$url"
    ;;
  down)
    if [ "$(swarm_state)" = active ] && $docker stack ls --format '{{.Name}}' | grep -qx "$stack"; then
      $docker stack rm "$stack" >&2
      wait_removed
    fi
    leave_swarm_if_ours
    ;;
  ps)
    $docker stack ps "$stack"
    ;;
  *)
    echo "usage: scripts/deploy/swarm.sh up|down|ps" >&2
    exit 64
    ;;
esac
