"""The element corpus (tests/apps/elements: one page per Streamlit element family, one multipage
app) in Chromium, each page twice: under plain `streamlit run` of the same app (the project's
venv's Streamlit, from the app's root, on a free port of 127.0.0.1) and through the template,
deployed as a user deploys it (`make up APP_DIR=<a copy> APP_REPLICAS=2`, sign-in off). Per page:
its elements rendered (each family's own elements there, in equal numbers both ways; as many element
containers, less the deprecation warnings plain `streamlit run` shows and the template's pinned
client.showErrorDetails hides), no exception element but the exceptions page's own, no
Content-Security-Policy violation, and no console error, page error or failed request through the
template that plain `streamlit run` does not show too; the page's own check (the camera and the
microphone on, media loaded, the fragment ticking, ...) passes both ways.

What the pages take from a third party (a markdown image, an image column, a chat avatar, Vega
data, a map style, an iframe) comes from the stand-in on the loopback (corpus.py), which the
copy's serving.toml names beside the corpus's committed settings (Carto's basemap host for
st.map, the camera and the microphone). Chromium runs with its fake camera and microphone. One
stack, one plain server and one browser for every page; a screenshot of a few pages through the
template at laptop and phone width goes to artifacts/screenshots/."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from streamlit_load.local_server import ServerStartError, healthy, stop, wait_ready

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
from .dashboard import QUIET_MS, SCREENSHOTS
from .stack import ROOT, Stack, free_port

CORPUS = ROOT / "tests" / "apps" / "elements"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOT_PAGES = ("data", "charts", "inputs", "layouts", "chat")
ELEMENTS_TIMEOUT_MS = 20_000  # for the family elements to appear
CHECK_TIMEOUT_MS = 10_000  # for a page's own check
DEPRECATION = "will be removed after"  # Streamlit's deprecation warnings, shown as st.warning


def ids(*names: str) -> list[str]:
    return [f'[data-testid="{name}"]' for name in names]


# url path -> what the page must show, in equal numbers both ways (CSS selectors).
PAGES: dict[str, list[str]] = {
    "": ids("stHeading", "stPageLink"),
    "text": [
        *ids("stHeading", "stMarkdown", "stCode", "stText", "stCaptionContainer", "stIconMaterial"),
        *ids("stHeadingDivider"),
        ".katex",  # LaTeX, inline and st.latex
        '[data-testid="stMarkdown"] img',  # the markdown image by URL
    ],
    "data": [*ids("stDataFrame", "stTable", "stMetric", "stJson"), '[data-testid="stMetric"] svg'],
    "charts": ids(
        "stVegaLiteChart", "stPlotlyChart", "stImage", "stEChartsChart", "stGraphVizChart", "stMermaidChart"
    ),  # stImage: st.pyplot's figure
    "maps": ids("stDeckGlJsonChart"),
    "inputs": ids(
        "stButton",
        "stDownloadButton",
        "stLinkButton",
        "stCheckbox",
        "stRadio",
        "stSelectbox",
        "stMultiSelect",
        "stButtonGroup",
        "stSlider",
        "stTextInput",
        "stNumberInput",
        "stDateInput",
        "stTimeInput",
        "stTextArea",
        "stColorPicker",
        "stFileUploader",
    ),
    "devices": ids("stCameraInput", "stAudioInput"),
    "media": ids("stImage", "stAudio", "stVideo"),
    "layouts": ids("stColumn", "stTabs", "stExpander", "stPopover", "stSidebar", "stDialog"),
    "chat": [
        *ids("stChatMessage", "stChatInput", "stChatMessageAvatarUser", "stChatMessageAvatarAssistant"),
        '[data-testid="stChatMessage"] img',  # the avatars from bytes and by URL
    ],
    "status": ids("stProgress", "stExpander", "stToast", "stAlert"),
    "exceptions": ids("stException"),
    "components": ids("stIFrame", "stHtml"),
    "control": ids("stForm", "stFormSubmitButton", "stButton"),
}
MEASURE = """([selectors, deprecation]) => {
  const containers = [...document.querySelectorAll('[data-testid="stElementContainer"]')];
  return {
    containers: containers.length,
    deprecations: containers.filter((el) => el.innerText.includes(deprecation)).length,
    exceptions: document.querySelectorAll('[data-testid="stException"]').length,
    counts: Object.fromEntries(selectors.map((s) => [s, document.querySelectorAll(s).length])),
  };
}"""


def camera_and_microphone_on(opened: Opened) -> None:
    """The fake camera streams (Take Photo enabled) and the microphone's record button is enabled."""
    page = opened.page
    take = page.locator('[data-testid="stCameraInput"]').get_by_role("button", name="Take Photo")
    wait_for(take.is_enabled, "enabled Take Photo button")
    record = page.locator('[data-testid="stAudioInputActionButton"]').first
    wait_for(record.is_enabled, "enabled record button of the microphone")


def media_played(opened: Opened) -> None:
    """The image drew and the audio and the video (the app's bytes, from /media/) loaded."""
    image = opened.page.locator('[data-testid="stImage"] img')
    wait_for(lambda: image.evaluate("img => img.complete && img.naturalWidth > 0"), "image drawn")
    for kind in ("audio", "video"):
        media_loaded(opened.page.locator(f'[data-testid="st{kind.title()}"]'), kind)


def images_drawn(opened: Opened) -> None:
    """Every <img> of the page drew (the third party's too: markdown images and avatars by URL)."""
    images = opened.page.locator('[data-testid="stMain"] img')
    wait_for(
        lambda: images.evaluate_all(
            "all => all.length > 0 && all.every(i => i.complete && i.naturalWidth > 0)"
        ),
        "every image drawn",
    )


def fragment_ticks(opened: Opened) -> None:
    """The run_every fragment runs again by itself after the page's run."""
    mark = opened.wire.mark()
    opened.wire.wait_until(
        lambda: "FINISHED_FRAGMENT_RUN_SUCCESSFULLY" in opened.wire.run_since(mark).outcomes,
        10,
        "a run_every fragment run",
    )


def frames_shown(opened: Opened) -> None:
    """Each iframe's document loaded; those with a script ran it."""
    page = opened.page
    for frame, text in (("components.html", ", its script ran"), ("st.iframe", ", its script ran")):
        page.frame_locator(f'iframe[srcdoc*="{frame}"]').get_by_text(frame + text).wait_for(
            timeout=CHECK_TIMEOUT_MS
        )
    page.frame_locator('iframe[src$="/frame.html"]').get_by_text("framed third party").wait_for(
        timeout=CHECK_TIMEOUT_MS
    )


CHECKS: dict[str, Callable[[Opened], None]] = {
    "devices": camera_and_microphone_on,
    "media": media_played,
    "text": images_drawn,
    "control": fragment_ticks,
    "components": frames_shown,
}


@dataclass
class Visit:
    """One page as one server served it: what it showed and what went wrong in it."""

    containers: int
    deprecations: int
    exceptions: int
    counts: dict[str, int]
    csp_violations: list[str]
    problems: set[str]  # console and page errors, failed requests; the servers' origins as {app}, {third}
    check_failed: str = ""


def normalized(text: str, app: str, third: str) -> str:
    """``text`` with the origins that differ between the two servers named, media ids left out."""
    netloc = urlsplit(app).netloc
    text = re.sub(rf"(https?|wss?)://{re.escape(netloc)}", "{app}", text.replace(third, "{third}"))
    return re.sub(r"/media/[0-9a-f]{16,}", "/media/{id}", text)


def visit(browser: Browser, base: str, path: str, origin: str, screenshot: str = "") -> Visit:
    """Open ``base``/``path`` (the stand-in's origin in its query) at laptop width, wait for the
    page's elements, let it settle, measure it and run its own check; with ``screenshot``, save
    it at laptop then phone width as elements-<screenshot>-<width>.png."""
    selectors = PAGES[path]

    def ready(page: Page) -> None:
        """Every family element attached, or ELEMENTS_TIMEOUT_MS gone: a missing one shows in the
        counts compared, not as a timeout."""
        with contextlib.suppress(PlaywrightTimeoutError):
            page.wait_for_function(
                "selectors => selectors.every((s) => document.querySelector(s))",
                arg=selectors,
                timeout=ELEMENTS_TIMEOUT_MS,
            )

    with opened_page(browser, f"{base.rstrip('/')}/{path}?origin={origin}", ready, viewport=LAPTOP) as opened:
        page = opened.page
        settle(page)
        failed = ""
        if path in CHECKS:
            try:
                CHECKS[path](opened)
            except (AssertionError, PlaywrightTimeoutError) as error:
                failed = str(error).splitlines()[0]
        measured = page.evaluate(MEASURE, [selectors, DEPRECATION])
        if screenshot:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"elements-{screenshot}-laptop.png", full_page=True)
            page.set_viewport_size(PHONE)
            settle(page)
            page.screenshot(path=SCREENSHOTS / f"elements-{screenshot}-phone.png", full_page=True)
        watch = opened.watch
        errors = [
            *(f"console error: {text}" for text in watch.console_errors),
            *(f"page error: {text}" for text in watch.page_errors),
            *(f"failed request: {text}" for text in watch.http_errors),
        ]
        return Visit(
            measured["containers"],
            measured["deprecations"],
            measured["exceptions"],
            measured["counts"],
            list(watch.csp_violations),
            {normalized(text, base, origin) for text in errors},
            failed,
        )


def settle(page: Page) -> None:
    page.evaluate("([quiet, timeout]) => window.__e2e.settle(quiet, timeout)", [QUIET_MS, 30_000])


# --- the two servers and the browser ----------------------------------------------------------


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    with serving_stand_in() as serving:
        yield serving


def toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


@pytest.fixture(scope="module")
def corpus(stand_in: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the corpus whose serving.toml is the committed one with the stand-in's origin
    added for images, media, frames and connections (Vega data, the map style): the lines
    docs/your-app.md tells a user to add."""
    app = tmp_path_factory.mktemp("elements") / "elements"
    shutil.copytree(CORPUS, app)
    committed = tomllib.loads((CORPUS / "serving.toml").read_text())
    policy = committed["browser"]
    lines = [f"name = {json.dumps(committed['name'])}", "", "[browser]"]
    for kind in ("img", "media", "frame", "connect"):
        lines.append(f"{kind} = {toml_list([*policy.get(kind, []), stand_in.origin])}")
    lines.append(f"permissions = {toml_list(policy['permissions'])}")
    lines.append(f"inline_scripts = {json.dumps(policy['inline_scripts'])}")  # the components page
    (app / "serving.toml").write_text("\n".join(lines) + "\n")
    return app


@pytest.fixture(scope="module")
def plain_url(corpus: Path) -> Iterator[str]:
    """`streamlit run streamlit_app.py` of the copy from its root, headless, on a free port of
    127.0.0.1: the project's venv's Streamlit with none of the template's parts."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1"]  # fmt: skip
    with tempfile.NamedTemporaryFile("wb", prefix="plain-streamlit-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(command, cwd=corpus, stdout=log, stderr=subprocess.STDOUT)
    log_path = Path(log.name)
    try:
        wait_ready(process, lambda: healthy(url), log_path.read_text, ServerStartError, 60)
        yield f"{url}/"
    finally:
        stop(process)
        log_path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def elements_stack(corpus: Path, local_tls: Path, proxy_image: str) -> Iterator[Stack]:
    """`make up APP_DIR=<the copy> APP_REPLICAS=2` with sign-in off (scripts/deploy/stack.sh derives
    the proxy's CSP and Permissions-Policy from the copy's serving.toml)."""
    with deployed(corpus, "elements", "browser-elements", local_tls, proxy_image) as started:
        yield started


@pytest.fixture(scope="module")
def media_browser(playwright: Playwright, elements_stack: Stack, tmp_path_factory) -> Iterator[Browser]:
    browser = launch_media_browser(
        playwright, tmp_path_factory.mktemp("chromium-elements"), elements_stack.ca_file
    )
    yield browser
    browser.close()


# --- each page, both ways ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [pytest.param(path, id=path or "home") for path in PAGES],
)
def test_the_page_works_through_the_template_as_under_plain_streamlit_run(
    path: str, media_browser: Browser, plain_url: str, elements_stack: Stack, stand_in: StandIn
):
    origin = stand_in.origin
    plain = visit(media_browser, plain_url, path, origin)
    served = visit(media_browser, elements_stack.url, path, origin, path if path in SCREENSHOT_PAGES else "")
    both = f"plain streamlit run: {plain}\nthrough the template: {served}"
    assert not plain.check_failed, both  # the page itself works where nothing stands between
    assert not served.check_failed, both
    for selector in PAGES[path]:
        assert plain.counts[selector] > 0, (selector, both)
    assert served.counts == plain.counts, both
    # Streamlit's deprecation warnings show only where client.showErrorDetails is "full" (plain's
    # default); the template pins it to "none" (streamlit_serving/pinned.py): one element fewer each.
    assert served.deprecations == 0, both
    assert served.containers == plain.containers - plain.deprecations, both
    intended = 1 if path == "exceptions" else 0
    assert plain.exceptions == served.exceptions == intended, both
    assert served.csp_violations == [], both
    assert served.problems <= plain.problems, (
        f"only through the template: {served.problems - plain.problems}\n{both}"
    )
