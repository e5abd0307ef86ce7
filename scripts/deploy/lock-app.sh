#!/usr/bin/env bash
# `make lock APP_DIR=...`: APP_DIR/requirements.txt -> APP_DIR/requirements.lock, hashed, with the
# serving layer's packages at the layer's pins (-c requirements/serving.txt) for the image's
# Python (Debian 12's 3.11, x86_64). A requirement that conflicts with those pins stops it with
# uv's explanation and exit 64; the previous lock stays as it was. The lock's first line records
# the sha256 of the requirements.txt it was made from: a stale lock stops builds (app_source.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
paths=$(python3 -m streamlit_serving.app_source --lock) || exit $?
{ read -r requirements; read -r lock; } <<<"$paths"
export UV_NATIVE_TLS=${UV_NATIVE_TLS:-1}  # the system's CAs (a TLS-inspecting proxy's too), not uv's bundled ones
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
[ -f "$lock" ] && cp "$lock" "$scratch/lock"  # uv keeps the pins already locked (no upgrade)
if ! .venv/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
    --python-platform x86_64-manylinux_2_28 --no-header \
    requirements/serving.in "$requirements" -c requirements/serving.txt -o "$scratch/lock"; then
  echo "lock: $requirements cannot be locked with the serving layer's pins (requirements/serving.txt);" \
    "uv's reason is above. $lock is unchanged." >&2
  exit 64
fi
stamp=$(python3 -c 'import sys; from pathlib import Path; from streamlit_serving.app_source import lock_stamp; print(lock_stamp(Path(sys.argv[1])))' "$requirements")
{ echo "$stamp"; echo "# the serving layer (requirements/serving.in) and the app's requirements.txt, hashed"; cat "$scratch/lock"; } >"$lock"
echo "lock: $lock" >&2
