"""server.enableXsrfProtection on a real server: every page load gets the XSRF cookie the socket
then has to present (streamlit_load.client sends it back as the second subprotocol, as browsers do)."""

from __future__ import annotations

import urllib.request

from streamlit_load.local_server import Server


def test_the_server_sets_the_xsrf_cookie(server: Server) -> None:
    with urllib.request.urlopen(f"{server.base_url}/_stcore/health", timeout=10) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
    assert any(cookie.startswith("_streamlit_xsrf=") for cookie in cookies), cookies
