"""One browser-like session on a Streamlit server's ``/_stcore/stream`` WebSocket.

The handshake mirrors the frontend (Streamlit 1.67, Starlette server): GET
``/_stcore/health`` for the ``_streamlit_xsrf`` cookie, then open the socket with the
subprotocols ``["streamlit", <xsrf token>]`` (the server picks the first entry, checks the
second against the cookie, and would read a third as a session id to reconnect to), the
cookie, and an Origin matching the Host. The server runs nothing until the client asks:
the first run is a ``BackMsg.rerun_script`` like any other.

Built on ``websocket-client`` (blocking sockets), so it works in plain threads and under
gevent's monkey-patching (Locust). One session per thread/greenlet; not thread-safe. Waiting for
data is the socket's own timeout (poll() inside CPython's socket module, gevent's hub under
gevent), never ``select.select``, which refuses file descriptors from 1024 on: one process holds
as many sessions as its open-file limit allows (``streamlit_load.harness.raise_fd_limit``).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import time
import urllib.request
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from .errors import InteractionTimeout, ServerError, SessionClosed, StreamlitClientError
from .messages import (
    MessageCache,
    UrlBinding,
    date_state,
    delta_exception,
    delta_media,
    delta_text,
    finished_name,
    heartbeat_msg,
    query_binding,
    rerun_msg,
    user_key_of,
    with_query_param,
)
from .modes import (  # the statuses stay importable from here too
    COMPILE_ERROR,
    EARLY_FOR_RERUN,
    FRAGMENT_SUCCESS,  # noqa: F401
    SUCCESS,  # noqa: F401
)
from .tls import client_context
from .widgets import Widget, widget_of

XSRF_COOKIE = "_streamlit_xsrf"
NO_XSRF_TOKEN = "PLACEHOLDER_AUTH_TOKEN"  # noqa: S105 - what the frontend sends without a cookie
# How long a drain waits for bytes that are not there: enough for what already sits in the
# socket's buffer to be read, short enough to cost nothing next to an interaction.
DRAIN_WAIT = 0.001


@dataclass
class Interaction:
    """What one interaction (request -> true end of the last run) cost and showed.

    ``runs`` holds each started run's fragment ids (``()`` = a whole-script run);
    ``outcomes`` the ``script_finished`` status names in order. ``delta_fragments`` counts
    deltas per ``Delta.fragment_id``, ``""`` being deltas outside any fragment.
    """

    kind: str
    wall_time: float = 0.0
    messages: int = 0
    bytes_received: int = 0
    deltas: int = 0
    cache_hits: int = 0
    runs: list[tuple[str, ...]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    delta_fragments: Counter[str] = field(default_factory=Counter)
    elements: Counter[str] = field(default_factory=Counter)  # new elements by kind ("plotly_chart", …)
    texts: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    redirects: list[str] = field(default_factory=list)  # st.login/st.logout: where the page must go
    media: list[str] = field(default_factory=list)  # files the new elements name (images, downloads)

    @property
    def fragment_ids(self) -> set[str]:
        """Every fragment that ran: targeted by a run, or owning a delta."""
        targeted = {fid for run in self.runs for fid in run}
        return targeted | {fid for fid in self.delta_fragments if fid}

    @property
    def outside_fragment(self) -> bool:
        """True if any delta belongs to no fragment (the whole script ran)."""
        return self.delta_fragments[""] > 0

    @property
    def outcome(self) -> str | None:
        """The last ``script_finished`` status name, None if none arrived."""
        return self.outcomes[-1] if self.outcomes else None

    def has_text(self, fragment: str) -> bool:
        """True if some header/markdown/alert text of the interaction contains ``fragment``."""
        return any(fragment in text for text in self.texts)


class StreamlitSession:
    """A Streamlit browser session, driven over the WebSocket protocol.

    >>> with StreamlitSession("http://127.0.0.1:8501") as s:     # doctest: +SKIP
    ...     s.click("Refresh").outcome    # a button keyed or labelled "Refresh": one rerun
    'FINISHED_SUCCESSFULLY'

    ``base_url`` may carry a base path (``http://host:8080/dashboard``) and a query string
    (``?date=2023-03-09``: a shared link). ``timeout`` bounds each interaction; ``message_cache``
    keeps the browser's ForwardMsg cache (the server then sends ``ref_hash`` stubs for large
    messages the client already holds). ``headers`` go with every request of the session (e.g.
    ``X-Forwarded-For``, as a load balancer adds it); so do ``cookies``, as a browser's would:
    e.g. the sign-in cookies of ``streamlit_load.client.signin.sign_in``. An ``https`` URL
    speaks TLS (``wss`` on the socket), verified against the system's CAs and ``ca_file``
    (default ``$STACK_CA_FILE``; see ``streamlit_load.client.tls``).

    The page's URL is kept as a browser keeps it: ``query_string`` starts as the link's, follows
    every ``page_info_changed`` the server sends, and is rewritten in place when the client
    changes a widget bound to the URL (``bind="query-params"``), as the frontend does; every rerun
    sends it. ``resume()`` is the browser's reconnect: same cookies, widget states and URL.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8501",
        *,
        timeout: float = 30.0,
        message_cache: bool = True,
        headers: dict[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        secure = parts.scheme in ("https", "wss")
        http, ws = ("https", "wss") if secure else ("http", "ws")
        base_path = parts.path.rstrip("/")
        self.base_url = f"{http}://{parts.netloc}{base_path}"
        self.origin = f"{http}://{parts.netloc}"
        self.stream_url = f"{ws}://{parts.netloc}{base_path}/_stcore/stream"
        self.health_url = f"{self.base_url}/_stcore/health"
        self.page_url = f"{self.base_url}/"
        self.query_string = parts.query  # the page's URL after the "?", as the browser holds it
        self.url_bindings: dict[str, UrlBinding] = {}  # widget id -> its URL parameter
        self._next_query_string: str | None = None  # a bound widget's pick, once its rerun is out
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.tls = client_context(ca_file) if secure else None
        self.cache: MessageCache | None = MessageCache() if message_cache else None

        self.session_id = ""
        # cookies given and those the server set, sent with the socket
        self.cookie_header: str | None = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items()) or None
        self.page_script_hash = ""
        self.pages: dict[str, str] = {}  # url path of each page (st.navigation, pages/) -> its script hash
        self.widget_ids: dict[str, str] = {}  # user key and label -> widget id
        self.widget_fragments: dict[str, str] = {}  # widget id -> fragment id ("" = none)
        self.widgets: dict[str, Widget] = {}  # the widgets the page shows now, by id (widgets.py)
        self.seen_fragment_ids: set[str] = set()
        self.pings = 0  # server pings answered (websocket-client sends the pong)
        self.connects = 0  # sockets opened: the first, then one per reconnect
        self.initial: Interaction | None = None
        self._widget_states: dict[str, WidgetState] = {}
        self._run_fragments: tuple[str, ...] = ()
        self._ws: websocket.WebSocket | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def connect(self, *, resume: bool = False) -> None:
        """Open the WebSocket as the browser does (no script run yet); ``resume``: as the browser
        reconnects, with this session's id, so a server that still holds it resumes it.

        The one place a session reaches the server: what every request of the session needs
        (``headers``, cookies) is added here and in ``_xsrf``."""
        if self._ws is not None:
            raise StreamlitClientError("session is already connected (`with` opens it; no second open())")
        token, cookie = self._xsrf()
        host = urlsplit(self.origin).hostname or ""
        ws = websocket.WebSocket(sslopt={"context": self.tls} if self.tls else None)
        subprotocols = ["streamlit", token] + ([self.session_id] if resume and self.session_id else [])
        try:
            ws.connect(
                self.stream_url,
                subprotocols=subprotocols,
                origin=self.origin,
                cookie=cookie,
                header=[f"{name}: {value}" for name, value in self.headers.items()],
                timeout=self.timeout,
                http_no_proxy=[host],
            )
        except (OSError, websocket.WebSocketException) as exc:
            raise SessionClosed(f"cannot open {self.stream_url}: {exc}") from exc
        self._ws = ws
        self.connects += 1

    def open(self) -> Interaction:
        """Connect and run the page for the first time; returns the "initial" interaction."""
        self.connect()
        self.initial = self.rerun(kind="initial")
        return self.initial

    def reconnect(self) -> None:
        """Reconnect after the socket dropped, as Streamlit's frontend does: the same cookies (the
        proxy's route cookie brings it back to its replica) and the session id. A server that
        still holds the session resumes it (``session_id`` stays); any other starts a new one
        (``session_id`` changes at the next run)."""
        self.close()
        self.connect(resume=True)

    def resume(self, *, in_flight: bool = False, timeout: float | None = None) -> Interaction | None:
        """Come back after the socket dropped, as Streamlit 1.67's frontend does: ``reconnect()``,
        then rerun the whole page with the widget states and URL the page holds (kind
        "reconnect") if a run was asked for or going when the socket dropped (``in_flight``), the
        page never ran, or its last run was a fragment run; otherwise ask for nothing (None): the
        page stays as it is, and its next pick goes to whatever session the socket reached."""
        self.reconnect()
        if in_flight or self.initial is None or self._run_fragments:
            return self.rerun(kind="reconnect", timeout=timeout)
        return None

    def url_param(self, name: str) -> list[str]:
        """The values of parameter ``name`` in the page's URL (empty if it has none)."""
        return parse_qs(self.query_string, keep_blank_values=True).get(name, [])

    def url_date(self, name: str) -> date | None:
        """The day the page's URL holds in parameter ``name`` (``?date=YYYY-MM-DD``: a date
        picker bound to the URL), None if it holds none or not exactly one valid day."""
        values = self.url_param(name)
        try:
            return date.fromisoformat(values[0]) if len(values) == 1 else None
        except ValueError:
            return None

    def close(self) -> None:
        """Close the socket with a normal closure (1000); safe to call twice."""
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(timeout=1.0)
            except (OSError, websocket.WebSocketException):
                ws.shutdown()

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ws.connected

    def __enter__(self) -> Self:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- widgets -----------------------------------------------------------------------------

    def widget_id(self, name: str) -> str:
        """The id of the widget with user key (or label) ``name``, as found in the deltas."""
        try:
            return self.widget_ids[name]
        except KeyError:
            known = ", ".join(sorted(self.widget_ids)) or "none yet"
            raise KeyError(f"no widget {name!r} seen in the deltas (known: {known})") from None

    def fragment_of(self, name: str) -> str:
        """The id of the fragment that draws widget ``name`` (KeyError if it is in none)."""
        fragment = self.widget_fragments.get(self.widget_id(name), "")
        if not fragment:
            raise KeyError(f"widget {name!r} is not inside a fragment")
        return fragment

    def set_widget_state(self, state: WidgetState) -> None:
        """Hold ``state`` (any id, even an unknown one) for the next reruns, as the frontend does;
        a widget bound to the URL rewrites its parameter (removed at the widget's default), for
        values a user could pick (a date picker: YYYY-MM-DD within its range), as the frontend
        does: the next rerun still carries the address as it was, which is rewritten once that
        request is out (what Streamlit 1.67's frontend sends; tests/browser/test_url_state.py)."""
        self._widget_states[state.id] = state
        binding = self.url_bindings.get(state.id)
        if binding is not None and state.WhichOneof("value") == "string_array_value":
            values = list(state.string_array_value.data)
            if not binding.holds(values):
                return  # a forged state (no user can pick it): the frontend would not write it
            kept = None if values == list(binding.default) or not values else values
            self._next_query_string = with_query_param(self._next_query_string or self.query_string,
                                                       binding.param, kept)  # fmt: skip

    def set_date(self, value: date | str | None, widget: str) -> None:
        """Set a date_input's value: a date, an ISO string (sent verbatim) or None (cleared)."""
        self.set_widget_state(date_state(self.widget_id(widget), value))

    # -- interactions ------------------------------------------------------------------------

    def rerun(
        self, fragment_id: str | None = None, *, kind: str | None = None, timeout: float | None = None
    ) -> Interaction:
        """Ask for a run (of ``fragment_id`` only, if given) and wait for its true end.

        The true end is ``script_finished`` FINISHED_SUCCESSFULLY or
        FINISHED_FRAGMENT_RUN_SUCCESSFULLY; after FINISHED_EARLY_FOR_RERUN (st.rerun()) the
        next run is awaited too. Raises InteractionTimeout, ServerError or SessionClosed.
        """
        interaction = Interaction(kind or ("fragment" if fragment_id else "full"))
        msg = rerun_msg(
            widget_states=self._widget_states.values(),
            page_script_hash=self.page_script_hash,
            page_url=self.page_url + (f"?{self.query_string}" if self.query_string else ""),
            fragment_id=fragment_id,
            cached_hashes=self.cache.hashes() if self.cache else (),
            query_string=self.query_string,
        )
        self._drain()
        start = time.perf_counter()
        if self._next_query_string is not None:
            self.query_string, self._next_query_string = self._next_query_string, None
        try:
            self.send_back_msg(msg)
            self._await_end(interaction, start + (self.timeout if timeout is None else timeout))
        finally:
            interaction.wall_time = time.perf_counter() - start
        if interaction.exceptions:
            raise ServerError(f"exception in the page: {interaction.exceptions}", interaction)
        return interaction

    def goto(self, url_path: str, *, timeout: float | None = None) -> Interaction:
        """Open another page of a multipage app, as its navigation link does: a whole run of the
        page whose URL path (``""``: the default page) the server listed in ``pages``. The
        widget states of the page left behind are not sent."""
        if url_path not in self.pages:
            raise StreamlitClientError(f"no page {url_path!r}; the app's pages: {sorted(self.pages)}")
        self.page_script_hash = self.pages[url_path]
        self.page_url = f"{self.base_url}/{url_path}"
        self._widget_states.clear()
        return self.rerun(kind="page", timeout=timeout)

    def change(
        self, state: WidgetState, *, kind: str = "widget", timeout: float | None = None
    ) -> Interaction:
        """Send one widget's new value as the frontend does (``widgets.new_state`` makes one for
        any widget the page shows): with the page's other values, as a run of the widget's
        fragment if it is in one; a trigger (a button press) goes with this run only."""
        fragment = self.widget_fragments.get(state.id) or None
        if state.WhichOneof("value") != "trigger_value":
            self.set_widget_state(state)
            return self.rerun(fragment, kind=kind, timeout=timeout)
        self._widget_states[state.id] = state
        try:
            return self.rerun(fragment, kind=kind, timeout=timeout)
        finally:
            del self._widget_states[state.id]

    def click(self, name: str, *, timeout: float | None = None) -> Interaction:
        """Press button ``name`` (user key or label) as the frontend does (``change``)."""
        press = WidgetState(id=self.widget_id(name), trigger_value=True)
        return self.change(press, kind="click", timeout=timeout)

    def cookies(self) -> dict[str, str]:
        """The cookies this session sends (those given, and those the server set)."""
        pairs = (item.strip().partition("=") for item in (self.cookie_header or "").split(";"))
        return {name: value for name, _, value in pairs if name}

    def idle(self, seconds: float) -> Interaction:
        """Stay connected ``seconds`` while reading (so pings get answered); kind "idle"."""
        interaction = Interaction("idle")
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            try:
                received = self._receive(deadline)
            except InteractionTimeout:
                break
            self._account(interaction, *received)
        interaction.wall_time = time.perf_counter() - start
        return interaction

    def heartbeat(self, timeout: float | None = None) -> float:
        """Send the frontend's app_heartbeat and wait for heartbeat_ack; returns the round trip."""
        self._drain()
        start = time.perf_counter()
        self.send_back_msg(heartbeat_msg())
        deadline = start + (self.timeout if timeout is None else timeout)
        scratch = Interaction("heartbeat")
        while True:
            try:
                received = self._receive(deadline)
            except InteractionTimeout:
                raise InteractionTimeout("no heartbeat_ack before the timeout") from None
            self._account(scratch, *received)
            if received[0].WhichOneof("type") == "heartbeat_ack":
                return time.perf_counter() - start

    # -- raw access, for protocol tests ------------------------------------------------------

    def send_back_msg(self, msg: BackMsg) -> None:
        """Send one BackMsg as a binary frame."""
        self.send_raw(msg.SerializeToString())

    def send_raw(self, payload: bytes | str) -> None:
        """Send bytes as a binary frame, or a str as a text frame (which the server refuses)."""
        ws = self._socket()
        try:
            if isinstance(payload, str):
                ws.send(payload, opcode=websocket.ABNF.OPCODE_TEXT)
            else:
                ws.send_binary(payload)
        except (OSError, websocket.WebSocketException) as exc:
            self._ws = None
            ws.shutdown()
            raise SessionClosed(f"send failed: {exc}") from exc

    def wait_closed(self, timeout: float = 5.0) -> int | None:
        """Read until the server closes the socket; returns its close code (None if none given)."""
        try:
            self.idle(timeout)
        except SessionClosed as closed:
            return closed.code
        raise InteractionTimeout(f"the server did not close the socket within {timeout}s")

    # -- uploads, as the frontend does them (st.file_uploader and the like) ------------------

    def file_urls(self, file_names: list[str], *, timeout: float | None = None) -> list[tuple[str, str]]:
        """Ask the server for upload URLs (a ``file_urls_request`` BackMsg, as the frontend sends
        when a file is picked); returns its (file id, upload URL) pairs, [] when it hands out none."""
        self._file_urls_requests = getattr(self, "_file_urls_requests", 0) + 1
        request_id = f"uploads-{self._file_urls_requests}"
        msg = BackMsg()
        msg.file_urls_request.request_id = request_id
        msg.file_urls_request.session_id = self.session_id
        msg.file_urls_request.file_names.extend(file_names)
        self.send_back_msg(msg)
        deadline = time.perf_counter() + (timeout or self.timeout)
        scratch = Interaction("file_urls")
        while True:
            received = self._receive(deadline)
            self._account(scratch, *received)
            answer = received[0]
            if answer.WhichOneof("type") == "file_urls_response" and (
                answer.file_urls_response.response_id == request_id
            ):
                return [(urls.file_id, urls.upload_url) for urls in answer.file_urls_response.file_urls]

    def upload_url(self, file_id: str) -> str:
        """Where a file of this session goes, whether or not the server handed the id out."""
        return f"{self.base_url}/_stcore/upload_file/{self.session_id}/{file_id}"

    def put_file(self, url: str, data: bytes, name: str = "file.bin", *, timeout: float | None = None) -> int:
        """PUT ``data`` as the frontend does (multipart, the XSRF header and the session's cookies:
        behind the proxy the route cookie brings it to the session's replica); the HTTP status."""
        if url.startswith("/"):  # as handed out: relative to the app's base URL
            url = f"{self.base_url}{url}"
        boundary = f"----streamlit-client-{os.urandom(8).hex()}"
        body = b"".join([
            f"--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'.encode(),
            b"Content-Type: application/octet-stream\r\n\r\n",
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ])  # fmt: skip
        return self._request("PUT", url, body, f"multipart/form-data; boundary={boundary}", timeout)[0]

    def delete_file(self, url: str, *, timeout: float | None = None) -> int:
        """DELETE a file as the frontend does when one is removed from the widget; the HTTP status."""
        if url.startswith("/"):
            url = f"{self.base_url}{url}"
        return self._request("DELETE", url, None, None, timeout)[0]

    def get_file(self, url: str, *, timeout: float | None = None) -> tuple[int, bytes]:
        """GET a file the page names (``Interaction.media``: an image, a download) as the browser
        does, with the session's cookies (behind the proxy they bring it to the session's
        replica, which holds the file); (HTTP status, body)."""
        if url.startswith("/"):
            url = f"{self.base_url}{url}"
        return self._request("GET", url, None, None, timeout)

    def _request(
        self, method: str, url: str, body: bytes | None, content_type: str | None, timeout: float | None
    ) -> tuple[int, bytes]:
        """One HTTP request of the session (its cookies, and those the answer sets kept, as a
        browser keeps them); (status, body)."""
        headers = {**self.headers, "X-Xsrftoken": self.cookies().get(XSRF_COOKIE, NO_XSRF_TOKEN)}
        if self.cookie_header:
            headers["Cookie"] = self.cookie_header
        if content_type:
            headers["Content-Type"] = content_type
        parts = urlsplit(url)
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.netloc, timeout=timeout or self.timeout, context=self.tls
            )
        else:
            connection = http.client.HTTPConnection(parts.netloc, timeout=timeout or self.timeout)
        try:
            # Refused before the whole body was sent (as an over-the-cap upload is): the answer waits.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                connection.request(method, parts.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            self._keep_cookies(response.headers.get_all("Set-Cookie") or [])
            return response.status, data
        finally:
            connection.close()

    # -- internals ---------------------------------------------------------------------------

    def _socket(self) -> websocket.WebSocket:
        if self._ws is None:
            raise SessionClosed("session is not connected")
        return self._ws

    def _xsrf(self) -> tuple[str, str | None]:
        """(token for the subprotocol, Cookie header) from GET /_stcore/health.

        Every cookie set there goes back on the socket, as a browser's would: behind the
        project's proxy that includes the route cookie that keeps the session on one replica.
        """
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self.tls)
        )
        request = urllib.request.Request(self.health_url, headers=self.headers)  # noqa: S310 - http(s), built in __init__
        if self.cookie_header:  # a reconnect sends the cookies it has, as a browser does
            request.add_header("Cookie", self.cookie_header)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                headers = response.headers.get_all("Set-Cookie") or []
        except OSError as exc:
            raise SessionClosed(f"server not healthy at {self.health_url}: {exc}") from exc
        self._keep_cookies(headers)
        token = self.cookies().get(XSRF_COOKIE) or NO_XSRF_TOKEN  # no cookie: XSRF protection off
        return token, self.cookie_header

    def _keep_cookies(self, set_cookies: list[str]) -> None:
        """Keep the cookies of ``Set-Cookie`` headers over those the session holds, as a browser does."""
        cookies = self.cookies() | dict(
            header.split(";", 1)[0].strip().partition("=")[::2] for header in set_cookies
        )
        cookies = {name: value for name, value in cookies.items() if name and value}
        self.cookie_header = "; ".join(f"{name}={value}" for name, value in cookies.items()) or None

    def _receive(self, deadline: float) -> tuple[ForwardMsg, int, bool]:
        """(next ForwardMsg with any ref_hash resolved, frame size, was a cache hit); raises at
        the deadline."""
        ws = self._socket()
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise InteractionTimeout("deadline passed")
            ws.settimeout(remaining)
            try:
                opcode, frame = ws.recv_data_frame(control_frame=True)
            except websocket.WebSocketTimeoutException:
                raise InteractionTimeout("deadline passed") from None
            except (OSError, websocket.WebSocketException) as exc:
                self._ws = None
                raise SessionClosed(f"connection lost: {exc}") from exc
            if opcode == websocket.ABNF.OPCODE_PING:
                self.pings += 1
            elif opcode == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else None
                self._ws = None
                ws.shutdown()
                raise SessionClosed(f"server closed the socket (code {code})", code)
            elif opcode == websocket.ABNF.OPCODE_BINARY:
                msg, hit = self._decode(frame.data)
                return msg, len(frame.data), hit
            elif opcode == websocket.ABNF.OPCODE_TEXT:
                raise StreamlitClientError("server sent a text frame; Streamlit sends binary only")

    def _decode(self, payload: bytes) -> tuple[ForwardMsg, bool]:
        msg = ForwardMsg()
        msg.ParseFromString(payload)
        if self.cache is None:
            return msg, False
        if msg.WhichOneof("type") == "ref_hash":
            resolved = self.cache.resolve(msg)
            if resolved is None:
                raise ServerError(f"server referenced a message the client never cached: {msg.ref_hash}")
            return resolved, True
        self.cache.remember(msg, payload)
        return msg, False

    def _drain(self) -> None:
        """Read what is already waiting (status messages trailing the last run) off the books.

        Reads until nothing arrives within DRAIN_WAIT: the socket's own timeout does the
        waiting, so this works for any file descriptor number, under threads and gevent alike,
        and over TLS (the SSL layer's buffered bytes are read first). A frame cut off by the
        wait is kept by websocket-client and finished by the next read."""
        scratch = Interaction("drain")
        while True:
            try:
                received = self._receive(time.perf_counter() + DRAIN_WAIT)
            except InteractionTimeout:
                return
            self._account(scratch, *received)

    def _await_end(self, interaction: Interaction, deadline: float) -> None:
        while True:
            try:
                msg, size, hit = self._receive(deadline)
            except InteractionTimeout:
                raise InteractionTimeout(
                    f"{interaction.kind} interaction got no true end within the timeout "
                    f"({interaction.messages} messages, outcomes {interaction.outcomes}); an unknown "
                    "fragment id or a dropped request gets no reply at all"
                ) from None
            self._account(interaction, msg, size, hit)
            if msg.WhichOneof("type") != "script_finished":
                continue
            status = finished_name(msg.script_finished)
            if status == EARLY_FOR_RERUN:
                continue
            if status == COMPILE_ERROR:
                raise ServerError("the script failed to compile", interaction)
            if self.cache is not None:
                ran = msg.metadata.run.fragment_ids if msg.metadata.HasField("run") else self._run_fragments
                self.cache.end_run(ran)
            return

    def _account(self, interaction: Interaction, msg: ForwardMsg, size: int, hit: bool) -> None:
        """Count ``msg`` in ``interaction`` and learn widget/fragment ids and page state from it."""
        interaction.messages += 1
        interaction.bytes_received += size
        interaction.cache_hits += hit
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self._run_fragments = tuple(msg.metadata.run.fragment_ids)
            # A run redraws its part of the page: the widgets it drew before go (a whole run: all).
            ran = set(self._run_fragments)
            self.widgets = {i: w for i, w in self.widgets.items() if ran and w.fragment_id not in ran}
            interaction.runs.append(self._run_fragments)
            self.seen_fragment_ids.update(self._run_fragments)
            self.page_script_hash = msg.new_session.page_script_hash or self.page_script_hash
            self.session_id = msg.new_session.initialize.session_id or self.session_id
        elif kind == "script_finished":
            interaction.outcomes.append(finished_name(msg.script_finished))
        elif kind == "page_info_changed":  # the server set the page's URL (the browser pushes it)
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta":
            self._account_delta(interaction, msg)
        elif kind == "auth_redirect":
            interaction.redirects.append(msg.auth_redirect.url)
        elif kind == "navigation":  # a multipage app's pages (st.navigation or a pages/ folder)
            self.pages = {page.url_pathname: page.page_script_hash for page in msg.navigation.app_pages}
            self.page_script_hash = msg.navigation.page_script_hash or self.page_script_hash

    def _account_delta(self, interaction: Interaction, msg: ForwardMsg) -> None:
        delta = msg.delta
        interaction.deltas += 1
        interaction.delta_fragments[delta.fragment_id] += 1
        if delta.fragment_id:
            self.seen_fragment_ids.add(delta.fragment_id)
        if delta.WhichOneof("type") == "new_element":
            interaction.elements[delta.new_element.WhichOneof("type") or ""] += 1
        if (text := delta_text(delta)) is not None:
            interaction.texts.append(text)
        if (error := delta_exception(delta)) is not None:
            interaction.exceptions.append(error)
        interaction.media.extend(delta_media(delta))
        if (widget := widget_of(delta)) is not None:
            widget_id, label = widget.id, widget.label
            self.widgets[widget_id] = widget
            self.widget_fragments[widget_id] = delta.fragment_id
            if label:
                self.widget_ids[label] = widget_id
            if key := user_key_of(widget_id):
                self.widget_ids[key] = widget_id
            if (binding := query_binding(delta)) is not None:
                self.url_bindings[widget_id] = binding[1]
