"""A page of media, files and session state, for `make bench-rolling` (scripts/bench/bench_rolling_update.py,
loadtests/sales_load/media.py): what a browser's page does beside its WebSocket, through replicas
replaced and added under load.

- an image drawn by each run (``/media/...``, kept in the replica's memory, as a chart's would be);
- a download of the user's notes, and once a file is uploaded, a download of that file;
- an uploader (``/_stcore/upload_file/...``, to the replica that holds the session);
- the app's own ``st.session_state`` of about ``MEDIA_STATE_KB`` kB (default 10): the notes the
  user typed (how many, the last one) and a ballast of random bytes, all changed by every run, so
  the session store (SERVE_SESSION_STORE) saves it after every run. The page shows
  ``notes: N last: TEXT``: a user who typed N notes sees N after its page moved to another replica
  only if its state came with it.
"""

import os

import numpy as np
import streamlit as st

STATE_BYTES = int(float(os.environ.get("MEDIA_STATE_KB", "10")) * 1024)

state = st.session_state
state.setdefault("notes", 0)
state.setdefault("last_note", "")
state.setdefault("runs", 0)
state.runs += 1
# Random bytes (incompressible) of the stated size, new every run: every run's state differs.
state.ballast = os.urandom(max(0, STATE_BYTES - 200))

st.title("Media and files")
note = st.text_input("Note", key="note")
if note and note != state.last_note:
    state.notes += 1
    state.last_note = note
st.text(f"notes: {state.notes} last: {state.last_note}")

pixels = np.full((32, 32, 3), state.runs % 256, dtype=np.uint8)
st.image(pixels, caption=f"run {state.runs}")
st.download_button(
    "Download the notes", data=f"{state.notes} {state.last_note}\n".encode(), file_name="notes.txt"
)

uploaded = st.file_uploader("A file", key="file")
if uploaded is not None:
    data = uploaded.getvalue()
    st.text(f"uploaded: {len(data)} bytes")
    st.download_button("Download the file", data=data, file_name=uploaded.name, key="download_file")
