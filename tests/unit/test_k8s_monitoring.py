"""deploy/k8s/components/monitoring, rendered offline on top of the production overlay: the
Prometheus Operator's PodMonitor scrapes every app pod's two metrics endpoints, the rules are the
stack's, only the scraper gets in, and the rest validates as the overlays do (tests/unit/test_k8s.py)."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = Path(sys.executable).parent / "kubectl"
KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
KUBERNETES_VERSION = "1.37.0"
# CRDs kubernetes-validate has no schema for: the Gateway API's and the Prometheus Operator's.
CRD_KINDS = {"Gateway", "HTTPRoute", "PodMonitor", "PrometheusRule"}
APP_LABELS = {"app.kubernetes.io/name": "sales-dashboard", "app.kubernetes.io/component": "app"}
ADD_COMPONENT = "\ncomponents:\n  - ../../components/monitoring\n"  # as docs/observability.md says


OIDC_SETTINGS = """\
server_metadata_url = "https://login.example.com/.well-known/openid-configuration"
client_id = "sales-dashboard"
client_secret = "from-the-provider"
redirect_uri = "https://dashboard.example.com/oauth2callback"
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The production overlay with the component added, as a user adds it (`components:`)."""
    tree = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(ROOT / "deploy/k8s", tree)
    production = tree / "overlays/production"
    (production / "secrets/cookie-secret").write_text(secrets.token_urlsafe(48))
    (production / "secrets/oidc.toml").write_text(OIDC_SETTINGS)  # production requires sign-in
    with (production / "kustomization.yaml").open("a") as kustomization:
        kustomization.write(ADD_COMPONENT)
    assert KUBECTL.exists(), "kubectl missing from .venv: run `make venv`"
    result = subprocess.run([KUBECTL, "kustomize", production], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    path = tree / "monitored.yaml"
    path.write_text(result.stdout)
    return path


@pytest.fixture(scope="module")
def docs(rendered: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(rendered.read_text())}


def test_kubernetes_validate_strict(rendered):
    result = subprocess.run(
        [KUBERNETES_VALIDATE, "--strict", "--kubernetes-version", KUBERNETES_VERSION, rendered],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    unchecked = set(re.findall(r"Couldn't find schema for kind (\w+)", result.stdout + result.stderr))
    assert unchecked == CRD_KINDS


def test_every_app_pod_exposes_its_metrics_port(docs):
    (deployment,) = [doc for (kind, _), doc in docs.items() if kind == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8501, "metrics": 9464}  # 9464: SALES_METRICS_PORT's default


def test_podmonitor_scrapes_both_endpoints_of_every_app_pod(docs):
    (monitor,) = [doc for (kind, _), doc in docs.items() if kind == "PodMonitor"]
    assert monitor["metadata"]["namespace"] == "sales-dashboard"  # the overlay's namespace
    assert monitor["spec"]["selector"]["matchLabels"] == APP_LABELS
    endpoints = {
        (e["port"], e["path"]): e["relabelings"][0]["replacement"]
        for e in monitor["spec"]["podMetricsEndpoints"]
    }
    # The same job names as the compose stack's Prometheus, so the rules work unchanged.
    assert endpoints == {("metrics", "/metrics"): "app", ("http", "/_stcore/metrics"): "streamlit"}


def test_prometheusrule_holds_the_stacks_rules(docs):
    (rule,) = [doc for (kind, _), doc in docs.items() if kind == "PrometheusRule"]
    stack_rules = yaml.safe_load((ROOT / "deploy/prometheus/rules/sales-dashboard.yml").read_text())
    assert rule["spec"] == stack_rules


def test_only_the_scraper_reaches_the_metrics_ports(docs):
    policy = docs["NetworkPolicy", "sales-dashboard-scrape"]["spec"]
    assert policy["podSelector"]["matchLabels"] == APP_LABELS
    (rule,) = policy["ingress"]
    (peer,) = rule["from"]
    assert peer == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    assert rule["ports"] == [{"port": "metrics", "protocol": "TCP"}, {"port": "http", "protocol": "TCP"}]
    # The app's own policy (the gateway's proxy in; out only DNS and the OpenID provider on 443,
    # for the production overlay's sign-in) still applies beside it.
    egress = docs["NetworkPolicy", "sales-dashboard"]["spec"]["egress"]
    assert [rule["ports"][-1]["port"] for rule in egress] == [53, 443]
