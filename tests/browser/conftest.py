"""Browser tier: Debian's Chromium, driven by Playwright, on the app served locally.

The browser comes from Debian's archive (scripts/ensure-browser.sh), never from Playwright's
download. If it cannot start, every test of the tier fails with the reason: never a skip.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))  # dashboard.py and wire.py beside this file

from dashboard import Dashboard, PageWatch

from local_server import running_server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
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
DESKTOP = {"width": 1400, "height": 900}
NARROW = {"width": 420, "height": 900}


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
def app_url() -> Iterator[str]:
    with running_server() as server:
        yield f"{server.base_url}/"


@pytest.fixture
def open_dashboard(browser: Browser, app_url: str) -> Iterator[Callable[..., Dashboard]]:
    """open_dashboard(viewport=DESKTOP): a fresh browser context with the page loaded."""
    contexts = []

    def open_one(viewport: dict[str, int] = DESKTOP) -> Dashboard:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        watch = PageWatch(context)
        dashboard = Dashboard(context.new_page(), app_url, watch)
        dashboard.open()
        return dashboard

    yield open_one
    for context in contexts:
        context.close()


@pytest.fixture
def dashboard(open_dashboard: Callable[..., Dashboard]) -> Dashboard:
    return open_dashboard()
