"""The protocol client on an app it has never seen (streamlit_load.client/widgets.py): it learns every
widget from the frames, makes a value a person could set for each kind, and a real server accepts
it (the page shows the value back, no exception); a widget in a fragment reruns the fragment alone,
one outside reruns the script; a widget in a form, a disabled one and one with no value to make up
are left alone. This is what AnyAppUser (loadtests/streamlit_load/users.py) does under load."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamlit_load.client import StreamlitSession
from streamlit_load.client.widgets import new_state
from streamlit_load.local_server import Server, running_server

EVERY_KIND = """import datetime
import streamlit as st

day = datetime.date
values = {
    "slider": st.slider("a slider", 0, 100, 50, 5),
    "range": st.slider("a range", 0.0, 1.0, (0.2, 0.8)),
    "select_slider": st.select_slider("a select slider", ["low", "mid", "high"], "mid"),
    "number": st.number_input("a number", 1, 20, 10),
    "float": st.number_input("a float", value=1.5, step=0.5),
    "selectbox": st.selectbox("a selectbox", ["north", "south", "east"]),
    "radio": st.radio("a radio", ["one", "two", "three"]),
    "multiselect": st.multiselect("a multiselect", ["a", "b", "c", "d"], max_selections=2),
    "checkbox": st.checkbox("a checkbox"),
    "toggle": st.toggle("a toggle"),
    "text": st.text_input("a text"),
    "area": st.text_area("an area"),
    "date": st.date_input("a date", day(2023, 5, 1), day(2023, 1, 1), day(2023, 12, 31)),
    "time": st.time_input("a time", datetime.time(9, 0)),
    "colour": st.color_picker("a colour", "#00aa00"),
    "button": st.button("a button"),
}
st.write("values " + repr(values))
st.file_uploader("a file")  # nothing to make up
st.slider("a disabled slider", 0, 10, 5, disabled=True)
with st.form("a form"):
    st.slider("a slider in a form", 0, 10, 5)
    st.form_submit_button("submit")


@st.fragment
def part():
    st.write("part " + repr(st.slider("a slider in a fragment", 0, 10, 3)))


part()
"""


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory) -> Iterator[Server]:
    app = tmp_path_factory.mktemp("every-kind") / "streamlit_app.py"
    app.write_text(EVERY_KIND)
    with running_server(app=Path(app), env={"SERVE_RERUN_RATE": "0"}) as started:
        yield started


def test_every_changeable_widget_gets_a_value_the_server_accepts(every_kind):
    rng = random.Random(7)
    with StreamlitSession(every_kind.base_url) as session:
        widgets = {widget.label: widget for widget in session.widgets.values()}
        changeable = sorted(label for label, widget in widgets.items() if widget.changeable)
        assert changeable == sorted([
            "a slider", "a range", "a select slider", "a number", "a float", "a selectbox", "a radio",
            "a multiselect", "a checkbox", "a toggle", "a text", "an area", "a date", "a time",
            "a colour", "a button", "a slider in a fragment",
        ])  # fmt: skip
        left_alone = {"a file", "a disabled slider", "a slider in a form", "submit"}
        assert left_alone <= set(widgets)
        assert all(new_state(widgets[label], rng) is None for label in left_alone)
        for label in changeable:
            for _ in range(3):
                widget = session.widgets[session.widget_id(label)]
                ran = session.change(new_state(widget, rng))
                assert not ran.exceptions, (label, ran.exceptions)
                assert ran.outcome in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"), label
                if widget.fragment_id:
                    assert ran.runs == [(widget.fragment_id,)], label  # the fragment alone
                    assert any(text.startswith("part ") for text in ran.texts)
                else:
                    assert ran.runs == [()], label  # the whole script
                    assert any(text.startswith("values ") for text in ran.texts)
        assert session.widgets[session.widget_id("a button")].kind == "button"


def test_a_value_made_up_for_a_widget_keeps_to_its_bounds(every_kind):
    rng = random.Random(11)
    with StreamlitSession(every_kind.base_url) as session:
        slider = session.widgets[session.widget_id("a slider")]
        date = session.widgets[session.widget_id("a date")]
        picks = [new_state(slider, rng).double_array_value.data[0] for _ in range(200)]
        assert min(picks) >= 0
        assert max(picks) <= 100
        assert all(value % 5 == 0 for value in picks)  # its step
        days = [new_state(date, rng).string_array_value.data[0] for _ in range(200)]
        assert min(days) >= "2023-01-01"
        assert max(days) <= "2023-12-31"
