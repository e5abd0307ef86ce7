#!/usr/bin/env bash
# Builds the project's images from the committed Dockerfiles with BuildKit (starting Docker and
# making the base image first where needed). Prints one NAME=tag line per image, e.g.
#   APP_IMAGE=sales-dashboard:dev
#   PROXY_IMAGE=sales-dashboard-proxy:dev
#   APP_IMAGE, PROXY_IMAGE  tags to build (defaults above)
#   CA_BUNDLE   extra CA bundle handed in as a BuildKit secret (default: the host's bundle,
#               which carries the CA of a TLS-inspecting proxy where there is one)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/images.sh
docker=$(scripts/ensure-docker.sh)
base=$(scripts/base-image.sh)
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
secret=()
[ -s "$ca" ] && secret=(--secret "id=ca,src=$ca")
for name in "${IMAGE_NAMES[@]}"; do
  tag=${!name}
  echo "build-images: $tag (${IMAGE_DOCKERFILES[$name]})" >&2
  DOCKER_BUILDKIT=1 $docker build --quiet "${secret[@]}" -f "${IMAGE_DOCKERFILES[$name]}" \
    --build-arg "BASE_IMAGE=$base" \
    --build-arg "VERSION=$(git describe --tags --always 2>/dev/null || echo dev)" \
    --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    -t "$tag" . >/dev/null
  echo "$name=$tag"
done
