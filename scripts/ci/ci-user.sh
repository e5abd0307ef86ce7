#!/usr/bin/env bash
# The non-root user CI runs as on the project's machines, like GitHub's hosted runner: its own
# home, passwordless sudo, in the docker group. Root only (`.ci/run`, `make ci-local` as root).
#   scripts/ci/ci-user.sh                    make the user (once); print its name
#   scripts/ci/ci-user.sh clone              and clone this repository (its commits, not uncommitted
#                                         changes) into ~USER/ci/NAME, owned by it; print the path
#   scripts/ci/ci-user.sh run DIR COMMAND…   run COMMAND as the user in DIR, with sudo's clean
#                                         environment plus CI and the CA bundle settings that pip,
#                                         npm and git need behind a TLS-inspecting proxy (where set)
#   CI_USER  the user's name (default ci-runner)
set -euo pipefail
cd "$(dirname "$0")/../.."
user=${CI_USER:-ci-runner}
[ "$(id -u)" = 0 ] || { echo "ci-user: run as root" >&2; exit 1; }
[[ $user =~ ^[a-z_][a-z0-9_-]{0,30}$ ]] || { echo "ci-user: CI_USER='$user' is not a user name" >&2; exit 64; }

make_user() {
  scripts/setup/apt-install.sh sudo
  getent group docker >/dev/null || groupadd --system docker
  if ! id "$user" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$user"
    echo "ci-user: made user $user" >&2
  fi
  usermod -aG docker "$user"
  local rule="/etc/sudoers.d/90-$user"
  echo "$user ALL=(ALL) NOPASSWD:ALL" >"$rule.tmp"
  chmod 440 "$rule.tmp"
  visudo -cqf "$rule.tmp" && mv "$rule.tmp" "$rule"
}

keep=CI,PIP_CERT,PIP_INDEX_URL,SSL_CERT_FILE,SSL_CERT_DIR,REQUESTS_CA_BUNDLE,CURL_CA_BUNDLE,NODE_EXTRA_CA_CERTS,GIT_SSL_CAINFO
case ${1:-} in
  "")
    make_user
    echo "$user"
    ;;
  clone)
    make_user
    home=$(getent passwd "$user" | cut -d: -f6)
    clone=$home/ci/$(basename "$PWD")
    rm -rf "$clone"
    mkdir -p "$home/ci"
    git clone --quiet --no-hardlinks "$PWD" "$clone"
    chown -R "$user:" "$home/ci"
    echo "$clone"
    ;;
  run)
    dir=$2
    shift 2
    exec sudo -u "$user" -H --preserve-env="$keep" env PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 \
      bash -c 'cd "$1" && shift && exec "$@"' sh "$dir" "$@"
    ;;
  *)
    echo "usage: scripts/ci/ci-user.sh [clone | run DIR COMMAND…]" >&2
    exit 64
    ;;
esac
