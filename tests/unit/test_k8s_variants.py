"""deploy/k8s for clusters other than the base's (docs/scale-out.md): the gateway-cloud-lb component
(a cloud load balancer in front of the proxy instead of Envoy Gateway's pods) on both overlays,
the production overlay with the lines the docs give for GKE, and the documented patch for a
NodeLocal DNSCache on the kube-dns Service address. Rendered offline and validated as the
overlays are (tests/unit/test_k8s.py); what they admit and trust checked against the one place
the addresses are set."""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_k8s import (
    ACCEPTED_CHECKS,
    CHECKOV,
    GATEWAY_KINDS,
    KUBERNETES_VALIDATE,
    KUBERNETES_VERSION,
    OIDC_SETTINGS,
    PROXY,
    PROXY_APP_SERVER_PORT,
    PROXY_LABELS,
    Manifests,
    dns_faults,
    documents,
    kustomize,
    pod_of,
    proxy_settings,
    routing_faults,
)

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "deploy/k8s/components/gateway-cloud-lb"
DOCS = (ROOT / "docs/scale-out.md").read_text()
CLOUD = ("dev", "production")  # the overlays rendered with the component
PEER_SLOTS = 2  # the component's ipBlocks (and replacements)
COOKIE_SECRET = secrets.token_urlsafe(48)  # one for every copy, so their renders compare


def configured_hops(component: Path = COMPONENT) -> list[str]:
    """PROXY_TRUSTED_HOPS as the component sets it: the addresses' one home."""
    kustomization = yaml.safe_load((component / "kustomization.yaml").read_text())
    (generator,) = kustomization["configMapGenerator"]
    (literal,) = [item for item in generator["literals"] if item.startswith("PROXY_TRUSTED_HOPS=")]
    return literal.removeprefix("PROXY_TRUSTED_HOPS=").split(",")


def docs_yaml_block(containing: str) -> dict[str, Any]:
    """The one ```yaml block of docs/scale-out.md that contains `containing`, parsed."""
    blocks = re.findall(r"^( *)```yaml\n(.*?)^\1```", DOCS, re.MULTILINE | re.DOTALL)
    (block,) = [textwrap.dedent(body) for _, body in blocks if containing in body]
    return yaml.safe_load(block)


def extend_kustomization(overlay: Path, extra: dict[str, list[Any]]) -> None:
    """Add list entries (components, patches) to an overlay's kustomization, as a user does."""
    path = overlay / "kustomization.yaml"
    kustomization = yaml.safe_load(path.read_text())
    for key, items in extra.items():
        kustomization[key] = kustomization.get(key, []) + items
    path.write_text(yaml.safe_dump(kustomization, sort_keys=False))


def fresh_tree(parent: Path) -> Path:
    """deploy/k8s copied, with the production secret files a user would make."""
    tree = parent / "k8s"
    shutil.copytree(ROOT / "deploy/k8s", tree)
    (tree / "overlays/production/secrets/cookie-secret").write_text(COOKIE_SECRET)
    (tree / "overlays/production/secrets/oidc.toml").write_text(OIDC_SETTINGS)
    return tree


def render(overlay: Path) -> Path:
    result = kustomize(overlay)
    assert result.returncode == 0, result.stderr
    path = overlay.parent / f"{overlay.name}.rendered.yaml"
    path.write_text(result.stdout)
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """dev with the component; production with the lines docs/scale-out.md gives for GKE (the
    component and the GatewayClass); dev with the docs' kube-dns Service address patch; and
    both overlays as they are, for comparison."""
    files = {}
    plain = fresh_tree(tmp_path_factory.mktemp("plain"))
    for overlay in CLOUD:
        files[f"{overlay}-plain"] = render(plain / "overlays" / overlay)
    cloud = fresh_tree(tmp_path_factory.mktemp("cloud"))
    extend_kustomization(cloud / "overlays/dev", {"components": ["../../components/gateway-cloud-lb"]})
    extend_kustomization(cloud / "overlays/production", docs_yaml_block("components/gateway-cloud-lb"))
    for overlay in CLOUD:
        files[overlay] = render(cloud / "overlays" / overlay)
    dns = fresh_tree(tmp_path_factory.mktemp("dns"))
    extend_kustomization(dns / "overlays/dev", docs_yaml_block("kube-dns Service address"))
    files["dns-service-address"] = render(dns / "overlays/dev")
    return files


@pytest.fixture(params=CLOUD)
def cloud(request, rendered) -> Manifests:
    return documents(rendered[request.param])


def test_the_component_renders_on_both_overlays_and_validates_strictly(rendered):
    for name in (*CLOUD, "dns-service-address"):
        result = subprocess.run(
            [KUBERNETES_VALIDATE, "--strict", "--kubernetes-version", KUBERNETES_VERSION, rendered[name]],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        unchecked = set(re.findall(r"Couldn't find schema for kind (\w+)", result.stdout + result.stderr))
        assert unchecked == GATEWAY_KINDS, name


def test_checkov_finds_nothing_unexplained(rendered):
    assert CHECKOV.exists(), "checkov missing: run `make venv` (it makes .venv-checkov)"
    args = [CHECKOV, "--framework", "kubernetes", "--skip-download", "--output", "json"]
    for name in (*CLOUD, "dns-service-address"):
        args += ["--file", str(rendered[name])]
    report = json.loads(subprocess.run(args, capture_output=True, text=True).stdout)
    assert [check["check_id"] for check in report["results"]["failed_checks"]] == []
    assert report["summary"]["parsing_errors"] == 0
    assert {check["check_id"] for check in report["results"]["skipped_checks"]} == ACCEPTED_CHECKS


def test_the_proxy_admits_the_load_balancer_on_its_app_server_port_only(cloud):
    hops = configured_hops()
    policy = cloud.get("NetworkPolicy", PROXY)["spec"]
    assert policy["podSelector"]["matchLabels"] == PROXY_LABELS
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"ipBlock": {"cidr": cidr}} for cidr in hops[:PEER_SLOTS]]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    _, proxy = pod_of(cloud, PROXY)
    ports = {port["name"]: port["containerPort"] for port in proxy["ports"]}
    assert ports == {"http": PROXY_APP_SERVER_PORT}  # the server whose nginx refuses /_stcore/metrics
    # No other policy lets anything else reach the proxy pods.
    others = [doc for doc in cloud.all("NetworkPolicy") if doc["metadata"]["name"] != PROXY]
    assert all(doc["spec"]["podSelector"]["matchLabels"] != PROXY_LABELS for doc in others)
    # Out, the base's: the app pods and DNS.
    to_app, to_dns = policy["egress"]
    assert to_app["ports"] == [{"port": 8501, "protocol": "TCP"}]
    assert dns_faults(to_dns) == []


def test_the_proxy_trusts_every_configured_address_and_no_more(cloud):
    hops = configured_hops()
    assert len(hops) >= PEER_SLOTS
    networks = [ipaddress.ip_network(hop) for hop in hops]  # each one the entrypoint accepts
    assert all(network.prefixlen > 0 for network in networks)  # never everyone: X-Forwarded-For is a claim
    settings = proxy_settings(cloud)
    assert settings["PROXY_TRUSTED_HOPS"].split(",") == hops
    assert settings["PROXY_TLS"] == "off"  # TLS ends at the load balancer


def test_everything_else_is_the_overlays_own(rendered):
    """The component changes the proxy's policy and trusted hops, nothing else: every other
    object is as the overlay renders it alone (names with kustomize's hash compared without it)."""

    def comparable(path: Path) -> dict[tuple[str, str], str]:
        text = re.sub(r"(proxy-settings)-[a-z0-9]{10}", r"\1", path.read_text())
        return {
            (doc["kind"], doc["metadata"]["name"]): yaml.safe_dump(doc)
            for doc in yaml.safe_load_all(text)
            if doc
        }

    changed = {("NetworkPolicy", PROXY), ("ConfigMap", "proxy-settings")}
    for overlay in CLOUD:
        plain, cloud = comparable(rendered[f"{overlay}-plain"]), comparable(rendered[overlay])
        assert plain.keys() == cloud.keys()
        differ = {key for key in plain if plain[key] != cloud[key]}
        if overlay == "production":
            differ -= {("Gateway", "app")}  # the docs' GatewayClass, checked below
        assert differ == changed, overlay
        assert routing_faults(documents(rendered[overlay])) == []


def test_production_with_the_documented_lines_uses_the_cloud_gateway_class(rendered):
    gateway = documents(rendered["production"]).get("Gateway", "app")["spec"]
    assert gateway["gatewayClassName"] == "gke-l7-global-external-managed"
    assert [listener["name"] for listener in gateway["listeners"]] == ["https", "http"]
    plain = documents(rendered["production-plain"]).get("Gateway", "app")["spec"]
    assert plain["gatewayClassName"] == "eg"


def test_fewer_addresses_than_ipblocks_stop_the_build(tmp_path):
    tree = fresh_tree(tmp_path)
    component = tree / "components/gateway-cloud-lb/kustomization.yaml"
    component.write_text(component.read_text().replace(",".join(configured_hops()), "10.20.0.0/16"))
    assert configured_hops(component.parent) == ["10.20.0.0/16"]
    extend_kustomization(tree / "overlays/dev", {"components": ["../../components/gateway-cloud-lb"]})
    result = kustomize(tree / "overlays/dev")
    assert result.returncode != 0
    assert "options.index 1 is out of bounds for value 10.20.0.0/16" in result.stderr


def test_a_third_address_is_trusted_but_not_admitted(tmp_path):
    """The docs' GKE case: the load balancer's own address, which it appends to X-Forwarded-For."""
    tree = fresh_tree(tmp_path)
    component = tree / "components/gateway-cloud-lb/kustomization.yaml"
    hops = [*configured_hops(), "203.0.113.7/32"]
    component.write_text(component.read_text().replace(",".join(configured_hops()), ",".join(hops)))
    extend_kustomization(tree / "overlays/dev", {"components": ["../../components/gateway-cloud-lb"]})
    dev = documents(render(tree / "overlays/dev"))
    (rule,) = dev.get("NetworkPolicy", PROXY)["spec"]["ingress"]
    assert [peer["ipBlock"]["cidr"] for peer in rule["from"]] == hops[:PEER_SLOTS]
    assert proxy_settings(dev)["PROXY_TRUSTED_HOPS"].split(",") == hops


def test_the_documented_kube_dns_service_address_patch_adds_that_address_on_53_only(rendered):
    (to_dns,) = [
        rule
        for rule in documents(rendered["dns-service-address"]).get("NetworkPolicy", PROXY)["spec"]["egress"]
        if rule["ports"][0]["port"] == 53
    ]
    assert {"ipBlock": {"cidr": "10.96.0.10/32"}} in to_dns["to"]
    # Still the DNS rule: only the added address differs from what every cluster needs.
    assert dns_faults(to_dns) == ["other addresses reached: ['10.96.0.10/32']"]
