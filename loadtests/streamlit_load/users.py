"""``AnyAppUser``: a Locust user for a Streamlit app it has never seen, over the WebSocket protocol.

It loads the page, learns the page's widgets from the frames (``streamlit_load.client.widgets``: kind,
options, bounds, the fragment each lives in), and on every task changes one of them to a value a
person could set (a slider moved, an option picked, a box ticked, a button pressed), or, in a
multipage app, now and then opens another page (``PAGE_SHARE`` of the tasks). Each interaction is
named by what the server ran, read from the frames, not by what the user meant:

  fragment_run   every run of the interaction ran fragments only (``@st.fragment``)
  full_run       a run of the whole script (no fragment, or a fragment that called st.rerun())
  page           another page of a multipage app (a whole run of that page)
  initial_load   the page loaded in a new session

and fires Locust's ``request`` event (request_type ``WS``) with its wall time, the bytes received
and an exception when it timed out, the page showed an exception, or the socket closed (the user
then loads the page anew). A page with no widget to change is reloaded (``initial_load``).

Options (the locustfile's): ``--stream-seed`` (user n draws from ``Random(f"{seed}:{n}")``),
``--interaction-timeout``, ``--message-cache``, ``--sign-in EMAIL``, ``--app-think SECONDS``
(the mean pause between a user's interactions; default 0: machine-paced, as the comparison runs)
and ``--forwarded-for`` (each user sends an X-Forwarded-For address of its own, so a proxy in
load-balancer mode applies its per-client limits to each user, as `make capacity` runs it).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from typing import ClassVar

from locust import User, task

from streamlit_load.client import Interaction, StreamlitSession
from streamlit_load.client.errors import SessionClosed, StreamlitClientError
from streamlit_load.client.signin import sign_in
from streamlit_load.client.widgets import new_state
from streamlit_load.dev_provider import password

PAGE_SHARE = 0.2  # of a multipage app's tasks: open another page
FRAGMENT, FULL, PAGE, INITIAL = "fragment_run", "full_run", "page", "initial_load"


def run_kind(interaction: Interaction) -> str:
    """``fragment_run`` when every run of ``interaction`` ran fragments only, else ``full_run``."""
    return FRAGMENT if interaction.runs and all(interaction.runs) else FULL


def think(user: User) -> float:
    """A random 0.5x to 1.5x of ``--app-think`` seconds (default 0: machine-paced), spent reading
    the socket so server pings get their pong, as a browser's would."""
    mean = getattr(user.environment.parsed_options, "app_think", 0.0)
    session = getattr(user, "session", None)
    if mean > 0 and session is not None and session.connected:
        try:
            session.idle(mean * (0.5 + random.random()))
        except StreamlitClientError:
            user.session = None
    return 0.0


def client_address(environment, number: int) -> str:
    """Simulated user ``number``'s own client address (``--forwarded-for``),
    10.<worker>.<n // 256>.<n % 256>: unique per load generator process (``--processes`` workers
    have an index each) for 65,536 users apiece."""
    worker = getattr(environment.runner, "worker_index", 0) % 256
    return f"10.{worker}.{number // 256 % 256}.{number % 256}"


class AnyAppUser(User):
    """One browser session on any app; a new one when it was lost."""

    wait_time = think
    numbers: ClassVar[itertools.count] = itertools.count()

    def __init__(self, environment) -> None:
        super().__init__(environment)
        options = environment.parsed_options
        self.number = next(AnyAppUser.numbers)
        self.rng = random.Random(f"{getattr(options, 'stream_seed', 2023)}:{self.number}")
        self.timeout = getattr(options, "interaction_timeout", 30.0)
        self.message_cache = getattr(options, "message_cache", True)
        self.sign_in_as = getattr(options, "sign_in", "") or ""
        self.cookies: dict[str, str] | None = None
        self.session: StreamlitSession | None = None
        forwarded = getattr(options, "forwarded_for", False)
        self.headers = {"X-Forwarded-For": client_address(environment, self.number)} if forwarded else {}

    def on_start(self) -> None:
        self.load()

    def on_stop(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def load(self) -> bool:
        """A new session on the page (signed in first, once, with ``--sign-in``)."""
        if self.session is not None:
            self.session.close()
        self.session = None
        if self.sign_in_as and self.cookies is None:
            self.cookies = self.report("HTTP", "sign_in", self._sign_in)
            if self.cookies is None:
                return False
        session = StreamlitSession(
            self.host,
            timeout=self.timeout,
            message_cache=self.message_cache,
            headers=self.headers,
            cookies=self.cookies,
        )
        self.session = session
        return self.report("WS", INITIAL, session.open) is not None

    def _sign_in(self) -> dict[str, str]:
        return sign_in(self.host, self.sign_in_as, password(self.sign_in_as), timeout=self.timeout)

    @task
    def interact(self) -> None:
        if (self.session is None or not self.session.connected) and not self.load():
            time.sleep(1.0)  # a server that is down gets a trickle of attempts, not a storm
            return
        session = self.session
        others = [path for path in session.pages if session.pages[path] != session.page_script_hash]
        widgets = [widget for widget in session.widgets.values() if widget.changeable]
        if others and (not widgets or self.rng.random() < PAGE_SHARE):
            self.report("WS", PAGE, lambda: session.goto(self.rng.choice(others)))
            return
        if not widgets:
            self.load()
            return
        state = new_state(self.rng.choice(widgets), self.rng)
        start = time.perf_counter()
        try:
            interaction = session.change(state)
        except StreamlitClientError as error:
            self.fire("WS", FULL, start, getattr(error, "interaction", None), error)
            return
        self.fire("WS", run_kind(interaction), start, interaction, None)

    # -- the one place that reports to Locust ------------------------------------------------

    def report(self, request_type: str, name: str, action: Callable[[], object]) -> object | None:
        """Run ``action`` and report it as ``name``; its result, or None if it failed."""
        start = time.perf_counter()
        try:
            result = action()
        except (StreamlitClientError, OSError) as error:
            self.fire(request_type, name, start, getattr(error, "interaction", None), error)
            return None
        self.fire(request_type, name, start, result if isinstance(result, Interaction) else None, None)
        return result

    def fire(
        self,
        request_type: str,
        name: str,
        start: float,
        interaction: Interaction | None,
        error: Exception | None,
    ) -> None:
        if isinstance(error, SessionClosed) or (self.session is not None and not self.session.connected):
            self.session = None  # the next task loads the page anew
        elapsed = (
            interaction.wall_time
            if interaction is not None and error is None
            else time.perf_counter() - start
        )
        self.environment.events.request.fire(
            request_type=request_type,
            name=name,
            response_time=elapsed * 1000,
            response_length=interaction.bytes_received if interaction is not None else 0,
            exception=error,
            context={"user": self.number, "messages": interaction.messages if interaction else 0},
        )
