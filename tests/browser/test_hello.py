"""Streamlit's own hello demo (st.navigation, five pages; an app nobody here wrote, with no line of
it changed) deployed as a user deploys their app: `make up` with APP_DIR set to a copy of it outside
the repository, sign-in on, two sticky replicas behind the proxy, over HTTPS with the tier's local
CA. What the template promises any app, checked in Chromium: nothing of the app for an anonymous
visitor, every page loads from its link with no console error or CSP violation, a widget change
reruns the page, the proxy's headers, and a page whose replica stops moves to the other one (its
drain) and works on."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext

from .dashboard import LOAD_TIMEOUT_MS, SCREENSHOTS
from .hello import HOME_HEADING, PAGES, RECONNECT_TIMEOUT, HelloPage, slider_values_sent
from .signin import SIGN_IN_TEXT, signed_in_state
from .stack import Stack, started_stack


@pytest.fixture(scope="module")
def hello_stack(stack: Stack, local_tls: Path, hello_app: Path, hello_image: str) -> Iterator[Stack]:
    """`make up APP_DIR=<the copy> APP_REPLICAS=2 SERVE_AUTH=oidc`, beside the tier's stack (its
    CA, so the browser trusts both; its images but the app's, ``hello_image``: SKIP_BUILD=1)."""
    settings = {
        "APP_DIR": str(hello_app),
        "APP_MAIN": "streamlit_app.py",
        "APP_IMAGE": hello_image,
        "APP_REPLICAS": "2",
        "IMAGES_PREBUILT": "0",
        "SKIP_BUILD": "1",
    }
    with started_stack(f"browser-hello-{os.getpid()}", local_tls, settings) as started:
        yield started


@pytest.fixture(scope="module")
def hello_signed_in(browser: Browser, hello_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return signed_in_state(
        browser, hello_stack.url, HOME_HEADING, tmp_path_factory.mktemp("hello") / "state.json"
    )


@pytest.fixture
def open_hello(
    browser: Browser, hello_stack: Stack, hello_signed_in: Path
) -> Iterator[Callable[..., HelloPage]]:
    contexts: list[BrowserContext] = []

    def open_one(path: str = "", signed_in: bool = True) -> HelloPage:
        context = browser.new_context(storage_state=hello_signed_in if signed_in else None)
        contexts.append(context)
        return HelloPage(context, hello_stack.url)

    yield open_one
    for context in contexts:
        context.close()


@pytest.mark.parametrize("path", ["", "animation_demo"])
def test_an_anonymous_visitor_gets_the_sign_in_page_and_nothing_of_the_app(open_hello, path):
    hello = open_hello(signed_in=False)
    mark = hello.wire.mark()
    hello.page.goto(f"{hello.url}{path}", timeout=LOAD_TIMEOUT_MS)
    hello.page.get_by_text(SIGN_IN_TEXT).wait_for(timeout=LOAD_TIMEOUT_MS)
    run = hello.wire.wait_run_end(mark)
    body = hello.page.locator("body").inner_text()
    assert "Welcome to Streamlit" not in body
    assert all(heading not in body for heading in PAGES.values())
    assert hello.page.locator('[data-testid="stSidebarNav"]').count() == 0  # not even the page list
    # Nor in any frame the server sent: the run stopped before the app's first line.
    assert not [text for text in run.texts if "Streamlit" in text or "demo" in text], run.texts
    assert {msg.WhichOneof("type") for msg in run.received}.isdisjoint({"navigation"})
    assert hello.problems() == []


def test_every_page_loads_from_its_link_with_no_console_error(open_hello):
    hello = open_hello()
    hello.open()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path, heading in PAGES.items():
        if path:
            mark = hello.wire.mark()
            hello.page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').click()
            hello.wire.wait_run_end(mark, timeout=LOAD_TIMEOUT_MS / 1000)
            hello.heading(heading)
        assert hello.page.url == f"{hello.url}{path}"
        hello.page.screenshot(path=SCREENSHOTS / f"hello-{path or 'home'}.png")
    # The demos that fetch data show their own message offline; that is the app's, not a fault.
    assert hello.problems() == []


def test_a_widget_change_reruns_the_page(open_hello):
    hello = open_hello()
    hello.open("animation_demo")  # its run (the animation's 100 frames) ended
    run = hello.move_slider("ArrowLeft")
    sent = slider_values_sent(run)
    assert [9.0] in sent, sent  # Level of detail: 10 -> 9
    assert "FINISHED_SUCCESSFULLY" in run.outcomes
    assert hello.problems() == []


def test_the_page_comes_over_https_with_the_proxys_headers(open_hello):
    hello = open_hello()
    hello.open("plotting_demo")
    assert hello.url.startswith("https://")
    headers = hello.response.headers
    for name in (
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "strict-transport-security",
    ):
        assert name in headers, (name, headers)
    assert "max-age=" in headers["strict-transport-security"]
    assert all(url.startswith("wss://") for url in hello.wire.socket_urls)


def test_a_page_whose_replica_stops_moves_to_the_other_and_works_on(open_hello, hello_stack: Stack):
    """Two sticky replicas: the one holding the page's session is stopped (SIGTERM: its drain moves
    the session). The open page reconnects through the proxy to the other replica, reruns its own
    page there (the URL path names it) and its widgets work."""
    hello = open_hello()
    hello.open("animation_demo")
    holder = hello_stack.holder()
    sockets = hello.wire.opened
    hello.page.evaluate("() => { window.__e2eSamePage = true; }")  # gone if the page reloads
    hello_stack.stop_replica(holder)
    try:
        hello.wire.wait_until(lambda: hello.wire.opened > sockets, RECONNECT_TIMEOUT, "a new WebSocket")
        connected = lambda: hello.page.get_by_text("Connecting").count() == 0  # noqa: E731
        hello.wire.wait_until(connected, RECONNECT_TIMEOUT, "reconnection")
        # After a whole-page run the frontend asks its new session for nothing: the page as it was.
        hello.heading("Animation demo")
        assert hello.page.evaluate("() => window.__e2eSamePage === true"), "the page was reloaded"
        assert hello_stack.holder() != holder
        log = hello_stack.logs(holder)
        assert "drain: moved 1 session(s)" in log, log[-2000:]
        assert "FINISHED_SUCCESSFULLY" in hello.move_slider("ArrowRight").outcomes
        assert hello.problems() == []
    finally:
        hello_stack.start_replica(holder)
