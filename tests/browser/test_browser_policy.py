"""The browser policy an app declares (its serving.toml's ``[browser]``: extra CSP origins by kind,
permissions), end to end: the proxy image renders it from PROXY_CSP_* / PROXY_PERMISSIONS and
refuses a bad one (exit 64 naming the variable); in Chromium, through the proxy, a corpus page
(tests/apps/third_parties: an image, a video, an audio, an iframe and a map's basemap style from
another origin, and the camera)
is refused by the strict default and works once its serving.toml names them.

No internet here: a stand-in third party (an http.server thread on 127.0.0.1, another port, so
another origin) serves the image, the video and the iframe's page. The corpus app is deployed as a
user deploys it (`make up APP_DIR=<a copy with its serving.toml> APP_REPLICAS=2`, sign-in off);
the strict proxy is the same proxy image with no variable set, on the same stack's network in
front of the same two replicas. Chromium runs with its fake camera (--use-fake-ui-for-media-stream
--use-fake-device-for-media-stream)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright

from .corpus import (
    Opened,
    StandIn,
    deployed,
    launch_media_browser,
    media_loaded,
    opened_page,
    serving_stand_in,
    wait_for,
)
from .dashboard import LOAD_TIMEOUT_MS, PageWatch
from .stack import ROOT, Stack, docker, free_port

CORPUS = ROOT / "tests" / "apps" / "third_parties"
CONSOLE_REFUSAL = re.compile(r'violates the following Content Security Policy directive: "([a-z-]+) ')
STRICT_PERMISSIONS = "camera=(), microphone=(), geolocation=()"


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    with serving_stand_in() as serving:
        yield serving


@pytest.fixture(scope="module")
def corpus(stand_in: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the corpus app whose serving.toml names the stand-in for what the page loads
    and the camera: the lines docs/your-app.md tells a user to add."""
    app = tmp_path_factory.mktemp("corpus") / "third_parties"
    shutil.copytree(CORPUS, app)
    origin = stand_in.origin
    (app / "serving.toml").write_text(
        f'name = "third-parties"\n\n[browser]\nimg = ["{origin}"]\nmedia = ["{origin}"]\n'
        f'frame = ["{origin}"]\nconnect = ["{origin}"]\npermissions = ["camera"]\n'
    )
    return app


@pytest.fixture(scope="module")
def corpus_stack(corpus: Path, local_tls: Path, proxy_image: str) -> Iterator[Stack]:
    """`make up APP_DIR=<the copy> APP_REPLICAS=2` with sign-in off: scripts/deploy/stack.sh derives the
    proxy's PROXY_CSP_* / PROXY_PERMISSIONS from the copy's serving.toml."""
    # A variable left in the shell: serving.toml wins.
    extra = {"PROXY_CSP_IMG": "https://left.in.the.shell.example"}
    with deployed(corpus, "corpus", "browser-policy", local_tls, proxy_image, **extra) as started:
        yield started


@pytest.fixture(scope="module")
def strict_url(corpus_stack: Stack, proxy_image: str) -> Iterator[str]:
    """The same proxy image with none of the variables set (plain HTTP on a free port of
    127.0.0.1, itself a secure context for the camera), in front of the same two replicas."""
    port = free_port()
    name = f"{corpus_stack.env['STACK_PROJECT']}-strict-proxy"
    network = f"{corpus_stack.env['STACK_PROJECT']}_default"
    started = docker("run", "--detach", "--name", name, "--network", network,
                     "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "-e", "PROXY_TLS=off",
                     "-p", f"127.0.0.1:{port}:8080", proxy_image)  # fmt: skip
    assert started.returncode == 0, started.stderr
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}_stcore/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, docker("logs", name).stderr[-2000:]
            time.sleep(0.5)
        yield url
    finally:
        docker("rm", "--force", name)


@pytest.fixture(scope="module")
def media_browser(
    playwright: Playwright, local_tls: Path, corpus_stack: Stack, tmp_path_factory
) -> Iterator[Browser]:
    """Chromium trusting the stacks' local CA, with its fake camera and microphone."""
    browser = launch_media_browser(
        playwright, tmp_path_factory.mktemp("chromium-media-home"), corpus_stack.ca_file
    )
    yield browser
    browser.close()


def open_corpus(browser: Browser, url: str, origin: str) -> Iterator[Opened]:
    """The corpus page in a fresh context, loaded, run and showing its camera."""

    def ready(page: Page) -> None:
        page.get_by_text("Third parties").first.wait_for(timeout=LOAD_TIMEOUT_MS)
        page.locator('[data-testid="stCameraInput"]').wait_for(timeout=LOAD_TIMEOUT_MS)

    with opened_page(browser, f"{url}?origin={origin}", ready) as opened:
        yield opened


# --- the proxy image alone ------------------------------------------------------------------


def rendered(
    proxy_image: str, *env: str, include: str = "browser_policy.conf"
) -> subprocess.CompletedProcess[str]:
    flags = [item for value in env for item in ("-e", value)]
    return docker("run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp", *flags, proxy_image,
                  "sh", "-c", f"nginx -t -q && cat /tmp/nginx/{include}")  # fmt: skip


def test_the_proxy_image_renders_the_strict_policy_by_default_and_the_app_s_extras(proxy_image):
    strict = rendered(proxy_image)
    assert strict.returncode == 0, strict.stderr
    assert f'add_header Permissions-Policy "{STRICT_PERMISSIONS}" always;' in strict.stdout
    csp = strict.stdout.split('add_header Content-Security-Policy "')[1].split('" always;')[0]
    assert "img-src 'self' data: blob:;" in csp
    assert "media-src" not in csp  # default-src 'self' covers it
    assert "frame-src" not in csp
    assert "sha256-THxz9J9+wf7rhwR2YkXJoSZ13UCmYyC+3lNDv2+8ugA=" in csp  # Streamlit's index.html
    assert "sha256-qN/AUekpUyZjBQ2uxNjanyAdbu1iKu+bsd45OZeWoYI=" in csp  # the error page's
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]  # no inline script
    assert strict.stderr == ""  # nothing beyond the defaults to log
    assert rendered(proxy_image, "PROXY_CSP_INLINE_SCRIPTS=off").stdout == strict.stdout

    extra = rendered(
        proxy_image,
        "PROXY_CSP_IMG=https://*.cartocdn.com  http://127.0.0.1:9000",
        "PROXY_CSP_MEDIA=https://videos.example.com",
        "PROXY_CSP_CONNECT=https://basemaps.cartocdn.com",
        "PROXY_CSP_FRAME=https://www.youtube.com",
        "PROXY_PERMISSIONS=camera microphone clipboard-write",
        "PROXY_CSP_INLINE_SCRIPTS=on",
    )
    assert extra.returncode == 0, extra.stderr
    permissions = "camera=(self), microphone=(self), geolocation=(), clipboard-write=(self)"
    assert f'add_header Permissions-Policy "{permissions}" always;' in extra.stdout
    for directive in (
        "img-src 'self' data: blob: https://*.cartocdn.com http://127.0.0.1:9000;",
        "connect-src 'self' ws: wss: https://basemaps.cartocdn.com;",
        "media-src 'self' https://videos.example.com;",
        "frame-src 'self' https://www.youtube.com;",
        "script-src 'self' 'unsafe-eval' 'unsafe-inline';",  # the hashes give way (a browser ignores
        "object-src 'none'\" always;",  # 'unsafe-inline' beside a hash)
    ):
        assert directive in extra.stdout
    assert "browser policy beyond the defaults" in extra.stderr  # said in the log at start


@pytest.mark.parametrize(
    "setting",
    [
        "PROXY_CSP_IMG=*",
        "PROXY_CSP_IMG=https:",
        "PROXY_CSP_SCRIPT='unsafe-inline'",
        "PROXY_CSP_FRAME=https://a.example.com;script-src",
        "PROXY_CSP_MEDIA=https://a.example.com,https://b.example.com",
        'PROXY_CSP_CONNECT="https://a.example.com"',
        "PROXY_CSP_FONT=https://*.com",
        "PROXY_CSP_STYLE=https://a.example.com:70000",
        "PROXY_PERMISSIONS=camera usb",
        "PROXY_CSP_INLINE_SCRIPTS=yes",
        "PROXY_UPLOAD_MB=0",
        "PROXY_UPLOAD_MB=1025",
        "PROXY_UPLOAD_MB=50m",
        "PROXY_UPLOAD_MB=16.5",
        "PROXY_UPLOAD_MB=016",
        "PROXY_UPLOAD_MB=-1",
    ],
)
def test_the_proxy_image_refuses_a_bad_variable_naming_it(proxy_image, setting):
    done = rendered(proxy_image, setting)
    assert done.returncode == 64, done.stdout
    variable = setting.split("=")[0]
    must = {"PROXY_UPLOAD_MB": "be a whole number of MB", "PROXY_CSP_INLINE_SCRIPTS": "be on or off"}.get(
        variable, "list"
    )
    assert f"proxy: {variable} must {must}" in done.stderr


@pytest.mark.parametrize(
    ("setting", "size"),
    [
        (None, "16m"),
        ("PROXY_UPLOAD_MB=", "16m"),
        ("PROXY_UPLOAD_MB=50", "50m"),
        ("PROXY_UPLOAD_MB=1024", "1024m"),
    ],
)
def test_the_proxy_image_renders_the_app_s_upload_size(proxy_image, setting, size):
    """The app's serving.toml [limits] upload_mb, as the stacks pass it (PROXY_UPLOAD_MB; unset or
    empty: 16, nginx's limit before the setting existed), is nginx's client_max_body_size."""
    done = rendered(proxy_image, *([setting] if setting else []), include="body_size.conf")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"client_max_body_size {size};\n"


# --- in Chromium, through the proxy -----------------------------------------------------------


@pytest.fixture
def strict_page(media_browser: Browser, strict_url: str, stand_in: StandIn) -> Iterator[Opened]:
    yield from open_corpus(media_browser, strict_url, stand_in.origin)


@pytest.fixture
def allowed_page(media_browser: Browser, corpus_stack: Stack, stand_in: StandIn) -> Iterator[Opened]:
    yield from open_corpus(media_browser, corpus_stack.url, stand_in.origin)


def refused_directives(watch: PageWatch) -> set[str]:
    """The CSP directives that refused something: the page's securitypolicyviolation events, and
    Chromium's console messages, which also report what a worker (the map's) was refused."""
    console = (CONSOLE_REFUSAL.search(text) for text in watch.console_errors)
    return {text.split()[0] for text in watch.csp_violations} | {found[1] for found in console if found}


def show_map(page: Page) -> None:
    """The map in view: it loads its basemap only then."""
    page.locator('[data-testid="stDeckGlJsonChart"]').scroll_into_view_if_needed(timeout=LOAD_TIMEOUT_MS)


def test_by_default_the_third_parties_and_the_camera_are_refused(strict_page: Opened, stand_in: StandIn):
    assert strict_page.headers["permissions-policy"] == STRICT_PERMISSIONS
    refused = {"img-src", "media-src", "frame-src", "connect-src"}  # media: video, audio; connect: the map

    def all_refused() -> bool:
        return refused <= refused_directives(strict_page.watch)

    show_map(strict_page.page)

    watch = strict_page.watch
    wait_for(all_refused, f"CSP refusals of {sorted(refused)}: {watch.csp_violations} {watch.console_errors}")
    for text in strict_page.watch.csp_violations:
        assert f"blocked {stand_in.origin}" in text, text  # a frame's: the origin alone
    camera = strict_page.page.locator('[data-testid="stCameraInput"]')
    camera.get_by_text("This app would like to use your camera.").wait_for(timeout=LOAD_TIMEOUT_MS)
    camera_refused = "Permissions policy violation: camera is not allowed in this document."
    wait_for(lambda: camera_refused in watch.console_errors, "the camera refused in the console")
    assert camera.get_by_role("button").filter(has_text="Take Photo").count() == 0 or not (
        camera.get_by_role("button").filter(has_text="Take Photo").is_enabled()
    )


def test_with_its_serving_toml_the_page_loads_them_and_the_camera_works(
    allowed_page: Opened, stand_in: StandIn
):
    headers = allowed_page.headers
    assert headers["permissions-policy"] == "camera=(self), microphone=(), geolocation=()"
    assert "https://left.in.the.shell.example" not in headers["content-security-policy"]
    page = allowed_page.page
    # The image drew, the iframe shows the third party's page, the video and the audio loaded.
    image = page.locator('[data-testid="stImage"] img')
    wait_for(
        lambda: image.evaluate("img => img.complete && img.naturalWidth") == 1, "image from the stand-in"
    )
    frame = page.frame_locator('[data-testid="stIFrame"]')
    frame.get_by_text("framed third party").wait_for(timeout=LOAD_TIMEOUT_MS)
    for kind in ("video", "audio"):  # both played the stand-in's file far enough to know its length
        media_loaded(page.locator(f'[data-testid="st{kind.title()}"]'), kind)
    show_map(page)
    wait_for(lambda: "/style.json" in stand_in.requested, "the map's basemap style fetched")
    # The fake camera's stream: the capture button is enabled.
    button = page.locator('[data-testid="stCameraInput"]').get_by_role("button", name="Take Photo")
    wait_for(button.is_enabled, "enabled Take Photo button")
    assert allowed_page.watch.csp_violations == []
    assert allowed_page.watch.problems() == [], allowed_page.watch.problems()
