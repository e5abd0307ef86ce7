"""deploy/k8s rendered offline: kustomize (kubectl's), kubernetes-validate --strict against the
current Kubernetes release, checkov's policies, and the structure a Streamlit app needs."""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from streamlit_serving.settings import ServingSettings, load_serving_settings

ROOT = Path(__file__).resolve().parents[2]
#: Where every SERVE_ (the serving layer's) name is read; an app's own an overlay adds.
SETTINGS_FILES = (ROOT / "streamlit_serving/settings.py").read_text()
KUBECTL = Path(sys.executable).parent / "kubectl"
KUBERNETES_VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
CHECKOV = ROOT / ".venv-checkov/bin/checkov"
KUBERNETES_VERSION = "1.37.0"
OVERLAYS = ("dev", "production")
# Gateway API kinds are CRDs: kubernetes-validate has no schema for them; checked below instead.
GATEWAY_KINDS = {"Gateway", "HTTPRoute"}
# Each accepted checkov finding is explained in place, in the Deployment's annotations.
ACCEPTED_CHECKS = {"CKV_K8S_43", "CKV_K8S_35"}
APP_LABELS = {"app.kubernetes.io/name": "streamlit-app", "app.kubernetes.io/component": "app"}
PROXY_LABELS = {"app.kubernetes.io/name": "streamlit-app", "app.kubernetes.io/component": "proxy"}
APP, PROXY = "app", "proxy"  # the two Deployments
PROXY_APP_SERVER_PORT = 8080  # where the proxy's nginx serves the app with PROXY_TLS=off
NGINX_CONF = (ROOT / "nginx.conf").read_text()


def kustomize(directory: Path) -> subprocess.CompletedProcess[str]:
    assert KUBECTL.exists(), "kubectl missing from .venv: run `make venv`"
    return subprocess.run([KUBECTL, "kustomize", directory], capture_output=True, text=True)


OIDC_SETTINGS = """\
server_metadata_url = "https://login.example.com/.well-known/openid-configuration"
client_id = "sales-dashboard"
client_secret = "from-the-provider"
redirect_uri = "https://dashboard.example.com/oauth2callback"
"""


def copied_tree(copy: Path) -> Path:
    """deploy/k8s copied to ``copy``, with the production secret files a user would make."""
    shutil.copytree(ROOT / "deploy/k8s", copy)
    (copy / "overlays/production/secrets/cookie-secret").write_text(secrets.token_urlsafe(48))
    (copy / "overlays/production/secrets/oidc.toml").write_text(OIDC_SETTINGS)
    return copy


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/k8s copied, with the production secret files a user would make."""
    return copied_tree(tmp_path_factory.mktemp("k8s") / "k8s")


def an_app(directory: Path, settings: str = "") -> Path:
    """A one-line app in ``directory`` with ``settings`` as its serving.toml (none if empty)."""
    directory.mkdir()
    (directory / "streamlit_app.py").write_text("import streamlit as st\n")
    if settings:
        (directory / "serving.toml").write_text(settings)
    return directory


def named_for(app_dir: Path | str, copy: Path, images: str = "") -> dict[str, Manifests]:
    """scripts/deploy/k8s-name.sh run for the app in ``app_dir`` on the copied tree ``copy``, then
    each overlay rendered; it writes four files per overlay (kustomization.yaml,
    browser-policy.env, serving-patch.yaml, serving-egress.yaml)."""
    env = {
        **os.environ,
        "APP_DIR": str(app_dir),
        "K8S_OVERLAYS": str(copy / "overlays"),
        "K8S_IMAGES": images,
    }
    done = subprocess.run(["scripts/deploy/k8s-name.sh"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 4 * len(OVERLAYS)
    rendered = {}
    for overlay in OVERLAYS:
        result = kustomize(copy / "overlays" / overlay)
        assert result.returncode == 0, result.stderr
        rendered[overlay] = Manifests([doc for doc in yaml.safe_load_all(result.stdout) if doc])
    return rendered


@pytest.fixture(scope="module")
def rendered(tree: Path) -> dict[str, Path]:
    files = {}
    for overlay in OVERLAYS:
        result = kustomize(tree / "overlays" / overlay)
        assert result.returncode == 0, result.stderr
        files[overlay] = tree / f"{overlay}.yaml"
        files[overlay].write_text(result.stdout)
    return files


class Manifests:
    """One overlay's rendered objects, looked up by kind and name (kustomize appends a hash to
    generated ConfigMap and Secret names: those match by prefix)."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [doc for doc in self.docs if doc["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        generated = re.compile(rf"{re.escape(name)}-[a-z0-9]{{10}}")
        found = [
            doc for doc in self.all(kind)
            if doc["metadata"]["name"] == name or generated.fullmatch(doc["metadata"]["name"])
        ]  # fmt: skip
        assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
        return found[0]

    def kinds(self) -> set[str]:
        return {doc["kind"] for doc in self.docs}


def documents(path: Path) -> Manifests:
    return Manifests([doc for doc in yaml.safe_load_all(path.read_text()) if doc])


@pytest.fixture(params=OVERLAYS)
def overlay(request, rendered) -> Manifests:
    return documents(rendered[request.param])


@pytest.mark.parametrize(
    ("made", "missing"), [("oidc.toml", "cookie-secret"), ("cookie-secret", "oidc.toml")]
)
def test_production_without_either_secret_file_does_not_build(tmp_path, made, missing):
    shutil.copytree(ROOT / "deploy/k8s", tmp_path / "k8s")
    (tmp_path / "k8s/overlays/production/secrets" / made).write_text("made")
    result = kustomize(tmp_path / "k8s/overlays/production")
    assert result.returncode != 0
    assert f"secrets/{missing}" in result.stderr


def test_no_cookie_secret_is_committed_for_production():
    committed = subprocess.run(
        ["git", "ls-files", "deploy/k8s/overlays/production/secrets"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert committed == ["deploy/k8s/overlays/production/secrets/.gitignore"]


@pytest.mark.parametrize("name", OVERLAYS)
def test_kubernetes_validate_strict(rendered, name):
    result = subprocess.run(
        [KUBERNETES_VALIDATE, "--strict", "--kubernetes-version", KUBERNETES_VERSION, rendered[name]],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = {doc["kind"] for doc in yaml.safe_load_all(rendered[name].read_text())}
    passed = set(re.findall(r"passed for resource (\w+)/", result.stdout))
    assert passed == {kind.lower() for kind in kinds - GATEWAY_KINDS}
    unchecked = set(re.findall(r"Couldn't find schema for kind (\w+)", result.stdout + result.stderr))
    assert unchecked == GATEWAY_KINDS


def test_checkov_finds_nothing_unexplained(rendered):
    assert CHECKOV.exists(), "checkov missing: run `make venv` (it makes .venv-checkov)"
    args = [CHECKOV, "--framework", "kubernetes", "--skip-download", "--output", "json"]
    for path in rendered.values():
        args += ["--file", str(path)]
    result = subprocess.run(args, capture_output=True, text=True)
    report = json.loads(result.stdout)
    failed = [(check["check_id"], check["check_name"]) for check in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 50
    skipped = report["results"]["skipped_checks"]
    assert {check["check_id"] for check in skipped} == ACCEPTED_CHECKS
    for check in skipped:
        assert len(check["check_result"]["suppress_comment"]) > 20, check["check_id"]


def pod_of(manifests: Manifests, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod spec, its one container) of Deployment `name`."""
    pod = manifests.get("Deployment", name)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return pod, container


@pytest.mark.parametrize(
    ("deployment", "uid", "tmp_size"), [(APP, 10001, "256Mi"), (PROXY, 10002, "64Mi")]
)  # the USER of each image's Dockerfile
def test_pods_are_hardened_like_their_images(overlay, deployment, uid, tmp_size):
    pod, container = pod_of(overlay, deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert (security["runAsUser"], security["runAsGroup"]) == (uid, uid)
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    assert {"name": mounts["/tmp"]["name"], "emptyDir": {"sizeLimit": tmp_size}} in pod["volumes"]
    assert set(mounts) <= {"/tmp", "/run/secrets/oidc"}
    assert all(mount.get("readOnly") for path, mount in mounts.items() if path != "/tmp")
    assert (
        set(container["resources"]["requests"]) == set(container["resources"]["limits"]) == {"cpu", "memory"}
    )


def test_probes_use_streamlit_health_and_termination_outlasts_the_drain(overlay):
    pod, container = pod_of(overlay, APP)
    port = container["ports"][0]
    assert (port["name"], port["containerPort"]) == ("http", 8501)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/_stcore/health", "port": "http"}
        assert container[probe]["timeoutSeconds"] <= container[probe]["periodSeconds"]
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 30  # a cold start on a busy node
    # preStop lets the proxies' DNS catch up, then the app's drain (SERVE_DRAIN_SECONDS) and its stop.
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert 1 <= pause <= 15
    assert pause >= int(proxy_settings(overlay)["PROXY_DNS_INTERVAL"])
    assert pod["terminationGracePeriodSeconds"] >= pause + ServingSettings().drain_seconds + 15
    spread = pod["topologySpreadConstraints"]
    assert {rule["topologyKey"] for rule in spread} == {
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
    }
    assert all(rule["labelSelector"]["matchLabels"] == APP_LABELS for rule in spread)


def image_healthcheck(dockerfile: str) -> dict[str, int]:
    """The HEALTHCHECK options of a Dockerfile, in seconds (interval, timeout, start-period) and
    retries."""
    text = (ROOT / dockerfile).read_text()
    (options,) = re.findall(r"^HEALTHCHECK ((?:--[a-z-]+=\S+ ?)+)", text, re.MULTILINE)
    found = dict(re.findall(r"--([a-z-]+)=(\d+)s?", options))
    return {key: int(value) for key, value in found.items()}


def swarm_healthcheck(service: str) -> dict[str, int]:
    """deploy/swarm/stack.yaml's healthcheck of a service, in seconds and retries."""
    stack = yaml.safe_load((ROOT / "deploy/swarm/stack.yaml").read_text())
    check = stack["services"][service]["healthcheck"]
    return {key: int(str(value).removesuffix("s")) for key, value in check.items()}


def test_app_probes_are_timed_as_the_images_check_and_swarms(overlay):
    """The image's HEALTHCHECK gives a busy replica 5 s to answer; Swarm replaces a task only after
    about a minute of failing (5 checks, 5 s apart, up to 10 s each). Kubernetes the same."""
    image, swarm = image_healthcheck("Dockerfile"), swarm_healthcheck("app")
    _, container = pod_of(overlay, APP)
    liveness, readiness = container["livenessProbe"], container["readinessProbe"]
    assert liveness["timeoutSeconds"] == readiness["timeoutSeconds"] == image["timeout"] == 5
    assert liveness["periodSeconds"] == image["interval"]
    # A hung replica (every check times out) is restarted after period x threshold; Swarm replaces
    # it after retries checks, each waiting its interval and taking up to its timeout.
    restart_after = liveness["periodSeconds"] * liveness["failureThreshold"]
    swarm_fastest = swarm["retries"] * swarm["interval"]
    swarm_slowest = swarm["retries"] * (swarm["interval"] + swarm["timeout"])
    assert max(swarm_fastest, image["interval"] * image["retries"]) <= restart_after <= swarm_slowest
    assert restart_after >= 60  # "about a minute" (stack.yaml)


def test_proxy_probes_are_timed_as_its_images_check(overlay):
    image = image_healthcheck("deploy/proxy/Dockerfile")
    stack = yaml.safe_load((ROOT / "deploy/swarm/stack.yaml").read_text())
    assert "healthcheck" not in stack["services"]["proxy"]  # Swarm runs the image's own
    _, container = pod_of(overlay, PROXY)
    liveness, readiness = container["livenessProbe"], container["readinessProbe"]
    assert (liveness["periodSeconds"], liveness["timeoutSeconds"], liveness["failureThreshold"]) == (
        image["interval"],
        image["timeout"],
        image["retries"],
    )
    assert readiness["timeoutSeconds"] == image["timeout"]


def test_settings_and_secret_reach_the_app(overlay):
    _, container = pod_of(overlay, APP)
    config = overlay.get("ConfigMap", "app-settings")
    assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    known = set(re.findall(r'"(SERVE_[A-Z_]+)"', SETTINGS_FILES))
    assert set(config["data"]) <= known  # the template's overlays add no app's own setting
    load_serving_settings(config["data"])  # every value is one the serving layer accepts (else SettingsError)
    (secret_env,) = container["env"]
    assert secret_env["name"] == "STREAMLIT_SERVER_COOKIE_SECRET"
    reference = secret_env["valueFrom"]["secretKeyRef"]
    secret = overlay.get("Secret", "app-cookie")
    assert reference["name"] == secret["metadata"]["name"]  # kustomize's hashed name
    assert reference["key"] in secret["data"]


def test_production_secret_is_the_users_file(rendered, tree):
    secret = documents(rendered["production"]).get("Secret", "app-cookie")
    expected = (tree / "overlays/production/secrets/cookie-secret").read_text()
    assert base64.b64decode(secret["data"]["cookie-secret"]).decode() == expected


# -- the proxy --------------------------------------------------------------------------------


def proxy_settings(manifests: Manifests) -> dict[str, str]:
    _, container = pod_of(manifests, PROXY)
    (source,) = container["envFrom"]
    config = manifests.get("ConfigMap", "proxy-settings")
    assert source == {"configMapRef": {"name": config["metadata"]["name"]}}
    env = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:  # a key of another ConfigMap (the app's settings): its value, if it is set there
            ref = item["valueFrom"]["configMapKeyRef"]
            named = [doc for doc in manifests.all("ConfigMap") if doc["metadata"]["name"] == ref["name"]]
            (config_map,) = named
            data = config_map["data"]
            if ref["key"] in data or not ref.get("optional"):
                env[item["name"]] = data[ref["key"]]
    return {**config["data"], **env}


def test_the_proxy_runs_in_load_balancer_mode_over_the_headless_app_service(overlay):
    settings = proxy_settings(overlay)
    entrypoint = (ROOT / "deploy/proxy/entrypoint.sh").read_text()
    known = set(re.findall(r'^: "\$\{((?:APP|PROXY|SERVE)_[A-Z_]+):=', entrypoint, re.MULTILINE))
    assert set(settings) <= known  # every setting is one the entrypoint reads
    assert settings["PROXY_TLS"] == "off"  # TLS ends at the Gateway
    hops = settings["PROXY_TRUSTED_HOPS"].split(",")
    assert hops
    assert all(ipaddress.ip_network(hop).is_private for hop in hops)
    app_service = overlay.get("Service", settings["APP_HOST"])
    assert app_service["spec"]["clusterIP"] == "None"  # headless: DNS names every ready pod
    assert app_service["spec"]["selector"] == APP_LABELS
    _, app = pod_of(overlay, APP)
    (port,) = app_service["spec"]["ports"]
    assert port["targetPort"] == app["ports"][0]["name"]
    assert port["port"] == app["ports"][0]["containerPort"]  # APP_PORT's default, 8501


def test_the_proxy_knows_the_app_s_sign_in_mode_from_the_app_s_own_settings(overlay):
    """The proxy refuses uploads without the sign-in cookie when the app signs in: it reads the
    app's SERVE_AUTH from the app's ConfigMap (one home), never a copy of its own."""
    _, proxy = pod_of(overlay, PROXY)
    (item,) = [item for item in proxy["env"] if item["name"] == "SERVE_AUTH"]
    ref = item["valueFrom"]["configMapKeyRef"]
    assert ref["name"] == overlay.get("ConfigMap", "app-settings")["metadata"]["name"]
    assert ref["key"] == "SERVE_AUTH"
    app_settings = overlay.get("ConfigMap", "app-settings")["data"]
    assert proxy_settings(overlay).get("SERVE_AUTH") == app_settings.get("SERVE_AUTH")


def test_proxy_pods_have_their_own_probes_and_budget(overlay):
    pod, container = pod_of(overlay, PROXY)
    assert (
        container["image"].split("/")[-1].split(":")[0] == "my-app-proxy"
    )  # the overlay names the app's images
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert pod["terminationGracePeriodSeconds"] > container["lifecycle"]["preStop"]["sleep"]["seconds"]
    pdb = overlay.get("PodDisruptionBudget", PROXY)["spec"]
    assert pdb["selector"]["matchLabels"] == PROXY_LABELS
    assert pdb["maxUnavailable"] == 1


# -- what can reach what -------------------------------------------------------------------------


ROUTE_KINDS = {"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"}


def backends(manifests: Manifests) -> list[tuple[str, str, Any]]:
    """(route, Service name, port) of every backend any route or Ingress names."""
    found = []
    for route in [doc for kind in ROUTE_KINDS for doc in manifests.all(kind)]:
        for rule in route["spec"].get("rules", []):
            for ref in rule.get("backendRefs", []):
                kind = ref.get("kind", "Service")
                name = ref["name"] if kind == "Service" else f"{kind}/{ref['name']}"
                found.append((f"{route['kind']}/{route['metadata']['name']}", name, ref.get("port")))
    for ingress in manifests.all("Ingress"):
        spec = ingress["spec"]
        refs = [spec["defaultBackend"]] if "defaultBackend" in spec else []
        refs += [path["backend"] for rule in spec.get("rules", []) for path in rule["http"]["paths"]]
        for ref in refs:
            service = ref["service"]
            port = service["port"].get("number", service["port"].get("name"))
            found.append((f"Ingress/{ingress['metadata']['name']}", service["name"], port))
    return found


def routing_faults(manifests: Manifests) -> list[str]:
    """Every way a request from outside could reach an app pod without the proxy, or reach the
    proxy elsewhere than its app server (the port whose nginx refuses /_stcore/metrics)."""
    faults = []
    _, proxy = pod_of(manifests, PROXY)
    proxy_ports = {port["name"]: port["containerPort"] for port in proxy["ports"]}
    services = {doc["metadata"]["name"]: doc for doc in manifests.all("Service")}
    for route, name, port in backends(manifests):
        service = services.get(name)
        if service is None:
            faults.append(f"{route} reaches {name}, which is no Service of the project's proxy")
            continue
        if service["spec"].get("selector") != PROXY_LABELS:
            faults.append(f"{route} reaches Service {name}, whose pods are not the proxy's")
            continue
        (target,) = [p["targetPort"] for p in service["spec"]["ports"] if port in (p["port"], p.get("name"))]
        if proxy_ports.get(target, target) != PROXY_APP_SERVER_PORT:
            faults.append(f"{route} reaches the proxy's port {target}, not its app server")
    for service in services.values():
        spec = service["spec"]
        selects_app = spec.get("selector", {}).items() >= APP_LABELS.items()
        exposed = spec.get("type", "ClusterIP") != "ClusterIP" or spec.get("externalIPs")
        if selects_app and (exposed or spec.get("clusterIP") != "None"):
            faults.append(f"Service {service['metadata']['name']} gives the app pods an address of their own")
    if not backends(manifests):
        faults.append("no route reaches the proxy")
    return faults


def test_every_route_reaches_the_proxy_only(overlay):
    assert routing_faults(overlay) == []


@pytest.mark.parametrize(
    "mutation",
    [
        "route to the app Service",
        "app Service with a virtual IP",
        "LoadBalancer for the app",
        "Ingress to the app",
    ],
)
def test_the_routing_check_finds_a_way_around_the_proxy(rendered, mutation):
    """The check above fails on each way around the proxy (so its pass means something)."""
    manifests = documents(rendered["dev"])
    app_service = manifests.get("Service", "app")
    if mutation == "route to the app Service":
        route = manifests.get("HTTPRoute", "app")
        route["spec"]["rules"][0]["backendRefs"] = [{"name": "app", "port": 8501}]
    elif mutation == "app Service with a virtual IP":
        del app_service["spec"]["clusterIP"]
    elif mutation == "LoadBalancer for the app":
        manifests.docs.append({"kind": "Service", "metadata": {"name": "direct"},
                               "spec": {"type": "LoadBalancer", "selector": dict(APP_LABELS),
                                        "ports": [{"port": 80, "targetPort": 8501}]}})  # fmt: skip
    else:
        backend = {"service": {"name": "app", "port": {"number": 8501}}}
        manifests.docs.append(
            {"kind": "Ingress", "metadata": {"name": "direct"}, "spec": {"defaultBackend": backend}}
        )
    assert routing_faults(manifests) != []


def test_metrics_are_not_routable(overlay):
    """Every route ends at the proxy's app server (test above), whose nginx answers
    /_stcore/metrics with 404 before anything is proxied; no route singles the path out either."""
    assert re.search(r"location = /_stcore/metrics \{\s*return 404;\s*\}", NGINX_CONF)
    # With PROXY_TLS=off the app server listens on 8080 (the entrypoint's listen.conf).
    assert proxy_settings(overlay)["PROXY_TLS"] == "off"
    assert re.search(r"listen 8080 default_server;\nlisten \[::\]:8080 default_server;\nLISTEN\n  echo",
                     (ROOT / "deploy/proxy/entrypoint.sh").read_text())  # fmt: skip
    for route in [doc for kind in ROUTE_KINDS for doc in overlay.all(kind)]:
        for rule in route["spec"].get("rules", []):
            for match in rule.get("matches", []):
                assert "/_stcore" not in match.get("path", {}).get("value", ""), route["metadata"]["name"]


def test_network_policies_let_app_pods_take_the_proxy_only(overlay):
    policy = overlay.get("NetworkPolicy", "app")["spec"]
    assert policy["podSelector"]["matchLabels"] == APP_LABELS
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": PROXY_LABELS}}]  # this namespace's proxy pods
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]


def test_network_policies_let_the_proxy_take_the_gateway_and_reach_app_and_dns(overlay):
    policy = overlay.get("NetworkPolicy", PROXY)["spec"]
    assert policy["podSelector"]["matchLabels"] == PROXY_LABELS
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    (rule,) = policy["ingress"]
    (peer,) = rule["from"]
    assert set(peer) == {"namespaceSelector", "podSelector"}  # both: the Gateway's pods only
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    to_app, to_dns = policy["egress"]
    assert to_app["to"] == [{"podSelector": {"matchLabels": APP_LABELS}}]
    assert to_app["ports"] == [{"port": 8501, "protocol": "TCP"}]
    assert dns_faults(to_dns) == []


# Where a pod's DNS queries go, by cluster: the kube-dns/CoreDNS pods (every cluster), NodeLocal
# DNSCache's link-local address on the node (host network: no pod a selector could name), GKE's
# metadata server (Cloud DNS for GKE answers there).
KUBE_DNS_PODS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
NODELOCAL_DNS, METADATA_DNS = "169.254.20.10/32", "169.254.169.254/32"
DNS_PORTS = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]


def dns_faults(rule: dict[str, Any]) -> list[str]:
    """What keeps an egress rule from being the DNS rule every cluster needs, and only that."""
    faults = []
    if rule["ports"] != DNS_PORTS:
        faults.append(f"ports {rule['ports']}, not 53/UDP and 53/TCP only")
    peers = rule["to"]
    if KUBE_DNS_PODS not in peers:
        faults.append("the kube-dns pods are not reached")
    blocks = {peer["ipBlock"]["cidr"] for peer in peers if "ipBlock" in peer}
    for cidr, name in ((NODELOCAL_DNS, "NodeLocal DNSCache"), (METADATA_DNS, "the metadata server's DNS")):
        if cidr not in blocks:
            faults.append(f"{name} ({cidr}) is not reached")
    if blocks - {NODELOCAL_DNS, METADATA_DNS}:
        faults.append(f"other addresses reached: {sorted(blocks - {NODELOCAL_DNS, METADATA_DNS})}")
    if any(peer != KUBE_DNS_PODS and "ipBlock" not in peer for peer in peers):
        faults.append("other pods reached")
    if any(peer["ipBlock"].get("except") for peer in peers if "ipBlock" in peer):
        faults.append("an ipBlock with exceptions")
    return faults


@pytest.mark.parametrize(
    ("mutation", "fault"),
    [
        ("drop NodeLocal", "NodeLocal DNSCache (169.254.20.10/32) is not reached"),
        ("drop metadata", "the metadata server's DNS (169.254.169.254/32) is not reached"),
        ("metadata HTTP", "not 53/UDP and 53/TCP only"),
        ("link-local range", "other addresses reached: ['169.254.0.0/16']"),
        ("any pod", "other pods reached"),
    ],
)
def test_the_dns_check_finds_a_rule_too_narrow_or_too_wide(rendered, mutation, fault):
    """The check above fails on each way the DNS rule could break a cluster's lookups or open more."""
    policy = documents(rendered["dev"]).get("NetworkPolicy", PROXY)["spec"]
    rule = policy["egress"][1]
    if mutation == "drop NodeLocal":
        rule["to"] = [peer for peer in rule["to"] if peer.get("ipBlock", {}).get("cidr") != NODELOCAL_DNS]
    elif mutation == "drop metadata":
        rule["to"] = [peer for peer in rule["to"] if peer.get("ipBlock", {}).get("cidr") != METADATA_DNS]
    elif mutation == "metadata HTTP":
        rule["ports"].append({"port": 80, "protocol": "TCP"})
    elif mutation == "link-local range":
        rule["to"].append({"ipBlock": {"cidr": "169.254.0.0/16"}})
    else:
        rule["to"].append({"podSelector": {}})
    assert any(fault in found for found in dns_faults(rule))


def test_no_experimental_gateway_field_is_needed(overlay):
    for route in overlay.all("HTTPRoute"):
        for rule in route["spec"]["rules"]:
            assert "sessionPersistence" not in rule
    dashboard = overlay.get("HTTPRoute", "app")["spec"]
    (rule,) = dashboard["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert rule["backendRefs"] == [{"name": PROXY, "port": 80}]


def test_scaling_keeps_sessions(overlay):
    hpa, pdb = (
        overlay.get("HorizontalPodAutoscaler", APP)["spec"],
        overlay.get("PodDisruptionBudget", APP)["spec"],
    )
    assert hpa["scaleTargetRef"]["name"] == APP
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert hpa["behavior"]["scaleDown"]["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 300}]
    assert pdb["maxUnavailable"] == 1
    assert pdb["selector"]["matchLabels"] == APP_LABELS
    strategy = overlay.get("Deployment", APP)["spec"]["strategy"]["rollingUpdate"]
    assert strategy["maxUnavailable"] == 0


def test_production_serves_https_and_redirects_http_with_pinned_images(rendered):
    production = documents(rendered["production"])
    https, http = production.get("Gateway", "app")["spec"]["listeners"]
    assert (https["name"], https["protocol"], https["port"]) == ("https", "HTTPS", 443)
    assert https["tls"]["mode"] == "Terminate"
    assert https["tls"]["certificateRefs"][0]["kind"] == "Secret"
    assert (http["name"], http["protocol"], http["port"]) == ("http", "HTTP", 80)
    dashboard = production.get("HTTPRoute", "app")["spec"]
    assert dashboard["parentRefs"] == [{"name": "app", "sectionName": "https"}]
    redirect = production.get("HTTPRoute", "https-redirect")["spec"]
    assert redirect["parentRefs"] == [{"name": "app", "sectionName": "http"}]
    (rule,) = redirect["rules"]
    assert "backendRefs" not in rule  # plain HTTP reaches nothing
    assert rule["filters"] == [
        {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
    ]
    for name in (APP, PROXY):
        _, container = pod_of(production, name)
        assert container["image"].startswith("ghcr.io/")
        assert not container["image"].endswith((":main", ":latest"))
    assert production.get("HorizontalPodAutoscaler", APP)["spec"]["minReplicas"] >= 3


# -- the namespace and Pod Security Admission ------------------------------------------------


# The restricted profile of the Pod Security Standards, as Pod Security Admission enforces it
# (kubernetes.io/docs/concepts/security/pod-security-standards), for the fields a pod here could set.
RESTRICTED_VOLUME_KINDS = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral"}
RESTRICTED_VOLUME_KINDS |= {"persistentVolumeClaim", "projected", "secret"}


def restricted_faults(pod: dict[str, Any]) -> list[str]:
    """What in a pod spec Pod Security Admission's restricted profile would refuse."""
    faults = [f"{key} on" for key in ("hostNetwork", "hostPID", "hostIPC") if pod.get(key)]
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_KINDS:
            faults.append(f"volume {volume['name']}: {sorted(kinds - RESTRICTED_VOLUME_KINDS)}")
    pod_security = pod.get("securityContext", {})
    for container in pod.get("initContainers", []) + pod["containers"]:
        name, security = container["name"], container.get("securityContext", {})
        if security.get("privileged"):
            faults.append(f"{name}: privileged")
        if security.get("allowPrivilegeEscalation") is not False:
            faults.append(f"{name}: allowPrivilegeEscalation not false")
        capabilities = security.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            faults.append(f"{name}: capabilities ALL not dropped")
        if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            faults.append(f"{name}: capabilities added")
        if security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is not True:
            faults.append(f"{name}: runAsNonRoot not true")
        if security.get("runAsUser", pod_security.get("runAsUser")) == 0:
            faults.append(f"{name}: runAsUser 0")
        seccomp = security.get("seccompProfile", pod_security.get("seccompProfile", {}))
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            faults.append(f"{name}: seccompProfile {seccomp.get('type')}")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            faults.append(f"{name}: hostPort")
        if security.get("procMount", "Default") != "Default":
            faults.append(f"{name}: procMount")
    return faults


def pod_templates(manifests: Manifests) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc["spec"]["template"]["spec"] for doc in manifests.all("Deployment")}


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_overlay_creates_its_namespace_and_every_pod_meets_its_restricted_profile(rendered, name):
    """A first `kubectl apply -k` on a fresh cluster needs the namespace among the objects, first."""
    docs = [doc for doc in yaml.safe_load_all(rendered[name].read_text()) if doc]
    namespace = docs[0]
    assert namespace["kind"] == "Namespace"
    overlay_namespace = yaml.safe_load((ROOT / f"deploy/k8s/overlays/{name}/kustomization.yaml").read_text())[
        "namespace"
    ]
    assert namespace["metadata"]["name"] == overlay_namespace
    assert {doc["metadata"]["namespace"] for doc in docs[1:]} == {overlay_namespace}
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    templates = pod_templates(Manifests(docs))
    assert set(templates) == {APP, PROXY}
    for deployment, pod in templates.items():
        assert restricted_faults(pod) == [], deployment


@pytest.mark.parametrize(
    ("mutation", "fault"),
    [
        ("privileged", "app: privileged"),
        ("escalation", "app: allowPrivilegeEscalation not false"),
        ("capability", "app: capabilities added"),
        ("root", "app: runAsUser 0"),
        ("seccomp", "app: seccompProfile Unconfined"),
        ("hostPath", "volume data: ['hostPath']"),
        ("hostNetwork", "hostNetwork on"),
    ],
)
def test_the_restricted_check_finds_what_admission_would_refuse(rendered, mutation, fault):
    pod = pod_templates(documents(rendered["dev"]))[APP]
    (container,) = pod["containers"]
    security = container["securityContext"]
    if mutation == "privileged":
        security["privileged"] = True
    elif mutation == "escalation":
        del security["allowPrivilegeEscalation"]
    elif mutation == "capability":
        security["capabilities"]["add"] = ["NET_ADMIN"]
    elif mutation == "root":
        security["runAsUser"] = 0
    elif mutation == "seccomp":
        security["seccompProfile"] = {"type": "Unconfined"}
    elif mutation == "hostPath":
        pod["volumes"].append({"name": "data", "hostPath": {"path": "/srv"}})
    else:
        pod["hostNetwork"] = True
    assert fault in restricted_faults(pod)


def test_dev_is_open_and_calls_nothing(rendered):
    dev = documents(rendered["dev"])
    assert "SERVE_AUTH" not in dev.get("ConfigMap", "app-settings")["data"]  # the default: none
    assert dev.get("NetworkPolicy", "app")["spec"]["egress"] == []


def test_production_requires_sign_in_with_the_users_provider_file(rendered, tree):
    production = documents(rendered["production"])
    config = production.get("ConfigMap", "app-settings")["data"]
    assert (config["SERVE_AUTH"], config["SERVE_AUTH_REQUIRED"]) == ("oidc", "on")
    assert config["SERVE_ALLOWED_DOMAINS"] or config["SERVE_ALLOWED_EMAILS"]
    secret = production.get("Secret", "app-oidc")
    assert base64.b64decode(secret["data"]["oidc.toml"]).decode() == OIDC_SETTINGS
    pod, container = pod_of(production, APP)
    (volume,) = [volume for volume in pod["volumes"] if "secret" in volume]
    assert volume["secret"] == {"secretName": secret["metadata"]["name"], "defaultMode": 0o440}
    (mount,) = [mount for mount in container["volumeMounts"] if mount["name"] == volume["name"]]
    # SERVE_OIDC_FILE is the Secret's key in the mounted directory; group-readable for fsGroup 10001.
    assert config["SERVE_OIDC_FILE"] == f"{mount['mountPath']}/oidc.toml"
    assert pod["securityContext"]["fsGroup"] == 10001


def test_production_pods_reach_dns_and_https_only(rendered):
    """Sign-in needs the provider (discovery, keys, token exchange): DNS and HTTPS out, nothing else."""
    egress = documents(rendered["production"]).get("NetworkPolicy", "app")["spec"]["egress"]
    dns, https = egress
    assert dns_faults(dns) == []
    # One DNS rule for both kinds of pods (the proxy's in base/proxy-networkpolicy.yaml).
    assert dns == documents(rendered["production"]).get("NetworkPolicy", PROXY)["spec"]["egress"][1]
    assert https["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert {block["ipBlock"]["cidr"] for block in https["to"]} == {"0.0.0.0/0", "::/0"}


def test_the_overlays_name_the_app_and_k8s_name_writes_its_name_there(tmp_path):
    """The base names roles (app, proxy), never an app; each overlay names the app once: its
    namespace, every object's app.kubernetes.io/part-of, its images. scripts/deploy/k8s-name.sh writes
    the app's name (its serving.toml: the example's sales-dashboard) and the images' path there,
    and again for another app; a bad path stops it with 64 naming K8S_IMAGES."""
    base = "\n".join(path.read_text() for path in sorted((ROOT / "deploy/k8s/base").glob("*.yaml")))
    assert "my-app" not in base
    assert "part-of:" not in base
    copy = copied_tree(tmp_path / "k8s")
    other = an_app(tmp_path / "shop")
    for app_dir, name, images in (
        ("app", "sales-dashboard", "ghcr.io/acme/dashboards"),
        (str(other), "shop", ""),
    ):
        for overlay, manifests in named_for(app_dir, copy, images).items():
            namespace = name if overlay == "production" else f"{name}-dev"
            assert manifests.all("Namespace")[0]["metadata"]["name"] == namespace
            for doc in manifests.docs:
                assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == name, doc["metadata"]["name"]
                if doc["kind"] != "Namespace":
                    assert doc["metadata"]["namespace"] == namespace
            _, app = pod_of(manifests, APP)
            _, proxy = pod_of(manifests, PROXY)
            assert app["image"].rsplit(":", 1)[0] == f"ghcr.io/acme/dashboards/{name}"
            assert proxy["image"].rsplit(":", 1)[0] == f"ghcr.io/acme/dashboards/{name}-proxy"
    bad = {**os.environ, "K8S_OVERLAYS": str(copy / "overlays"), "K8S_IMAGES": "https://ghcr.io/acme/"}
    done = subprocess.run(["scripts/deploy/k8s-name.sh"], cwd=ROOT, env=bad, capture_output=True, text=True)
    assert (done.returncode, "K8S_IMAGES" in done.stderr) == (64, True)


def test_the_proxy_takes_the_app_s_browser_policy_written_by_k8s_name(overlay, tmp_path):
    """The committed overlays: every PROXY_CSP_* and PROXY_PERMISSIONS empty in the proxy's
    ConfigMap (the strict default), PROXY_UPLOAD_MB 16. After scripts/deploy/k8s-name.sh for an app
    whose serving.toml has a [browser] and a [limits] table, the same ConfigMap carries its origins,
    permissions and upload size, which the proxy pods take with envFrom (the entrypoint renders
    them; tests/browser/test_browser_policy.py)."""
    variables = {
        f"PROXY_CSP_{kind}" for kind in ("IMG", "MEDIA", "CONNECT", "FRAME", "SCRIPT", "FONT", "STYLE")
    }
    settings = overlay.get("ConfigMap", "proxy-settings")["data"]
    assert {key: settings[key] for key in (*variables, "PROXY_PERMISSIONS")} == dict.fromkeys(
        (*variables, "PROXY_PERMISSIONS"), ""
    )
    assert settings["PROXY_UPLOAD_MB"] == "16"  # nginx's 16m, as without the setting
    _, proxy = pod_of(overlay, PROXY)
    assert {
        "configMapRef": {"name": overlay.get("ConfigMap", "proxy-settings")["metadata"]["name"]}
    } in proxy["envFrom"]

    app = an_app(
        tmp_path / "maps",
        '[browser]\nconnect = ["https://basemaps.cartocdn.com", "https://*.basemaps.cartocdn.com"]\n'
        'permissions = ["camera", "microphone"]\n[limits]\nupload_mb = 200\nmessage_mb = 32\n',
    )
    for manifests in named_for(app, copied_tree(tmp_path / "k8s")).values():
        data = manifests.get("ConfigMap", "proxy-settings")["data"]
        assert data["PROXY_CSP_CONNECT"] == "https://basemaps.cartocdn.com https://*.basemaps.cartocdn.com"
        assert data["PROXY_PERMISSIONS"] == "camera microphone"
        assert data["PROXY_CSP_IMG"] == ""
        assert data["PROXY_UPLOAD_MB"] == "200"  # message_mb is Streamlit's alone
        assert not any("MESSAGE" in key for key in data)
        assert data["PROXY_TLS"] == "off"  # the base's settings stay (merge)


def test_the_app_s_replicas_and_egress_reach_each_overlay_through_k8s_name(rendered, tmp_path):
    """An app whose serving.toml has [replicas] and [egress]: after scripts/deploy/k8s-name.sh each
    overlay's app Deployment starts `count` pods with its CPU and memory limits (the requests
    stay), the autoscaler runs count..max, and the app's NetworkPolicy keeps the overlay's rules
    and gets the DNS rule (the proxy's) and one rule per allowed network and port; both overlays
    still validate strictly. `count` alone: the autoscaler's bounds are both count; cpus alone:
    the overlay's scale stays."""
    app = an_app(
        tmp_path / "orders",
        "[replicas]\ncount = 4\nmax = 8\ncpus = 1.5\nmemory_mb = 2048\n"
        '[egress]\nallow = ["10.20.0.0/16:5432", "203.0.113.7:443", "fd00::/8:6379"]\n',
    )
    copy = copied_tree(tmp_path / "k8s")
    for name, manifests in named_for(app, copy).items():
        plain = documents(rendered[name])
        deployment = manifests.get("Deployment", APP)
        _, container = pod_of(manifests, APP)
        assert deployment["spec"]["replicas"] == 4
        assert container["resources"]["limits"] == {"cpu": "1500m", "memory": "2048Mi"}
        assert container["resources"]["requests"] == pod_of(plain, APP)[1]["resources"]["requests"]
        hpa = manifests.get("HorizontalPodAutoscaler", APP)["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (4, 8)
        own = plain.get("NetworkPolicy", APP)["spec"]["egress"]
        egress = manifests.get("NetworkPolicy", APP)["spec"]["egress"]
        assert egress[: len(own)] == own
        dns, *allowed = egress[len(own) :]
        assert dns == plain.get("NetworkPolicy", PROXY)["spec"]["egress"][1]  # the proxy's DNS rule
        assert dns_faults(dns) == []
        assert allowed == [
            {"to": [{"ipBlock": {"cidr": cidr}}], "ports": [{"port": port, "protocol": "TCP"}]}
            for cidr, port in (("10.20.0.0/16", 5432), ("203.0.113.7/32", 443), ("fd00::/8", 6379))
        ]
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump_all(manifests.docs))
        result = subprocess.run(
            [KUBERNETES_VALIDATE, "--strict", "--kubernetes-version", KUBERNETES_VERSION, path],
            capture_output=True, text=True,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
    (app / "serving.toml").write_text("[replicas]\ncount = 5\n")
    for manifests in named_for(app, copy).values():
        hpa = manifests.get("HorizontalPodAutoscaler", APP)["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (5, 5)
    (app / "serving.toml").write_text("[replicas]\ncpus = 2\n")
    for name, manifests in named_for(app, copy).items():
        plain = documents(rendered[name])
        for kind in ("HorizontalPodAutoscaler", "NetworkPolicy"):
            assert manifests.get(kind, APP)["spec"] == plain.get(kind, APP)["spec"]
        assert (
            manifests.get("Deployment", APP)["spec"]["replicas"]
            == plain.get("Deployment", APP)["spec"]["replicas"]
        )
        assert pod_of(manifests, APP)[1]["resources"]["limits"] == {"cpu": "2000m", "memory": "1Gi"}
