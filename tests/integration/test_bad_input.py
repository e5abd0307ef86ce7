"""Bad input over the protocol: what the client sees, and that the server and the other
sessions carry on.

Streamlit's DateInputSerde (streamlit/elements/widgets/time_widgets.py) parses each entry
with "%Y-%m-%d" or "%Y/%m/%d"; an entry it cannot parse, or a date outside min..max, makes
the widget fall back to its default value (here 2023-01-01), silently: no error, no alert.
An empty array is a cleared field (the app shows its "Pick a day" hint).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from sales_load.page import DATE_WIDGET, DashboardSession
from streamlit_load.client import (
    EARLY_FOR_RERUN,
    FRAGMENT_SUCCESS,
    SUCCESS,
    InteractionTimeout,
    ServerError,
    SessionClosed,
)

if TYPE_CHECKING:
    from local_server import Server

BAD_DATES = ["2023-13-45", "garbage", "", "2022-12-31", "2024-01-01"]
ServerFine = Callable[..., None]


@pytest.mark.parametrize("value", BAD_DATES)
def test_bad_date_in_the_same_month_shows_the_default_day(
    session: DashboardSession, value: str, assert_server_fine: ServerFine
) -> None:
    """Malformed or out-of-range: the widget reads as its default, 2023-01-01. From a
    January pick that is the same month, so only the fragment reruns, showing January 1."""
    session.pick_date("2023-01-20")
    bad = session.pick_date(value)
    assert bad.outcomes == [FRAGMENT_SUCCESS]
    assert not bad.outside_fragment
    assert bad.has_text("Best sellers, January 1, 2023")
    assert not bad.exceptions
    assert_server_fine(session)


@pytest.mark.parametrize("value", BAD_DATES)
def test_bad_date_from_another_month_reruns_the_page_on_january(
    session: DashboardSession, value: str
) -> None:
    """The same fallback from a March pick is a month change: fragment run, st.rerun(), then a
    full run whose monthly view shows January 2023."""
    session.change_month("2023-03-10")
    bad = session.pick_date(value)
    assert bad.outcomes == [EARLY_FOR_RERUN, SUCCESS]
    assert bad.has_text("Best sellers, January 1, 2023")
    assert bad.has_text("Daily sales for all products, January 2023")


def test_legacy_slash_format_is_accepted(session: DashboardSession) -> None:
    """'YYYY/MM/DD' is a second format DateInputSerde parses: a normal pick of January 5."""
    picked = session.pick_date("2023/01/05")
    assert picked.outcomes == [FRAGMENT_SUCCESS]
    assert picked.has_text("Best sellers, January 5, 2023")


def test_cleared_date_shows_the_hint(session: DashboardSession) -> None:
    """An empty string_array_value is a cleared field: st.date_input returns None and the
    fragment shows its st.info hint instead of the tables."""
    cleared = session.pick_date(None)
    assert cleared.outcomes == [FRAGMENT_SUCCESS]
    assert cleared.texts == ["Pick a day between 2023-01-01 and 2023-12-31."]


def test_unknown_widget_ids_are_ignored(session: DashboardSession, assert_server_fine: ServerFine) -> None:
    """States for ids no widget has are dropped without a word: runs finish normally."""
    stray = WidgetState(id="$$ID-00000000000000000000000000000000-no_such_widget")
    stray.string_array_value.data.append("2023-05-05")
    session.set_widget_state(stray)
    session.set_widget_state(WidgetState(id="not an element id", int_value=7))
    full = session.rerun()
    assert full.outcomes == [SUCCESS]
    assert full.has_text("Best sellers, January 1, 2023")
    picked = session.pick_date("2023-01-07")
    assert picked.outcomes == [FRAGMENT_SUCCESS]
    assert picked.has_text("Best sellers, January 7, 2023")
    assert_server_fine(session)


def test_wrong_value_type_for_the_date_breaks_only_that_session(
    server: Server, session: DashboardSession, assert_server_fine: ServerFine
) -> None:
    """An int_value for the date widget makes DateInputSerde.deserialize raise TypeError
    inside the run: it ends FINISHED_FRAGMENT_RUN_SUCCESSFULLY with one exception element,
    details redacted (client.showErrorDetails = "none"), and the client raises ServerError.

    The bad value stays in that session's widget state: every later rerun fails the same way
    (SessionState._compact_state deserialises it before new states apply), even with a good
    date. Only a new session recovers; the server and other sessions are unaffected.
    """
    with DashboardSession(server.base_url, timeout=10) as victim:
        widget = victim.widget_id(DATE_WIDGET)
        victim.set_widget_state(WidgetState(id=widget, int_value=5))
        with pytest.raises(ServerError) as raised:
            victim.rerun(victim.fragment_of(DATE_WIDGET))
        broken = raised.value.interaction
        assert broken.outcomes == [FRAGMENT_SUCCESS]
        assert len(broken.exceptions) == 1
        assert "redacted" in broken.exceptions[0]
        assert "TypeError" not in broken.exceptions[0]  # no internals leak to the browser
        for fragment in (True, False):
            with pytest.raises(ServerError):
                victim.pick_date("2023-01-08", fragment=fragment)
    assert "TypeError: 'int' object is not iterable" in server.log()
    assert_server_fine(session)


def test_unknown_fragment_id_gets_no_reply(session: DashboardSession, assert_server_fine: ServerFine) -> None:
    """AppSession.request_rerun drops a rerun of a fragment it does not hold, and sends
    nothing: the client times out with InteractionTimeout saying so. The session stays usable."""
    with pytest.raises(InteractionTimeout, match="unknown fragment id"):
        session.rerun("0123456789abcdef0123456789abcdef", timeout=2)
    assert session.pick_date("2023-01-11").has_text("Best sellers, January 11, 2023")
    assert_server_fine(session)


@pytest.mark.parametrize("payload", [b"\x0f", b"\xff\xff\xff\xff", b"not a protobuf at all"])
def test_garbage_bytes_close_the_socket_with_protocol_error(
    server: Server, session: DashboardSession, payload: bytes, assert_server_fine: ServerFine
) -> None:
    """A binary frame that is not a BackMsg: the server closes that socket with 1002
    (protocol error) and logs the DecodeError; other sessions are untouched."""
    with DashboardSession(server.base_url, timeout=10) as victim:
        victim.send_raw(payload)
        assert victim.wait_closed(5) == 1002
        assert not victim.connected
    assert "Error deserializing back message" in server.log()
    assert_server_fine(session)


def test_text_frame_drops_the_socket(
    server: Server, session: DashboardSession, assert_server_fine: ServerFine
) -> None:
    """A text frame: Streamlit 1.67 expects Starlette to raise RuntimeError and would close
    with 1000, but Starlette 1.10 raises KeyError('bytes') instead, so the handler dies and
    uvicorn drops the TCP connection without a close frame: SessionClosed with no code.
    The session is cleaned up and other sessions are untouched."""
    with DashboardSession(server.base_url, timeout=10) as victim:
        victim.send_raw("hello")
        assert victim.wait_closed(5) is None
        with pytest.raises(SessionClosed):
            victim.pick_date("2023-01-02")
    assert_server_fine(session)


def test_empty_binary_frame_is_ignored(session: DashboardSession, assert_server_fine: ServerFine) -> None:
    """An empty frame parses as a BackMsg with no type: the server logs 'No handler for
    "None"', replies nothing and keeps the socket open."""
    session.heartbeat()  # consumes everything still queued from the first run
    session.send_raw(b"")
    assert session.idle(0.5).messages == 0
    assert session.connected
    assert session.pick_date("2023-01-12").has_text("Best sellers, January 12, 2023")
    assert_server_fine(session)
