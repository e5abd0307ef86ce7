#!/usr/bin/env bash
# Prints the images of deploy/images.tsv, one a line: NAME TAG DOCKERFILE CONTEXT, where TAG is
# the image's variable (APP_IMAGE, ...) when set, else its default tag.
set -euo pipefail
cd "$(dirname "$0")/.."
while IFS=$'\t' read -r name variable default dockerfile context; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  echo "$name ${!variable:-$default} $dockerfile $context"
done <deploy/images.tsv
