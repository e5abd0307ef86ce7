"""A page that comes back on a replica that never held its session gets a whole-page run.

When the replica holding a session goes away (a drain, a crash, a rolling update), Streamlit's
frontend reconnects through the proxy, lands on another replica and gets a new, empty session
there. It asks for a run on reconnect only if its last run was a fragment run or a run was going
(Streamlit 1.67's ``handleConnectionStateChanged``); after a whole-page run (a month change, the
first load) it asks for nothing, so the new session has never run the script and holds no
fragment. The user's next same-month pick is then a rerun of the daily fragment, which Streamlit
drops without a word (``AppSession.request_rerun``: "The fragment ... does not exist anymore"): the
page waits forever and every later pick too.

So the first rerun a session is asked for, when it names a fragment the session does not hold,
becomes a whole-page run with the page's widget states and URL, as the first load would be: the
page is rebuilt on its new replica and shows the picked day (tests/integration/test_failover.py;
tests/browser/test_rolling_update.py shows the page working on after a Swarm rolling update).
Every later request keeps Streamlit's own rule: a rerun of a fragment that a full run removed is
stale, and is dropped.
"""

from __future__ import annotations

from typing import Any

#: Set on a session once it has been asked for a run (the first request is the one that may come
#: from a page that ran elsewhere).
ASKED = "_streamlit_serving_asked_for_a_run"


def whole_page_for_a_new_session(request_rerun: Any) -> Any:
    """Wrap ``AppSession.request_rerun`` (see the module docstring)."""

    def request(self: Any, client_state: Any) -> None:
        first = not getattr(self, ASKED, False)
        setattr(self, ASKED, True)
        fragment_id = getattr(client_state, "fragment_id", "") if client_state is not None else ""
        if first and fragment_id and not self.has_fragment(fragment_id):
            whole = type(client_state)()
            whole.CopyFrom(client_state)
            whole.fragment_id = ""
            client_state = whole
        return request_rerun(self, client_state)

    return request


def install() -> None:
    """Wire it into Streamlit's AppSession (before the server starts)."""
    from streamlit.runtime.app_session import AppSession

    request_rerun = getattr(AppSession, "request_rerun", None)
    if request_rerun is None or not hasattr(AppSession, "has_fragment"):
        raise RuntimeError(
            "this Streamlit's AppSession has no request_rerun/has_fragment: check whether a page that "
            "reconnects to a new session still loses its fragment reruns "
            "(tests/integration/test_failover.py), then update streamlit_serving/failover.py"
        )
    AppSession.request_rerun = whole_page_for_a_new_session(request_rerun)
