"""Exceptions: one shown on purpose with st.exception (the only exception element of the corpus)."""

import streamlit as st

st.title("Exceptions")
try:
    raise ValueError("an intended exception, shown with st.exception")
except ValueError as error:
    st.exception(error)
