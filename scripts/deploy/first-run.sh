#!/usr/bin/env bash
# The app's main script run once inside one running app container (streamlit_serving/first_run.py):
# a healthy server can still hold an app that fails on its first page load (Streamlit imports the
# script only when a page asks), so `make up` and `make swarm-up` call this before printing a URL.
# Exit 64 with the app's own traceback on stderr when it fails; 0 when it runs through. It runs from
# the app's root (/srv/app/app), as the server does: the app's relative paths work.
#   scripts/deploy/first-run.sh CONTAINER     (DOCKER: the docker client, default docker)
set -euo pipefail
container=${1:?usage: scripts/deploy/first-run.sh CONTAINER}
# shellcheck disable=SC2016 # $APP_MAIN is the container's (the image's build arg)
if ! ${DOCKER:-docker} exec --workdir /srv/app/app "$container" sh -c 'exec python3 -m streamlit_serving.first_run "/srv/app/app/$APP_MAIN"' >&2; then
  echo "first-run: the app failed its first run (its traceback above)" >&2
  exit 64
fi
