"""The rerun limit's parts without a server: the token bucket on a clock of our own, what counts
as a rerun, and the middleware closing a socket with 1008 once its bucket is empty
(tests/integration/test_rerun_limit.py runs it in the real server)."""

from __future__ import annotations

import asyncio

from streamlit.proto.BackMsg_pb2 import BackMsg

from streamlit_serving.rerun_limit import CLOSE_REASON, POLICY_VIOLATION, RerunLimit, TokenBucket, is_rerun


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_lets_its_burst_through_then_the_rate():
    clock = Clock()
    bucket = TokenBucket(rate=5, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.2  # one token back
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.now += 60  # a long pause refills to the burst, never beyond it
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]


def test_only_rerun_backmsgs_count():
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    assert is_rerun(rerun.SerializeToString())
    assert not is_rerun(BackMsg(app_heartbeat=True).SerializeToString())
    assert not is_rerun(b"\xff\xff\xff\xff")  # garbage: left to Streamlit, which closes with 1002
    assert not is_rerun(None)  # a text frame


def run_socket(limit_rate: float, burst: int, incoming: list[bytes]) -> tuple[list[dict], int]:
    """Feed `incoming` binary frames through RerunLimit to an app that reads until disconnect;
    returns what went out to the client and how many frames the app saw."""
    sent: list[dict] = []
    seen = 0
    queue = [{"type": "websocket.connect"}, *({"type": "websocket.receive", "bytes": b} for b in incoming)]

    async def receive() -> dict:
        return queue.pop(0) if queue else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict) -> None:
        sent.append(message)

    async def app(scope, receive, send) -> None:
        nonlocal seen
        while (message := await receive())["type"] != "websocket.disconnect":
            seen += message["type"] == "websocket.receive"
        await send({"type": "websocket.send", "bytes": b"after"})  # dropped once the limit closed

    scope = {"type": "websocket", "client": ("10.0.0.9", 4000), "headers": [(b"x-real-ip", b"203.0.113.7")]}
    asyncio.run(RerunLimit(app, limit_rate, burst)(scope, receive, send))
    return sent, seen


def test_the_middleware_closes_a_flooding_socket_with_1008(capsys):
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    heartbeat = BackMsg(app_heartbeat=True).SerializeToString()
    frames = [heartbeat, *[rerun.SerializeToString()] * 4, heartbeat]
    sent, seen = run_socket(0.001, 3, frames)
    assert seen == 4  # the heartbeat and three reruns; the fourth rerun closes instead
    assert sent == [{"type": "websocket.close", "code": POLICY_VIOLATION, "reason": CLOSE_REASON}]
    line = capsys.readouterr().err
    assert "rerun-limit: closed a session's socket" in line
    assert "rerun 4 " in line
    assert "client 203.0.113.7 via 10.0.0.9" in line


def test_within_the_bucket_or_without_a_limit_nothing_is_closed():
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    frames = [rerun.SerializeToString()] * 3
    assert run_socket(5, 3, frames) == ([{"type": "websocket.send", "bytes": b"after"}], 3)
    assert run_socket(0, 1, frames * 10) == ([{"type": "websocket.send", "bytes": b"after"}], 30)
