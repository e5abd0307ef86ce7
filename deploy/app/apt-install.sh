#!/bin/sh
# Installs Debian packages in an image build (the Dockerfile's builder and runtime stages): the
# packages given as arguments, and the app's own from /tmp/packages/packages.txt when the app has
# one (Streamlit Community Cloud's convention: one package a line, # comments, blank lines;
# scripts/deploy/stage-app.sh refused invalid names before the build, exit 64). A name Debian's archive
# does not have stops the build naming it and the file, before anything is installed. Nothing of
# apt's lists or caches stays in the layer.
set -eu
list=/tmp/packages/packages.txt
extra=""
if [ -f "$list" ]; then
  extra=$(sed -e 's/#.*//' "$list" | tr -s ' \t\r' '\n\n\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
fi
apt-get update
missing=""
for package in $extra; do
  # A real package has a candidate version (purely virtual names and typos have none).
  candidate=$(apt-cache policy "$package" 2>/dev/null | sed -n 's/^ *Candidate: //p')
  [ -n "$candidate" ] && [ "$candidate" != "(none)" ] || missing="$missing $package"
done
if [ -n "$missing" ]; then
  . /etc/os-release
  echo "packages.txt: no Debian package named:$missing (in ${VERSION_CODENAME:-this release}'s archive;" \
    "the app's packages.txt, one Debian package a line: https://packages.debian.org finds the right name)" >&2
  exit 100
fi
[ -z "$extra" ] || echo "packages.txt: installing $extra" >&2
# shellcheck disable=SC2086 # $extra: the file's names, one word each (checked above)
apt-get install -y --no-install-recommends "$@" $extra
rm -rf /var/lib/apt/lists/* /var/cache/apt/* /tmp/packages
