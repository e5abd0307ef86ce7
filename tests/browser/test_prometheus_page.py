"""The Grafana dashboard's panels in Prometheus' own graph page (Grafana cannot be installed on
the project's machines), after mixed traffic through the proxy: every panel draws a line, and the
screenshots go to artifacts/screenshots/prometheus-graph-{1,2}.png (docs/observability.md
shows them)."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

from playwright.sync_api import Browser

from sales_load.page import DashboardSession
from streamlit_load.client.signin import sign_in
from streamlit_load.dev_provider import ALLOWED_USER, password

from .dashboard import SCREENSHOTS
from .stack import Stack

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = json.loads((ROOT / "deploy/grafana/dashboards/serving.json").read_text())
EXPRESSIONS = [target["expr"] for panel in DASHBOARD["panels"] for target in panel["targets"]]
PER_PAGE = 8
TRANSPORT_ERROR = "Error executing query: error\n"
# The traffic runs three of Prometheus' 5 s scrapes at least (this test's own runs in every rate),
# then until every query has a line to draw (a fixed 40 s and a 12 s pause before; 15 s suffice).
TRAFFIC_SECONDS = (15, 90)
RANGE_SECONDS = 120  # the graphs' range (range_input, 2m)


def every_query_has_a_line(prometheus: str) -> bool:
    """Every one of the dashboard's queries has a series of two points or more over the graphs'
    range, asked of Prometheus' API at the graph page's resolution (one point a second)."""
    end = time.time()
    for expr in EXPRESSIONS:
        params = {"query": expr, "start": f"{end - RANGE_SECONDS:.3f}", "end": f"{end:.3f}", "step": "1"}
        address = f"{prometheus.rstrip('/')}/api/v1/query_range?{urlencode(params)}"
        with urllib.request.urlopen(address, timeout=10) as response:
            result = json.load(response)["data"]["result"]
        if not any(len(series["values"]) >= 2 for series in result):
            return False
    return True


def mixed_traffic(url: str, seconds: tuple[float, float], enough: Callable[[], bool]) -> int:
    """Same-month picks, full reruns and month changes, from two sessions of a signed-in user (the
    tier's stack has sign-in on): ``seconds[0]`` at least, then until ``enough()``; AssertionError
    if that is not so by ``seconds[1]``."""
    interactions = 0
    cookies = sign_in(url, ALLOWED_USER, password(ALLOWED_USER))
    began = time.monotonic()
    with (
        DashboardSession(url, timeout=30, cookies=cookies) as first,
        DashboardSession(url, timeout=30, cookies=cookies) as second,
    ):
        while time.monotonic() - began < seconds[0] or not enough():
            assert time.monotonic() - began < seconds[1], f"a query without a line after {seconds[1]} s"
            for session in (first, second):
                day = interactions % 27 + 1
                session.pick_date(f"2023-05-{day:02d}")
                session.pick_date(f"2023-05-{day:02d}", fragment=False)
                session.change_month(f"2023-{interactions % 2 + 6:02d}-{day:02d}")
                session.change_month(f"2023-05-{day:02d}")
                interactions += 4
            time.sleep(0.5)
    return interactions


def graph_url(prometheus: str, expressions: list[str]) -> str:
    """Prometheus' classic graph page with one graph per expression, over the last 2 minutes."""
    params = {}
    for index, expr in enumerate(expressions):
        params |= {f"g{index}.expr": expr, f"g{index}.tab": "0", f"g{index}.range_input": "2m"}
    # %20, not "+": the page decodes its parameters with decodeURIComponent.
    return f"{prometheus.rstrip('/')}/classic/graph?{urlencode(params, quote_via=quote)}"


def test_dashboard_panels_in_prometheus_graph_page(browser: Browser, stack: Stack) -> None:
    drawn = lambda: every_query_has_a_line(stack.prometheus_url)  # noqa: E731
    assert mixed_traffic(stack.url, TRAFFIC_SECONDS, drawn) > 20
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The classic page reads graphs g0..g9 only: the dashboard's queries fill two pages.
        for number, start in enumerate(range(0, len(EXPRESSIONS), PER_PAGE), 1):
            expressions = EXPRESSIONS[start : start + PER_PAGE]
            for _attempt in range(3):
                page.goto(graph_url(stack.prometheus_url, expressions), wait_until="networkidle")
                # "Error executing query: error" is a request that never got an answer (on a shared
                # host other stacks' networks come and go: Chromium aborts requests with
                # ERR_NETWORK_CHANGED); a query Prometheus refuses names its reason instead.
                if TRANSPORT_ERROR not in page.inner_text("body"):
                    break
            lines = "document.querySelectorAll('.graph_area svg path.line, .graph svg path').length"
            page.wait_for_function(f"{lines} >= {len(expressions)}", timeout=30_000)
            shown = page.eval_on_selector_all("textarea.expression_input", "all => all.map(i => i.value)")
            assert shown == expressions  # one graph per query, in the dashboard's order
            # The navigation bar is fixed to the window: in a full-page picture it would sit mid-page.
            page.add_style_tag(content="nav.navbar { position: absolute !important; }")
            page.wait_for_timeout(500)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"prometheus-graph-{number}.png", full_page=True)
            body = page.inner_text("body")
            assert "No datapoints found" not in body
            assert "Error executing query" not in body
        assert errors == []
    finally:
        context.close()
