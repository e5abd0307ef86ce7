#!/usr/bin/env bash
# Makes sure a Docker engine answers, and prints the client to use: one that can build with
# BuildKit (Debian's /usr/bin/docker when a newer client on PATH lacks the buildx plugin).
# Where an engine is installed (GitHub's runner, a laptop) it is used as it is; on a machine
# without one (the project's CI machines) Debian's docker.io is installed and dockerd started,
# as root or through sudo. With DOCKER_HOST set (another engine, e.g. scripts/setup/swarm-engine.sh)
# nothing is installed or started: that engine must answer.
set -euo pipefail
here=$(dirname "$0")
log=${DOCKERD_LOG:-/tmp/dockerd.log}
client=docker
if ! docker buildx version >/dev/null 2>&1 && [ -x /usr/bin/docker ]; then client=/usr/bin/docker; fi
if $client info >/dev/null 2>&1; then echo "$client"; exit 0; fi
if [ -n "${DOCKER_HOST:-}" ]; then
  echo "ensure-docker: no engine answers at DOCKER_HOST=$DOCKER_HOST" >&2
  exit 1
fi
# An engine runs (its socket is there) but this user may not use it: say so before anything is
# started. Debian's docker client says only "errors pretty printing info" on a permission error.
socket=/var/run/docker.sock
no_access() {
  [ "$(id -u)" != 0 ] && [ -S "$socket" ] && ! { [ -r "$socket" ] && [ -w "$socket" ]; }
}
refuse() {
  local user
  user=$(id -un)
  if [[ " $(id -nG "$user") " == *" docker "* ]]; then
    # In the group file, but not in this login's groups: added since the user logged in.
    echo "ensure-docker: the Docker engine runs, but $user may not use it ($socket): $user was" \
      "added to the docker group after this login. Log in again (or run 'newgrp docker' in this shell)" >&2
  else
    echo "ensure-docker: the Docker engine runs, but $user may not use it ($socket):" \
      "$user is not in the docker group. Add it (sudo usermod -aG docker $user) and log in again" \
      "(or run 'newgrp docker' in this shell)" >&2
  fi
  exit 1
}
no_access && refuse
if ! command -v dockerd >/dev/null; then
  "$here/apt-install.sh" docker.io
  client=/usr/bin/docker
fi
# The host's engine writes /var/run/docker.pid (another dockerd, such as the Swarm engine, has its own).
pid=$(cat /var/run/docker.pid 2>/dev/null || true)
if [ -z "$pid" ] || [ ! -d "/proc/$pid" ]; then
  if [ -d /run/systemd/system ]; then
    echo "ensure-docker: starting the docker service" >&2
    "$here/as-root.sh" systemctl start docker
  else
    echo "ensure-docker: starting dockerd (log: $log)" >&2
    "$here/as-root.sh" sh -c 'nohup dockerd >"$1" 2>&1 </dev/null &' sh "$log"
  fi
fi
for _ in $(seq 60); do $client info >/dev/null 2>&1 && break; sleep 1; done
if ! error=$($client info 2>&1 >/dev/null); then
  no_access && refuse
  if [[ $error == *"permission denied"* ]]; then
    echo "ensure-docker: the engine runs but $(id -un) may not use it: add the user to the docker" \
      "group (sudo usermod -aG docker $(id -un)) and log in again" >&2
  else
    echo "ensure-docker: dockerd did not start; see $log: $error" >&2
  fi
  exit 1
fi
echo "$client"
