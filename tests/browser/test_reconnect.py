"""After the proxy or the app container restarts, the open page reconnects by itself (Streamlit's
own reconnect loop, through nginx) and works again: no reload, no click on anything."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard import Dashboard
from stack import Stack

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
