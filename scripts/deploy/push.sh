#!/usr/bin/env bash
# Tags every image of deploy/images.tsv as REGISTRY/<repository>:TAG and pushes it. Prints the
# pushed references, one a line. Build first (`make images`; `make push` does).
#   REGISTRY  host[:port][/namespace], e.g. ghcr.io/your-org, docker.io/you, 127.0.0.1:5000
#   TAG       default: `git describe --tags --always` (v1.2.0, v1.2.0-3-gabc1234, abc1234)
# Logging in is yours to do first (`docker login HOST`); no credential passes through here.
set -euo pipefail
cd "$(dirname "$0")/../.."
registry=${REGISTRY:-}
tag=${TAG:-}
[ -n "$tag" ] || tag=$(git describe --tags --always 2>/dev/null || echo dev)
if [ -z "$registry" ]; then
  echo "push: REGISTRY is not set; e.g. make push REGISTRY=ghcr.io/your-org" >&2; exit 64
fi
if [[ "$registry" == *://* || "$registry" == */ || ! "$registry" =~ ^[a-z0-9.:/_-]+$ ]]; then
  echo "push: REGISTRY '$registry' is not host[:port][/namespace] (lower case, no scheme)" >&2; exit 64
fi
if [[ ! "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  echo "push: TAG '$tag' is not a valid image tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})" >&2; exit 64
fi
docker=$(scripts/setup/ensure-docker.sh)
mapfile -t images < <(scripts/deploy/images.sh)
# Check every image first, so a missing one stops the push before anything is sent.
for line in "${images[@]}"; do
  read -r _ source _ _ <<<"$line"
  $docker image inspect "$source" >/dev/null 2>&1 \
    || { echo "push: image $source not found; run \`make images\` first" >&2; exit 1; }
done
for line in "${images[@]}"; do
  read -r _ source _ _ <<<"$line"
  repository=${source%:*}
  target="$registry/${repository##*/}:$tag"
  $docker tag "$source" "$target"
  $docker push --quiet "$target" >&2 || { echo "push: pushing $target failed" >&2; exit 1; }
  echo "$target"
done
