"""The observability profile on the session's stack (`make up OBSERVABILITY=1`, 3 app replicas):
Prometheus finds every replica and the proxy's exporters through DNS, counts what the protocol
client did through the proxy exactly, graphs nginx's upstream timings, loads the rules, and every
query of the Grafana dashboard returns data after load."""

from __future__ import annotations

import json
import math
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sales_load.page import DashboardSession
from sales_load.picks import counted_mix
from streamlit_load.client.tls import client_context
from streamlit_load.prometheus import Prometheus, window_figures

from .conftest import STACK_REPLICAS, run

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((ROOT / "deploy/grafana/dashboards/serving.json").read_text())
SETTLE = 60.0  # seconds to wait for DNS discovery, scrapes (5 s) and rule evaluations (5 s)


def api(stack, path: str, **params: str) -> Any:
    query = urllib.parse.urlencode(params)
    with urllib.request.urlopen(f"{stack.prometheus_url}/api/v1/{path}?{query}", timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def query(stack, expr: str) -> list[dict]:
    return api(stack, "query", query=expr)["result"]


def value(stack, expr: str) -> float:
    """The one sample of ``expr`` (0 when there is none)."""
    result = query(stack, expr)
    assert len(result) <= 1, result
    return float(result[0]["value"][1]) if result else 0.0


def eventually(check: Callable[[], Any], what: str, timeout: float = SETTLE) -> Any:
    """``check()`` once it returns something truthy, within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, f"not within {timeout:.0f} s: {what}"
            return result
        time.sleep(1)


def targets_up(stack) -> dict[str, int]:
    up: dict[str, int] = {}
    for target in api(stack, "targets", state="active")["activeTargets"]:
        job = target["labels"]["job"]
        up[job] = up.get(job, 0) + (target["health"] == "up")
    return up


def test_prometheus_finds_every_replica_and_the_proxys_exporters(stack):
    replicas = STACK_REPLICAS
    expected = {"app": replicas, "streamlit": replicas, "nginx": 1, "nginx-log": 1, "prometheus": 1}
    eventually(lambda: targets_up(stack) == expected, f"targets up {expected} (got {targets_up(stack)})")


def test_the_observability_containers_run_non_root_on_read_only_roots(stack):
    for service, uid in (("proxy-metrics", "10003"), ("prometheus", "10004")):
        (name,) = stack.containers(service)
        config = json.loads(run(stack.docker, "inspect", name).stdout)[0]
        assert config["HostConfig"]["ReadonlyRootfs"] is True
        assert config["HostConfig"]["CapDrop"] == ["ALL"]
        assert stack.exec(name, "id", "-u").stdout.strip() == uid
        assert config["State"]["Health"]["Status"] == "healthy"


def test_runs_through_the_proxy_are_counted_exactly(stack):
    """N fragment picks, M full reruns and K month changes, through nginx to whichever replica
    the session sticks to: Prometheus' sums over every replica grow by exactly those runs."""
    picks, full_reruns, month_changes = 6, 3, 2
    runs = 'sum by (kind, outcome) (streamlit_script_runs_total{job="app"})'

    def counts() -> dict[tuple[str, str], float]:
        samples = query(stack, runs)
        return {(r["metric"]["kind"], r["metric"]["outcome"]): float(r["value"][1]) for r in samples}

    eventually(lambda: targets_up(stack).get("app") == STACK_REPLICAS, "every replica scraped")
    with DashboardSession(stack.url, timeout=30) as session:
        time.sleep(12)  # two scrapes after the session's first run
        before, start = counts(), time.time()
        counted_mix(session, picks, full_reruns, month_changes)
    expected = {("fragment", "finished"): picks, ("full", "finished"): full_reruns + month_changes,
                ("fragment", "rerun"): month_changes}  # fmt: skip

    def grown() -> dict[tuple[str, str], float]:
        after = counts()
        return {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}

    # Other tests' sessions may run at the same time on the session stack: wait for at least
    # these increments, then require exactly them once a quiet scrape shows them.
    eventually(lambda: grown() == expected, f"run counts grow by {expected} (got {grown()})")
    # The load test's reading of a window (streamlit_load.prometheus) sees the same runs.
    # Its steps are 1 s from start: end on a whole step, so the last one is not before the scrape
    # that showed the growth (a window of 2.6 s read steps at +0, +1, +2 s and missed it).
    end = start + math.ceil(time.time() - start)
    time.sleep(max(0.0, end - time.time()))
    seen = window_figures(Prometheus(stack.prometheus_url), start, end)
    assert seen.interactions == picks + full_reruns + month_changes
    assert seen.runs == {"fragment": picks + month_changes, "full": full_reruns + month_changes}
    assert set(seen.thread_cpu_ms_per_run) == {"fragment", "full"}
    assert seen.cpu_ms_per_interaction is not None
    assert seen.cpu_ms_per_interaction > max(seen.thread_cpu_ms_per_run.values()) / 3


def test_nginx_metrics_and_upstream_timings_are_graphable(stack):
    with DashboardSession(stack.url, timeout=30) as session:
        session.pick_date("2023-01-05")
    assert eventually(lambda: value(stack, 'sum(nginx_connections_accepted{job="nginx"})') > 0, "stub_status")
    # nginx logs a WebSocket when it closes: the session above has; a p95 needs it within 1 minute.
    header_p95 = 'route:nginx_access_upstream_header_duration_seconds:p95_rate1m{route="stream"}'
    handshake = eventually(
        lambda: [v for v in (float(r["value"][1]) for r in query(stack, header_p95)) if not math.isnan(v)],
        "a p95 of the WebSocket handshake's upstream header time",
    )
    assert 0 < handshake[0] < 5
    statuses = eventually(
        lambda: {r["metric"]["status"] for r in query(stack, 'nginx_access_requests_total{route="stream"}')},
        "WebSocket upgrades counted from the access log",
    )
    assert "101" in statuses


def test_the_app_metrics_port_is_not_reachable_through_the_proxy(stack):
    for path in ("/metrics", "/_stcore/metrics"):
        try:
            with urllib.request.urlopen(
                f"{stack.url}{path}", timeout=10, context=client_context()
            ) as response:
                body = response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            body = str(error.code)
        assert "streamlit_script_runs_total" not in body
        assert "active_sessions" not in body


def test_rules_are_loaded_and_no_alert_fires_on_a_healthy_stack(stack):
    groups = {group["name"]: group for group in api(stack, "rules")["groups"]}
    assert set(groups) == {"serving.runs", "serving.alerts"}
    assert all(rule["health"] == "ok" for group in groups.values() for rule in group["rules"])
    alerts = api(stack, "alerts")["alerts"]
    firing = [alert["labels"]["alertname"] for alert in alerts if alert["state"] == "firing"]
    # ScriptRunErrors may fire from the abuse tests' deliberate bad input; nothing else may.
    assert set(firing) <= {"ScriptRunErrors"}


@pytest.mark.parametrize(
    "target",
    [target for panel in DASHBOARD["panels"] for target in panel["targets"]],
    ids=lambda target: target["expr"][:60],
)
def test_every_dashboard_query_returns_data_after_load(stack, target):
    """A session picks days, reruns and changes month within the last minute (rates are over 1
    minute), then each panel's query must return at least one number."""
    with DashboardSession(stack.url, timeout=30) as session:
        for day in range(3):
            session.pick_date(f"2023-01-{day + 12:02d}")
        session.pick_date("2023-01-20", fragment=False)
        session.change_month("2023-04-02")

    def numbers() -> list[float]:
        values = [float(sample["value"][1]) for sample in query(stack, target["expr"])]
        return [number for number in values if not math.isnan(number)]

    eventually(numbers, f"data for {target['expr']}", timeout=30)


@pytest.mark.parametrize("bad", ["proxy-metrics", "proxy-metrics:udp", ":5140", "proxy metrics:5140"])
def test_a_bad_log_exporter_address_stops_the_proxy_with_exit_64(stack, proxy_image, bad):
    result = run(stack.docker, "run", "--rm", "--tmpfs", "/tmp", "-e", f"PROXY_LOG_EXPORTER={bad}",
                 proxy_image, "nginx", "-t", check=False)  # fmt: skip
    assert result.returncode == 64
    assert "PROXY_LOG_EXPORTER must" in result.stderr


def test_a_log_exporter_that_does_not_resolve_sends_nothing_and_nginx_starts(stack, proxy_image):
    nowhere = "PROXY_LOG_EXPORTER=nowhere.invalid:5140"
    result = run(stack.docker, "run", "--rm", "--tmpfs", "/tmp", "-e", nowhere,
                 proxy_image, "sh", "-c", "nginx -t && cat /tmp/nginx/metrics.conf", check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no access-log metrics" in result.stdout


@pytest.mark.parametrize(
    ("variable", "bad"), [("PROXY_STATUS_URL", "proxy:8081/stub_status"), ("LOG_LISTEN", "5140")]
)
def test_a_bad_proxy_metrics_setting_stops_it_with_exit_64(stack, images, variable, bad):
    image = images["PROXY_METRICS_IMAGE"]
    result = run(stack.docker, "run", "--rm", "-e", f"{variable}={bad}", image, check=False)
    assert result.returncode == 64
    assert f"{variable} must" in result.stderr
