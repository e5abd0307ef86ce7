#!/bin/bash
# Entry point of the proxy-metrics image: runs the nginx exporter and mtail side by side and
# stops (so the container restarts) as soon as either stops. Settings, with their defaults:
#   PROXY_STATUS_URL   http://proxy:8081/stub_status   nginx's stub_status (nginx.conf)
#   LOG_LISTEN         0.0.0.0:5140                    UDP address nginx's syslog lines arrive on
set -euo pipefail
: "${PROXY_STATUS_URL:=http://proxy:8081/stub_status}"
: "${LOG_LISTEN:=0.0.0.0:5140}"

die() { echo "proxy-metrics: $*" >&2; exit 64; }
[[ $PROXY_STATUS_URL =~ ^https?://[^/]+/ ]] || die "PROXY_STATUS_URL must be an http(s) URL, got '$PROXY_STATUS_URL'"
[[ $LOG_LISTEN =~ ^[^:]+:[1-9][0-9]*$ ]] || die "LOG_LISTEN must look like 0.0.0.0:5140, got '$LOG_LISTEN'"

# The proxy may start after this container: retry the first scrape for a minute.
prometheus-nginx-exporter -nginx.scrape-uri="$PROXY_STATUS_URL" -nginx.retries=12 \
  -nginx.retry-interval=5s -web.listen-address=:9113 &
mtail --progs /etc/mtail --logs "udp://$LOG_LISTEN" --port 3903 --emit_prog_label=false \
  --logtostderr --stderrthreshold=WARNING &
trap 'kill -TERM $(jobs -p) 2>/dev/null' TERM INT
wait -n
status=$?
kill -TERM $(jobs -p) 2>/dev/null || true
echo "proxy-metrics: a server stopped (exit $status); stopping the container" >&2
exit "$status"
