"""Fixtures on the real app, started with `python -m streamlit_serving run` (Streamlit's CLI, see
streamlit_serving/serve.py) on a free port (no mocks).

`server` is one process for the whole test session, in the page's default mode; `views_server`
(SALES_MONTH_RERUN=views) and `plain_server` (SALES_FRAGMENT=off) are the other two modes, also one
each per session. Tests that need other server options start their own with
`local_server.running_server(...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sales_load.page import DashboardSession
from streamlit_load.local_server import Server, running_server


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with running_server() as started:
        yield started


@pytest.fixture(scope="session")
def views_server() -> Iterator[Server]:
    with running_server(env={"SALES_MONTH_RERUN": "views", "SERVE_WARMUP": "off"}) as started:
        yield started


@pytest.fixture(scope="session")
def plain_server() -> Iterator[Server]:
    with running_server(env={"SALES_FRAGMENT": "off", "SERVE_WARMUP": "off"}) as started:
        yield started


@pytest.fixture
def session(server: Server) -> Iterator[DashboardSession]:
    """A fresh session with its first run done (browser-like message cache on)."""
    with DashboardSession(server.base_url, timeout=20) as opened:
        yield opened


@pytest.fixture
def assert_server_fine(server: Server) -> Callable[..., None]:
    """assert_server_fine(*bystanders): the server is healthy, the sessions given (opened
    before the bad input) still work, and a new session works."""

    def check(*bystanders: DashboardSession) -> None:
        assert server.healthy()
        for other in bystanders:
            assert other.pick_date("2023-01-09").has_text("Best sellers, January 9, 2023")
        with DashboardSession(server.base_url, timeout=20) as fresh:
            assert fresh.pick_date("2023-01-10").has_text("Best sellers, January 10, 2023")

    return check
