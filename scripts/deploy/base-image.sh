#!/usr/bin/env bash
# Makes the base image debian:bookworm-slim from Debian's archive where no registry can be
# reached (as on the project's machines); with a registry, `docker pull` is all it does.
# Trimmed like the registry's slim image: no apt caches, package lists, docs, man pages, locales.
set -euo pipefail
image=${BASE_IMAGE:-debian:bookworm-slim}
docker=$(scripts/setup/ensure-docker.sh)
if $docker image inspect "$image" >/dev/null 2>&1; then echo "$image"; exit 0; fi
if timeout 60 $docker pull -q "$image" >/dev/null 2>&1; then echo "$image"; exit 0; fi
command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || scripts/setup/apt-install.sh debootstrap
# debootstrap, and reading and removing the root-owned tree it makes, need root (sudo when not root).
as_root=scripts/setup/as-root.sh
root=$(mktemp -d)
trap '$as_root rm -rf "$root"' EXIT
log=$(mktemp --suffix=-debootstrap.log)
echo "base-image: bootstrapping $image from Debian's archive" >&2
$as_root debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$log" 2>&1 \
  || { echo "base-image: debootstrap failed; see $log" >&2; exit 1; }
$as_root sh -c 'cd "$1" && rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin var/lib/apt/lists/* \
  usr/share/doc/* usr/share/man/* usr/share/info/* &&
  find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +' sh "$root"
# As in the registry's image: apt keeps no .debs or package caches in layers built on this base.
$as_root tee "$root/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
$as_root tar -C "$root" -c . | $docker import - "$image" >/dev/null
echo "$image"
