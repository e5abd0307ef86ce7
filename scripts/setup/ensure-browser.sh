#!/usr/bin/env bash
# Makes sure a Chromium runs for the browser tier (Playwright drives it; its own browser download
# cannot reach its host from the project's machines). Idempotent and quiet: prints the browser's
# path. CHROMIUM overrides the path (default /usr/bin/chromium). Where that is missing, Debian's
# chromium is installed (through sudo when not root). On Ubuntu the chromium package is a snap
# stub that does not run in CI: GitHub's runner ships Google Chrome (CHROME_BIN), used when the
# default does not run and CHROMIUM is not set.
# fonts-liberation: Arial-metric fonts for the text plotly draws in SVG (no web font there).
# libatomic1: Playwright's bundled node driver needs it; a fresh Debian lacks it.
# libnss3-tools: certutil, which adds the stack's local CA to the test browser's NSS database.
set -euo pipefail
here=$(dirname "$0")
runs() { "$1" --version >/dev/null 2>&1; }
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ -z "${CHROMIUM:-}" ] && ! runs "$chromium" && [ -n "${CHROME_BIN:-}" ] && runs "$CHROME_BIN"; then
  chromium=$CHROME_BIN
fi
packages=(libatomic1 fonts-liberation libnss3-tools)
[ -x "$chromium" ] || packages+=(chromium)
"$here/apt-install.sh" --no-install-recommends "${packages[@]}" || exit 1
runs "$chromium" || { echo "ensure-browser: $chromium does not run (set CHROMIUM to a Chromium or Chrome)" >&2; exit 1; }
echo "$chromium"
