"""Browser tier: Debian's Chromium, driven by Playwright, on the app as `make up` runs it: both
images built, the compose stack started (its own project name, a free port on 127.0.0.1), every
request through the nginx proxy.

The browser comes from Debian's archive (scripts/ensure-browser.sh), never from Playwright's
download. If it cannot start, every test of the tier fails with the reason: never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Error, sync_playwright

from dashboard import DESKTOP, Dashboard, PageWatch
from stack import Stack, free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# build-environment.md: what Debian's Chromium needs to run headless as root in a container.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        try:
            started = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as exc:
            pytest.fail(
                f"Chromium could not start from {CHROMIUM} (run scripts/ensure-browser.sh): {exc}",
                pytrace=False,
            )
        yield started
        started.close()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    env = {
        **os.environ,
        # Own project and tags (APP_IMAGE/PROXY_IMAGE when set): the engine may be shared with other
        # stacks and builds.
        "STACK_PROJECT": f"browser-e2e-{os.getpid()}",
        "APP_IMAGE": os.environ.get("APP_IMAGE", "browser-e2e-app:test"),
        "PROXY_IMAGE": os.environ.get("PROXY_IMAGE", "browser-e2e-proxy:test"),
        "PROXY_METRICS_IMAGE": os.environ.get("PROXY_METRICS_IMAGE", "browser-e2e-proxy-metrics:test"),
        "PROMETHEUS_IMAGE": os.environ.get("PROMETHEUS_IMAGE", "browser-e2e-prometheus:test"),
        "PROXY_BIND": "127.0.0.1",
        "PROXY_PORT": str(free_port()),
        # Three sticky replicas: a page must survive the loss of the one that holds its session.
        "APP_REPLICAS": "3",
        # Prometheus too, for its graph page (test_prometheus_page.py).
        "OBSERVABILITY": "1",
        "PROMETHEUS_PORT": str(free_port()),
    }
    started = Stack("", env)
    up = started.stack("up")
    try:
        assert up.returncode == 0, f"scripts/stack.sh up failed:\n{up.stderr[-6000:]}"
        started.prometheus_url, started.url = up.stdout.strip().splitlines()[-2:]  # the app's is last
        yield started
    finally:
        down = started.stack("down", "--volumes")
        assert down.returncode == 0, f"scripts/stack.sh down failed:\n{down.stderr[-4000:]}"


@pytest.fixture(scope="session")
def app_url(stack: Stack) -> str:
    return stack.url


@pytest.fixture
def open_dashboard(browser: Browser, app_url: str) -> Iterator[Callable[..., Dashboard]]:
    """open_dashboard(viewport=DESKTOP, query=""): a fresh browser context with the page loaded
    (from ``/?query``, a link, when given)."""
    contexts = []

    def open_one(viewport: dict[str, int] = DESKTOP, query: str = "") -> Dashboard:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        watch = PageWatch(context)
        url = f"{app_url.rstrip('/')}/?{query}" if query else app_url
        dashboard = Dashboard(context.new_page(), url, watch)
        dashboard.open()
        return dashboard

    yield open_one
    for context in contexts:
        context.close()


@pytest.fixture
def dashboard(open_dashboard: Callable[..., Dashboard]) -> Dashboard:
    return open_dashboard()
