"""deploy/k8s/components/monitoring, rendered offline on top of the production overlay: the
Prometheus Operator's PodMonitor scrapes every app pod's two metrics endpoints, every proxy pod
carries the proxy-metrics sidecar and a second PodMonitor scrapes it under the compose stack's job
names, the rules are the stack's, only the scraper gets in, and the rest validates as the overlays
do (tests/unit/test_k8s.py)."""

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
from test_k8s import restricted_faults

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = Path(sys.executable).parent / "kubectl"
KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
KUBERNETES_VERSION = "1.37.0"
# CRDs kubernetes-validate has no schema for: the Gateway API's and the Prometheus Operator's.
CRD_KINDS = {"Gateway", "HTTPRoute", "PodMonitor", "PrometheusRule"}
APP_LABELS = {"app.kubernetes.io/name": "streamlit-app", "app.kubernetes.io/component": "app"}
PROXY_LABELS = {"app.kubernetes.io/name": "streamlit-app", "app.kubernetes.io/component": "proxy"}
SCRAPER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
}
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
    deployment = docs[("Deployment", "app")]  # the app's (the proxy has its own)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8501, "metrics": 9464}  # 9464: SERVE_METRICS_PORT's default


def test_podmonitor_scrapes_both_endpoints_of_every_app_pod(docs):
    monitor = docs["PodMonitor", "app"]
    assert monitor["metadata"]["namespace"] == "my-app"  # the overlay's namespace
    assert monitor["spec"]["selector"]["matchLabels"] == APP_LABELS
    endpoints = {
        (e["port"], e["path"]): e["relabelings"][0]["replacement"]
        for e in monitor["spec"]["podMetricsEndpoints"]
    }
    # The same job names as the compose stack's Prometheus, so the rules work unchanged.
    assert endpoints == {("metrics", "/metrics"): "app", ("http", "/_stcore/metrics"): "streamlit"}


def test_prometheusrule_holds_the_stacks_rules(docs):
    (rule,) = [doc for (kind, _), doc in docs.items() if kind == "PrometheusRule"]
    stack_rules = yaml.safe_load((ROOT / "deploy/prometheus/rules/serving.yml").read_text())
    assert rule["spec"] == stack_rules


def test_only_the_scraper_reaches_the_metrics_ports(docs):
    policy = docs["NetworkPolicy", "app-scrape"]["spec"]
    assert policy["podSelector"]["matchLabels"] == APP_LABELS
    (rule,) = policy["ingress"]
    assert rule["from"] == [SCRAPER]
    assert rule["ports"] == [{"port": "metrics", "protocol": "TCP"}, {"port": "http", "protocol": "TCP"}]
    # The app's own policy (the gateway's proxy in; out only DNS and the OpenID provider on 443,
    # for the production overlay's sign-in) still applies beside it.
    egress = docs["NetworkPolicy", "app"]["spec"]["egress"]
    assert [rule["ports"][-1]["port"] for rule in egress] == [53, 443]


def compose_scrape_jobs() -> dict[int, str]:
    """{port: job name} of the compose stack's Prometheus for the proxy-metrics service."""
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    return {
        sd["port"]: job["job_name"]
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        if sd["names"] == ["proxy-metrics"]
    }


def image_user(dockerfile: str) -> int:
    (user,) = re.findall(r"^USER (\d+):", (ROOT / dockerfile).read_text(), re.MULTILINE)
    return int(user)


def test_every_proxy_pod_carries_the_metrics_sidecar_on_its_loopback(docs):
    pod = docs["Deployment", "proxy"]["spec"]["template"]["spec"]
    proxy, sidecar = pod["containers"]
    assert (proxy["name"], sidecar["name"]) == ("proxy", "proxy-metrics")
    # The overlay's images: pin it as the proxy's (the same registry and tag).
    assert sidecar["image"] == proxy["image"].replace("proxy:", "proxy-metrics:")
    proxy_env = {e["name"]: e.get("value") for e in proxy["env"]}  # SERVE_AUTH: from the app's ConfigMap
    sidecar_env = {e["name"]: e["value"] for e in sidecar["env"]}
    # nginx's access log to mtail, and the exporter to nginx's stub_status (nginx.conf), in the pod.
    assert proxy_env["PROXY_LOG_EXPORTER"] == sidecar_env["LOG_LISTEN"] == "127.0.0.1:5140"
    assert sidecar_env["PROXY_STATUS_URL"] == "http://127.0.0.1:8081/stub_status"
    assert "listen 8081;" in (ROOT / "nginx.conf").read_text()
    ports = {port["name"]: port["containerPort"] for port in sidecar["ports"]}
    assert ports == {"nginx-status": 9113, "nginx-log": 3903}
    assert set(ports.values()) == set(compose_scrape_jobs())
    security = sidecar["securityContext"]
    assert security["runAsUser"] == image_user("deploy/proxy-metrics/Dockerfile")
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert sidecar["resources"]["limits"] == {"cpu": "250m", "memory": "128Mi"}
    assert {
        probe["tcpSocket"]["port"] for probe in (sidecar["readinessProbe"], sidecar["livenessProbe"])
    } == set(ports)
    (mount,) = sidecar["volumeMounts"]
    assert mount["mountPath"] == "/tmp"
    assert any(volume["name"] == mount["name"] and "emptyDir" in volume for volume in pod["volumes"])
    # The proxy Service still publishes only the proxy's http port: the sidecar is not routed.
    service_ports = docs["Service", "proxy"]["spec"]["ports"]
    assert [port["targetPort"] for port in service_ports] == ["http"]


def test_podmonitor_scrapes_every_proxy_pods_sidecar_under_the_compose_job_names(docs):
    monitor = docs["PodMonitor", "proxy"]
    assert monitor["metadata"]["namespace"] == "my-app"
    assert monitor["spec"]["selector"]["matchLabels"] == PROXY_LABELS
    endpoints = {
        (e["port"], e["path"]): e["relabelings"][0]["replacement"]
        for e in monitor["spec"]["podMetricsEndpoints"]
    }
    jobs = compose_scrape_jobs()
    assert endpoints == {("nginx-status", "/metrics"): jobs[9113], ("nginx-log", "/metrics"): jobs[3903]}


def test_only_the_scraper_reaches_the_proxy_sidecar(docs):
    policy = docs["NetworkPolicy", "proxy-scrape"]["spec"]
    assert policy["podSelector"]["matchLabels"] == PROXY_LABELS
    (rule,) = policy["ingress"]
    assert rule["from"] == [SCRAPER]
    assert rule["ports"] == [
        {"port": "nginx-status", "protocol": "TCP"},
        {"port": "nginx-log", "protocol": "TCP"},
    ]


def test_the_sidecar_keeps_every_pod_within_the_namespaces_restricted_profile(docs):
    """Pod Security Admission refuses a pod of the namespace that breaks the restricted profile."""
    namespace = docs["Namespace", "my-app"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name in ("app", "proxy"):
        assert restricted_faults(docs["Deployment", name]["spec"]["template"]["spec"]) == [], name
