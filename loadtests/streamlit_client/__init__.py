"""A small client of Streamlit's WebSocket protocol, for load tests, container tests and benchmarks.

from streamlit_client import StreamlitSession

with StreamlitSession("http://127.0.0.1:8501") as session:   # connect + first run
    day = session.pick_date("2023-01-15")                    # fragment rerun
    full = session.pick_date("2023-01-15", fragment=False)   # whole-script rerun
    month = session.change_month("2023-02-03")               # fragment, st.rerun(), full run
    print(day.wall_time, day.bytes_received, day.fragment_ids, month.outcomes)
"""

from .errors import InteractionTimeout, ServerError, SessionClosed, StreamlitClientError, UnexpectedOutcome
from .session import (
    COMPILE_ERROR,
    DATE_WIDGET,
    EARLY_FOR_RERUN,
    FRAGMENT_SUCCESS,
    SUCCESS,
    Interaction,
    StreamlitSession,
)

__all__ = [
    "COMPILE_ERROR",
    "DATE_WIDGET",
    "EARLY_FOR_RERUN",
    "FRAGMENT_SUCCESS",
    "SUCCESS",
    "Interaction",
    "InteractionTimeout",
    "ServerError",
    "SessionClosed",
    "StreamlitClientError",
    "StreamlitSession",
    "UnexpectedOutcome",
]
