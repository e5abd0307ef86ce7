"""The runtime's flush cycle visits only the sessions that have something to send.

Streamlit 1.67's Runtime loop (``Runtime._loop_coroutine``) wakes whenever any session enqueues a
message, and then walks every connected session: ``flush_browser_queue()`` (which swaps in a new
empty list and dict even when there was nothing) and ``on_flushed_messages_sent()``, then sleeps
5 ms and starts again while messages keep coming. So each message costs a walk over every
session, and the walk's cost grows with the readers times their activity. Profiled at 1,750
readers on two replicas (``make bench-cliff``, docs/benchmarks.md), the walk and its empty flushes
held about a fifth of the GIL's time, on the event loop every message waits for.

Here the loop's call to ``list_active_sessions()`` gets only the sessions whose queue holds a
message or that wait to settle (``AppSession._settle_pending``: a tracked session whose last
messages were already sent asks for one more cycle); every other caller still gets every
session. For a session with something to send nothing changes. A session that enqueues after
the check sets the loop's ``need_send_data`` again, so the next cycle sends it, as in stock
Streamlit, and an empty queue's flush did nothing but allocate.
"""

from __future__ import annotations

import sys
from typing import Any


def has_something_to_send(info: Any) -> bool:
    session = info.session
    return not session._browser_queue.is_empty() or session._settle_pending


def install() -> None:
    """Patch the session manager's ``list_active_sessions`` for the Runtime loop's caller only.
    Raises RuntimeError naming what this Streamlit lacks."""
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.runtime import Runtime
    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

    loop = getattr(Runtime, "_loop_coroutine", None)
    listed = getattr(WebsocketSessionManager, "list_active_sessions", None)
    assigned = set(AppSession.__init__.__code__.co_names)  # the attributes __init__ sets
    if (
        loop is None
        or listed is None
        or "list_active_sessions" not in loop.__code__.co_names
        or not {"_browser_queue", "_settle_pending"} <= assigned
    ):
        raise RuntimeError(
            "this Streamlit's Runtime loop or AppSession changed: update streamlit_serving/flush.py "
            "(tests/integration/test_flush.py shows what it must do)"
        )
    loop_code = loop.__code__

    def list_active_sessions(self: Any) -> list[Any]:
        every = listed(self)
        if sys._getframe(1).f_code is loop_code:  # the flush cycle: only who has something to send
            return [info for info in every if has_something_to_send(info)]
        return every

    WebsocketSessionManager.list_active_sessions = list_active_sessions
