"""The dashboard over HTTPS as a browser sees it: the local CA trusted through the browser's own
NSS database (never by ignoring certificate errors), a secure context, the session's socket on
wss://, HSTS, and plain HTTP sent on to HTTPS."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error

from .dashboard import NETWORK_CHANGED, Dashboard, PageWatch
from .stack import Stack


def test_page_and_socket_are_served_over_verified_tls(dashboard: Dashboard, stack: Stack) -> None:
    page = dashboard.page
    assert page.url == stack.url
    assert page.evaluate("() => [location.protocol, window.isSecureContext]") == ["https:", True]
    security = dashboard.response.security_details()
    assert security is not None
    assert security["protocol"] in ("TLS 1.3", "TLS 1.2")
    assert security["subjectName"] == "localhost"
    assert dashboard.response.headers["strict-transport-security"] == "max-age=300"
    dashboard.pick(date(2023, 1, 12))
    assert dashboard.wire.socket_urls == [stack.url.replace("https://", "wss://") + "_stcore/stream"]
    assert dashboard.watch.problems() == []


def test_plain_http_lands_on_https(browser: Browser, stack: Stack, signed_in: Path) -> None:
    context = browser.new_context(storage_state=signed_in)  # the signed-in user's dashboard
    try:
        page = context.new_page()
        dashboard = Dashboard(page, stack.http_url, PageWatch(context))
        dashboard.open()
        assert page.url == stack.url  # followed the proxy's 308
        redirect = dashboard.response.request.redirected_from
        assert redirect is not None
        assert redirect.url == stack.http_url
        assert redirect.response().status == 308
        assert "strict-transport-security" not in redirect.response().headers
        assert dashboard.watch.problems() == []
    finally:
        context.close()


def test_an_untrusted_certificate_is_refused(untrusting_browser: Browser, stack: Stack) -> None:
    """Control: the same Chromium without the CA in its NSS database refuses the page, so the
    tier's trust is the CA's, not a switch."""
    page = untrusting_browser.new_page()
    with pytest.raises(Error) as refused:
        page.goto(stack.url, timeout=30_000)
    if NETWORK_CHANGED in str(refused.value):  # a host interface came or went (shared Docker host)
        with pytest.raises(Error) as refused:
            page.goto(stack.url, timeout=30_000)
    assert "ERR_CERT_AUTHORITY_INVALID" in str(refused.value)
