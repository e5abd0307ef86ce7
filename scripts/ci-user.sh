#!/usr/bin/env bash
# Makes (once) the non-root user that CI runs the tests as, like GitHub's hosted runner: its own
# home, passwordless sudo, in the docker group. Root only (`.ci/run`, `make ci-local` as root).
# Prints the user's name.
#   CI_USER  the user's name (default ci-runner)
set -euo pipefail
cd "$(dirname "$0")/.."
user=${CI_USER:-ci-runner}
[ "$(id -u)" = 0 ] || { echo "ci-user: only root makes users; run as root" >&2; exit 1; }
[[ $user =~ ^[a-z_][a-z0-9_-]{0,30}$ ]] || { echo "ci-user: CI_USER='$user' is not a user name" >&2; exit 2; }
scripts/apt-install.sh sudo
getent group docker >/dev/null || groupadd --system docker
if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$user"
  echo "ci-user: made user $user" >&2
fi
usermod -aG docker "$user"
rule="/etc/sudoers.d/90-$user"
echo "$user ALL=(ALL) NOPASSWD:ALL" >"$rule.tmp"
chmod 440 "$rule.tmp"
visudo -cqf "$rule.tmp" && mv "$rule.tmp" "$rule"
echo "$user"
