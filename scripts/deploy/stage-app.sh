#!/usr/bin/env bash
# Stages the app the app image serves into its build context: checks APP_DIR and APP_MAIN
# (streamlit_serving/app_source.py, exit 64 naming the bad one), then copies APP_DIR to
# build/app-src, the one app directory .dockerignore lets in, without .git, virtualenvs, caches
# or any .streamlit/secrets.toml (secrets never go into an image). app_source.py checks its
# packages.txt (Debian package names) and secrets.toml (TOML) first: exit 64 naming the file.
# Prints APP_MAIN for the build arg.
#   APP_DIR    the app's directory, in the repo or anywhere (default app/, the example)
#   APP_MAIN   its main script, relative to APP_DIR (default streamlit_app.py)
set -euo pipefail
cd "$(dirname "$0")/../.."
source=$(python3 -m streamlit_serving.app_source) || exit $?
# What the app's pages will ask the browser for that its serving.toml does not allow (a camera, a
# basemap, media by URL): a hint each on stderr, with the line to add (app_features.py).
python3 -m streamlit_serving.app_source --hints || exit $?
{ read -r app_dir; read -r app_main; } <<<"$source"
rm -rf build/app-src && mkdir -p build/app-src
tar -C "$app_dir" --exclude=.git --exclude=.venv --exclude=venv --exclude=__pycache__ \
  --exclude='*.pyc' --exclude=.pytest_cache --exclude=.streamlit/secrets.toml -cf - . \
  | tar -C build/app-src -xf -
echo "$app_main"
