#!/usr/bin/env bash
# Runs the test tiers in order (default: all). Any failure or skip fails the run.
#   scripts/ci/test.sh [unit|integration|load|container|browser ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
tiers=("$@")
# The tiers test the template with its example (and Streamlit's hello demo, tests/conftest.py).
# With APP_DIR set (make test APP_DIR=..., or the workflow's repository variable), your app joins
# the container tier's tests for any app (tests/container/test_any_app.py) as YOUR_APP_DIR and
# YOUR_APP_MAIN, its image YOUR_APP_IMAGE (the one CI built beforehand, IMAGES_PREBUILT=1, or built
# by the tier), while the session's images stay the example's (built here under their own tag).
if [ -n "${APP_DIR:-}" ]; then
  source=$(python3 -m streamlit_serving.app_source) || exit $?
  { read -r YOUR_APP_DIR; read -r YOUR_APP_MAIN; } <<<"$source"
  export YOUR_APP_DIR YOUR_APP_MAIN
  if [ "${IMAGES_PREBUILT:-}" = 1 ]; then
    export YOUR_APP_IMAGE=${APP_IMAGE:-$(scripts/deploy/images.sh --env | sed -n 's/^APP_IMAGE=//p')}
    APP_IMAGE="$YOUR_APP_IMAGE-example"
    export APP_IMAGE
    unset APP_DIR APP_MAIN
    scripts/setup/ensure-docker.sh >/dev/null
    # shellcheck disable=SC2097,SC2098 # IMAGES_PREBUILT for this build only
    IMAGES_PREBUILT=0 scripts/deploy/build-images.sh app >/dev/null
  fi
  unset APP_DIR APP_MAIN
  echo "test: the template with its example; your app ($YOUR_APP_DIR/$YOUR_APP_MAIN) in the container tier's tests for any app" >&2
fi
[ ${#tiers[@]} -gt 0 ] || tiers=(unit integration load container browser)
for tier in "${tiers[@]}"; do
  [ -d "tests/$tier" ] || { echo "no such tier: tests/$tier" >&2; exit 64; }
  # The container and load tiers run the compose stack (the load gate measures it through the proxy).
  if [ "$tier" = container ] || [ "$tier" = load ]; then scripts/setup/ensure-docker.sh >/dev/null; fi
  case $tier in integration | load) scripts/setup/ensure-node.sh ;; esac  # the development OpenID provider
  # The session store's tests run Debian's redis-server (tests/integration/test_session_store.py).
  if [ "$tier" = integration ]; then scripts/setup/apt-install.sh --no-install-recommends redis-server; fi
  if [ "$tier" = browser ]; then CHROMIUM=$(scripts/setup/ensure-browser.sh); export CHROMIUM; fi
  echo "=== tier: $tier ==="
  # Each tier's 15 slowest tests and fixtures are listed at its end: where CI's time goes.
  .venv/bin/python -m pytest --durations=15 "tests/$tier"
done
