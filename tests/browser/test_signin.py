"""Sign-in in Chromium, through the proxy, with three app replicas and the development OpenID
provider (the tier's stack: SERVE_AUTH=oidc). Proven from the page and from its WebSocket frames:
an anonymous visitor and a refused user get no figure; a signed-in user is signed in on whichever
replica the proxy's cookie picks, and still after that replica restarts; sign-out ends it on
every replica. (The other tests of the tier run signed in: the fragment-only proof among them.)"""

from __future__ import annotations

import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from streamlit_load.client.tls import client_context
from streamlit_load.dev_provider import ALLOWED_USER, OTHER_USER, password

from .dashboard import LOAD_TIMEOUT_MS, NETWORK_CHANGED, READY_TEXT, SCREENSHOTS, PageWatch, load_page
from .signin import REPLICA_COOKIE, ROUTE_COOKIE, SIGN_IN_TEXT, provider_form, shown, sign_in
from .stack import Stack
from .wire import Run, Wire

#: Elements that carry sales figures (or let a visitor ask for them): none may reach a visitor
#: the gate does not let in, not even in a frame the page never shows.
FIGURE_ELEMENTS = {"plotly_chart", "arrow_data_frame", "metric", "date_input"}
FIGURE_TEST_IDS = ("stPlotlyChart", "stDataFrame", "stMetric", "stDateInput")
USER_COOKIE = "_streamlit_user"
RECONNECT_TIMEOUT = 120.0


@dataclass
class Visitor:
    context: BrowserContext
    page: Page
    wire: Wire
    watch: PageWatch
    url: str

    def load(self, route: str | None = None) -> Run:
        """Load the page (with the proxy's route cookie set to ``route``, and no replica cookie: as a
        browser new to the proxy, the route picks the replica); the frames of its first run.
        Retried once if Chromium aborted the load with ERR_NETWORK_CHANGED (as Dashboard.open)."""
        if route is not None:
            self.context.clear_cookies(name=REPLICA_COOKIE)
            self.context.add_cookies([{"name": ROUTE_COOKIE, "value": route, "url": self.url}])
        try:
            return self._load()
        except AssertionError:
            if not any(NETWORK_CHANGED in error for error in self.watch.http_errors):
                raise
            self.watch.http_errors.clear()
            self.watch.console_errors.clear()
            return self._load()

    def _load(self) -> Run:
        return load_page(self.page, self.wire, self.watch, self.url)[1]

    def cookie_names(self) -> set[str]:
        return {cookie["name"] for cookie in self.context.cookies(self.url)}

    def figures_in_page(self) -> int:
        return sum(self.page.locator(f'[data-testid="{test_id}"]').count() for test_id in FIGURE_TEST_IDS)

    def signed_in_as(self, email: str) -> None:
        self.page.get_by_text(READY_TEXT).wait_for(timeout=LOAD_TIMEOUT_MS)
        expect(self.page.get_by_text(f"Signed in as {email}")).to_be_visible()


@pytest.fixture
def visitor(browser: Browser, app_url: str) -> Iterator[Visitor]:
    """A browser with no cookie at all."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    watch = PageWatch(context)
    page = context.new_page()
    watch.attach(page)
    yield Visitor(context, page, Wire(page), watch, app_url.rstrip("/"))
    context.close()


def assert_no_figure(visitor: Visitor, run: Run) -> None:
    assert run.elements <= {"heading", "markdown", "alert", "button"}, run.elements
    assert not FIGURE_ELEMENTS & run.elements
    assert not any("$" in text for text in run.texts), run.texts
    assert visitor.figures_in_page() == 0


def route_per_replica(stack: Stack, url: str) -> Iterator[tuple[str, str]]:
    """(route cookie value, the replica the proxy hashes it onto): one for each app replica, or
    an AssertionError naming those never reached in 40 tries."""
    replicas, served = set(stack.app_replicas()), set()
    for n in range(40):
        route = f"{n:032x}"
        replica = replica_for(stack, url, route)
        if replica not in served:
            served.add(replica)
            yield route, replica
        if served == replicas:
            return
    raise AssertionError(f"route cookies reached {served} of {replicas}")


def replica_for(stack: Stack, url: str, route: str) -> str:
    """The replica the proxy hashes ``route`` onto: a request carrying that route cookie, found in
    the proxy's access log (a WebSocket is logged only when it closes; a plain request at once)."""
    probe = f"/_stcore/health?replica-probe={uuid.uuid4().hex}"
    request = urllib.request.Request(f"{url}{probe}", headers={"Cookie": f"{ROUTE_COOKIE}={route}"})
    with urllib.request.urlopen(request, timeout=10, context=client_context()) as response:
        assert response.status == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [line["upstream_addr"] for line in stack.proxy_log() if line["uri"] == probe]
        if found:
            return found[0].split(",")[-1].strip().rsplit(":", 1)[0]
        time.sleep(0.2)
    raise AssertionError(f"{probe} is not in the proxy's log")


def test_anonymous_visitor_gets_only_the_sign_in_page(visitor: Visitor) -> None:
    run = visitor.load()
    expect(visitor.page.get_by_text(SIGN_IN_TEXT)).to_be_visible()
    expect(visitor.page.get_by_role("button", name="Sign in")).to_be_visible()
    assert run.texts == ["Daily vs monthly sales, by product", SIGN_IN_TEXT]
    assert_no_figure(visitor, run)
    assert visitor.wire.undecodable == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visitor.page.screenshot(path=SCREENSHOTS / "sign-in.png")
    assert visitor.watch.problems() == []


def test_a_link_opened_before_sign_in_is_where_the_page_opens_after_it(visitor: Visitor) -> None:
    """A shared link (a day of the daily view) opened before signing in: after the provider's
    round trip the page opens at that link, not at the root (streamlit_serving/sign_in_link.py:
    the sign-in request's Referer, as Chromium sends it through the proxy)."""
    link = f"{visitor.url}/?date=2023-03-09"
    visitor.page.goto(link, timeout=LOAD_TIMEOUT_MS)
    visitor.page.get_by_text(SIGN_IN_TEXT).wait_for(timeout=LOAD_TIMEOUT_MS)
    sign_in(visitor.page, visitor.url, ALLOWED_USER)
    visitor.signed_in_as(ALLOWED_USER)
    expect(visitor.page.get_by_text("Best sellers, March 9, 2023")).to_be_visible()
    assert urlsplit(visitor.page.url)[2:4] == ("/", "date=2023-03-09")
    assert "_serve_return_to" not in visitor.cookie_names()  # used once, then cleared


def test_signed_in_on_every_replica_and_after_a_replica_restart(visitor: Visitor, stack: Stack) -> None:
    visitor.load()
    sign_in(visitor.page, visitor.url, ALLOWED_USER)
    visitor.signed_in_as(ALLOWED_USER)
    replicas = stack.app_replicas()
    assert len(replicas) == 3

    # Each page load with another route cookie: signed in, whichever replica the cookie picks.
    visits = list(route_per_replica(stack, visitor.url))
    for route, _ in visits:
        run = visitor.load(route)
        assert shown(run.texts[0]) == f"Signed in as {ALLOWED_USER}", run.texts
        visitor.signed_in_as(ALLOWED_USER)
    route, replica = visits[-1]  # the replica of the page now open

    # The replica of the open page restarts: the page reconnects by itself, still signed in.
    sockets = visitor.wire.opened
    visitor.page.evaluate("() => { window.__e2eSamePage = true; }")
    stack.docker("restart", "--time", "15", replicas[replica])
    visitor.wire.wait_until(lambda: visitor.wire.opened > sockets, RECONNECT_TIMEOUT, "a new WebSocket")
    visitor.wire.wait_until(
        lambda: visitor.page.get_by_text("Connecting").count() == 0, RECONNECT_TIMEOUT, "reconnection"
    )
    visitor.signed_in_as(ALLOWED_USER)
    assert visitor.page.evaluate("() => window.__e2eSamePage === true"), "the page was reloaded"
    stack.wait_healthy(replicas[replica])
    assert replica_for(stack, visitor.url, route) == replica
    run = visitor.load()  # and a new page load, on the restarted replica (same route cookie)
    assert shown(run.texts[0]) == f"Signed in as {ALLOWED_USER}"
    assert visitor.watch.csp_violations == []


def test_refused_user_sees_no_figure_and_can_sign_out(visitor: Visitor) -> None:
    visitor.load()
    sign_in(visitor.page, visitor.url, OTHER_USER)
    refusal = visitor.page.get_by_text(f"{OTHER_USER} is not among the people allowed to see this app")
    refusal.wait_for(timeout=LOAD_TIMEOUT_MS)
    run = visitor.load()
    assert any(f"{OTHER_USER} is not among" in shown(text) for text in run.texts), run.texts
    assert_no_figure(visitor, run)
    visitor.page.screenshot(path=SCREENSHOTS / "sign-in-refused.png")

    visitor.page.get_by_role("button", name="Sign out").click()
    visitor.page.get_by_text(SIGN_IN_TEXT).wait_for(timeout=LOAD_TIMEOUT_MS)
    assert USER_COOKIE not in visitor.cookie_names()
    assert visitor.watch.problems() == []


def test_sign_out_leaves_every_replica_anonymous(visitor: Visitor, stack: Stack) -> None:
    visitor.load()
    sign_in(visitor.page, visitor.url, ALLOWED_USER)
    visitor.signed_in_as(ALLOWED_USER)
    assert USER_COOKIE in visitor.cookie_names()

    visitor.page.get_by_role("button", name="Sign out").click()
    visitor.page.get_by_text(SIGN_IN_TEXT).wait_for(timeout=LOAD_TIMEOUT_MS)
    assert not {USER_COOKIE, "_streamlit_user_tokens"} & visitor.cookie_names()

    for route, _replica in route_per_replica(stack, visitor.url):
        run = visitor.load(route)
        assert run.texts == ["Daily vs monthly sales, by product", SIGN_IN_TEXT]
        assert_no_figure(visitor, run)
    # The provider's session ended too: signing in again asks for the password.
    provider_form(visitor.page)
    expect(visitor.page.locator("#password")).to_be_visible()


def test_make_up_prints_the_provider_and_its_test_users_before_the_app_url(stack: Stack) -> None:
    *before, last = stack.printed.strip().splitlines()
    assert last == stack.url
    port = stack.env["OIDC_DEV_PORT"]
    issuer = f"http://oidc-dev.localhost:{port}/"
    assert f"oidc-dev: development OpenID provider (never for production): {issuer}" in before
    for email, outcome in (
        (ALLOWED_USER, "on the allow-list: signed in"),
        (OTHER_USER, "not on the allow-list: refused"),
    ):
        assert f"oidc-dev: test user {email} password {password(email)} ({outcome})" in before
