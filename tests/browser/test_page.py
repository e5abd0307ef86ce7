"""The page as it loads: both views, a clean console, no CSP violation, a steady WebSocket."""

from __future__ import annotations

from datetime import date

from .dashboard import Dashboard


def test_page_renders_both_views(dashboard: Dashboard) -> None:
    assert dashboard.headings(Dashboard.DAILY) == [
        "Best sellers, January 1, 2023",
        "Worst sellers, January 1, 2023",
    ]
    assert dashboard.headings(Dashboard.MONTHLY) == [
        "Daily sales for all products, January 2023",
        "Total sales for all products, January 2023",
    ]
    best, worst = dashboard.tables(Dashboard.DAILY)
    assert len(best["rows"]) == len(worst["rows"]) == 10
    month = dashboard.tables(Dashboard.MONTHLY)[0]
    assert month["header"][:2] == ["date", "Widget A"]
    assert month["rows"][0][0] == "2023-01-01"  # the grid puts only the rows in view in the DOM
    assert all(row[0].startswith("2023-01-") for row in month["rows"])
    charts = dashboard.charts(Dashboard.DAILY) + dashboard.charts(Dashboard.MONTHLY)
    assert [chart["title"] for chart in charts] == [
        "Top 10 products",
        "Bottom 10 products",
        "Monthly total per product, January 2023",
    ]
    for chart in charts:
        assert chart["axes"] == ["Sales (USD)", "Product"]
        assert chart["ticks"][0] == "$0"
        assert all(tick.startswith("$") for tick in chart["ticks"])
    assert charts[0]["bars"] == [row[0] for row in best["rows"]], "chart bars in the table's order"
    assert charts[1]["bars"] == [row[0] for row in worst["rows"]]


def test_no_toolbar_for_end_users(dashboard: Dashboard) -> None:
    page = dashboard.page
    assert page.get_by_role("button", name="Deploy").count() == 0
    assert page.locator('[data-testid="stToolbarActions"] button').count() == 0


def test_no_console_error_or_csp_violation_while_used(dashboard: Dashboard) -> None:
    policy = dashboard.response.headers.get("content-security-policy", "")
    assert "default-src 'self'" in policy, "the page came through the proxy, under its CSP"
    dashboard.pick(date(2023, 1, 20))
    dashboard.pick(date(2023, 6, 5))
    assert dashboard.watch.problems() == []


def test_websocket_stays_connected(dashboard: Dashboard) -> None:
    for day in (date(2023, 1, 3), date(2023, 2, 14), date(2023, 2, 15)):
        dashboard.pick(day)
    dashboard.page.wait_for_timeout(5_000)  # idle: heartbeats only
    assert (dashboard.wire.opened, dashboard.wire.closed) == (1, 0)
    assert dashboard.wire.undecodable == []
    assert dashboard.page.get_by_text("Connecting").count() == 0
