#!/usr/bin/env bash
# Makes the base image debian:bookworm-slim from Debian's archive where no registry can be
# reached (as on the project's machines); with a registry, `docker pull` is all it does.
# Trimmed like the registry's slim image: no apt caches, package lists, docs, man pages, locales.
set -euo pipefail
image=${BASE_IMAGE:-debian:bookworm-slim}
docker=$(scripts/ensure-docker.sh)
if $docker image inspect "$image" >/dev/null 2>&1; then echo "$image"; exit 0; fi
if timeout 60 $docker pull -q "$image" >/dev/null 2>&1; then echo "$image"; exit 0; fi
command -v debootstrap >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
echo "base-image: bootstrapping $image from Debian's archive" >&2
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/tmp/debootstrap.log 2>&1 \
  || { echo "base-image: debootstrap failed; see /tmp/debootstrap.log" >&2; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*
find "$root"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
# As in the registry's image: apt keeps no .debs or package caches in layers built on this base.
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
tar -C "$root" -c . | $docker import - "$image" >/dev/null
echo "$image"
