"""deploy/k8s/components/autoscale-sessions: the app's HPA scales on live sessions per pod
(streamlit_serving_sessions, through Prometheus Adapter) beside the base's CPU. Rendered offline on
both overlays and validated as they are (tests/unit/test_k8s.py); the HPA names the metric the
adapter's rule serves, the rule's PromQL selects what the serving layer exports and the
PodMonitor scrapes (evaluated by promtool on series shaped as the operator stores them), the
target follows the measured per-replica capacity, and nothing but the HPA changes (scale-in
keeps the base's slow behaviour, preStop and drain)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_k8s import (
    ACCEPTED_CHECKS,
    APP,
    CHECKOV,
    GATEWAY_KINDS,
    KUBERNETES_VALIDATE,
    KUBERNETES_VERSION,
    Manifests,
    documents,
    kustomize,
)
from test_k8s_variants import docs_yaml_block, extend_kustomization, fresh_tree, render

from streamlit_serving import metrics
from streamlit_serving.settings import ServingSettings

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "deploy/k8s/components/autoscale-sessions"
ADAPTER_VALUES = yaml.safe_load((COMPONENT / "prometheus-adapter-values.yaml").read_text())
BENCHMARKS = (ROOT / "docs/benchmarks.md").read_text()
RULES = ROOT / "deploy/prometheus/rules/serving.yml"
OVERLAYS = ("dev", "production")
CRD_KINDS = GATEWAY_KINDS | {"PodMonitor", "PrometheusRule"}
ADD = {"components": ["../../components/autoscale-sessions"]}  # as docs/scale-out.md says
MONITORING = {"components": ["../../components/monitoring"]}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each overlay with the component, and with the monitoring component alone (what the
    autoscaling component brings, for comparison)."""
    files = {}
    for name, extra in (("autoscale", ADD), ("monitoring", MONITORING)):
        tree = fresh_tree(tmp_path_factory.mktemp(name))
        for overlay in OVERLAYS:
            extend_kustomization(tree / "overlays" / overlay, extra)
            files[f"{overlay}-{name}"] = render(tree / "overlays" / overlay)
    return files


@pytest.fixture(params=OVERLAYS)
def scaled(request, rendered) -> Manifests:
    return documents(rendered[f"{request.param}-autoscale"])


def adapter_rule() -> dict[str, Any]:
    (rule,) = ADAPTER_VALUES["rules"]["custom"]
    return rule


def test_the_docs_add_the_component_as_the_tests_do():
    assert docs_yaml_block("components/autoscale-sessions") == ADD


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_validate_strict(rendered, overlay):
    path = rendered[f"{overlay}-autoscale"]
    result = subprocess.run(
        [KUBERNETES_VALIDATE, "--strict", "--kubernetes-version", KUBERNETES_VERSION, path],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed for resource horizontalpodautoscaler/" in result.stdout.lower()
    unchecked = set(re.findall(r"Couldn't find schema for kind (\w+)", result.stdout + result.stderr))
    assert unchecked == CRD_KINDS


def test_checkov_finds_nothing_unexplained(rendered):
    assert CHECKOV.exists(), "checkov missing: run `make venv` (it makes .venv-checkov)"
    args = [CHECKOV, "--framework", "kubernetes", "--skip-download", "--output", "json"]
    for overlay in OVERLAYS:
        args += ["--file", str(rendered[f"{overlay}-autoscale"])]
    report = json.loads(subprocess.run(args, capture_output=True, text=True).stdout)
    assert [check["check_id"] for check in report["results"]["failed_checks"]] == []
    assert report["summary"]["parsing_errors"] == 0
    assert {check["check_id"] for check in report["results"]["skipped_checks"]} == ACCEPTED_CHECKS


def test_the_hpa_scales_on_the_adapters_sessions_metric_and_keeps_cpu(scaled):
    hpa = scaled.get("HorizontalPodAutoscaler", APP)["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": APP}
    sessions, cpu = hpa["metrics"]
    assert sessions["type"] == "Pods"
    # One name: the serving layer's gauge, which the adapter's rule serves under the same name.
    assert sessions["pods"]["metric"] == {"name": metrics.SESSIONS}
    assert adapter_rule()["name"]["as"] == metrics.SESSIONS
    assert sessions["pods"]["target"]["type"] == "AverageValue"
    # The base's CPU metric stays as it is (the HPA takes the larger of the two counts).
    base = yaml.safe_load((ROOT / "deploy/k8s/base/hpa.yaml").read_text())["spec"]
    assert [cpu] == base["metrics"]
    # Scaling in stays slow, one pod at a time.
    assert hpa["behavior"] == base["behavior"]
    assert hpa["behavior"]["scaleDown"]["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 300}]


def test_the_adapter_rule_selects_what_the_serving_layer_exports_as_the_podmonitor_scrapes_it(scaled):
    rule = adapter_rule()
    (series,) = re.findall(r"^(\w+)\{", rule["seriesQuery"])
    assert series == metrics.SESSIONS  # the name streamlit_serving/metrics.py exports
    assert re.fullmatch(rule["name"]["matches"], series)
    # The job label the PodMonitor gives the metrics port's scrape (the compose stack's name).
    monitor = scaled.get("PodMonitor", APP)["spec"]
    (job,) = [
        e["relabelings"][0]["replacement"] for e in monitor["podMetricsEndpoints"] if e["port"] == "metrics"
    ]
    assert f'job="{job}"' in rule["seriesQuery"]
    assert f'job="{job}"' in rule["metricsQuery"]
    # The operator's namespace and pod labels name the HPA's objects.
    assert rule["resources"]["overrides"] == {
        "namespace": {"resource": "namespace"},
        "pod": {"resource": "pod"},
    }
    for template in ("<<.Series>>", "<<.LabelMatchers>>", "<<.GroupBy>>"):
        assert template in rule["metricsQuery"]
    # The metrics port the PodMonitor scrapes is the one the app serves them on.
    (container,) = scaled.get("Deployment", APP)["spec"]["template"]["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["metrics"] == ServingSettings().metrics_port


def test_the_adapters_query_gives_each_pod_its_own_sessions(tmp_path, promtool):
    """The rule's metricsQuery, expanded as the adapter expands it for a Pods metric of two pods
    (namespace and pod matchers, grouped by pod), evaluated by promtool on series labelled as the
    Prometheus Operator stores the PodMonitor's scrape: each pod gets its own count, the other
    namespace, the other job (Streamlit's own endpoint) and a third pod are left out."""
    query = (
        adapter_rule()["metricsQuery"]
        .replace("<<.Series>>", metrics.SESSIONS)
        .replace("<<.LabelMatchers>>", 'namespace="web",pod=~"app-a|app-b"')
        .replace("<<.GroupBy>>", "pod")
    )
    rules = {"groups": [{"name": "adapter", "rules": [{"record": "hpa:sessions", "expr": query}]}]}
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    labels = 'job="app",namespace="web",endpoint="metrics"'
    tests = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "15s",
        "tests": [
            {
                "interval": "15s",
                "input_series": [
                    {"series": f'{metrics.SESSIONS}{{{labels},pod="app-a"}}', "values": "300x8"},
                    {"series": f'{metrics.SESSIONS}{{{labels},pod="app-b"}}', "values": "40x8"},
                    {"series": f'{metrics.SESSIONS}{{{labels},pod="app-c"}}', "values": "7x8"},
                    {
                        "series": f'{metrics.SESSIONS}{{job="app",namespace="other",pod="app-a"}}',
                        "values": "9x8",
                    },
                    {
                        "series": 'active_sessions{job="streamlit",namespace="web",pod="app-a"}',
                        "values": "5x8",
                    },
                ],
                "promql_expr_test": [
                    {
                        "expr": "hpa:sessions",
                        "eval_time": "1m",
                        "exp_samples": [
                            {"labels": 'hpa:sessions{pod="app-a"}', "value": 300},
                            {"labels": 'hpa:sessions{pod="app-b"}', "value": 40},
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests))
    result = subprocess.run(
        [promtool, "test", "rules", "tests.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def promtool() -> str:
    """Debian's promtool (scripts/setup/ensure-promtool.sh installs it where missing)."""
    found = subprocess.run(["scripts/setup/ensure-promtool.sh"], cwd=ROOT, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


def per_replica_capacities() -> list[float]:
    """Users one replica held within the p95 budget, fragments on, 26 products, in every
    `make capacity` row of docs/benchmarks.md that states a replica count."""
    rows = re.findall(r"fragments on, (\d) replicas?, 26 products[^|]*\| \*\*([\d,]+)\*\*", BENCHMARKS)
    assert len(rows) >= 3, rows
    return [int(users.replace(",", "")) / int(replicas) for replicas, users in rows]


def sessions_alert_threshold() -> int:
    (alert,) = [
        rule
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "SessionsNearCapacity"
    ]
    return int(re.fullmatch(r"active_sessions\{job=\"streamlit\"\} > (\d+)", alert["expr"])[1])


def test_the_target_follows_the_measured_capacity_of_a_replica(scaled):
    hpa = scaled.get("HorizontalPodAutoscaler", APP)["spec"]
    target = int(hpa["metrics"][0]["pods"]["target"]["averageValue"])
    lowest = min(per_replica_capacities())  # 625: two replicas held 1,250 on the slower VM
    assert target <= 0.8 * lowest  # headroom for a burst while a new pod starts
    assert target < sessions_alert_threshold()  # pods are added before the alert fires
    assert target >= 0.5 * lowest  # not so low that idle readers hold pods for nothing
    # Memory: the pod's request holds its target's sessions (77-80 kB each at 26 products, over
    # the ~216 MB of a warmed-up replica: docs/benchmarks.md).
    memory = re.findall(r"(\d+)\u2013(\d+) kB at 26 products", BENCHMARKS)  # an en dash
    (per_session_kb,) = {int(high) for _, high in memory}
    (container,) = scaled.get("Deployment", APP)["spec"]["template"]["spec"]["containers"]
    request_mib = int(container["resources"]["requests"]["memory"].removesuffix("Mi"))
    assert 216e6 + target * per_session_kb * 1e3 <= request_mib * 2**20


def test_nothing_else_changes_so_scale_in_keeps_the_drain(rendered):
    """Beside the monitoring component it brings, the component changes the HPA only: the app's
    preStop, grace period and PDB (tests/unit/test_k8s.py checks them against the drain) stay."""

    def by_id(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(path.read_text()) if doc
        }

    for overlay in OVERLAYS:
        monitored, scaled = by_id(rendered[f"{overlay}-monitoring"]), by_id(rendered[f"{overlay}-autoscale"])
        assert monitored.keys() == scaled.keys()
        assert {key for key in monitored if monitored[key] != scaled[key]} == {
            ("HorizontalPodAutoscaler", APP)
        }
        hpa, plain = (
            scaled["HorizontalPodAutoscaler", APP]["spec"],
            monitored["HorizontalPodAutoscaler", APP]["spec"],
        )
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (
            plain["minReplicas"],
            plain["maxReplicas"],
        )  # the overlay's


def test_the_component_with_monitoring_listed_too_does_not_build(tmp_path):
    tree = fresh_tree(tmp_path)
    extend_kustomization(
        tree / "overlays/dev", {"components": [*MONITORING["components"], *ADD["components"]]}
    )
    result = kustomize(tree / "overlays/dev")
    assert result.returncode != 0
    assert "already registered id: PodMonitor" in result.stderr


def test_the_documented_keda_alternative_scales_on_the_same_metric_and_target(scaled):
    """docs/scale-out.md's ScaledObject: the same Deployment, bounds, gauge, job and target."""
    scaled_object = docs_yaml_block("kind: ScaledObject")
    spec = scaled_object["spec"]
    assert spec["scaleTargetRef"] == {"name": APP}
    hpa = scaled.get("HorizontalPodAutoscaler", APP)["spec"]
    (trigger,) = [t for t in spec["triggers"] if t["type"] == "prometheus"]
    query = trigger["metadata"]["query"]
    assert re.search(rf"\b{metrics.SESSIONS}\{{[^}}]*job=\"app\"", query)
    assert trigger["metadata"]["threshold"] == hpa["metrics"][0]["pods"]["target"]["averageValue"]
    assert spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"] == hpa["behavior"]
    assert trigger["metadata"]["serverAddress"].startswith(ADAPTER_VALUES["prometheus"]["url"])
