"""Locust users that drive the dashboard over Streamlit's WebSocket protocol.

Every interaction fires Locust's ``request`` event (request_type ``WS``) with the name of the
interaction (``initial_load``, ``fragment_rerun``, ``full_rerun``, ``month_change``), its wall
time, the bytes received, and an exception when it timed out, the page failed, or the run was
not the one promised (a fragment pick that reran the whole script, a full rerun that did not).

A user whose socket closes (its replica stops, a rolling update) comes back as Streamlit's
frontend does: at once, with the same cookies, widget states and URL, rerunning the whole page
(``DashboardSession.resume``), which must show the user's day again; that fires ``reconnect``.
An interaction in flight when the socket closed is answered by that rerun, as in a browser: it
counts as done (its time includes the reconnect) if the page then shows the picked day. A user
that cannot come back reopens the URL its page last had (``?date=...``, a reload) and goes on
from the day the page shows, not from one it remembers.

Scenarios (pick one by class name or by tag):

  FragmentUser    same-month day picks, the daily fragment reruns alone      tag ``fragment``
  FullRerunUser   the very same picks, sent without a fragment id            tag ``full``
  MonthHopper     a day in the next month: fragment run, st.rerun(), full    tag ``month``
  RealisticMix    mostly day picks, some month changes, with think time      tag ``mix``

FragmentUser and FullRerunUser walk identical streams of days: user number n (0, 1, ...) of
either class starts in month ``1 + n % 12`` and draws its days from ``Random(f"{seed}:{n}")``.
While a user waits it keeps reading its socket (``DashboardSession.idle``), so server pings
get their pong as a browser's would.

With ``--sign-in EMAIL`` (an app with SERVE_AUTH=oidc and the development provider) each user
signs in once, through the provider's form without a browser (``streamlit_load.client.signin``;
request ``sign_in``), and every session it opens after that carries the sign-in cookies.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from typing import ClassVar

from locust import User, tag, task

from sales_load.page import DashboardSession, PageMode
from streamlit_load.client import Interaction
from streamlit_load.client.errors import SessionClosed, StreamlitClientError, UnexpectedOutcome
from streamlit_load.client.signin import sign_in
from streamlit_load.dev_provider import password
from streamlit_load.users import client_address

from .picks import (
    DEFAULT_SEED,
    FIRST_DAY,
    DayStream,
    expect_answered_with,
    expect_day_in_url_and_page,
    expect_fragment,
    expect_full,
    expect_page_of,
)

RECONNECT_PAUSE = 1.0  # seconds between a user's attempts to reach a server that is down
RECONNECT = "reconnect"
SIGNED_IN_TEXT = "Signed in as "  # the account bar of the signed-in page (streamlit_serving/auth.py)


def idle_between(low: float, high: float) -> Callable[[User], float]:
    """A ``wait_time`` that spends the think time reading the socket (pings answered), not
    sleeping; Locust then sleeps the 0 s it returns. Users still stop at once while waiting."""

    def wait(user: User) -> float:
        think = getattr(user, "think", None)  # StreamlitUser's, MediaUser's (media.py)
        if think is not None:
            think(low + random.random() * (high - low))
        return 0.0

    return wait


def think_time(user: User) -> float:
    """``idle_between(--think-min, --think-max)``: the realistic mix's think time (default 2-8 s)."""
    options = user.environment.parsed_options
    low, high = getattr(options, "think_min", 2.0), getattr(options, "think_max", 8.0)
    return idle_between(low, max(low, high))(user)


class StreamlitUser(User):
    """One browser session per user; reconnects (a new ``initial_load``) after losing it."""

    abstract = True
    wait_time = idle_between(0.0, 0.0)
    numbers: ClassVar[dict[str, itertools.count]] = {}

    def __init__(self, environment) -> None:
        super().__init__(environment)
        options = environment.parsed_options
        self.seed = getattr(options, "stream_seed", DEFAULT_SEED)
        self.timeout = getattr(options, "interaction_timeout", 30.0)
        self.message_cache = getattr(options, "message_cache", True)
        self.mode = PageMode.named(getattr(options, "page_mode", "fragment"))
        counter = StreamlitUser.numbers.setdefault(self.stream_family(), itertools.count())
        self.number = next(counter)
        self.stream = DayStream(self.number, self.seed)
        self.session: DashboardSession | None = None
        self.sign_in_as: str = getattr(options, "sign_in", "") or ""
        self.cookies: dict[str, str] | None = None  # the sign-in cookies, once signed in
        self.page_query = ""  # the URL's query string of the last page this user had open
        self.unchecked_run = False  # came back without a run: the next pick may get the whole page
        self.headers: dict[str, str] = {}
        if getattr(options, "forwarded_for", False):
            self.headers["X-Forwarded-For"] = self.address(environment)

    def address(self, environment) -> str:
        """This user's own client address (``streamlit_load.users.client_address``)."""
        return client_address(environment, self.number)

    @classmethod
    def stream_family(cls) -> str:
        """Users of one family share the numbering (so their streams match one to one)."""
        return "picks"

    # -- lifecycle ---------------------------------------------------------------------------

    def on_start(self) -> None:
        self.connect()

    def on_stop(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def connect(self) -> bool:
        """Open a session and run the page; go to the user's month (a user that had a page before
        reopens its URL and follows the day it shows). False if that failed. The one place a
        user's session is made: its headers, page mode and sign-in cookies go in here (with
        ``--sign-in`` the user signs in first, once)."""
        if self.sign_in_as and self.cookies is None and not self.sign_in():
            return False
        url = f"{self.host}?{self.page_query}" if self.page_query else self.host
        self.session = DashboardSession(
            url,
            timeout=self.timeout,
            message_cache=self.message_cache,
            headers=self.headers,
            mode=self.mode,
            cookies=self.cookies,
        )
        if self.page_query:
            day = self.session.url_date() or FIRST_DAY
            if self.interact("initial_load", self.session.open, expect_page_of(day)) is None:
                return False
            self.stream.follow(day)
            return True
        expect = expect_signed_in if self.sign_in_as else expect_full
        if self.interact("initial_load", self.session.open, expect) is None:
            return False
        if self.stream.month != 1:
            return (
                self.interact("month_change", lambda: self.session.change_month(self.stream.day)) is not None
            )
        return True

    def sign_in(self) -> bool:
        """Sign in once, as a browser would (the app's button, the provider's form, redirects);
        reported as request ``sign_in`` (type HTTP). False if it failed."""
        start = time.perf_counter()
        error: Exception | None = None
        try:
            self.cookies = sign_in(
                self.host, self.sign_in_as, password(self.sign_in_as), timeout=self.timeout
            )
        except (StreamlitClientError, OSError) as exc:
            error = exc
        self.environment.events.request.fire(
            request_type="HTTP",
            name="sign_in",
            response_time=(time.perf_counter() - start) * 1000,
            response_length=0,
            exception=error,
            context={"user": self.number},
        )
        return error is None

    def ensure_session(self) -> DashboardSession | None:
        """The open session (come back if its socket closed), or a new one; after a failed connect
        wait RECONNECT_PAUSE seconds so an unreachable server gets a trickle of attempts, not a storm."""
        if self.session is not None and not self.session.connected and self.come_back():
            return self.session
        if (self.session is None or not self.session.connected) and not self.connect():
            self.session = None
            time.sleep(RECONNECT_PAUSE)
            return None
        return self.session

    def think(self, seconds: float) -> None:
        """Wait ``seconds`` while answering pings; a closed socket is reconnected at once, as the
        browser does, and the user thinks on."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.session is None or not self.session.connected:
                time.sleep(left)
                return
            try:
                self.session.idle(left)
            except SessionClosed:
                self.come_back()
            except StreamlitClientError:
                self.session = None

    def come_back(self, *, in_flight: bool = False) -> Interaction | None:
        """The socket closed: ``resume`` as Streamlit's frontend does (fires ``reconnect``; the
        page's URL must still name the user's day, and a rerun on the new socket must show it).
        None, and the session dropped, if that failed: the next task reopens the page's URL.
        When the frontend would ask for no run, the user's next pick is checked for its day only
        (``unchecked_run``): it may reach a replica whose new session answers with the whole page."""
        session = self.session
        if session is None or session.connects == 0:
            return None
        self.page_query = session.query_string
        expect = expect_day_in_url_and_page(session, self.stream.day)
        resumed = self.interact(RECONNECT, lambda: self._resume(session, in_flight), expect)
        if resumed is None:
            self.session = None
        else:
            self.unchecked_run = not resumed.outcomes
        return resumed

    @staticmethod
    def _resume(session: DashboardSession, in_flight: bool) -> Interaction:
        return session.resume(in_flight=in_flight) or Interaction(RECONNECT)

    # -- the one place that reports to Locust ------------------------------------------------

    def interact(
        self,
        name: str,
        action: Callable[[], Interaction],
        expect: Callable[[Interaction], None] | None = None,
    ) -> Interaction | None:
        """Run ``action``, check it with ``expect``, fire ``request``; None if it failed."""
        start = time.perf_counter()
        interaction: Interaction | None = None
        error: Exception | None = None
        resumed = False
        try:
            interaction = action()
            if expect is not None:
                expect(interaction)
        except SessionClosed as exc:
            # In flight when the socket closed: the browser's rerun on its new socket answers it.
            interaction = self.come_back(in_flight=True) if name != RECONNECT else None
            resumed = interaction is not None
            if not resumed:
                error, self.session = exc, None
        except StreamlitClientError as exc:
            error = exc
            interaction = interaction or getattr(exc, "interaction", None)
            if not (self.session and self.session.connected):
                self.session = None
        if interaction is not None and not resumed:
            elapsed = interaction.wall_time
        else:
            elapsed = time.perf_counter() - start
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=elapsed * 1000,
            response_length=interaction.bytes_received if interaction is not None else 0,
            exception=error,
            context={
                "user": self.number,
                "messages": interaction.messages if interaction else 0,
                "resumed": resumed,
            },
        )
        return None if error else interaction

    # -- interactions ------------------------------------------------------------------------

    def pick_day(self, fragment: bool) -> None:
        session = self.ensure_session()
        if session is None:
            return
        day = self.stream.next_day()
        silent = self._first_after_silent_reconnect()  # any pick ends it: a whole run is checked as usual
        if fragment and not self.mode.fragment:  # the plain page: a day pick reruns the script
            self.interact("full_rerun", lambda: session.pick_date(day), expect_full)
        elif fragment:
            expect = expect_answered_with(day) if silent else expect_fragment
            self.interact("fragment_rerun", lambda: session.pick_date(day), expect)
        else:
            self.interact("full_rerun", lambda: session.pick_date(day, fragment=False), expect_full)

    def hop_month(self) -> None:
        session = self.ensure_session()
        if session is None:
            return
        day = self.stream.next_month()
        if self._first_after_silent_reconnect():  # the pick as the page sends it, whatever answers
            self.interact("month_change", lambda: session.pick_date(day), expect_answered_with(day))
        else:
            self.interact("month_change", lambda: session.change_month(day))

    def _first_after_silent_reconnect(self) -> bool:
        unchecked, self.unchecked_run = self.unchecked_run, False
        return unchecked


def expect_signed_in(interaction: Interaction) -> None:
    """A signed-in user's first run is the whole dashboard, not the sign-in page."""
    expect_full(interaction)
    if not any(text.startswith(SIGNED_IN_TEXT) for text in interaction.texts):
        raise UnexpectedOutcome(f"not signed in: the page said {interaction.texts[:2]}", interaction)


class FragmentUser(StreamlitUser):
    """Same-month day picks: only the daily fragment reruns."""

    @tag("fragment")
    @task
    def fragment_rerun(self) -> None:
        self.pick_day(fragment=True)


class FullRerunUser(StreamlitUser):
    """The same picks as FragmentUser, without a fragment id: the whole script reruns."""

    @tag("full")
    @task
    def full_rerun(self) -> None:
        self.pick_day(fragment=False)


class MonthHopper(StreamlitUser):
    """A day in the next month each time: fragment run, st.rerun(), whole-script run."""

    @classmethod
    def stream_family(cls) -> str:
        return "months"

    @tag("month")
    @task
    def month_change(self) -> None:
        self.hop_month()


class RealisticMix(StreamlitUser):
    """Someone reading the dashboard: mostly day picks, now and then another month."""

    wait_time = think_time

    @classmethod
    def stream_family(cls) -> str:
        return "mix"

    @tag("mix")
    @task(8)
    def fragment_rerun(self) -> None:
        self.pick_day(fragment=True)

    @tag("mix")
    @task(1)
    def month_change(self) -> None:
        self.hop_month()
