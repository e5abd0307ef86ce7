"""A small client of Streamlit's WebSocket protocol, for load tests, container tests and benchmarks.

from streamlit_load.client import StreamlitSession
import random

from streamlit_load.client.widgets import new_state

with StreamlitSession("http://127.0.0.1:8501") as session:   # connect + first run
    for widget in session.widgets.values():                  # what the page shows, learnt from its frames
        state = new_state(widget, random.Random(1))          # a value a person could pick
        if state is not None:
            step = session.change(state)                     # rerun: the widget's fragment, or the page
            print(step.wall_time, step.bytes_received, step.fragment_ids, step.outcomes)

An app's own moves (the example dashboard's date picks and month changes) live beside its
scenarios: ``sales_load.page.DashboardSession``.
"""

from .errors import InteractionTimeout, ServerError, SessionClosed, StreamlitClientError, UnexpectedOutcome
from .modes import COMPILE_ERROR, EARLY_FOR_RERUN, FRAGMENT_SUCCESS, SUCCESS
from .session import Interaction, StreamlitSession

__all__ = [
    "COMPILE_ERROR",
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
