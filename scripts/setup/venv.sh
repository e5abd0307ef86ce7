#!/usr/bin/env bash
# Makes a venv from a hashed lock: python3 -m venv, then uv (pinned with hashes in
# requirements/dev.txt, installed by pip) installs the lock. uv installs from its cache in
# seconds where pip takes minutes (it compiles no bytecode up front), which every fresh checkout
# pays: CI, `make ci-local`'s jobs, a new clone. Certificates: the system store (--native-tls),
# which holds a TLS-inspecting proxy's CA where there is one.
#   scripts/setup/venv.sh DIR LOCK
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$1 lock=$2
python=${PYTHON:-python3}
$python -m venv "$dir"
uv=.venv/bin/uv
if [ ! -x "$uv" ]; then
  # uv's own pinned lines (the requirement and its --hash lines) from the dev lock.
  pin=$(mktemp)
  trap 'rm -f "$pin"' EXIT
  awk '/^uv==/ { keep = 1 } keep { print; if (!/\\$/) exit }' requirements/dev.txt >"$pin"
  [ -s "$pin" ] || { echo "venv: no uv pin in requirements/dev.txt" >&2; exit 1; }
  "$dir/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$pin"
  uv=$dir/bin/uv
fi
"$uv" pip install --quiet --native-tls --python "$dir/bin/python" --require-hashes -r "$lock"
