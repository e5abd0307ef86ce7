#!/usr/bin/env bash
# Builds every image of deploy/images.tsv (or those NAMEs given: scripts/deploy/build-images.sh app)
# from the committed files with BuildKit. Prints the image tags, one a line, in the list's order
# (the app image first).
#   APP_IMAGE, ...   tag to build (defaults in deploy/images.tsv)
#   CA_BUNDLE        extra CA bundle handed in as a BuildKit secret (default: the host's bundle,
#                    which carries the CA of a TLS-inspecting proxy where there is one)
#   IMAGES_PREBUILT  1: build nothing, check the tags exist (CI builds them with buildx first)
#   APP_DIR, APP_MAIN  the app the app image serves (default the example, app/streamlit_app.py),
#                    checked and staged into the build context by scripts/deploy/stage-app.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
docker=$(scripts/setup/ensure-docker.sh)
mapfile -t images < <(scripts/deploy/images.sh)
if [ $# -gt 0 ]; then
  wanted=" $* "
  for i in "${!images[@]}"; do
    read -r name _ <<<"${images[$i]}"
    [[ $wanted == *" $name "* ]] || unset 'images[i]'
  done
  [ ${#images[@]} -eq $# ] || { echo "build-images: unknown image in '$*' (deploy/images.tsv)" >&2; exit 64; }
fi
if [ "${IMAGES_PREBUILT:-}" = 1 ]; then
  for line in "${images[@]}"; do
    read -r _ tag _ _ <<<"$line"
    $docker image inspect "$tag" >/dev/null 2>&1 \
      || { echo "build-images: IMAGES_PREBUILT=1 but $tag is not in the engine" >&2; exit 1; }
    echo "$tag"
  done
  exit 0
fi
app_main=$(scripts/deploy/stage-app.sh)
app_name=$(scripts/deploy/images.sh --name)  # the app image's title label
base=$(scripts/deploy/base-image.sh)
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
secret=()
[ -s "$ca" ] && secret=(--secret "id=ca,src=$ca")
for line in "${images[@]}"; do
  read -r name tag dockerfile context <<<"$line"
  app=()
  [ "$name" = app ] && app=(--build-arg APP_DIR=build/app-src --build-arg "APP_MAIN=$app_main"
    --build-arg "APP_NAME=$app_name")
  DOCKER_BUILDKIT=1 $docker build --quiet "${secret[@]}" \
    --build-arg "BASE_IMAGE=$base" \
    --build-arg "VERSION=$(git describe --tags --always 2>/dev/null || echo dev)" \
    --build-arg "REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    "${app[@]}" -f "$dockerfile" -t "$tag" "$context" >&2
  echo "$tag"
done
