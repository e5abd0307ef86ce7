"""A page of files, for the tests of routing through scale events: an image and a download the
server keeps in the replica's memory (``/media/...``), and an uploader. Each run draws a new
image, as a real page's chart or export would, so its URL lives only on the replica that ran it."""

import numpy as np
import streamlit as st

st.title("Files")
run = st.session_state.setdefault("runs", 0) + 1
st.session_state.runs = run
pixels = np.full((16, 16, 3), run % 256, dtype=np.uint8)
st.image(pixels, caption=f"run {run}")
st.download_button("Download the run", data=f"run {run}\n".encode(), file_name="run.txt")
uploaded = st.file_uploader("A file")
st.write(f"uploaded: {uploaded.size if uploaded else 0} bytes; session runs: {run}")
