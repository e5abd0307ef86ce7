#!/usr/bin/env bash
# Prints the images of deploy/images.tsv, one a line: NAME TAG DOCKERFILE CONTEXT, where TAG is
# the image's variable (APP_IMAGE, ...) when set, else its default tag with {name} the app's name
# (APP_DIR's, `python3 -m streamlit_serving.app_source --name`; a bad one: exit 64).
#   scripts/deploy/images.sh --env    prints VARIABLE=TAG lines instead (for compose and tests)
#   scripts/deploy/images.sh --name   prints the app's name alone
#   scripts/deploy/images.sh --github the GitHub workflow's outputs (name=, matrix= for its build and
#                              publish matrices, tags= VARIABLE: REPOSITORY:ci), from the default
#                              tags whatever the variables say
set -euo pipefail
cd "$(dirname "$0")/../.."
app_name=""
name_of_app() {
  [ -n "$app_name" ] || app_name=$(python3 -m streamlit_serving.app_source --name) || exit $?
}
if [ "${1:-}" = --name ]; then
  name_of_app
  echo "$app_name"
  exit 0
fi
if [ "${1:-}" = --github ]; then
  name_of_app
  entries=() tags=()
  while IFS=$'\t' read -r name variable default dockerfile context; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    repository=${default//\{name\}/$app_name}
    repository=${repository%:*}
    entries+=("{\"name\":\"$name\",\"variable\":\"$variable\",\"repository\":\"$repository\",\"tag\":\"$repository:ci\",\"file\":\"$dockerfile\",\"context\":\"$context\"}")
    tags+=("\"$variable\":\"$repository:ci\"")
  done <deploy/images.tsv
  (IFS=,; echo "name=$app_name"; echo "matrix={\"include\":[${entries[*]}]}"; echo "tags={${tags[*]}}")
  exit 0
fi
while IFS=$'\t' read -r name variable default dockerfile context; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  tag=${!variable:-}
  if [ -z "$tag" ]; then
    name_of_app
    tag=${default//\{name\}/$app_name}
  fi
  if [ "${1:-}" = --env ]; then
    echo "$variable=$tag"
  else
    echo "$name $tag $dockerfile $context"
  fi
done <deploy/images.tsv
