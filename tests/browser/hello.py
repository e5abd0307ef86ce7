"""Streamlit's hello demo in the browser tier: its pages and headings, and ``HelloPage``, one tab on
it with its frames and its problems (test_hello.py on the compose stack, test_rolling_update.py on
the Swarm stack)."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page

from .dashboard import LOAD_TIMEOUT_MS, PageWatch
from .wire import Run, Wire

HOME_HEADING = "Welcome to Streamlit! 👋"
PAGES = {  # url path -> the heading the page shows
    "": HOME_HEADING,
    "dataframe_demo": "DataFrame demo",
    "plotting_demo": "Plotting demo",
    "mapping_demo": "Mapping demo",
    "animation_demo": "Animation demo",
}
RECONNECT_TIMEOUT = 120.0
ICON_HOST = "https://fonts.gstatic.com/"
LEFT_BEHIND = re.compile(r"https://[^/]+/media/[0-9a-f]+\.(jpg|png): net::ERR_ABORTED")
MEDIA_404 = re.compile(r"(https://[^/]+/media/[0-9a-f]+\.(?:jpg|png)): 404")
IMAGE_SOURCE_ERROR = "console error: Client Error: Image source error - {url}"
BASE_PATH_PROBE = re.compile(r"https://[^/]+/[a-z_]+/_stcore/(health|host-config): 404")
PROBE_CONSOLE_ERROR = (
    "console error: Failed to load resource: the server responded with a status of 404 (Not Found)"
)


class HelloPage:
    """One signed-in tab on the hello demo, its frames (``wire``) and its problems (``watch``)."""

    def __init__(self, context: BrowserContext, url: str) -> None:
        self.watch = PageWatch(context)
        self.page: Page = context.new_page()
        self.watch.attach(self.page)
        self.wire = Wire(self.page)
        self.url = url

    def problems(self) -> list[str]:
        """The page's problems (``PageWatch``: console errors, page errors, CSP violations, and here
        every failed request too), less three that are not faults of the deployment:

        - the frontend's base-path probes of a link to a page: loaded at ``/<page>``, Streamlit's
          frontend first asks ``/<page>/_stcore/health`` and ``host-config`` (404: the page's path
          is no base path), then the root's, as it does from Streamlit's own server;
        - the app's Material page icons (``page_icon=":material/..."``), which the browser would
          fetch from Google's font host: the proxy's Content-Security-Policy refuses third-party
          images (``img-src 'self' data: blob:``), so the tab shows no icon (docs/your-app.md);
        - images of a page left before they loaded (``/media/...``, aborted by the navigation);
        - frames of the animation replaced before the browser fetched them (404): Streamlit drops a
          run's replaced images when the run ends, so a browser a frame or two behind gets 404 for
          those, under plain `streamlit run` too. An image the page still shows is never excused:
          one the proxy sent to the wrong replica stays broken on the page."""
        icon = [e for e in self.watch.http_errors if e.startswith(ICON_HOST) and e.endswith(": csp")]
        probes = [e for e in self.watch.http_errors if BASE_PATH_PROBE.fullmatch(e)]
        aborted = [e for e in self.watch.http_errors if LEFT_BEHIND.fullmatch(e)]
        shown = set(self.page.evaluate("() => [...document.images].map(image => image.src)"))
        replaced = [
            e for e in self.watch.http_errors if (m := MEDIA_404.fullmatch(e)) and m.group(1) not in shown
        ]
        excused = {*icon, *probes, *aborted, *replaced}
        others = [f"failed request: {error}" for error in self.watch.http_errors if error not in excused]
        problems = [
            problem
            for problem in self.watch.problems()
            if f"'{ICON_HOST}" not in problem and f"blocked {ICON_HOST}" not in problem
        ]
        for _ in [*probes, *replaced]:
            if PROBE_CONSOLE_ERROR in problems:
                problems.remove(PROBE_CONSOLE_ERROR)
        for error in replaced:
            source_error = IMAGE_SOURCE_ERROR.format(url=MEDIA_404.fullmatch(error).group(1))
            if source_error in problems:
                problems.remove(source_error)
        return others + problems

    def heading(self, text: str) -> None:
        self.page.get_by_role("heading", name=text).first.wait_for(timeout=LOAD_TIMEOUT_MS)

    def open(self, path: str = "") -> None:
        mark = self.wire.mark()
        self.response = self.page.goto(f"{self.url}{path}", timeout=LOAD_TIMEOUT_MS)
        self.wire.wait_run_end(mark, timeout=LOAD_TIMEOUT_MS / 1000)
        self.heading(PAGES[path])

    def move_slider(self, key: str) -> Run:
        """``key`` pressed on the page's first slider (ArrowLeft: one step down); the run it caused."""
        mark = self.wire.mark()
        self.page.locator('[data-testid="stSlider"]').first.get_by_role("slider").focus()
        self.page.keyboard.press(key)
        return self.wire.wait_run_end(mark, timeout=LOAD_TIMEOUT_MS / 1000)

    def slider_level(self) -> str:
        """The value the page's first slider shows on its thumb."""
        return (
            self.page.locator('[data-testid="stSlider"]')
            .first.get_by_test_id("stSliderThumbValue")
            .inner_text()
        )


def slider_values_sent(run: Run) -> list[list[float]]:
    """The slider values (double arrays) the page sent with the rerun requests of ``run``."""
    return [
        list(widget.double_array_value.data)
        for msg in run.reruns
        for widget in msg.rerun_script.widget_states.widgets
        if widget.HasField("double_array_value")
    ]
