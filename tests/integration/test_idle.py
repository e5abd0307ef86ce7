"""Keep-alive: uvicorn pings every server.websocketPingInterval seconds and, Streamlit setting
the ping timeout to the same value, drops a client that has not answered by then.
websocket-client answers pings while it reads, which is what DashboardSession.idle() does.

A server of its own with a 1 s interval keeps this short (the default is 30 s, so ~60 s of
not reading gets a client dropped).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from sales_load.page import DashboardSession
from streamlit_load.client import FRAGMENT_SUCCESS, SessionClosed
from streamlit_load.local_server import running_server

if TYPE_CHECKING:
    from local_server import Server

PING_INTERVAL = 1


@pytest.fixture(scope="module")
def pinging_server() -> Iterator[Server]:
    with running_server("--server.websocketPingInterval", str(PING_INTERVAL)) as started:
        yield started


def test_idle_session_answers_pings_and_stays_usable(pinging_server: Server) -> None:
    """While idle() reads, each ping gets its pong: the session outlives several ping
    timeouts and its next pick works."""
    with DashboardSession(pinging_server.base_url, timeout=20) as session:
        idle = session.idle(4 * PING_INTERVAL)
        assert session.pings >= 2
        assert idle.deltas == 0
        picked = session.pick_date("2023-01-05")
        assert picked.outcomes == [FRAGMENT_SUCCESS]
        assert picked.has_text("Best sellers, January 5, 2023")


def test_session_that_stops_reading_is_dropped(pinging_server: Server) -> None:
    """The contrast: a client that neither reads nor pongs for longer than interval + timeout
    is disconnected by the server; its next interaction raises SessionClosed."""
    with DashboardSession(pinging_server.base_url, timeout=20) as session:
        time.sleep(4 * PING_INTERVAL)
        with pytest.raises(SessionClosed):
            session.pick_date("2023-01-05")
    assert pinging_server.healthy()
