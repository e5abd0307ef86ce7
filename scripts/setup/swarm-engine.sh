#!/usr/bin/env bash
# A Docker engine of its own for Swarm, so tests and benchmarks never `swarm init`/`leave` the
# engine the user's stacks run on (leaving a swarm disconnects every bridge-network container).
# A second dockerd beside the host's, started through sudo when not root, with its own data-root,
# exec-root, pidfile, socket, containerd, cgroup parent, address pools and bridges, and iptables
# off: a dockerd with iptables on flushes the DOCKER chains at start (libnetwork's removeIPChains)
# and would cut the host engine's published ports. Its default bridge is one of its own, made here
# (`--bridge none` is no way out: dockerd then deletes the interface docker0, the host engine's).
# Its stacks publish ports in host mode through docker-proxy, so they answer on this host's
# 127.0.0.1:PORT all the same.
# Images are built on the host's engine and copied in (`load`); nothing is built here.
#   scripts/setup/swarm-engine.sh up          start it (once) as a single-node swarm manager; prints
#                                       DOCKER_HOST=unix://… (`export "$(scripts/setup/swarm-engine.sh up)"`)
#   scripts/setup/swarm-engine.sh env         prints DOCKER_HOST=unix://… (it need not be running)
#   scripts/setup/swarm-engine.sh status      exit 0 when it answers
#   scripts/setup/swarm-engine.sh load IMAGE… copies images from the host's engine (docker save | load),
#                                       only those missing or different there
#   scripts/setup/swarm-engine.sh down        stops it and removes its state (images, swarm, volumes);
#                                       waits while a test or benchmark uses it
# Environment: SWARM_ENGINE_NAME (default sd-swarm) names its socket, directories and bridge, so
# two checkouts can run one each; SWARM_ENGINE_POOL (default 10.213.0.0/16) the local networks'
# address pool, SWARM_ENGINE_OVERLAY_POOL (default 10.214.0.0/16) the swarm's overlay networks',
# SWARM_ENGINE_BRIDGE_IP (default 10.212.0.1/24) its default bridge's address.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${SWARM_ENGINE_NAME:-sd-swarm}
[[ $name =~ ^[a-z][a-z0-9-]{0,9}$ ]] || { echo "swarm-engine: SWARM_ENGINE_NAME='$name' must be 1-10 of [a-z0-9-]" >&2; exit 64; }
socket=/run/$name.sock
host=unix://$socket
exec_root=/run/$name
data_root=/var/lib/$name
log=/tmp/$name-dockerd.log
bridge=$name-br  # its default bridge (the host engine's is docker0)
# The swarm's own address and ports, away from a swarm the host's engine may be in (127.0.0.1,
# 2377, 4789): its gossip port (7946) cannot be moved, so it listens on another loopback address.
address=${SWARM_ENGINE_ADDR:-127.0.0.2}
listen_port=${SWARM_ENGINE_PORT:-2387}
data_path_port=${SWARM_ENGINE_DATA_PORT:-4799}
as_root=scripts/setup/as-root.sh
host_docker=$(DOCKER_HOST='' scripts/setup/ensure-docker.sh)  # the host's engine; also installs dockerd
engine() { DOCKER_HOST=$host "$host_docker" "$@"; }
answers() { engine info >/dev/null 2>&1; }

# Removes the engine's state (it must not be running). dockerd leaves bind mounts of its own roots
# behind at exit, and an engine that was killed leaves its containers' overlay, secret and network
# namespace mounts too (rm alone fails "Device or resource busy" on them): every mount under either
# root goes first, deepest first (reverse order puts a path before the paths it is a prefix of).
wipe() {
  local mount
  awk -v data="$data_root" -v exec="$exec_root" '
    $2 == data || index($2, data "/") == 1 || $2 == exec || index($2, exec "/") == 1 { print $2 }
  ' /proc/mounts | sort -r | while read -r mount; do
    $as_root umount -l "$mount" 2>/dev/null || true
  done
  $as_root rm -rf "$data_root" "$exec_root" "$socket"
}

start() {
  answers && return 0
  echo "swarm-engine: starting dockerd $name (log: $log)" >&2
  # State left by an engine that was killed (never `down`) is not reused: a dockerd that restores
  # an older default bridge network deletes that network's interface, which may be docker0.
  wipe
  $as_root mkdir -p "$exec_root" "$data_root"
  if [ ! -e "/sys/class/net/$bridge" ]; then
    $as_root ip link add name "$bridge" type bridge
    $as_root ip addr add "${SWARM_ENGINE_BRIDGE_IP:-10.212.0.1/24}" dev "$bridge"
    $as_root ip link set "$bridge" up
  fi
  $as_root sh -c 'nohup "$@" >"'"$log"'" 2>&1 </dev/null &' sh dockerd \
    --host "$host" --group docker --pidfile "$exec_root/dockerd.pid" \
    --exec-root "$exec_root" --data-root "$data_root" \
    --containerd-namespace "$name" --containerd-plugins-namespace "$name-plugins" \
    --cgroup-parent "$name" --bridge "$bridge" --iptables=false --ip-masq=false --ip-forward=false \
    --default-address-pool "base=${SWARM_ENGINE_POOL:-10.213.0.0/16},size=24"
  for _ in $(seq 60); do answers && return 0; sleep 1; done
  echo "swarm-engine: dockerd $name did not answer in 60 s; see $log:" >&2
  $as_root tail -20 "$log" >&2 || true
  return 1
}

init_swarm() {
  [ "$(engine info --format '{{.Swarm.LocalNodeState}}')" = active ] && return 0
  # The bridge a swarm node adds for host-mode ports, under a name of its own: the host engine's
  # would be docker_gwbridge too.
  engine network inspect docker_gwbridge >/dev/null 2>&1 || engine network create \
    --opt "com.docker.network.bridge.name=${name}-gw" \
    --opt com.docker.network.bridge.enable_icc=false \
    --opt com.docker.network.bridge.enable_ip_masquerade=false \
    docker_gwbridge >/dev/null
  engine swarm init --advertise-addr "$address:$listen_port" --listen-addr "$address:$listen_port" \
    --data-path-port "$data_path_port" --default-addr-pool "${SWARM_ENGINE_OVERLAY_POOL:-10.214.0.0/16}" \
    >/dev/null
}

stop() {
  local pid
  pid=$($as_root cat "$exec_root/dockerd.pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    if answers; then engine swarm leave --force >/dev/null 2>&1 || true; fi
    $as_root kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do [ -d "/proc/$pid" ] || break; sleep 0.5; done
  fi
  $as_root ip link delete "${name}-gw" 2>/dev/null || true
  $as_root ip link delete "$bridge" 2>/dev/null || true
  # Its containers' mounts go with the daemon; what remains is plain files.
  wipe
}

load() {
  local image here there
  for image in "$@"; do
    here=$("$host_docker" image inspect -f '{{.Id}}' "$image") \
      || { echo "swarm-engine: no image $image on the host's engine; build it first" >&2; return 1; }
    there=$(engine image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    [ "$here" = "$there" ] && continue
    echo "swarm-engine: copying $image into $name" >&2
    "$host_docker" save "$image" | engine load -q >/dev/null
  done
}

# Starting and stopping take this lock (several checkouts and users share the engine); users hold
# it shared while they use the engine (loadtests/streamlit_load/swarm_engine.py), so a `down` waits
# for them. SWARM_ENGINE_LOCK_HELD=1: the caller holds it already.
lock=/tmp/$name.lock
locked() {
  if [ "${SWARM_ENGINE_LOCK_HELD:-}" = 1 ]; then "$@"; return; fi
  [ -e "$lock" ] || { touch "$lock" && chmod 666 "$lock"; } 2>/dev/null || true
  exec 9<"$lock"
  flock -w 600 -x 9 || { echo "swarm-engine: $lock is held by a user of the engine" >&2; return 1; }
  "$@"
  flock -u 9
}

case ${1:-} in
  up) locked start; locked init_swarm; echo "DOCKER_HOST=$host" ;;
  env) echo "DOCKER_HOST=$host" ;;
  status) answers ;;
  load) shift; answers || { echo "swarm-engine: $name is not running (scripts/setup/swarm-engine.sh up)" >&2; exit 1; }; load "$@" ;;
  down) locked stop ;;
  *) echo "usage: scripts/setup/swarm-engine.sh up|env|status|load IMAGE…|down" >&2; exit 64 ;;
esac
