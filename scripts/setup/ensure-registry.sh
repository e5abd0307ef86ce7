#!/usr/bin/env bash
# Makes sure Debian's docker-registry (the CNCF distribution registry) is installed, for the
# registry round-trip test. Prints the binary's path. The test runs it itself, on 127.0.0.1.
set -euo pipefail
bin=/usr/bin/docker-registry
[ -x "$bin" ] || "$(dirname "$0")/apt-install.sh" --no-install-recommends docker-registry
echo "$bin"
