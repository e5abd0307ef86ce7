"""Media from the app's own bytes: an image, an audio and a video (a WAV, which Chromium plays in
<video> too: no video encoder in the image)."""

import streamlit as st
from corpus import picture, tone

st.title("Media")
st.image(picture(), caption="An image from bytes", width=192)
st.audio(tone(), format="audio/wav")
st.video(tone(), format="audio/wav")
