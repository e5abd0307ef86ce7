#!/usr/bin/env bash
# Installs Debian/Ubuntu packages that are missing (as root, or through sudo), quietly; prints
# apt's output only when it fails. Installed packages are left alone, so a machine that has the
# tool already (GitHub's runner: Docker, Compose, node) is not touched.
#   scripts/setup/apt-install.sh [--no-install-recommends] PACKAGE…
set -euo pipefail
here=$(dirname "$0")
options=()
while [[ ${1:-} == --* ]]; do options+=("$1"); shift; done
find_missing() {
  missing=()
  for package in "$@"; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
}
find_missing "$@"
[ ${#missing[@]} -gt 0 ] || exit 0
# One install at a time: the workflow's build jobs run side by side and each may need the same
# package (apt's own lock refused the second at once: "Could not get lock"). Then look again: the
# job before may have installed it. Other apt users (unattended upgrades) are waited for by apt.
lock=/tmp/apt-install.lock  # /tmp: every user and job of the machine sees the same file
[ -e "$lock" ] || (umask 000 && : >>"$lock")
exec 9<"$lock"
flock 9
find_missing "$@"
[ ${#missing[@]} -gt 0 ] || exit 0
echo "apt-install: installing ${missing[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
install() {
  "$here/as-root.sh" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${options[@]}" "${missing[@]}"
}
# The package lists are refreshed only when the install needs it (empty or stale lists).
if ! install >"$log" 2>&1; then
  if ! { "$here/as-root.sh" apt-get -o DPkg::Lock::Timeout=300 update -qq && install; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "apt-install: could not install ${missing[*]}" >&2
    exit 1
  fi
fi
