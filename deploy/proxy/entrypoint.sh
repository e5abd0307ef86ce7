#!/bin/sh
# Entry point of the proxy image. Renders the per-deployment parts of nginx.conf from the
# environment into /tmp/nginx, then either runs the given command (e.g. `nginx -t`) or runs
# nginx in the foreground and keeps the upstream in step with DNS: when APP_HOST resolves to a
# different set of replicas (scaled, restarted, rescheduled), it rewrites upstream.conf and
# reloads nginx gracefully. Open-source nginx 1.22 resolves upstream names only at start. With
# TLS on it also reloads nginx when the certificate or key files change (a renewed certificate).
set -eu

# Defaults: the one home of these values (documented in docs/settings.md's proxy table).
: "${APP_HOST:=app}"                # DNS name that resolves to every app replica
: "${APP_PORT:=8501}"               # the app's port inside the network
: "${PROXY_RATE_PER_CLIENT:=30r/s}" # HTTP requests per client address (nginx rate syntax)
: "${PROXY_BURST_PER_CLIENT:=200}"  # requests above the rate served at once before 429s
: "${PROXY_WS_PER_CLIENT:=50}"      # open WebSockets (sessions) per client address
: "${PROXY_UPLOAD_RATE_PER_CLIENT:=2r/s}" # file uploads (PUT/DELETE) per client address
: "${PROXY_UPLOAD_BURST_PER_CLIENT:=10}"  # uploads above that rate served at once before 429s
: "${SERVE_AUTH:=none}"             # the app's sign-in mode, set from the app's own SERVE_AUTH;
                                    # oidc: uploads without the sign-in cookie get 403 here
: "${PROXY_DNS_INTERVAL:=5}"        # seconds between DNS checks of APP_HOST
: "${PROXY_LOG_EXPORTER:=}"         # host:port (UDP syslog) of the access-log exporter; empty: none
: "${PROXY_TRUSTED_HOPS:=}"         # load-balancer mode: CIDRs of the hops in front (empty: none)
: "${PROXY_TLS:=off}"               # on: HTTPS on 8443 with the files below; HTTP on 8080 redirects
: "${PROXY_TLS_CERT:=/run/secrets/tls_cert}"  # PEM certificate chain, the server's certificate first
: "${PROXY_TLS_KEY:=/run/secrets/tls_key}"    # PEM private key of that certificate
: "${PROXY_TLS_PUBLIC_PORT:=443}"   # the HTTPS port browsers reach (where HTTP redirects to)
: "${PROXY_HSTS_MAX_AGE:=31536000}" # Strict-Transport-Security max-age (s) on HTTPS; 0: no header
: "${PROXY_WORKERS:=}"              # nginx worker processes; empty: the container's CPU limit, rounded up
: "${PROXY_RELOAD_GRACE_SECONDS:=60}" # after a reload, old workers keep their WebSockets this long (1-3600)
: "${PROXY_UPLOAD_MB:=16}"          # the largest request body (MB, 1-1024): client_max_body_size; set by
                                    # the stacks from the app's serving.toml [limits] upload_mb, the same
                                    # value as the cap of Streamlit's server.maxUploadSize (pinned.py)

conf=/tmp/nginx

die() { echo "proxy: $*" >&2; exit 64; }
for var in PROXY_RATE_PER_CLIENT PROXY_UPLOAD_RATE_PER_CLIENT; do
  eval "value=\${$var}"
  echo "$value" | grep -Eq '^[1-9][0-9]*r/[sm]$' || die "$var must look like 30r/s or 600r/m, got '$value'"
done
for var in APP_PORT PROXY_BURST_PER_CLIENT PROXY_WS_PER_CLIENT PROXY_DNS_INTERVAL PROXY_UPLOAD_BURST_PER_CLIENT; do
  eval "value=\${$var}"
  echo "$value" | grep -Eq '^[1-9][0-9]*$' || die "$var must be a positive whole number, got '$value'"
done
echo "$PROXY_UPLOAD_MB" | grep -Eq '^[1-9][0-9]{0,3}$' && [ "$PROXY_UPLOAD_MB" -le 1024 ] \
  || die "PROXY_UPLOAD_MB must be a whole number of MB from 1 to 1024 (the app's serving.toml [limits] upload_mb), got '$PROXY_UPLOAD_MB'"
[ -z "$PROXY_WORKERS" ] || echo "$PROXY_WORKERS" | grep -Eq '^([1-9][0-9]?|1[0-9]{2}|2[0-4][0-9]|25[0-6])$' \
  || die "PROXY_WORKERS must be a whole number from 1 to 256 (empty: from the CPU limit), got '$PROXY_WORKERS'"

echo "$PROXY_RELOAD_GRACE_SECONDS" | grep -Eq '^[1-9][0-9]{0,3}$' && [ "$PROXY_RELOAD_GRACE_SECONDS" -le 3600 ] \
  || die "PROXY_RELOAD_GRACE_SECONDS must be a whole number of seconds from 1 to 3600, got '$PROXY_RELOAD_GRACE_SECONDS'"

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
echo "$PROXY_HSTS_MAX_AGE" | grep -Eq '^(0|[1-9][0-9]{0,9})$' \
  || die "PROXY_HSTS_MAX_AGE must be a whole number of seconds (0: no header), got '$PROXY_HSTS_MAX_AGE'"
echo "$PROXY_TLS_PUBLIC_PORT" | grep -Eq '^[1-9][0-9]{0,4}$' && [ "$PROXY_TLS_PUBLIC_PORT" -le 65535 ] \
  || die "PROXY_TLS_PUBLIC_PORT must be a port number, got '$PROXY_TLS_PUBLIC_PORT'"
case $PROXY_TLS in
  on)
    # Checked here, so a missing or unreadable file is named instead of nginx failing to start.
    for var in PROXY_TLS_CERT PROXY_TLS_KEY; do
      eval "file=\${$var}"
      [ -r "$file" ] || die "$var=$file cannot be read by UID $(id -u) (mount the file, readable by it)"
    done
    grep -q -- '-----BEGIN CERTIFICATE-----' "$PROXY_TLS_CERT" \
      || die "PROXY_TLS_CERT=$PROXY_TLS_CERT holds no PEM certificate"
    grep -Eq -- '-----BEGIN ([A-Z]+ )?PRIVATE KEY-----' "$PROXY_TLS_KEY" \
      || die "PROXY_TLS_KEY=$PROXY_TLS_KEY holds no PEM private key"
    ;;
  off) ;;
  *) die "PROXY_TLS must be on or off, got '$PROXY_TLS'" ;;
esac
sign_in=$(echo "$SERVE_AUTH" | tr '[:upper:]' '[:lower:]' | tr -d '[:space:]')
case $sign_in in
  oidc | none | none-public | "") ;;
  *) die "SERVE_AUTH must be oidc, none or none-public (the app's sign-in mode), got '$SERVE_AUTH'" ;;
esac
trusted_hops=$(echo "$PROXY_TRUSTED_HOPS" | tr ',' ' ')
for hop in $trusted_hops; do
  valid_cidr "$hop" || die "PROXY_TRUSTED_HOPS must list addresses or CIDRs (10.0.0.0/8, fd00::/8), got '$hop'"
done

mkdir -p "$conf"

# --- browser policy (docs/your-app.md#what-the-pages-may-load-and-use) ------------------------
# The Content-Security-Policy and Permissions-Policy headers of every response, rendered into
# browser_policy.conf (nginx.conf's server block includes it). Unset or empty, each variable adds
# nothing: no third-party origin, no camera, microphone or location. The stacks set them from the
# app's serving.toml, [browser] (`python3 -m streamlit_serving.app_source --proxy-env`), their one
# home; checked there and again here.
: "${PROXY_CSP_IMG:=}"      # extra img-src origins, space-separated (https://tiles.example.com ...)
: "${PROXY_CSP_MEDIA:=}"    # media-src (st.video/st.audio by URL); none: no media-src, as default-src
: "${PROXY_CSP_CONNECT:=}"  # connect-src (map styles and tiles, Vega URL data)
: "${PROXY_CSP_FRAME:=}"    # frame-src (components.iframe, URL components); none: as default-src
: "${PROXY_CSP_SCRIPT:=}"   # script-src
: "${PROXY_CSP_FONT:=}"     # font-src
: "${PROXY_CSP_STYLE:=}"    # style-src
: "${PROXY_CSP_INLINE_SCRIPTS:=}"  # on: script-src 'unsafe-inline' (components.html scripts), not the hashes
: "${PROXY_PERMISSIONS:=}"  # allowed for the app's own origin: camera microphone geolocation
                            # clipboard-read clipboard-write (space-separated); the rest stay ()
# scheme://host[:port], the host a DNS name (optionally *. first, below a domain) or an IPv4
# address; as streamlit_serving/app_settings.py's ORIGIN. No keyword ('unsafe-inline', 'none'),
# no * alone, no bare scheme, no path, no quote, ';' or ',' (nothing that could change the header).
valid_origin() {
  echo "$1" | grep -Eq '^https?://(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$' \
    || return 1
  case $1 in *://\*.*) case ${1#*://\*.} in *.*) ;; *) return 1 ;; esac ;; esac
  case ${1#*://} in *:*) [ "${1##*:}" -ge 1 ] && [ "${1##*:}" -le 65535 ] || return 1 ;; esac
}
set -f  # an origin such as https://*.example.com is never a file-name pattern here
for var in PROXY_CSP_IMG PROXY_CSP_MEDIA PROXY_CSP_CONNECT PROXY_CSP_FRAME PROXY_CSP_SCRIPT PROXY_CSP_FONT PROXY_CSP_STYLE; do
  eval "value=\${$var}"
  for origin in $value; do
    valid_origin "$origin" || die "$var must list origins (https://host or http://host, optionally *. before the host and :port after it), space-separated; got '$origin'"
  done
done
case $PROXY_CSP_INLINE_SCRIPTS in
  "" | off | on) ;;
  *) die "PROXY_CSP_INLINE_SCRIPTS must be on or off (empty: off); got '$PROXY_CSP_INLINE_SCRIPTS'" ;;
esac
for permission in $PROXY_PERMISSIONS; do
  case $permission in
    camera | microphone | geolocation | clipboard-read | clipboard-write) ;;
    *) die "PROXY_PERMISSIONS must list camera, microphone, geolocation, clipboard-read or clipboard-write, space-separated; got '$permission'" ;;
  esac
done
# " ORIGIN ORIGIN" of a variable (checked above), or nothing.
extra_origins() {
  eval "value=\${$1}"
  for origin in $value; do printf ' %s' "$origin"; done
}
permissions=" $(echo $PROXY_PERMISSIONS) "
set +f
allowed() { case $permissions in *" $1 "*) echo "(self)" ;; *) echo "()" ;; esac; }
permissions_policy="camera=$(allowed camera), microphone=$(allowed microphone), geolocation=$(allowed geolocation)"
for permission in clipboard-read clipboard-write; do
  case $permissions in *" $permission "*) permissions_policy="$permissions_policy, $permission=(self)" ;; esac
done
# What Streamlit's frontend needs: its own scripts, inline styles (emotion), data/blob images and
# fonts, and its WebSocket on this origin; then the app's extra origins. The sha256 is the one
# inline script of Streamlit's index.html (`window.prerenderReady = false`, Streamlit 1.67); the
# browser tier fails on a CSP violation, so a Streamlit upgrade that changes it shows up there.
# The second is the retry script of the proxy's own error page (deploy/proxy/50x.html;
# tests/unit/test_error_page.py checks it). PROXY_CSP_INLINE_SCRIPTS=on (the app's [browser]
# inline_scripts) replaces both with 'unsafe-inline', which a browser ignores beside a hash: the
# <script> of components.html and st.iframe HTML runs in a srcdoc frame under this same policy.
inline="'sha256-THxz9J9+wf7rhwR2YkXJoSZ13UCmYyC+3lNDv2+8ugA=' 'sha256-qN/AUekpUyZjBQ2uxNjanyAdbu1iKu+bsd45OZeWoYI='"
[ "$PROXY_CSP_INLINE_SCRIPTS" != on ] || inline="'unsafe-inline'"
csp="default-src 'self'"
csp="$csp; script-src 'self' 'unsafe-eval' $inline$(extra_origins PROXY_CSP_SCRIPT)"
csp="$csp; style-src 'self' 'unsafe-inline'$(extra_origins PROXY_CSP_STYLE)"
csp="$csp; img-src 'self' data: blob:$(extra_origins PROXY_CSP_IMG)"
csp="$csp; font-src 'self' data:$(extra_origins PROXY_CSP_FONT)"
csp="$csp; connect-src 'self' ws: wss:$(extra_origins PROXY_CSP_CONNECT)"
[ -z "$PROXY_CSP_MEDIA" ] || csp="$csp; media-src 'self'$(extra_origins PROXY_CSP_MEDIA)"
[ -z "$PROXY_CSP_FRAME" ] || csp="$csp; frame-src 'self'$(extra_origins PROXY_CSP_FRAME)"
csp="$csp; worker-src 'self' blob:; frame-ancestors 'self'; base-uri 'self'; form-action 'self'; object-src 'none'"
cat >"$conf/browser_policy.conf" <<POLICY
add_header Permissions-Policy "$permissions_policy" always;
add_header Content-Security-Policy "$csp" always;
POLICY
if [ -n "$(echo $PROXY_CSP_IMG $PROXY_CSP_MEDIA $PROXY_CSP_CONNECT $PROXY_CSP_FRAME $PROXY_CSP_SCRIPT $PROXY_CSP_FONT $PROXY_CSP_STYLE $PROXY_PERMISSIONS ${PROXY_CSP_INLINE_SCRIPTS#off})" ]; then
  echo "proxy: browser policy beyond the defaults (the app's serving.toml [browser]): Permissions-Policy: $permissions_policy; Content-Security-Policy: $csp" >&2
fi
# ----------------------------------------------------------------------------------------------

# Worker processes: one per CPU the container may use, not one per core of the host (nginx's
# `auto` counts the host's): on a 32-core node `auto` meant 32 idle workers of ~7 MB each against a
# 320 MB limit. The CPU limit is the cgroup's CFS quota (v2 cpu.max, v1 cpu.cfs_quota_us over
# cpu.cfs_period_us), rounded up; at least 1, at most the CPUs this process may run on.
cpu_workers() {
  cpus=$(nproc)
  quota=max period=100000
  if [ -r /sys/fs/cgroup/cpu.max ]; then
    read -r quota period </sys/fs/cgroup/cpu.max
  elif [ -r /sys/fs/cgroup/cpu/cpu.cfs_quota_us ] && [ -r /sys/fs/cgroup/cpu/cpu.cfs_period_us ]; then
    quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)
  fi
  case $quota in max | -1 | "") echo "$cpus"; return ;; esac
  workers=$(((quota + period - 1) / period))
  [ "$workers" -ge 1 ] || workers=1
  [ "$workers" -le "$cpus" ] || workers=$cpus
  echo "$workers"
}
workers=${PROXY_WORKERS:-$(cpu_workers)}
# The proxy's connections (two per WebSocket session) are shared out among its workers: 16,384 in
# all, 8,000 sessions, about what its 320 MB memory limit holds (~36 kB a session). nginx allocates
# every worker's connection table at start (~440 bytes a connection, written, so private memory):
# 16,384 per worker made each idle worker ~7 MB, and each generation of workers a reload leaves
# behind holding WebSockets (worker_shutdown_timeout) as big again.
connections=$(((16384 + workers - 1) / workers))
[ "$connections" -ge 1024 ] || connections=1024
# nginx.conf's main context includes it: the workers, and how long a reload's old ones live.
printf 'worker_processes %s;\nworker_shutdown_timeout %ss;\n' "$workers" "$PROXY_RELOAD_GRACE_SECONDS" >"$conf/workers.conf"
echo "worker_connections $connections;" >"$conf/connections.conf"
# The largest request body (nginx.conf's http block includes it): a bigger upload gets 413 here
# and never reaches the app; Streamlit's own cap is the same value (streamlit_serving/pinned.py).
echo "client_max_body_size ${PROXY_UPLOAD_MB}m;" >"$conf/body_size.conf"
cat >"$conf/limits.conf" <<LIMITS
limit_req_zone \$binary_remote_addr zone=per_client:10m rate=$PROXY_RATE_PER_CLIENT;
limit_req zone=per_client burst=$PROXY_BURST_PER_CLIENT nodelay;
limit_conn_zone \$websocket_client zone=ws_per_client:10m;
limit_conn ws_per_client $PROXY_WS_PER_CLIENT;
limit_req_zone \$binary_remote_addr zone=uploads_per_client:10m rate=$PROXY_UPLOAD_RATE_PER_CLIENT;
LIMITS

# The upload location's own limits (nginx.conf): the uploads' small burst, and the site-wide
# limit again (a location's own limit_req replaces the ones it would inherit). With sign-in on,
# an upload that carries no sign-in cookie is refused before its body is read (the app would
# refuse it too, 403, but only once the body reached it).
cat >"$conf/uploads.conf" <<UPLOADS
limit_req zone=per_client burst=$PROXY_BURST_PER_CLIENT nodelay;
limit_req zone=uploads_per_client burst=$PROXY_UPLOAD_BURST_PER_CLIENT nodelay;
UPLOADS
if [ "$sign_in" = oidc ]; then
  cat >>"$conf/uploads.conf" <<'SIGNIN'
if ($cookie__streamlit_user = "") {
    return 403;
}
SIGNIN
fi

# Load-balancer mode: requests from these peers may name the client (X-Forwarded-For) and the
# scheme (X-Forwarded-Proto); nginx.conf's realip settings and its $from_trusted_hop geo read these.
: >"$conf/trusted_hops.conf"
: >"$conf/trusted_hops.geo"
for hop in $trusted_hops; do
  echo "set_real_ip_from $hop;" >>"$conf/trusted_hops.conf"
  echo "$hop 1;" >>"$conf/trusted_hops.geo"
done

# Where the app's server listens (included in nginx.conf's server block), and what plain HTTP
# does: with TLS, HTTPS on 8443 and a server on 8080 that only redirects; without, HTTP on 8080.
if [ "$PROXY_TLS" = on ]; then
  cat >"$conf/listen.conf" <<LISTEN
listen 8443 ssl default_server;
listen [::]:8443 ssl default_server;
ssl_certificate $PROXY_TLS_CERT;
ssl_certificate_key $PROXY_TLS_KEY;
LISTEN
  port_suffix=":$PROXY_TLS_PUBLIC_PORT"
  [ "$PROXY_TLS_PUBLIC_PORT" = 443 ] && port_suffix=""
  cat >"$conf/https_redirect.conf" <<REDIRECT
# Plain HTTP (PROXY_TLS=on): nothing here reaches the app.
server {
    listen 8080 default_server;
    listen [::]:8080 default_server;
    # The proxy's own health, for probes that speak plain HTTP (the image's HEALTHCHECK).
    location = /healthz {
        access_log off;
        default_type text/plain;
        return 200 "ok\n";
    }
    # Everything else: the same URL on HTTPS. 308, not 301: the method and body are kept.
    location / {
        return 308 https://\$host$port_suffix\$request_uri;
    }
}
REDIRECT
else
  cat >"$conf/listen.conf" <<LISTEN
listen 8080 default_server;
listen [::]:8080 default_server;
LISTEN
  echo "# PROXY_TLS=off: the app's server answers plain HTTP on 8080 itself" >"$conf/https_redirect.conf"
fi
# HSTS only where the browser used HTTPS ($forwarded_proto: this connection, or a trusted hop's word).
if [ "$PROXY_HSTS_MAX_AGE" = 0 ]; then
  echo 'map $forwarded_proto $strict_transport_security { default ""; }' >"$conf/hsts.conf"
else
  echo "map \$forwarded_proto \$strict_transport_security { https \"max-age=$PROXY_HSTS_MAX_AGE\"; default \"\"; }" \
    >"$conf/hsts.conf"
fi

# Sorted addresses of APP_HOST, one per line; empty while it does not resolve.
resolve() {
  getent ahosts "$APP_HOST" 2>/dev/null | awk '$2 == "STREAM" { print $1 }' | sort -u || true
}

# A replica's id in the st_replica cookie: a short hash of its address (the cookie names the
# replica without showing the network's addresses).
replica_id() { printf '%s' "$1" | sha256sum | cut -c1-16; }

# Writes the upstreams for the given addresses (atomically: nginx may read them at any reload):
# - upstream.conf: every replica, for nginx.conf's `streamlit` upstream, which hashes a browser's
#   st_route cookie onto them (a browser's first visit);
# - replicas.conf: one upstream per replica, `replica_<id>`, with every other replica as its
#   backup (a replica that refuses, or is gone, hands the request on), and the maps from the
#   st_replica cookie to that upstream and from the address that answered to its id. A browser
#   whose cookie names a live replica stays there whatever replicas are added or removed.
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
  {
    for addr in $1; do
      case $addr in *:*) addr="[$addr]" ;; esac
      echo "upstream replica_$(replica_id "$addr:$APP_PORT") {"
      echo "    server $addr:$APP_PORT max_fails=1 fail_timeout=5s;"
      for other in $1; do
        case $other in *:*) other="[$other]" ;; esac
        [ "$other" = "$addr" ] || echo "    server $other:$APP_PORT backup max_fails=1 fail_timeout=5s;"
      done
      echo "    keepalive 16;"
      echo "}"
    done
    echo 'map $cookie_st_replica $app_upstream {'
    echo '    default streamlit;'
    for addr in $1; do
      case $addr in *:*) addr="[$addr]" ;; esac
      id=$(replica_id "$addr:$APP_PORT")
      echo "    $id replica_$id;"
    done
    echo '}'
    # $upstream_addr lists every replica tried ("a:8501, b:8501"): the last one answered.
    echo 'map $upstream_addr $upstream_replica {'
    echo '    default "";'
    for addr in $1; do
      case $addr in *:*) addr="[$addr]" ;; esac
      pattern=$(printf '%s' "$addr:$APP_PORT" | sed 's/[].[]/\\&/g')
      echo "    \"~(^|, )$pattern\$\" $(replica_id "$addr:$APP_PORT");"
    done
    echo '}'
  } >"$conf/replicas.conf.new"
  mv "$conf/upstream.conf.new" "$conf/upstream.conf"
  mv "$conf/replicas.conf.new" "$conf/replicas.conf"
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

# A checksum of the certificate and key (empty without TLS): a change means a renewal to load.
tls_files() {
  [ "$PROXY_TLS" = on ] || return 0
  cat "$PROXY_TLS_CERT" "$PROXY_TLS_KEY" 2>/dev/null | cksum
}

addrs=$(resolve)
render_upstream "$addrs"
exporter=$(exporter_address)
render_metrics_log "$exporter"
certs=$(tls_files)

if [ $# -gt 0 ]; then exec "$@"; fi

nginx -g 'daemon off;' &
pid=$!
# docker stop sends SIGQUIT (graceful: finish requests); SIGTERM/SIGINT stop at once.
trap 'kill -QUIT $pid 2>/dev/null' QUIT
trap 'kill -TERM $pid 2>/dev/null' TERM INT
echo "proxy: $workers worker process(es) of $connections connections each (PROXY_WORKERS='$PROXY_WORKERS', $(nproc) CPU(s))" >&2
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
  # A renewed certificate (cert-manager, certbot, a new Secret) is served without a restart; a
  # broken one is refused by the reload and the old one stays (nginx logs why).
  now=$(tls_files)
  if [ "$now" != "$certs" ] && kill -0 "$pid" 2>/dev/null; then
    certs=$now
    echo "proxy: certificate or key changed, reloading" >&2
    kill -HUP "$pid"
  fi
done
wait "$pid"
