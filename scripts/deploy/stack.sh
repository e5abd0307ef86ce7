#!/usr/bin/env bash
# The compose stack on this host (deploy/compose.yaml): `make up` / `make down`.
#   scripts/deploy/stack.sh up     build both images, start, wait until every container is healthy,
#                           print the URL (https://…:PROXY_TLS_PORT/, last line on stdout)
#   scripts/deploy/stack.sh down   stop and remove the stack's containers and network
#   scripts/deploy/stack.sh ps|logs|compose ARGS…   look at it
# Environment:
#   STACK_PROJECT  compose project name (default: the app's name, streamlit_serving/app_settings.py);
#                  several stacks can coexist, one per app by default
#   APP_ENV_FILE   a file of the app's own non-secret settings (KEY=value lines) for its
#                  containers (compose env_file); empty: none
#   APP_REPLICAS   app replicas behind the proxy (default: the app's serving.toml [replicas] count,
#                  else 1); its [replicas] cpus and memory_mb are each replica's limits
#   SKIP_BUILD=1   use APP_IMAGE/PROXY_IMAGE as they are (e.g. pulled from a registry)
#   STACK_TIMEOUT  seconds to wait for health (default 120)
#   OBSERVABILITY=1  also Prometheus and the proxy's metrics (compose profile `observability`);
#                  `up` prints Prometheus' URL (PROMETHEUS_PORT, default 9090, on 127.0.0.1)
#                  before the app's. `down` removes them either way; `down --volumes` also
#                  Prometheus' data.
#   SERVE_AUTH=oidc  sign-in (deploy/compose.oidc.yaml) with the provider's settings in OIDC_FILE;
#                  without OIDC_FILE the development OpenID provider starts beside the stack
#                  (deploy/compose.oidc-dev.yaml, on OIDC_DEV_PORT, default 9400) and its URL and
#                  test users are printed before the app's URL
#   SESSION_STORE=1  also the session store (deploy/compose.session-store.yaml: Redis, and
#                  SERVE_SESSION_STORE pointing at it): pages keep their st.session_state when
#                  they move to another replica. Its password: SESSION_STORE_PASSWORD_FILE, made
#                  (random) in deploy/secrets/session_store_password when missing
#   APP_DATA=1     also a named volume for the app's data (deploy/compose.data.yaml), mounted at
#                  /srv/data with SERVE_DATA_DIR pointing at it; `down` keeps it (docker volume rm
#                  PROJECT_app-data deletes it)
#   APP_NETWORK    a network of yours (made before: docker network create NAME) that the app's
#                  replicas join besides the stack's own (deploy/compose.app-network.yaml): how
#                  they reach a database you run beside the stack, by its container name. Checked
#                  before anything is built: a bad name or a network this engine lacks exits 64
#   PROXY_BIND     the host address the proxy is published on (default 127.0.0.1: this machine
#                  only); 0.0.0.0 for every interface, with a warning: Docker's published ports
#                  bypass ufw and firewalld
#   STACK_PRODUCTION=1  also deploy/compose.production.yaml: sign-in required (SERVE_AUTH=oidc
#                  unless set, with OIDC_FILE; `none` is refused, `none-public` logged at every start)
#   APP_SECRETS_FILE  the app's secrets (TOML, st.secrets); default: APP_DIR's .streamlit/secrets.toml
#                  when it has one. Checked (exit 64 naming it), copied readable for the app's UID
#                  into deploy/secrets/app-secrets/ and mounted as a compose secret
#                  (deploy/compose.app-secrets.yaml; streamlit_serving/app_secrets.py)
#   TLS_CERT_FILE, TLS_KEY_FILE  your certificate and key; unset: a local CA's certificate for
#                  localhost (scripts/deploy/tls-cert.sh, in LOCAL_TLS_DIR), served with a 5-minute HSTS
#                  max-age unless PROXY_HSTS_MAX_AGE says otherwise
# and those deploy/compose.yaml reads (PROXY_PORT, PROXY_TLS_PORT, APP_IMAGE, SERVE_*, …).
set -euo pipefail
cd "$(dirname "$0")/../.."
# APP_IMAGE, PROXY_IMAGE, … for compose: as set, else their defaults in deploy/images.tsv, named
# after the app (a bad name in its serving.toml stops here: exit 64).
images=$(scripts/deploy/images.sh --env) || exit $?
while IFS='=' read -r variable tag; do export "$variable=$tag"; done <<<"$images"
project=${STACK_PROJECT:-$(scripts/deploy/images.sh --name)}
# The proxy's browser policy (extra CSP origins, permissions) and upload size from the app's
# serving.toml, their one home ([browser] and [limits], streamlit_serving/app_settings.py): every
# PROXY_CSP_* and PROXY_PERMISSIONS, empty when the file names none (the strict default), and
# PROXY_UPLOAD_MB (16 unless [limits] upload_mb says), whatever the shell says; and its [replicas]:
# APP_CPUS and APP_MEMORY_MB (empty: the stack file's 1.0 and 1024), SERVING_TOML_REPLICAS (the
# count, which APP_REPLICAS overrides). A bad value stops here (exit 64); an [egress] table is
# logged as what it is here: not enforced (no egress control on compose or Swarm).
policy=$(python3 -m streamlit_serving.app_source --stack-env) || exit $?
while IFS='=' read -r variable value; do export "$variable=$value"; done <<<"$policy"
# The app's own settings file, absolute (compose reads env_file paths from deploy/); unset: the empty deploy/app-settings.env.
if [ -n "${APP_ENV_FILE:-}" ]; then
  [ -f "$APP_ENV_FILE" ] && [ -r "$APP_ENV_FILE" ] \
    || { echo "stack: APP_ENV_FILE='$APP_ENV_FILE' is not a readable file" >&2; exit 64; }
  APP_ENV_FILE=$(realpath "$APP_ENV_FILE")
fi
export APP_ENV_FILE=${APP_ENV_FILE:-$PWD/deploy/app-settings.env}
replicas=${APP_REPLICAS:-${SERVING_TOML_REPLICAS:-1}}
# Checked before anything is built or started: compose's own errors come late and say less.
if ! [[ $project =~ ^[a-z0-9][a-z0-9_-]*$ ]]; then
  echo "stack: STACK_PROJECT='$project' is not a compose project name (lower-case letters, digits, '-', '_')" >&2
  exit 64
fi
if ! [[ $replicas =~ ^[1-9][0-9]{0,2}$ ]]; then
  echo "stack: APP_REPLICAS='$replicas' is not a whole number from 1 to 999" >&2
  exit 64
fi
observability=${OBSERVABILITY:-0}
if ! [[ $observability =~ ^[01]$ ]]; then
  echo "stack: OBSERVABILITY='$observability' is not 0 or 1" >&2
  exit 64
fi
docker=$(scripts/setup/ensure-docker.sh)

# Compose v2 (`docker compose`) where installed, else Debian's docker-compose 1.29.
if $docker compose version >/dev/null 2>&1; then
  compose=("$docker" compose)
else
  command -v docker-compose >/dev/null || scripts/setup/apt-install.sh docker-compose
  compose=(docker-compose)
fi
compose+=(--project-name "$project" --file deploy/compose.yaml)
# The observability profile's services: started with OBSERVABILITY=1, always stopped by `down`.
profile=()
[ "$observability" = 1 ] && profile=(--profile observability)
# `down`, `ps` and `logs` read compose.yaml alone (down's --remove-orphans takes the others' containers).
base_compose=("${compose[@]}")
auth=${SERVE_AUTH:-}
# Production starts only with the choice made: sign-in (your provider's OIDC_FILE) or, said out
# loud, none-public. Checked before anything is built or started.
if [ "${STACK_PRODUCTION:-0}" = 1 ] && [ "${1:-}" = up ]; then
  case $auth in
    oidc | none-public) ;;
    "")
      if [ -z "${OIDC_FILE:-}" ]; then
        echo "stack: STACK_PRODUCTION=1 requires sign-in: set OIDC_FILE (your provider's settings," \
          "docs/deploy.md), or SERVE_AUTH=none-public to serve every figure to anyone who reaches the proxy" >&2
        exit 64
      fi
      ;;
    *)
      echo "stack: STACK_PRODUCTION=1 refuses SERVE_AUTH='$auth': set oidc (with OIDC_FILE) or none-public" >&2
      exit 64
      ;;
  esac
fi
[ "${STACK_PRODUCTION:-0}" = 1 ] && auth=${auth:-oidc}
dev_provider=0
if [ "$auth" = oidc ]; then
  compose+=(--file deploy/compose.oidc.yaml)
  if [ -z "${OIDC_FILE:-}" ] && [ "${STACK_PRODUCTION:-0}" = 1 ] && [ "${1:-}" = up ]; then
    echo "stack: STACK_PRODUCTION=1 needs OIDC_FILE, your provider's settings (the development provider is never part of production)" >&2
    exit 64
  fi
  if [ -z "${OIDC_FILE:-}" ]; then
    dev_provider=1
    compose+=(--file deploy/compose.oidc-dev.yaml)
  fi
fi
[ "${STACK_PRODUCTION:-0}" = 1 ] && compose+=(--file deploy/compose.production.yaml)
session_store=${SESSION_STORE:-0}
if ! [[ $session_store =~ ^[01]$ ]]; then
  echo "stack: SESSION_STORE='$session_store' is not 0 or 1" >&2
  exit 64
fi
[ "$session_store" = 1 ] && compose+=(--file deploy/compose.session-store.yaml)
app_data=${APP_DATA:-0}
if ! [[ $app_data =~ ^[01]$ ]]; then
  echo "stack: APP_DATA='$app_data' is not 0 or 1" >&2
  exit 64
fi
[ "$app_data" = 1 ] && compose+=(--file deploy/compose.data.yaml)
app_network=${APP_NETWORK:-}
if [ -n "$app_network" ]; then
  if ! [[ $app_network =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]]; then
    echo "stack: APP_NETWORK='$app_network' is not a Docker network name (letters, digits, '_', '.', '-')" >&2
    exit 64
  fi
  compose+=(--file deploy/compose.app-network.yaml)
fi

# The secret files this machine makes once and keeps (deploy/secrets/): the cookie secret, and with
# SESSION_STORE=1 the store's password (mounted into the store and the app, never an environment value).
secret_files() {
  COOKIE_SECRET_FILE=$(scripts/deploy/secret-file.sh cookie_secret)
  export COOKIE_SECRET_FILE
  if [ "$session_store" = 1 ]; then
    SESSION_STORE_PASSWORD_FILE=$(scripts/deploy/secret-file.sh session_store_password)
    export SESSION_STORE_PASSWORD_FILE
  fi
}

# The app's own secrets.toml as a compose secret (never in the image): APP_SECRETS_FILE, else the
# app's .streamlit/secrets.toml; none: nothing mounted. A bind-mounted file keeps its host mode,
# so a copy readable by the app's UID goes into a directory private to this user.
app_secrets() {
  local file=${APP_SECRETS_FILE:-} dir=${APP_SECRETS_DIR:-$PWD/deploy/secrets/app-secrets}
  [ -n "$file" ] || file=$(SERVE_AUTH=$auth python3 -m streamlit_serving.app_source --secrets) || exit $?
  [ -n "$file" ] || return 0
  SERVE_AUTH=$auth python3 -m streamlit_serving.app_secrets "$file" || exit $?
  mkdir -p "$dir" && chmod 700 "$dir"
  install -m 644 "$file" "$dir/$project.toml"
  export APP_SECRETS_FILE=$dir/$project.toml
  compose+=(--file deploy/compose.app-secrets.yaml)
  echo "stack: the app's secrets ($file) mounted as a compose secret at /run/secrets/app_secrets.toml" >&2
}

# APP_NETWORK must exist on this engine, as a network a plain container can join (a bridge, or an
# overlay made with --attachable): compose would say so only after the build, and less clearly.
app_network_exists() {
  [ -n "$app_network" ] || return 0
  local found
  if ! found=$($docker network inspect --format '{{.Driver}} {{.Attachable}}' "$app_network" 2>/dev/null); then
    echo "stack: APP_NETWORK='$app_network': no such network on this engine; make it first" \
      "(docker network create $app_network) and start your database on it (docs/your-app.md)" >&2
    exit 64
  fi
  if [ "$found" = "overlay false" ]; then
    echo "stack: APP_NETWORK='$app_network' is an overlay network containers cannot join;" \
      "make it with --attachable (docker network create --driver overlay --attachable $app_network)" >&2
    exit 64
  fi
  echo "stack: the app's replicas join APP_NETWORK=$app_network besides the stack's own network" >&2
}

# The URL browsers use for the dashboard (a sign-in redirect URI is built on it): HTTPS on
# PROXY_TLS_PORT, or plain HTTP on PROXY_PORT with PROXY_TLS=off.
public_url() {
  local host=${PROXY_BIND:-127.0.0.1}
  [ "$host" = 0.0.0.0 ] && host=localhost
  if [ "${PROXY_TLS:-on}" = off ]; then
    echo "http://$host:${PROXY_PORT:-8080}"
  else
    echo "https://$host:${PROXY_TLS_PORT:-8443}"
  fi
}

# The proxy's certificate and key for the compose secrets. The local CA's certificate gets a short
# HSTS max-age: a year would pin every localhost port of the developer's browser to HTTPS.
tls_files() {
  local files
  [ -z "${TLS_CERT_FILE:-}${TLS_KEY_FILE:-}" ] && export PROXY_HSTS_MAX_AGE=${PROXY_HSTS_MAX_AGE:-300}
  files=$(scripts/deploy/tls-cert.sh) || exit $?
  TLS_CERT_FILE=$(sed -n 1p <<<"$files") TLS_KEY_FILE=$(sed -n 2p <<<"$files")
  export TLS_CERT_FILE TLS_KEY_FILE
}

# The development provider's files (kept per project, made once): the dashboard's client secret,
# and the app's provider settings (OIDC_FILE) pointing at the provider and back at the proxy.
dev_provider_files() {
  local dir=${OIDC_DEV_DIR:-$PWD/deploy/secrets/oidc-dev-$project}
  OIDC_DEV_PORT=${OIDC_DEV_PORT:-9400}
  OIDC_DEV_REDIRECT_URIS="$(public_url)/oauth2callback"
  mkdir -p "$dir"
  chmod 700 "$dir"
  [ -s "$dir/client_secret" ] || python3 -c 'import secrets; print(secrets.token_hex(32))' >"$dir/client_secret"
  cat >"$dir/oidc.toml" <<TOML
# The development OpenID provider of stack $project (scripts/deploy/stack.sh); not for production.
server_metadata_url = "http://oidc-dev.localhost:$OIDC_DEV_PORT/.well-known/openid-configuration"
client_id = "app"
client_secret = "$(cat "$dir/client_secret")"
redirect_uri = "$OIDC_DEV_REDIRECT_URIS"
TOML
  # Readable by the containers' users (bind mounts keep host permissions); the directory is private.
  chmod 644 "$dir/client_secret" "$dir/oidc.toml"
  OIDC_FILE=$dir/oidc.toml OIDC_DEV_CLIENT_SECRET_FILE=$dir/client_secret
  export OIDC_FILE OIDC_DEV_CLIENT_SECRET_FILE OIDC_DEV_PORT OIDC_DEV_REDIRECT_URIS
  # The test users marked "allowed", unless an allow-list is set.
  if [ -z "${SERVE_ALLOWED_EMAILS:-}${SERVE_ALLOWED_DOMAINS:-}" ]; then
    SERVE_ALLOWED_EMAILS=$(python3 -c 'import json, sys; print(",".join(u["email"] for u in json.load(sys.stdin) if u["allowed"]))' <deploy/oidc-dev/users.json)
    export SERVE_ALLOWED_EMAILS
  fi
}

# On stdout, before the app's URL: where the development provider is and who can sign in.
dev_provider_notice() {
  echo "oidc-dev: development OpenID provider (never for production): http://oidc-dev.localhost:$OIDC_DEV_PORT/"
  python3 -c '
import json, os, sys
allowed = set(os.environ.get("SERVE_ALLOWED_EMAILS", "").lower().split(","))
for user in json.load(sys.stdin):
    if user["email"] not in allowed:
        outcome = "not on the allow-list: refused"
    elif not user["email_verified"]:
        outcome = "on the allow-list, but the provider has not verified the e-mail: refused"
    else:
        outcome = "on the allow-list: signed in"
    print("oidc-dev: test user {} password {} ({})".format(user["email"], user["password"], outcome))
' <deploy/oidc-dev/users.json
}

auth_files() {
  [ "$dev_provider" = 1 ] && dev_provider_files
  return 0
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

# The app's main script run once in one replica (scripts/deploy/first-run.sh): an app that fails on its
# first page load stops `up` with its own traceback (exit 64). The stack stays up for its logs.
first_run() {
  if ! DOCKER=$docker scripts/deploy/first-run.sh "$("${compose[@]}" ps -q app | head -n 1)"; then
    echo "stack: the stack is still up: its logs: 'scripts/deploy/stack.sh logs app', stop it with 'make down'" >&2
    exit 64
  fi
}

case ${1:-} in
  up)
    app_network_exists
    app_secrets  # checked before the build: a bad file stops here (exit 64)
    [ "${SKIP_BUILD:-0}" = 1 ] || scripts/deploy/build-images.sh >/dev/null
    secret_files
    tls_files
    auth_files
    "${compose[@]}" "${profile[@]}" up --detach --no-build --scale "app=$replicas" >&2
    wait_healthy
    first_run
    case $auth in
      oidc) echo "stack: sign-in is on (SERVE_AUTH=oidc)" >&2 ;;
      none-public) echo "stack: WARNING: sign-in is off (SERVE_AUTH=none-public): every figure is public" >&2 ;;
      *) echo "stack: sign-in is off: open to anyone who reaches the proxy (SERVE_AUTH=oidc turns it on)" >&2 ;;
    esac
    [ "$dev_provider" = 1 ] && dev_provider_notice
    if [ "$observability" = 1 ]; then
      address=$("${compose[@]}" "${profile[@]}" port prometheus 9090)
      host=${address%:*} port=${address##*:}
      [ "$host" = 0.0.0.0 ] && host=localhost
      echo "stack: Prometheus (targets, rules, alerts, graphs) at http://$host:$port/" >&2
      echo "http://$host:$port/"  # before the app's URL, which stays the last line
    fi
    if [ "${PROXY_TLS:-on}" = off ]; then
      scheme=http address=$("${compose[@]}" port proxy 8080)
    else
      scheme=https address=$("${compose[@]}" port proxy 8443)
    fi
    host=${address%:*} port=${address##*:}
    if [ "$host" = 0.0.0.0 ]; then
      host=localhost
      echo "stack: WARNING: the proxy listens on every interface of this host (PROXY_BIND=0.0.0.0," \
        "ports $("${compose[@]}" port proxy 8080 | sed 's/.*://') and $port): Docker's published ports" \
        "bypass ufw and firewalld, so anyone who can reach this host reaches it;" \
        "PROXY_BIND=127.0.0.1 (the default) keeps it to this machine" >&2
    else
      echo "stack: the proxy listens on $host only (PROXY_BIND)" >&2
    fi
    echo "stack: $project is up with $replicas app replica(s)" >&2
    echo "$scheme://$host:$port/"
    ;;
  down)
    shift
    # Compose checks that secret files exist even where it does not use them.
    export COOKIE_SECRET_FILE=${COOKIE_SECRET_FILE:-/dev/null} TLS_CERT_FILE=${TLS_CERT_FILE:-/dev/null} \
      TLS_KEY_FILE=${TLS_KEY_FILE:-/dev/null}
    "${base_compose[@]}" --profile observability down --remove-orphans --timeout 20 "$@" >&2
    ;;
  ps | logs)
    export COOKIE_SECRET_FILE=${COOKIE_SECRET_FILE:-/dev/null} TLS_CERT_FILE=${TLS_CERT_FILE:-/dev/null} \
      TLS_KEY_FILE=${TLS_KEY_FILE:-/dev/null}
    "${base_compose[@]}" "${profile[@]}" "$@"
    ;;
  compose)
    shift
    app_secrets
    secret_files
    tls_files
    auth_files
    "${compose[@]}" "${profile[@]}" "$@"
    ;;
  *)
    echo "usage: scripts/deploy/stack.sh up|down|ps|logs|compose ARGS…" >&2
    exit 64
    ;;
esac
