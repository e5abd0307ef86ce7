"""A server under a base path (server.baseUrlPath), as behind a proxy that mounts the app at
/dashboard: the client derives /dashboard/_stcore/health and /dashboard/_stcore/stream."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sales_load.page import DashboardSession
from streamlit_load.client import FRAGMENT_SUCCESS, SessionClosed
from streamlit_load.local_server import running_server


def test_session_under_a_base_path() -> None:
    """The interactions work at http://host:port/dashboard, with or without a trailing
    slash; the bare host, which has no stream route there, fails with SessionClosed."""
    with running_server(base_path="dashboard") as server:
        for url in (server.base_url, f"{server.base_url}/"):
            with DashboardSession(url, timeout=20) as session:
                assert urlsplit(session.stream_url).path == "/dashboard/_stcore/stream"
                picked = session.pick_date("2023-01-25")
                assert picked.outcomes == [FRAGMENT_SUCCESS]
                assert picked.has_text("Best sellers, January 25, 2023")
        root = DashboardSession(server.base_url.removesuffix("/dashboard"), timeout=5)
        with pytest.raises(SessionClosed):
            root.open()
