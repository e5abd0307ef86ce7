"""The dashboard as a person sees it in Chromium: what is on the page, what went wrong in it.

``PageWatch`` collects console errors, uncaught page errors and Content-Security-Policy
violations (the ``securitypolicyviolation`` DOM event, reported from inside the page).
The page-side half is ``e2e.js``, installed before the page's own scripts.
``Dashboard`` reads and drives the page: headings, the data grids' cell text (Streamlit's
data grid mirrors its canvas in an accessible table), chart labels, the date picker.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, Response

from .wire import Run, Wire

READY_TEXT = "Total sales for all products"
LOAD_TIMEOUT_MS = 60_000
QUIET_MS = 1_000  # no DOM change for this long = the page has settled (plotly draws late)
HELPERS = Path(__file__).with_name("e2e.js")
NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"
# The GitHub workflow's test job uploads this folder (artifact `screenshots`; make ci-local too).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP = {"width": 1400, "height": 900}
NARROW = {"width": 420, "height": 900}


class PageWatch:
    """Console errors, uncaught exceptions and CSP violations of every page in ``context``."""

    def __init__(self, context: BrowserContext) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.csp_violations: list[str] = []
        self.http_errors: list[str] = []  # for diagnosis only: a restart test expects some
        context.expose_binding("__e2eCsp", lambda _source, text: self.csp_violations.append(text))
        context.add_init_script(path=HELPERS)

    def attach(self, page: Page) -> None:
        page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("requestfailed", lambda request: self.http_errors.append(f"{request.url}: {request.failure}"))
        page.on(
            "response",
            lambda response: (
                response.status >= 400 and self.http_errors.append(f"{response.url}: {response.status}")
            ),
        )

    def problems(self) -> list[str]:
        """What the app or its proxy got wrong. Chromium's "Failed to load resource:
        net::ERR_NETWORK_CHANGED" is left out: it says the host's interfaces changed (a container
        started on a shared Docker host), not that a response was wrong; the tests that load or
        use the page still fail if that left the page broken."""
        return (
            [f"console error: {text}" for text in self.console_errors if not text.endswith(NETWORK_CHANGED)]
            + [f"page error: {text}" for text in self.page_errors]
            + [f"CSP violation: {text}" for text in self.csp_violations]
        )


def load_page(page: Page, wire: Wire, watch: PageWatch, url: str) -> tuple[Response | None, Run]:
    """Load ``url`` in ``page`` and wait for the script run it starts: (response, run). A run that
    never ends fails with what the page answered, its HTTP and console errors and its text."""
    mark = wire.mark()
    response = page.goto(url, timeout=LOAD_TIMEOUT_MS)
    try:
        return response, wire.wait_run_end(mark, timeout=LOAD_TIMEOUT_MS / 1000)
    except AssertionError as exc:
        body = page.locator("body").inner_text()[:500]
        raise AssertionError(
            f"{exc}\npage {page.url} answered {response.status if response else None}; "
            f"HTTP errors {watch.http_errors}; console {watch.console_errors}; text: {body!r}"
        ) from None


class Dashboard:
    """One browser tab on the dashboard. Column 0 is the daily view, column 1 the monthly."""

    DAILY, MONTHLY = 0, 1

    def __init__(self, page: Page, url: str, watch: PageWatch) -> None:
        self.page = page
        self.url = url
        self.watch = watch
        self.wire = Wire(page)
        watch.attach(page)

    def open(self) -> None:
        """Load the page and wait for its first run. Retried once if Chromium aborted the load
        with ERR_NETWORK_CHANGED (interfaces coming and going on a shared Docker host)."""
        try:
            self._load()
        except AssertionError:
            if not any(NETWORK_CHANGED in error for error in self.watch.http_errors):
                raise
            self.watch.http_errors.clear()
            self.watch.console_errors.clear()
            self._load()

    def _load(self) -> None:
        self.response, _ = load_page(self.page, self.wire, self.watch, self.url)
        self.page.get_by_text(READY_TEXT).wait_for(timeout=LOAD_TIMEOUT_MS)
        # The data grids draw their accessible (hidden) tables late: a busy machine took over a second.
        self.page.locator('[data-testid="stDataFrame"] table').first.wait_for(
            state="attached", timeout=LOAD_TIMEOUT_MS
        )
        self.settle()

    def settle(self, timeout_ms: int = 30_000) -> None:
        """Wait until the page has not changed for QUIET_MS (charts drawn, grids sized)."""
        self.page.evaluate(
            "([quiet, timeout]) => window.__e2e.settle(quiet, timeout)", [QUIET_MS, timeout_ms]
        )

    # -- reading -----------------------------------------------------------------------------

    def headings(self, column: int) -> list[str]:
        return self.page.evaluate("(i) => window.__e2e.headings(i)", column)

    def tables(self, column: int) -> list[dict]:
        return self.page.evaluate("(i) => window.__e2e.tables(i)", column)

    def charts(self, column: int) -> list[dict]:
        return self.page.evaluate("(i) => window.__e2e.charts(i)", column)

    def layout_faults(self) -> list[str]:
        return self.page.evaluate("() => window.__e2e.layoutFaults()")

    def date_field(self):
        return self.page.get_by_role("group", name="Pick a day")

    # -- acting ------------------------------------------------------------------------------

    def type_date(self, text: str) -> None:
        """Type ``text`` (YYYY-MM-DD) into the picker's segments, close the calendar, click away."""
        self.page.get_by_role("spinbutton", name="year, Pick a day").click()
        self.page.keyboard.type(text.replace("-", ""))
        self.page.keyboard.press("Escape")
        self.page.get_by_role("heading", name="Daily vs monthly sales").click()

    def pick(self, day: date) -> Run:
        """Pick ``day`` as a user would and wait for the app's answer to it (not to an earlier
        request still in flight); returns the frames from the request to the run's end."""
        mark = self.wire.mark()
        self.type_date(day.isoformat())
        request = self.wire.wait_sent_date(mark, day.isoformat())
        run = self.wire.wait_run_end(request)
        self.settle()
        return run
