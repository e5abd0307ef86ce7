"""The Grafana dashboard's panels in Prometheus' own graph page (Grafana cannot be installed on
the project's machines), after mixed traffic through the proxy: every panel draws a line, and the
screenshot goes to artifacts/screenshots/prometheus-graph.png (docs/observability.md shows it)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Browser

from dashboard import SCREENSHOTS
from stack import Stack
from streamlit_client import StreamlitSession

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((ROOT / "deploy/grafana/dashboards/sales-dashboard.json").read_text())
TRAFFIC_SECONDS = 40  # two of Prometheus' 1-minute rate windows fill enough to draw a line


def mixed_traffic(url: str, seconds: float) -> int:
    """Same-month picks, full reruns and month changes, from two sessions, for ``seconds``."""
    interactions = 0
    deadline = time.monotonic() + seconds
    with StreamlitSession(url, timeout=30) as first, StreamlitSession(url, timeout=30) as second:
        while time.monotonic() < deadline:
            for session in (first, second):
                day = interactions % 27 + 1
                session.pick_date(f"2023-05-{day:02d}")
                session.pick_date(f"2023-05-{day:02d}", fragment=False)
                session.change_month(f"2023-{interactions % 2 + 6:02d}-{day:02d}")
                session.change_month(f"2023-05-{day:02d}")
                interactions += 4
            time.sleep(0.5)
    return interactions


def graph_url(prometheus: str) -> str:
    """Prometheus' classic graph page with one graph per dashboard query, over the last 5 minutes."""
    params = {}
    exprs = [target["expr"] for panel in DASHBOARD["panels"] for target in panel["targets"]]
    for index, expr in enumerate(exprs):
        params |= {f"g{index}.expr": expr, f"g{index}.tab": "0", f"g{index}.range_input": "5m"}
    return f"{prometheus}/classic/graph?{urlencode(params)}"


def test_dashboard_panels_in_prometheus_graph_page(browser: Browser, stack: Stack) -> None:
    assert mixed_traffic(stack.url, TRAFFIC_SECONDS) > 20
    time.sleep(12)  # two scrapes and two rule evaluations after the last interaction
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(graph_url(stack.prometheus_url), wait_until="networkidle")
        graphs = len(DASHBOARD["panels"]) + sum(len(p["targets"]) - 1 for p in DASHBOARD["panels"])
        page.wait_for_function(
            f"document.querySelectorAll('.graph_area svg path.line, .graph svg path').length >= {graphs}",
            timeout=30_000,
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "prometheus-graph.png", full_page=True)
        body = page.inner_text("body")
        assert "No datapoints found" not in body
        assert "Error executing query" not in body
        assert errors == []
    finally:
        context.close()
