#!/bin/sh
# Entry point of the proxy image. Renders the per-deployment parts of nginx.conf from the
# environment into /tmp/nginx, then either runs the given command (e.g. `nginx -t`) or runs
# nginx in the foreground and keeps the upstream in step with DNS: when APP_HOST resolves to a
# different set of replicas (scaled, restarted, rescheduled), it rewrites upstream.conf and
# reloads nginx gracefully. Open-source nginx 1.22 resolves upstream names only at start.
set -eu

# Defaults: the one home of these values (documented in the README's proxy table).
: "${APP_HOST:=app}"                # DNS name that resolves to every app replica
: "${APP_PORT:=8501}"               # the app's port inside the network
: "${PROXY_RATE_PER_CLIENT:=30r/s}" # HTTP requests per client address (nginx rate syntax)
: "${PROXY_BURST_PER_CLIENT:=200}"  # requests above the rate served at once before 429s
: "${PROXY_WS_PER_CLIENT:=50}"      # open WebSockets (sessions) per client address
: "${PROXY_DNS_INTERVAL:=5}"        # seconds between DNS checks of APP_HOST
: "${PROXY_LOG_EXPORTER:=}"         # host:port (UDP syslog) of the access-log exporter; empty: none
: "${PROXY_TRUSTED_HOPS:=}"         # load-balancer mode: CIDRs of the hops in front (empty: none)

conf=/tmp/nginx

die() { echo "proxy: $*" >&2; exit 64; }
echo "$PROXY_RATE_PER_CLIENT" | grep -Eq '^[1-9][0-9]*r/[sm]$' \
  || die "PROXY_RATE_PER_CLIENT must look like 30r/s or 600r/m, got '$PROXY_RATE_PER_CLIENT'"
for var in APP_PORT PROXY_BURST_PER_CLIENT PROXY_WS_PER_CLIENT PROXY_DNS_INTERVAL; do
  eval "value=\${$var}"
  echo "$value" | grep -Eq '^[1-9][0-9]*$' || die "$var must be a positive whole number, got '$value'"
done

[ -z "$PROXY_LOG_EXPORTER" ] || echo "$PROXY_LOG_EXPORTER" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[1-9][0-9]{0,4}$' \
  || die "PROXY_LOG_EXPORTER must look like proxy-metrics:5140 (host:port), got '$PROXY_LOG_EXPORTER'"
# One address or CIDR, IPv4 (octets 0-255, prefix 0-32) or IPv6 (hex groups, one "::" at most,
# prefix 0-128); nginx itself would refuse others only when it starts, without naming the setting.
valid_cidr() {
  case $1 in
    *:*)
      echo "$1" | grep -Eq '^[0-9A-Fa-f:.]+(/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))?$' || return 1
      [ "$(echo "${1%/*}" | grep -o '::' | wc -l)" -le 1 ]
      ;;
    *)
      echo "$1" | awk -F/ '
        NF > 2 || ($2 != "" && ($2 !~ /^[0-9]+$/ || $2 > 32)) || ($0 ~ /\/$/) { exit 1 }
        { n = split($1, o, "."); if (n != 4) exit 1
          for (i = 1; i <= 4; i++) if (o[i] !~ /^[0-9]+$/ || o[i] > 255) exit 1 }'
      ;;
  esac
}
trusted_hops=$(echo "$PROXY_TRUSTED_HOPS" | tr ',' ' ')
for hop in $trusted_hops; do
  valid_cidr "$hop" || die "PROXY_TRUSTED_HOPS must list addresses or CIDRs (10.0.0.0/8, fd00::/8), got '$hop'"
done

mkdir -p "$conf"
cat >"$conf/limits.conf" <<LIMITS
limit_req_zone \$binary_remote_addr zone=per_client:10m rate=$PROXY_RATE_PER_CLIENT;
limit_req zone=per_client burst=$PROXY_BURST_PER_CLIENT nodelay;
limit_conn_zone \$websocket_client zone=ws_per_client:10m;
limit_conn ws_per_client $PROXY_WS_PER_CLIENT;
LIMITS

# Load-balancer mode: requests from these peers may name the client (X-Forwarded-For) and the
# scheme (X-Forwarded-Proto); nginx.conf's realip settings and its $from_trusted_hop geo read these.
: >"$conf/trusted_hops.conf"
: >"$conf/trusted_hops.geo"
for hop in $trusted_hops; do
  echo "set_real_ip_from $hop;" >>"$conf/trusted_hops.conf"
  echo "$hop 1;" >>"$conf/trusted_hops.geo"
done

# Sorted addresses of APP_HOST, one per line; empty while it does not resolve.
resolve() {
  getent ahosts "$APP_HOST" 2>/dev/null | awk '$2 == "STREAM" { print $1 }' | sort -u || true
}

# Writes upstream.conf for the given addresses (atomically: nginx may read it at any reload).
render_upstream() {
  {
    if [ -z "$1" ]; then
      echo "server 127.0.0.1:$APP_PORT down;  # $APP_HOST does not resolve (yet): 502 page"
    fi
    for addr in $1; do
      case $addr in *:*) addr="[$addr]" ;; esac
      echo "server $addr:$APP_PORT max_fails=1 fail_timeout=5s;"
    done
  } >"$conf/upstream.conf.new"
  mv "$conf/upstream.conf.new" "$conf/upstream.conf"
}

# --- access-log metrics (docs/observability.md) ---------------------------------------------
# The exporter's address, resolved here (nginx would resolve a syslog host only at start, and
# refuse to start while it does not resolve); empty while it does not resolve.
exporter_address() {
  [ -n "$PROXY_LOG_EXPORTER" ] || return 0
  getent ahostsv4 "${PROXY_LOG_EXPORTER%:*}" 2>/dev/null | awk 'NR == 1 { print $1 }' || true
}

render_metrics_log() {
  if [ -n "$1" ]; then
    echo "access_log syslog:server=$1:${PROXY_LOG_EXPORTER##*:},tag=nginx,nohostname metrics;"
  else
    echo "# no access-log metrics: PROXY_LOG_EXPORTER='$PROXY_LOG_EXPORTER' unset or not resolvable (yet)"
  fi >"$conf/metrics.conf.new"
  mv "$conf/metrics.conf.new" "$conf/metrics.conf"
}
# ----------------------------------------------------------------------------------------------

addrs=$(resolve)
render_upstream "$addrs"
exporter=$(exporter_address)
render_metrics_log "$exporter"

if [ $# -gt 0 ]; then exec "$@"; fi

nginx -g 'daemon off;' &
pid=$!
# docker stop sends SIGQUIT (graceful: finish requests); SIGTERM/SIGINT stop at once.
trap 'kill -QUIT $pid 2>/dev/null' QUIT
trap 'kill -TERM $pid 2>/dev/null' TERM INT
echo "proxy: upstream $APP_HOST:$APP_PORT ->" $addrs >&2
while kill -0 "$pid" 2>/dev/null; do
  sleep "$PROXY_DNS_INTERVAL" &
  wait $! || true
  now=$(resolve)
  if [ "$now" != "$addrs" ] && kill -0 "$pid" 2>/dev/null; then
    addrs=$now
    render_upstream "$addrs"
    echo "proxy: replicas changed, reloading: $APP_HOST:$APP_PORT ->" $addrs >&2
    kill -HUP "$pid"
  fi
  now=$(exporter_address)
  if [ "$now" != "$exporter" ] && kill -0 "$pid" 2>/dev/null; then
    exporter=$now
    render_metrics_log "$exporter"
    echo "proxy: access-log exporter $PROXY_LOG_EXPORTER -> ${exporter:-none}, reloading" >&2
    kill -HUP "$pid"
  fi
done
wait "$pid"
