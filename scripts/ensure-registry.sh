#!/usr/bin/env bash
# Makes sure Debian's docker-registry (the CNCF distribution registry) is installed, for the
# registry round-trip test. Prints the binary's path. The test runs it itself, on 127.0.0.1.
set -euo pipefail
bin=/usr/bin/docker-registry
if [ ! -x "$bin" ]; then
  echo "ensure-registry: installing docker-registry from the distribution's archive" >&2
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)  # GitHub's runners run as a user with sudo
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker-registry >/dev/null
fi
echo "$bin"
