"""Browser tier: Debian's Chromium, driven by Playwright, on the app as `make up` runs it: the
images built, the compose stack started (its own project name, free ports on 127.0.0.1), every
request through the nginx proxy, over HTTPS. Sign-in is on (SERVE_AUTH=oidc) with three app
replicas and the development OpenID provider beside them, as `SERVE_AUTH=oidc APP_REPLICAS=3 make
up` starts it: every dashboard page is a signed-in user's (one sign-in through the provider's form,
its cookies reused; no route cookie, so each page lands on whichever replica the proxy picks). The
open stack (no sign-in) is the container tier's.

The stack's certificate comes from the local CA `make up` makes (in a directory of this session,
LOCAL_TLS_DIR). Chromium trusts that CA the way a user's would: it is added to the NSS database
of the browser's own HOME (`certutil`), so the chain and the host name are checked as usual.
Certificate errors are never ignored.

The browser comes from Debian's archive (scripts/setup/ensure-browser.sh), never from Playwright's
download. If it cannot start, every test of the tier fails with the reason: never a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Playwright, sync_playwright

from streamlit_load.client.tls import CA_FILE_VARIABLE

from .dashboard import DESKTOP, READY_TEXT, Dashboard, PageWatch
from .signin import signed_in_state
from .stack import IMAGE_TAGS, Stack, build_images, free_port, started_stack

APP_REPLICAS = 3

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


def trusting_home(home: Path, ca_file: Path) -> Path:
    """`home` with an NSS database ($HOME/.pki/nssdb, where Chromium on Linux looks) that trusts
    `ca_file` to identify web sites."""
    certutil = shutil.which("certutil")
    if certutil is None:
        pytest.fail(
            "certutil missing (Debian's libnss3-tools): run scripts/setup/ensure-browser.sh", pytrace=False
        )
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    for args in (
        ["-N", "--empty-password"],
        ["-A", "-n", "sales-dashboard local CA", "-t", "C,,", "-i", str(ca_file)],
    ):
        done = subprocess.run([certutil, "-d", f"sql:{nssdb}", *args], capture_output=True, text=True)
        assert done.returncode == 0, f"certutil {args[0]}: {done.stderr}"
    return home


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


def launch(playwright: Playwright, home: Path, extra_args: Sequence[str] = ()) -> Browser:
    """Chromium with `home` as its HOME (where its NSS database, and so its trusted CAs, live) and
    ``extra_args`` after the tier's own."""
    try:
        return playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, *extra_args],
            env={**os.environ, "HOME": str(home)},
        )
    except Error as exc:
        pytest.fail(
            f"Chromium could not start from {CHROMIUM} (run scripts/setup/ensure-browser.sh): {exc}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser(
    playwright: Playwright, stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    """The tier's Chromium: it trusts the stack's local CA."""
    started = launch(playwright, trusting_home(tmp_path_factory.mktemp("chromium-home"), stack.ca_file))
    yield started
    started.close()


@pytest.fixture
def untrusting_browser(playwright: Playwright, tmp_path: Path) -> Iterator[Browser]:
    """The same Chromium from an empty HOME: no CA of ours in its NSS database."""
    started = launch(playwright, tmp_path)
    yield started
    started.close()


@pytest.fixture(scope="session")
def local_tls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local CA and localhost certificate `make up` makes, shared by the tier's stacks."""
    return tmp_path_factory.mktemp("local-tls")


@pytest.fixture(scope="session")
def stack(local_tls: Path) -> Iterator[Stack]:
    settings = {
        "APP_REPLICAS": str(APP_REPLICAS),
        # Prometheus too, for its graph page (test_prometheus_page.py).
        "OBSERVABILITY": "1",
        "PROMETHEUS_PORT": str(free_port()),
    }
    with started_stack(f"browser-e2e-{os.getpid()}", local_tls, settings) as started:
        started.prometheus_url = started.printed.strip().splitlines()[-2]  # before the app's URL
        # The tier's protocol clients (streamlit_load.client.tls) trust the stack's CA as Chromium does.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(CA_FILE_VARIABLE, str(started.ca_file))
            yield started


@pytest.fixture(scope="session")
def hello_image(hello_app: Path) -> str:
    """The app image of Streamlit's hello demo, built with the knob alone (`scripts/deploy/build-images.sh
    app` with APP_DIR/APP_MAIN; IMAGES_PREBUILT=0: CI prebuilds only the example's images), for the
    hello stack (test_hello.py) and the Swarm stack's rolling update to it (test_rolling_update.py)."""
    tag = os.environ.get("APP_IMAGE", IMAGE_TAGS["APP_IMAGE"]).split(":")[0] + "-hello:test"
    knob = {
        "APP_DIR": str(hello_app),
        "APP_MAIN": "streamlit_app.py",
        "APP_IMAGE": tag,
        "IMAGES_PREBUILT": "0",
    }
    build_images(["app"], knob)
    return tag


@pytest.fixture(scope="session")
def proxy_image() -> str:
    """The tier's proxy image (built here from the committed files when not yet there; with
    IMAGES_PREBUILT=1, as CI built it), for the stacks that start with SKIP_BUILD=1."""
    tag = os.environ.get("PROXY_IMAGE", IMAGE_TAGS["PROXY_IMAGE"])
    build_images(["proxy"], {"PROXY_IMAGE": tag})
    return tag


@pytest.fixture(scope="session")
def app_url(stack: Stack) -> str:
    return stack.url


@pytest.fixture(scope="session")
def signed_in(browser: Browser, app_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's signed-in user (``signed_in_state``)."""
    return signed_in_state(browser, app_url, READY_TEXT, tmp_path_factory.mktemp("signed-in") / "state.json")


@pytest.fixture
def open_dashboard(browser: Browser, app_url: str, signed_in: Path) -> Iterator[Callable[..., Dashboard]]:
    """open_dashboard(viewport=DESKTOP, query=""): a fresh browser context of the signed-in user
    with the page loaded (from ``/?query``, a link, when given)."""
    contexts = []

    def open_one(viewport: dict[str, int] = DESKTOP, query: str = "") -> Dashboard:
        context = browser.new_context(viewport=viewport, storage_state=signed_in)
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
