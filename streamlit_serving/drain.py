"""Graceful drain on SIGTERM: a replica going away moves its sessions off without losing a run.

Stock Streamlit 1.67 stops at once on SIGTERM: every open session's socket is closed and a script
run in progress is cut off, so the interaction a user was waiting for is lost (the browser
reconnects and runs again; a load test counts a failure). ``docker stop``, a Swarm rolling update
and a Kubernetes pod deletion all send SIGTERM first, so the drain runs there:

1. ``/_stcore/health`` answers 503 ``draining``: readiness (Kubernetes), the proxy and the
   browsers' reconnect probes see the replica leave before anything else happens.
2. New WebSockets (new sessions, reconnects) are refused with HTTP 503 before the upgrade; the
   proxy (``proxy_next_upstream http_503``) opens them on another replica.
3. Every open session is closed (code 1012, "service restart") as soon as it is settled: no script
   run in progress or queued, and every message of its last run sent. Its browser reconnects at
   once, through the proxy, to another replica, with its widget states and its URL (``?date=``),
   so the page shows the same day (``failover.py`` answers its next pick there when the browser
   asked for no run on reconnecting).
4. When no session is left, or after ``SERVE_DRAIN_SECONDS``, Streamlit's own stop runs (a run
   still going then is cut off, as stock Streamlit does).

A second SIGTERM, or SIGINT/SIGQUIT (Ctrl-C), stops at once, as stock Streamlit does.
``SERVE_DRAIN_SECONDS=0`` turns the drain off. The drain prints a line to stderr when it starts,
when it ends (sessions moved, seconds taken) and when Streamlit has stopped (seconds since SIGTERM;
``docker stop``'s wall time, which the stop grace periods must cover, adds Python's exit).

Every WebSocket refused while draining makes uvicorn 0.54 log "ASGI callable returned without
completing handshake." although the 503 went out (its websockets-sansio denial path never marks
the handshake done; Kludex/uvicorn#3138).

Streamlit has no hook for any of this, so it is wired in two places of its server (checked at
start, see ``install``): the Starlette app is wrapped in ``DrainGate`` (ASGI middleware), and
``bootstrap._set_up_signal_handler`` is replaced so SIGTERM starts the drain.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import signal
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEALTH_SUFFIX = "/_stcore/health"
SERVICE_RESTART = 1012  # WebSocket close code: the server restarts, the client should reconnect
#: Tags each WebSocket the gate passes on, so the drain finds the connection of a session through
#: the session client's public ``client_context.headers``. Set by the gate only: a client's own
#: header of that name is dropped.
CONNECTION_HEADER = b"x-serve-drain-connection"
POLL_SECONDS = 0.005  # while waiting for a session's last messages to leave its send queue


def log(text: str) -> None:
    print(f"drain: {text}", file=sys.stderr, flush=True)


class Connection:
    """One WebSocket the gate passed on: counts sends in flight, and can close it from outside."""

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self._closed = asyncio.Event()
        self.sending = 0

    async def receive(self) -> Message:
        """The client's next message; a disconnect once the drain closed the socket."""
        if self._closed.is_set():
            return {"type": "websocket.disconnect", "code": SERVICE_RESTART}
        incoming = asyncio.ensure_future(self._receive())
        closed = asyncio.ensure_future(self._closed.wait())
        done, _ = await asyncio.wait({incoming, closed}, return_when=asyncio.FIRST_COMPLETED)
        if incoming in done:
            closed.cancel()
            return incoming.result()
        incoming.cancel()
        return {"type": "websocket.disconnect", "code": SERVICE_RESTART}

    async def send(self, message: Message) -> None:
        if self._closed.is_set():
            return  # the drain closed it: the client is gone, what the app still sends is dropped
        self.sending += 1
        try:
            await self._send(message)
        finally:
            self.sending -= 1

    async def close(self) -> None:
        """Close the socket with 1012, and end the app's side as if the client had left."""
        if self._closed.is_set():
            return
        self._closed.set()
        # The client may be gone already (the server raises then): nothing is left to close.
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.close", "code": SERVICE_RESTART, "reason": "draining"})


class DrainGate:
    """ASGI middleware in front of Streamlit's Starlette app: refuses health checks and new
    WebSockets while draining, and keeps a handle on every open WebSocket."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.draining = False
        self.connections: dict[str, Connection] = {}
        self._numbers = itertools.count()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.draining and scope["path"].endswith(HEALTH_SUFFIX):
            await _respond(send, "http.response", 503, b"draining\n")
        elif scope["type"] != "websocket":
            await self.app(scope, receive, send)
        elif self.draining:
            await _refuse_websocket(scope, receive, send)
        else:
            await self._pass_websocket(scope, receive, send)

    async def _pass_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        tag = str(next(self._numbers))
        headers = [(name, value) for name, value in scope["headers"] if name.lower() != CONNECTION_HEADER]
        connection = Connection(receive, send)
        self.connections[tag] = connection
        try:
            await self.app({**scope, "headers": [*headers, (CONNECTION_HEADER, tag.encode())]},
                           connection.receive, connection.send)  # fmt: skip
        finally:
            del self.connections[tag]

    def connection_of(self, client: Any) -> Connection | None:
        """The gate's connection of a Streamlit session client, None if it has none (any more)."""
        context = getattr(client, "client_context", None)
        headers = dict(getattr(context, "headers", ()) or ())
        tag = headers.get(CONNECTION_HEADER.decode())
        return self.connections.get(tag) if tag is not None else None


async def _respond(send: Send, prefix: str, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-cache")]
    await send({"type": f"{prefix}.start", "status": status, "headers": headers})
    await send({"type": f"{prefix}.body", "body": body, "more_body": False})


async def _refuse_websocket(scope: Scope, receive: Receive, send: Send) -> None:
    """HTTP 503 instead of the upgrade (the proxy then tries another replica). Servers without
    the ASGI denial-response extension get a close before accept (HTTP 403)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        await _respond(send, "websocket.http.response", 503, b"draining\n")
    else:
        await send({"type": "websocket.close", "code": SERVICE_RESTART})


async def _flushed(session_client: Any, connection: Connection) -> None:
    """Wait until what the session handed its client has been written to the socket.

    Streamlit 1.67's Starlette session client queues messages (``_send_queue``) for a sender task;
    tests/integration/test_drain.py fails if a run's last messages no longer arrive before the close.
    """
    queue = getattr(session_client, "_send_queue", None)
    while (queue is not None and not queue.empty()) or connection.sending:
        await asyncio.sleep(POLL_SECONDS)


async def _move_off(session: Any, client: Any, connection: Connection) -> None:
    """Close ``session``'s socket once it is settled and its last messages are sent."""
    session.track_settling()
    while True:
        await session.wait_until_settled()
        await _flushed(client, connection)
        if session.is_settled:  # no run started while the last messages went out
            break
    await connection.close()


class Drain:
    """Runs the drain once (``start``), then Streamlit's own stop."""

    def __init__(self, gate: DrainGate, seconds: float) -> None:
        self.gate = gate
        self.seconds = seconds
        self.started: float | None = None

    async def run(self, runtime: Any, stop: Callable[[], None]) -> None:
        self.started = time.monotonic()
        self.gate.draining = True
        atexit.register(self._exiting)
        manager = getattr(runtime, "_session_mgr", None)  # Streamlit 1.67 lists sessions nowhere else
        if manager is None:
            log("this Streamlit's runtime has no _session_mgr: stopping without a drain")
            stop()
            return
        log(f"SIGTERM: draining {manager.num_active_sessions()} session(s), at most {self.seconds:g} s")
        moving: dict[str, asyncio.Task[None]] = {}
        deadline = self.started + self.seconds
        try:
            while time.monotonic() < deadline:
                for info in manager.list_active_sessions():
                    connection = self.gate.connection_of(info.client)
                    if connection is not None and info.session.id not in moving:
                        moving[info.session.id] = asyncio.ensure_future(
                            _move_off(info.session, info.client, connection)
                        )
                if manager.num_active_sessions() == 0 and all(task.done() for task in moving.values()):
                    break
                await asyncio.sleep(0.02)
        finally:
            for task in moving.values():
                task.cancel()
            moved = sum(task.done() and not task.cancelled() for task in moving.values())
            left = manager.num_active_sessions()
            took = time.monotonic() - self.started
            log(f"moved {moved} session(s) in {took:.3f} s; {left} still open (cut off by the stop)")
            stop()

    def _exiting(self) -> None:
        """The last line: Streamlit has stopped (Python's own exit, typically under a second, follows)."""
        log(f"server stopped {time.monotonic() - self.started:.3f} s after SIGTERM")


def install(seconds: float) -> None:
    """Wire the drain into Streamlit's server (before it starts). ``seconds`` bounds the drain."""
    from streamlit.runtime import Runtime
    from streamlit.web import bootstrap
    from streamlit.web.server.starlette import starlette_server

    create_app = getattr(starlette_server, "create_starlette_app", None)
    set_up_signals = getattr(bootstrap, "_set_up_signal_handler", None)
    if create_app is None or set_up_signals is None:
        raise RuntimeError(
            "this Streamlit no longer has starlette_server.create_starlette_app or "
            "bootstrap._set_up_signal_handler: update app/drain.py (tests/integration/test_drain.py "
            "shows what it must do), or start with SERVE_DRAIN_SECONDS=0"
        )
    gates: list[DrainGate] = []

    def create_gated_app(runtime: Any) -> DrainGate:
        gates.append(DrainGate(create_app(runtime)))
        return gates[-1]

    def set_up_draining_signals(server: Any) -> None:
        set_up_signals(server)  # Streamlit's handlers: SIGINT/SIGQUIT stop at once
        loop = asyncio.get_running_loop()
        drain = Drain(gates[-1], seconds)
        tasks: list[asyncio.Task[None]] = []

        def start_or_stop() -> None:
            if drain.started is None:
                tasks.append(asyncio.ensure_future(drain.run(Runtime.instance(), server.stop)))
            else:
                log("second SIGTERM: stopping now")
                server.stop()

        signal.signal(signal.SIGTERM, lambda _number, _frame: loop.call_soon_threadsafe(start_or_stop))

    starlette_server.create_starlette_app = create_gated_app
    bootstrap._set_up_signal_handler = set_up_draining_signals
