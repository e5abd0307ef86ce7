#!/usr/bin/env bash
# Names the app on Kubernetes: kustomize cannot read the app's serving.toml, so this writes its
# name (streamlit_serving/app_settings.py, `python3 -m streamlit_serving.app_source --name`) into
# every overlay's kustomization.yaml, replacing the name there (the committed one is my-app):
#   namespace: NAME (production), NAME-dev (dev)
#   labels: app.kubernetes.io/part-of: NAME
#   images: newName .../NAME, .../NAME-proxy, .../NAME-proxy-metrics, .../NAME-session-store
# and the app's browser policy (its serving.toml's [browser]: PROXY_CSP_*, PROXY_PERMISSIONS,
# every one, empty when not set) and upload size ([limits] upload_mb: PROXY_UPLOAD_MB) into each
# overlay's browser-policy.env, which the overlay's proxy-settings ConfigMap reads; its [replicas]
# (count, max, cpus, memory_mb) into serving-patch.yaml and its [egress] into serving-egress.yaml,
# the overlay's last patches (the app's Deployment and autoscaler, its NetworkPolicy). The base's
# names are roles (app, proxy) and stay. Prints the files it changed, one a line.
#   APP_DIR        the app (default app/, the example)
#   K8S_IMAGES     also the images' repository path, e.g. ghcr.io/your-org/your-repo (the GitHub
#                  workflow's ghcr.io/OWNER/REPO); unset: the overlays' path stays
#   K8S_OVERLAYS   the overlays' directory (default deploy/k8s/overlays)
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$(scripts/deploy/images.sh --name) || exit $?
policy=$(python3 -m streamlit_serving.app_source --proxy-env) || exit $?
replicas=$(python3 -m streamlit_serving.app_source --k8s-patch) || exit $?
egress=$(python3 -m streamlit_serving.app_source --k8s-egress) || exit $?
images=${K8S_IMAGES:-}
if [[ -n $images && ! $images =~ ^[a-z0-9][a-z0-9.:/_-]*[a-z0-9]$ ]]; then
  echo "k8s-name: K8S_IMAGES='$images' is not host[:port]/path in lower case, without a scheme or a trailing /" >&2
  exit 64
fi
shopt -s nullglob
files=("${K8S_OVERLAYS:-deploy/k8s/overlays}"/*/kustomization.yaml)
[ ${#files[@]} -gt 0 ] || { echo "k8s-name: no overlay in ${K8S_OVERLAYS:-deploy/k8s/overlays}" >&2; exit 64; }
for file in "${files[@]}"; do
  # The name written there last: the part-of label's value.
  old=$(sed -n -E 's/^ +app\.kubernetes\.io\/part-of: ([a-z0-9-]+)$/\1/p' "$file")
  [ -n "$old" ] || { echo "k8s-name: $file has no app.kubernetes.io/part-of label" >&2; exit 64; }
  sed -i -E \
    -e "s/^namespace: $old(-[a-z0-9-]+)?\$/namespace: $name\\1/" \
    -e "s/^( +app\\.kubernetes\\.io\\/part-of: )$old\$/\\1$name/" \
    -e "s#^( +newName: .*/)$old(-proxy|-proxy-metrics|-session-store)?\$#\\1$name\\2#" "$file"
  [ -z "$images" ] || sed -i -E "s#^( +newName: ).*/($name(-proxy|-proxy-metrics|-session-store)?)\$#\\1$images/\\2#" "$file"
  echo "$file"
  policy_file=$(dirname "$file")/browser-policy.env
  {
    echo "# The proxy's browser policy and upload size, written by scripts/deploy/k8s-name.sh from the"
    echo "# app's serving.toml ([browser], [limits]; streamlit_serving/app_settings.py): edit that file, not this one."
    echo "$policy"
  } >"$policy_file"
  echo "$policy_file"
  echo "$replicas" >"$(dirname "$file")/serving-patch.yaml"
  echo "$egress" >"$(dirname "$file")/serving-egress.yaml"
  echo "$(dirname "$file")/serving-patch.yaml"
  echo "$(dirname "$file")/serving-egress.yaml"
done
