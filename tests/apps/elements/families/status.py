"""Status: progress, a spinner, a status container, a toast and the four alerts."""

import time

import streamlit as st

st.title("Status")
st.progress(60, text="Progress at 60%")
with st.spinner("A spinner"):
    time.sleep(0.2)
with st.status("A status", expanded=True) as status:
    st.write("a step")
    status.update(label="A status, complete", state="complete")
st.toast("A toast", icon="🍞", duration="infinite")
st.success("Success")
st.info("Info")
st.warning("Warning")
st.error("Error")
