#!/usr/bin/env bash
# Builds the app image from the committed Dockerfile with BuildKit. Prints the image tag.
#   APP_IMAGE   tag to build (default sales-dashboard:dev)
#   CA_BUNDLE   extra CA bundle handed in as a BuildKit secret (default: the host's bundle,
#               which carries the CA of a TLS-inspecting proxy where there is one)
set -euo pipefail
cd "$(dirname "$0")/.."
docker=$(scripts/ensure-docker.sh)
base=$(scripts/base-image.sh)
tag=${APP_IMAGE:-sales-dashboard:dev}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
secret=()
[ -s "$ca" ] && secret=(--secret "id=ca,src=$ca")
DOCKER_BUILDKIT=1 $docker build --quiet "${secret[@]}" \
  --build-arg "BASE_IMAGE=$base" \
  --build-arg "VERSION=$(git describe --tags --always 2>/dev/null || echo dev)" \
  --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  -t "$tag" . >&2
echo "$tag"
