"""A test app for the session store (tests/integration/test_session_store.py): a chat-like list
and a run counter in the app's own st.session_state, a keyed text input (a widget's key, which the
store must not bring back), a button (must not replay) and a value that cannot be pickled."""

import threading

import streamlit as st

# What the first line of a run sees, before this run changes anything.
seen = st.session_state.get("runs", 0), len(st.session_state.get("messages", []))
st.text(f"seen at start: runs={seen[0]} messages={seen[1]}")

st.session_state.setdefault("runs", 0)
st.session_state.setdefault("messages", [])
st.session_state.setdefault("lock", threading.Lock())  # cannot be pickled: skipped, logged
st.session_state.runs += 1


def say() -> None:
    st.session_state.messages.append(f"message {len(st.session_state.messages) + 1}")


st.button("Say", key="say", on_click=say)
note = st.text_input("Note", key="note")
st.text(f"runs: {st.session_state.runs}")
st.text(f"messages: {st.session_state.messages}")
st.text(f"note: {note!r}")
st.text(f"say pressed: {st.session_state.say}")
