"""deploy/k8s/components/session-store rendered offline: both overlays with the lines
docs/scale-out.md gives ("The session store on Kubernetes"), by kubectl kustomize, validated as the
overlays are (tests/unit/test_k8s.py): the store's pod, its Service, its password Secret mounted
into the store and the app and nowhere else, and the NetworkPolicies that let the app alone reach
it. Not run here (no cluster): the pods themselves; the image with its password runs on compose
(tests/container/test_session_store_stack.py)."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from pathlib import Path

import pytest
import yaml
from test_k8s import (
    ACCEPTED_CHECKS,
    APP,
    APP_LABELS,
    CHECKOV,
    KUBERNETES_VALIDATE,
    KUBERNETES_VERSION,
    Manifests,
    dns_faults,
    documents,
    image_healthcheck,
    kustomize,
    pod_of,
    restricted_faults,
)
from test_k8s_variants import docs_yaml_block, extend_kustomization, fresh_tree, render

from streamlit_serving.settings import load_serving_settings

OVERLAYS = ("dev", "production")
STORE = "session-store"
STORE_LABELS = {"app.kubernetes.io/name": "streamlit-app", "app.kubernetes.io/component": STORE}
PASSWORD = secrets.token_hex(32)
RECIPE = docs_yaml_block("components/session-store")


def with_store(parent: Path, password: bool = True) -> Path:
    """deploy/k8s copied, the docs' lines added to both overlays, the password file made."""
    tree = fresh_tree(parent)
    for overlay in OVERLAYS:
        extend_kustomization(tree / "overlays" / overlay, RECIPE)
        if password:
            (tree / "overlays" / overlay / "secrets").mkdir(exist_ok=True)
            (tree / "overlays" / overlay / "secrets/session-store-password").write_text(f"{PASSWORD}\n")
    return tree


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tree = with_store(tmp_path_factory.mktemp("store"))
    return {overlay: render(tree / "overlays" / overlay) for overlay in OVERLAYS}


@pytest.fixture(params=OVERLAYS)
def overlay(request, rendered) -> Manifests:
    return documents(rendered[request.param])


def test_the_recipe_is_the_component_and_its_password_secret():
    assert RECIPE == {
        "components": ["../../components/session-store"],
        "secretGenerator": [
            {"name": "session-store-password", "files": ["password=secrets/session-store-password"]}
        ],
    }


def test_both_overlays_validate_strictly_and_checkov_finds_nothing_unexplained(rendered):
    for path in rendered.values():
        result = subprocess.run(
            [KUBERNETES_VALIDATE, "--strict", "--kubernetes-version", KUBERNETES_VERSION, path],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        kinds = {doc["kind"] for doc in documents(path).docs}
        assert {"Deployment", "Service", "NetworkPolicy", "Secret"} <= kinds
    args = [CHECKOV, "--framework", "kubernetes", "--skip-download", "--output", "json"]
    for path in rendered.values():
        args += ["--file", str(path)]
    report = json.loads(subprocess.run(args, capture_output=True, text=True).stdout)
    assert report["results"]["failed_checks"] == []
    assert report["summary"]["parsing_errors"] == 0
    assert {check["check_id"] for check in report["results"]["skipped_checks"]} == ACCEPTED_CHECKS


def test_without_the_password_file_the_overlay_does_not_build(tmp_path):
    tree = with_store(tmp_path, password=False)
    for overlay in OVERLAYS:
        result = kustomize(tree / "overlays" / overlay)
        assert result.returncode != 0
        assert "secrets/session-store-password" in result.stderr


def test_the_password_is_one_secret_mounted_into_the_store_and_the_app_and_nowhere_else(overlay):
    secret = overlay.get("Secret", "session-store-password")
    assert base64.b64decode(secret["data"]["password"]).decode().strip() == PASSWORD
    others = [doc for doc in overlay.docs if doc is not secret]
    assert PASSWORD not in yaml.safe_dump_all(others), "only in the Secret"
    name = secret["metadata"]["name"]  # kustomize's hashed name
    mounts = {}
    for deployment in (STORE, APP):
        pod, container = pod_of(overlay, deployment)
        (volume,) = (v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == name)
        assert volume["secret"]["defaultMode"] == 0o440  # the pod's group (fsGroup) alone
        (mount,) = (m for m in container["volumeMounts"] if m["name"] == volume["name"])
        assert mount["readOnly"] is True
        mounts[deployment] = f"{mount['mountPath']}/password"
        assert not any(e.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == name
                       for e in container.get("env", []))  # fmt: skip
    _, store = pod_of(overlay, STORE)
    assert {"name": "SESSION_STORE_PASSWORD_FILE", "value": mounts[STORE]} in store["env"]
    settings = overlay.get("ConfigMap", "app-settings")["data"]
    assert settings["SERVE_SESSION_STORE_PASSWORD_FILE"] == mounts[APP]
    read = load_serving_settings(settings)
    assert read.session_store == "redis://session-store:6379/0"
    assert str(read.session_store_password_file) == mounts[APP]


def test_the_store_is_one_hardened_pod_behind_its_service_checked_as_its_image(overlay):
    store = overlay.get("Deployment", STORE)
    assert store["spec"]["replicas"] == 1
    assert store["spec"]["strategy"] == {"type": "Recreate"}  # never two stores at once
    pod, container = pod_of(overlay, STORE)
    assert restricted_faults(pod) == []
    assert pod["automountServiceAccountToken"] is False
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["fsGroup"]) == (10006, 10006)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["image"].endswith(("-session-store:main", "-session-store:v1.0.0"))
    image = image_healthcheck("deploy/session-store/Dockerfile")
    for probe in ("readinessProbe", "livenessProbe"):
        check = container[probe]
        assert check["exec"]["command"] == ["/usr/local/bin/healthcheck.sh"]  # the image's own
        assert (check["periodSeconds"], check["timeoutSeconds"], check["failureThreshold"]) == (
            image["interval"], image["timeout"], image["retries"],
        )  # fmt: skip
    service = overlay.get("Service", STORE)["spec"]
    assert service["selector"] == STORE_LABELS
    assert service["ports"] == [{"name": "redis", "port": 6379, "targetPort": "redis", "protocol": "TCP"}]
    assert service.get("type", "ClusterIP") == "ClusterIP"


def test_only_the_app_s_pods_reach_the_store_and_the_store_reaches_nothing(overlay):
    policy = overlay.get("NetworkPolicy", STORE)["spec"]
    assert policy["podSelector"]["matchLabels"] == STORE_LABELS
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": APP_LABELS}}]
    assert rule["ports"] == [{"port": "redis", "protocol": "TCP"}]
    assert policy["egress"] == []
    egress = overlay.get("NetworkPolicy", "app-session-store")["spec"]
    assert egress["podSelector"]["matchLabels"] == APP_LABELS
    assert egress["policyTypes"] == ["Egress"]
    to_store, to_dns = egress["egress"]
    assert to_store == {"to": [{"podSelector": {"matchLabels": STORE_LABELS}}],
                        "ports": [{"port": 6379, "protocol": "TCP"}]}  # fmt: skip
    assert dns_faults(to_dns) == []
    # The app's own policy is the overlay's, unchanged: ingress from the proxy alone.
    (ingress,) = overlay.get("NetworkPolicy", "app")["spec"]["ingress"]
    assert [
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for peer in ingress["from"]
    ] == ["proxy"]
