#!/usr/bin/env bash
# Prints the images of deploy/images.tsv, one a line: NAME TAG DOCKERFILE CONTEXT, where TAG is
# the image's variable (APP_IMAGE, ...) when set, else its default tag.
#   scripts/images.sh --env   prints VARIABLE=TAG lines instead (for compose and tests)
set -euo pipefail
cd "$(dirname "$0")/.."
while IFS=$'\t' read -r name variable default dockerfile context; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  if [ "${1:-}" = --env ]; then
    echo "$variable=${!variable:-$default}"
  else
    echo "$name ${!variable:-$default} $dockerfile $context"
  fi
done <deploy/images.tsv
