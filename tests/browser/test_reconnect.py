"""After the proxy or the app container restarts, the open page reconnects by itself (Streamlit's
own reconnect loop, through nginx) and works again: no reload, no click on anything. A page opened
while no replica answers gets the proxy's error page, which brings the app back by itself."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Browser

from .dashboard import DESKTOP, READY_TEXT, Dashboard, PageWatch
from .stack import Stack

RECONNECT_TIMEOUT = 120.0


@pytest.mark.parametrize("service", ["proxy", "app"])
def test_page_recovers_without_reload(dashboard: Dashboard, stack: Stack, service: str) -> None:
    page, wire = dashboard.page, dashboard.wire
    dashboard.pick(date(2023, 1, 12))
    page.evaluate("() => { window.__e2eSamePage = true; }")  # gone if the page reloads
    sockets = wire.opened

    stack.restart(service)

    wire.wait_until(lambda: wire.closed >= 1, RECONNECT_TIMEOUT, f"the page to see {service} go away")
    wire.wait_until(lambda: wire.opened > sockets, RECONNECT_TIMEOUT, "the page to open a new WebSocket")
    mark = wire.mark()
    wire.wait_until(lambda: page.get_by_text("Connecting").count() == 0, RECONNECT_TIMEOUT, "reconnection")
    dashboard.settle()
    assert dashboard.headings(Dashboard.DAILY)[0] == "Best sellers, January 12, 2023", "the pick is kept"
    run = dashboard.pick(date(2023, 2, 20))

    assert page.evaluate("() => window.__e2eSamePage === true"), "the page was reloaded"
    assert run.outcomes[-1] == "FINISHED_SUCCESSFULLY", wire.describe(mark)
    assert dashboard.headings(Dashboard.DAILY)[0] == "Best sellers, February 20, 2023"
    assert dashboard.headings(Dashboard.MONTHLY)[0] == "Daily sales for all products, February 2023"
    assert dashboard.watch.csp_violations == []
    assert dashboard.watch.page_errors == []


def test_the_page_moves_to_another_replica_with_its_day_when_its_replica_stops(
    dashboard: Dashboard, stack: Stack
) -> None:
    """Three sticky replicas: the one that holds the page's session is stopped (SIGTERM: its drain
    closes the session). The open page reconnects by itself, through the proxy, to another
    replica, reruns there with its URL and widget states, and shows the same day and month."""
    page, wire = dashboard.page, dashboard.wire
    dashboard.pick(date(2023, 3, 9))  # another month: the whole page follows
    dashboard.pick(date(2023, 3, 14))
    assert page.url.endswith("/?date=2023-03-14")
    page.evaluate("() => { window.__e2eSamePage = true; }")  # gone if the page reloads
    holder = stack.holder()
    sockets, mark = wire.opened, wire.mark()

    took = stack.stop_replica(holder)
    try:
        wire.wait_until(lambda: wire.opened > sockets, RECONNECT_TIMEOUT, "the page to open a new WebSocket")
        wire.wait_run_end(mark, timeout=RECONNECT_TIMEOUT)
        connected = lambda: page.get_by_text("Connecting").count() == 0  # noqa: E731
        wire.wait_until(connected, RECONNECT_TIMEOUT, "reconnection")
        dashboard.settle()
        assert page.evaluate("() => window.__e2eSamePage === true"), "the page was reloaded"
        (rerun,) = wire.run_since(mark).reruns
        assert not rerun.rerun_script.fragment_id, "on its new replica the page reruns whole"
        assert rerun.rerun_script.query_string == "date=2023-03-14", "with its URL"
        assert page.url.endswith("/?date=2023-03-14")
        assert dashboard.headings(Dashboard.DAILY)[0] == "Best sellers, March 14, 2023"
        assert dashboard.headings(Dashboard.MONTHLY)[0] == "Daily sales for all products, March 2023"
        assert stack.holder() != holder
        log = stack.logs(holder)
        assert "drain: moved 1 session(s)" in log, log[-2000:]
        print(f"replica {holder} stopped in {took:.1f} s; its drain: "
              + " | ".join(line for line in log.splitlines() if line.startswith("drain:")))  # fmt: skip

        same_month = dashboard.pick(date(2023, 3, 27))  # and it works on: a fragment run there
        assert same_month.outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
        assert page.url.endswith("/?date=2023-03-27")
        assert dashboard.watch.csp_violations == []
        assert dashboard.watch.page_errors == []
    finally:
        stack.start_replica(holder)


def test_the_error_page_brings_the_app_back_by_itself(
    browser: Browser, app_url: str, signed_in, stack: Stack
) -> None:
    """Every replica down (a host reboot, `docker compose up -d` recreating them all): a link
    opened then gets the proxy's 502 page, which asks the health check with a growing pause and
    reloads the same URL once a replica answers. Nobody reloads by hand; no CSP violation."""
    replicas = stack.containers("app")
    stack.stop_replica(*replicas)
    context = browser.new_context(viewport=DESKTOP, storage_state=signed_in)
    try:
        watch = PageWatch(context)
        page = context.new_page()
        watch.attach(page)
        response = page.goto(f"{app_url.rstrip('/')}/?date=2023-03-09")
        assert response is not None
        assert response.status in (502, 503, 504)  # refused, draining, or a stopped address timed out
        page.get_by_text("This app is restarting").wait_for()
        page.get_by_text("Trying again in").wait_for()

        stack.start_replica(*replicas)  # waits until every one is healthy and seen by the proxy
        page.get_by_text(READY_TEXT).wait_for(timeout=RECONNECT_TIMEOUT * 1000)
        page.get_by_text("Best sellers, March 9, 2023").wait_for()
        assert page.url.endswith("/?date=2023-03-09"), "the link is kept"
        assert watch.csp_violations == []
        assert watch.page_errors == []
    finally:
        down = [name for name in replicas if not stack.healthy(name)]
        if down:
            stack.start_replica(*down)
        context.close()
