"""A small client of Streamlit's WebSocket protocol, for load tests, container tests and benchmarks.

from streamlit_load.client import StreamlitSession

with StreamlitSession("http://127.0.0.1:8501") as session:   # connect + first run
    day = session.pick_date("2023-01-15")                    # fragment rerun
    full = session.pick_date("2023-01-15", fragment=False)   # whole-script rerun
    month = session.change_month("2023-02-03")               # fragment, st.rerun(), full run
    print(day.wall_time, day.bytes_received, day.fragment_ids, month.outcomes)

A page started with SALES_FRAGMENT or SALES_MONTH_RERUN set: tell the session,
``StreamlitSession(url, mode=PageMode.from_env(env))``, and picks and month changes follow it.
"""

from .errors import InteractionTimeout, ServerError, SessionClosed, StreamlitClientError, UnexpectedOutcome
from .modes import COMPILE_ERROR, EARLY_FOR_RERUN, FRAGMENT_SUCCESS, SUCCESS, PageMode
from .session import DATE_WIDGET, Interaction, StreamlitSession

__all__ = [
    "COMPILE_ERROR",
    "DATE_WIDGET",
    "EARLY_FOR_RERUN",
    "FRAGMENT_SUCCESS",
    "SUCCESS",
    "Interaction",
    "InteractionTimeout",
    "PageMode",
    "ServerError",
    "SessionClosed",
    "StreamlitClientError",
    "StreamlitSession",
    "UnexpectedOutcome",
]
