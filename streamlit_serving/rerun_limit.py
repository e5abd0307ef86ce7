"""A per-session limit on the reruns a client asks for, inside its WebSocket (a token bucket).

The proxy limits requests and sockets per client, but it cannot see the messages inside one
WebSocket: a client can send `rerun_script` BackMsgs as fast as its link allows, and Streamlit
starts a run for each (docs/operations.md measured 500 of them costing a replica ~1.3 s of CPU).
Each WebSocket (one browser session) gets a bucket of ``SERVE_RERUN_BURST`` reruns that refills at
``SERVE_RERUN_RATE`` per second. A rerun that finds the bucket empty closes that socket with 1008
("policy violation", reason ``too many reruns``) before Streamlit sees it, and one line goes to
stderr naming the client; every other message passes untouched, and other sessions are not
affected. ``SERVE_RERUN_RATE=0`` turns the limit off.

The defaults come from what a person can do. A rerun is a pick, the frontend's R shortcut, a
reconnect or a URL change; tests/browser/test_rerun_limit.py drives Chromium as fast as a person
could (dates typed back to back, then R tapped ten times a second for ten seconds) and measured at
most 9 reruns in any second. The bucket lets 40 through at once and 10 a second after that, so
such a person never meets it, while a flood is cut off after its first 40. (Holding R down, at the
keyboard's repeat rate, can reach it after a few seconds.)

Streamlit has no hook for it, so ``install`` wraps the Starlette app Streamlit creates in
``RerunLimit`` (ASGI middleware), as drain.py does for the drain.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from google.protobuf.message import DecodeError
from streamlit.proto.BackMsg_pb2 import BackMsg

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

POLICY_VIOLATION = 1008  # WebSocket close code: a message broke the server's policy
CLOSE_REASON = "too many reruns"


class TokenBucket:
    """``burst`` tokens to start with, ``rate`` more each second up to ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.clock = clock
        self.updated = clock()

    def take(self) -> bool:
        """One token if there is one (True), else False."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def is_rerun(payload: bytes | None) -> bool:
    """True for a BackMsg asking for a run; garbage is left to Streamlit (which closes with 1002)."""
    if not payload:
        return False
    message = BackMsg()
    try:
        message.ParseFromString(payload)
    except DecodeError:
        return False
    return message.WhichOneof("type") == "rerun_script"


def client_of(scope: Scope) -> str:
    """The client for the log: the proxy's X-Real-IP (the browser) and the peer it came through."""
    peer = scope.get("client") or ("?", 0)
    headers = {name.lower(): value for name, value in scope.get("headers", [])}
    real = headers.get(b"x-real-ip", b"").decode("latin-1")
    return f"{real} via {peer[0]}" if real else str(peer[0])


class RerunLimit:
    """ASGI middleware: a token bucket per WebSocket on the ``rerun_script`` messages it carries."""

    def __init__(self, app: ASGIApp, rate: float, burst: int) -> None:
        self.app = app
        self.rate = rate
        self.burst = burst

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or self.rate <= 0:
            await self.app(scope, receive, send)
            return
        bucket = TokenBucket(self.rate, self.burst)
        reruns = 0
        closed = False
        opened = time.monotonic()

        async def limited_receive() -> Message:
            nonlocal closed, reruns
            if closed:
                return {"type": "websocket.disconnect", "code": POLICY_VIOLATION}
            message = await receive()
            if message["type"] != "websocket.receive" or not is_rerun(message.get("bytes")):
                return message
            reruns += 1
            if bucket.take():
                return message
            closed = True
            print(
                f"rerun-limit: closed a session's socket (1008 {CLOSE_REASON}): rerun {reruns} in "
                f"{time.monotonic() - opened:.1f} s, over {self.burst} at once and {self.rate:g}/s after; "
                f"client {client_of(scope)}",
                file=sys.stderr,
                flush=True,
            )
            await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": CLOSE_REASON})
            return {"type": "websocket.disconnect", "code": POLICY_VIOLATION}

        async def guarded_send(message: Message) -> None:
            if not closed:  # after the close, what the app still sends is dropped
                await send(message)

        await self.app(scope, limited_receive, guarded_send)


def install(rate: float, burst: int) -> None:
    """Wrap the Starlette app Streamlit creates in ``RerunLimit`` (before the server starts)."""
    from streamlit.web.server.starlette import starlette_server

    create_app = getattr(starlette_server, "create_starlette_app", None)
    if create_app is None:
        raise RuntimeError(
            "this Streamlit no longer has starlette_server.create_starlette_app: update "
            "streamlit_serving/rerun_limit.py (tests/integration/test_rerun_limit.py shows what it must "
            "do), or start with SERVE_RERUN_RATE=0"
        )

    def create_limited_app(runtime: Any) -> RerunLimit:
        return RerunLimit(create_app(runtime), rate, burst)

    starlette_server.create_starlette_app = create_limited_app
