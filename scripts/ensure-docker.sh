#!/usr/bin/env bash
# Makes sure a Docker engine answers. On a machine without one (the project's CI machines),
# installs Debian's docker.io and starts dockerd in the background. Prints the client to use:
# one that can build with BuildKit (Debian's /usr/bin/docker when a newer client on PATH
# lacks the buildx plugin).
set -euo pipefail
log=${DOCKERD_LOG:-/tmp/dockerd.log}
client=docker
if ! docker buildx version >/dev/null 2>&1 && [ -x /usr/bin/docker ]; then client=/usr/bin/docker; fi
if ! $client info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null; then
    echo "ensure-docker: installing docker.io from Debian's archive" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
    client=/usr/bin/docker
  fi
  echo "ensure-docker: starting dockerd (log: $log)" >&2
  nohup dockerd >"$log" 2>&1 &
  for _ in $(seq 60); do $client info >/dev/null 2>&1 && break; sleep 1; done
  $client info >/dev/null 2>&1 || { echo "ensure-docker: dockerd did not start; see $log" >&2; exit 1; }
fi
echo "$client"
