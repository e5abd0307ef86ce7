"""Control flow and state: a form, a fragment that reruns itself every two seconds, st.rerun once at
the first run, query parameters read and written, and session state with a callback."""

import streamlit as st

st.title("Control flow and state")
if "runs" not in st.session_state:
    st.session_state.runs = 0
    st.session_state.reran = False
st.session_state.runs += 1
if not st.session_state.reran:
    st.session_state.reran = True
    st.rerun()
st.write(f"Script runs in this session: {st.session_state.runs} (one st.rerun at the start)")

with st.form("form"):
    name = st.text_input("Name", "Ada")
    submitted = st.form_submit_button("Submit")
st.write(f"Form submitted: {submitted}, name {name}")


@st.fragment(run_every="2s")
def ticker() -> None:
    st.session_state.ticks = st.session_state.get("ticks", 0) + 1
    st.write(f"Fragment runs: {st.session_state.ticks}")


ticker()

st.query_params["seen"] = "yes"
st.write(f"Query parameters: {sorted(st.query_params.keys())}")


def add() -> None:
    st.session_state.count = st.session_state.get("count", 0) + 1


st.button("Add one", on_click=add)
st.write(f"Count: {st.session_state.get('count', 0)}")
