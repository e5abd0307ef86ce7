"""What the page says over its WebSocket, decoded with Streamlit's own protobufs.

Playwright reports every frame of the page's ``/_stcore/stream`` socket; ``Wire`` keeps them
in order: BackMsgs the browser sent, ForwardMsgs it received (``ref_hash`` stubs resolved from
the messages seen before, as the browser's cache does), and when sockets opened and closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Page, WebSocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from streamlit_load.client.messages import delta_text, finished_name

STREAM_PATH = "/_stcore/stream"
#: Statuses that end an interaction (a fragment calling st.rerun() ends EARLY_FOR_RERUN first).
RUN_ENDS = ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY")
DATE_WIDGET_SUFFIX = "-date"  # widget ids end with the user key


def rerun_dates(msg: BackMsg) -> list[str]:
    """The date widget values a ``rerun_script`` BackMsg carries (ISO strings)."""
    if msg.WhichOneof("type") != "rerun_script":
        return []
    return [
        value
        for widget in msg.rerun_script.widget_states.widgets
        if widget.id.endswith(DATE_WIDGET_SUFFIX)
        for value in widget.string_array_value.data
    ]


@dataclass
class Event:
    """One frame or socket event: ``sent`` (BackMsg), ``received`` (ForwardMsg), ``open``, ``close``."""

    kind: str
    message: BackMsg | ForwardMsg | None = None
    at: float = field(default_factory=time.monotonic)  # when Playwright reported it


@dataclass
class Run:
    """The frames of one interaction, from the browser's request to the end of the last run."""

    sent: list[BackMsg] = field(default_factory=list)
    received: list[ForwardMsg] = field(default_factory=list)

    @property
    def reruns(self) -> list[BackMsg]:
        return [msg for msg in self.sent if msg.WhichOneof("type") == "rerun_script"]

    @property
    def delta_fragments(self) -> list[str]:
        """The fragment id of each delta received ("" = outside any fragment: a full run)."""
        return [msg.delta.fragment_id for msg in self.received if msg.WhichOneof("type") == "delta"]

    @property
    def dates_sent(self) -> list[str]:
        return [value for msg in self.reruns for value in rerun_dates(msg)]

    @property
    def outcomes(self) -> list[str]:
        return [
            finished_name(msg.script_finished)
            for msg in self.received
            if msg.WhichOneof("type") == "script_finished"
        ]

    @property
    def elements(self) -> set[str]:
        """The kinds of the new elements received ("plotly_chart", "arrow_data_frame", …)."""
        return {
            msg.delta.new_element.WhichOneof("type") or ""
            for msg in self.received
            if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element"
        }

    @property
    def texts(self) -> list[str]:
        found = (delta_text(msg.delta) for msg in self.received if msg.WhichOneof("type") == "delta")
        return [text for text in found if text is not None]


class Wire:
    """Records the page's Streamlit WebSocket traffic. Attach before ``page.goto``."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.events: list[Event] = []
        self.undecodable: list[str] = []
        self.socket_urls: list[str] = []  # every Streamlit socket the page opened (wss:// over HTTPS)
        self._cache: dict[str, bytes] = {}
        page.on("websocket", self._on_socket)

    @property
    def opened(self) -> int:
        return sum(event.kind == "open" for event in self.events)

    @property
    def closed(self) -> int:
        return sum(event.kind == "close" for event in self.events)

    def mark(self) -> int:
        """A position in the recording; ``run_since(mark)`` returns what came after it."""
        return len(self.events)

    def run_since(self, mark: int) -> Run:
        run = Run()
        for event in self.events[mark:]:
            if event.kind == "sent":
                run.sent.append(event.message)
            elif event.kind == "received":
                run.received.append(event.message)
        return run

    def wait_run_end(self, mark: int, timeout: float = 30.0) -> Run:
        """Wait (letting Playwright deliver frames) until a run that started after ``mark`` ends."""
        self.wait_until(
            lambda: any(outcome in RUN_ENDS for outcome in self.run_since(mark).outcomes),
            timeout,
            f"a run to end ({self.describe(mark)})",
        )
        return self.run_since(mark)

    def wait_sent_date(self, mark: int, day: str, timeout: float = 30.0) -> int:
        """Wait for the browser to send a rerun carrying ``day``; returns that frame's position."""
        found: list[int] = []

        def sent() -> bool:
            found.extend(
                mark + i
                for i, event in enumerate(self.events[mark:])
                if event.kind == "sent" and day in rerun_dates(event.message)
            )
            return bool(found)

        self.wait_until(sent, timeout, f"the browser to send {day} ({self.describe(mark)})")
        return found[0]

    def wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``condition`` while Playwright delivers events; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout}s for {what}")
            self.page.wait_for_timeout(50)

    def describe(self, mark: int) -> str:
        run = self.run_since(mark)
        return (
            f"sockets opened {self.opened}, closed {self.closed}; since the mark: sent "
            f"{len(run.sent)} BackMsgs, received {len(run.received)} ForwardMsgs, outcomes {run.outcomes}"
        )

    def _on_socket(self, socket: WebSocket) -> None:
        if not socket.url.endswith(STREAM_PATH):
            return
        self.socket_urls.append(socket.url)
        self.events.append(Event("open"))
        socket.on("framesent", self._on_sent)
        socket.on("framereceived", self._on_received)
        socket.on("close", lambda _socket: self.events.append(Event("close")))

    def _on_sent(self, payload: bytes | str) -> None:
        msg = BackMsg()
        if isinstance(payload, str):
            self.undecodable.append(f"text frame sent: {payload[:80]!r}")
            return
        msg.ParseFromString(payload)
        self.events.append(Event("sent", msg))

    def _on_received(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            self.undecodable.append(f"text frame received: {payload[:80]!r}")
            return
        msg = ForwardMsg()
        msg.ParseFromString(payload)
        if msg.WhichOneof("type") == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                self.undecodable.append(f"ref_hash to a message never seen: {msg.ref_hash}")
                return
            msg = ForwardMsg()
            msg.ParseFromString(cached)
        elif msg.hash:
            self._cache[msg.hash] = payload
        self.events.append(Event("received", msg))
