"""Layouts: columns, tabs, an expander, a popover, the sidebar, a bordered container and a dialog
that opens with the page."""

import streamlit as st

st.title("Layouts")
one, two, three = st.columns(3)
one.write("column one")
two.write("column two")
three.write("column three")
first, second = st.tabs(["First tab", "Second tab"])
first.write("in the first tab")
second.write("in the second tab")
with st.expander("An expander", expanded=True):
    st.write("inside the expander")
with st.popover("A popover"):
    st.write("inside the popover")
with st.container(border=True):
    st.write("inside a bordered container")
st.sidebar.header("Sidebar")
st.sidebar.write("in the sidebar")


@st.dialog("A dialog")
def dialog() -> None:
    st.write("inside the dialog")


if not st.session_state.get("dialog_shown"):
    st.session_state.dialog_shown = True
    dialog()
