"""app/serve.py: the settings are checked before the server starts, and every connection the
server accepts has TCP_NODELAY (stock Streamlit 1.67 leaves Nagle on: ~40 ms per interaction)."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from sales_load.local_server import APP, REPO, SERVE, Server, running_server
from sales_load.server_probe import accepted_nodelay
from streamlit_client import StreamlitSession


def nodelay_with_two_sessions(server: Server) -> list[bool]:
    with StreamlitSession(server.base_url) as first, StreamlitSession(server.base_url) as second:
        first.pick_date("2023-01-05")
        second.pick_date("2023-01-06")
        return accepted_nodelay(server.pid, urlsplit(server.base_url).port)


def test_every_accepted_connection_has_tcp_nodelay(server: Server) -> None:
    flags = nodelay_with_two_sessions(server)
    assert len(flags) >= 2, "the two sessions' sockets were not found"
    assert all(flags), flags


def test_stock_streamlit_sockets_have_no_tcp_nodelay() -> None:
    """SALES_TCP_NODELAY=off is Streamlit as shipped. If this starts failing, Streamlit sets
    TCP_NODELAY itself now and app/serve.py's socket wrapper can go."""
    with running_server(env={"SALES_TCP_NODELAY": "off"}) as stock:
        flags = nodelay_with_two_sessions(stock)
    assert len(flags) >= 2, "the two sessions' sockets were not found"
    assert not any(flags), flags


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SALES_PRODUCT_COUNT": "lots"}, "SALES_PRODUCT_COUNT='lots' is not a whole number"),
        ({"SALES_FRAGMENT": "maybe"}, "SALES_FRAGMENT='maybe' is not one of on, off"),
        ({"SALES_FRAGMENT": "off", "SALES_MONTH_RERUN": "views"}, "SALES_MONTH_RERUN='views' needs"),
        ({"SALES_WARMUP": "later"}, "SALES_WARMUP='later' is not one of on, off"),
    ],
)
def test_a_bad_setting_stops_the_start_with_exit_64_and_names_it(env: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, str(SERVE), "run", str(APP), "--server.port", "1"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 64
    assert message in result.stderr
