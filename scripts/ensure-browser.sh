#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tier (Playwright drives it; its own
# browser download cannot reach its host from the project's machines). Idempotent and quiet:
# prints the browser's path. CHROMIUM overrides the path (default /usr/bin/chromium).
# fonts-liberation: Arial-metric fonts for the text plotly draws in SVG (no web font there).
# libnss3-tools: certutil, which adds the stack's local CA to the test browser's NSS database.
set -euo pipefail
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ] || ! command -v certutil >/dev/null; then
  echo "ensure-browser: installing chromium and certutil from Debian's archive" >&2
  log=$(mktemp)
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
         $sudo apt-get install -y -qq --no-install-recommends chromium fonts-liberation libnss3-tools; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "ensure-browser: could not install chromium" >&2
    exit 1
  fi
  rm -f "$log"
fi
"$chromium" --version >/dev/null 2>&1 || { echo "ensure-browser: $chromium does not run" >&2; exit 1; }
echo "$chromium"
