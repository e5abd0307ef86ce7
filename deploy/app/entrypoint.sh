#!/bin/sh
# Entry point of the app image. Streamlit reads its cookie secret (which signs the XSRF
# cookie; every replica must share it) only from config or the environment; this reads it
# from a file — a compose/Swarm/Kubernetes secret — so it is never in the image, a build
# arg or `docker inspect`. Then it runs the serving layer on $APP_MAIN (the image's build arg,
# relative to the app's root /srv/app/app, the working directory) as PID 1, with the image's
# arguments as Streamlit options.
set -eu
file=${STREAMLIT_SERVER_COOKIE_SECRET_FILE:-}
if [ -n "$file" ]; then
  if [ ! -r "$file" ]; then
    echo "app: STREAMLIT_SERVER_COOKIE_SECRET_FILE=$file cannot be read" >&2
    exit 64
  fi
  secret=$(cat "$file")
  if [ "${#secret}" -lt 32 ]; then
    echo "app: the cookie secret in $file is shorter than 32 characters" >&2
    exit 64
  fi
  STREAMLIT_SERVER_COOKIE_SECRET=$secret
  export STREAMLIT_SERVER_COOKIE_SECRET
  unset STREAMLIT_SERVER_COOKIE_SECRET_FILE
fi
# APP_MAIN may be overridden at run time (docker run -e, compose, a manifest): a wrong one stops the
# start here, naming it, instead of Streamlit's own "file does not exist" (exit 2).
main=${APP_MAIN:-}
if [ -z "$main" ] || [ ! -f "/srv/app/app/$main" ]; then
  echo "app: APP_MAIN=$main is not a file in the image's app/ (its main script, set by the build arg APP_MAIN)" >&2
  exit 64
fi
# From the app's root (the image's WORKDIR, said again for an engine that sets another): its
# relative paths and its .streamlit/config.toml are found as on Community Cloud.
cd /srv/app/app
exec python3 -m streamlit_serving run "/srv/app/app/$main" "$@"
