"""The camera and the microphone: serving.toml's permissions name both."""

import streamlit as st

st.title("Camera and microphone")
photo = st.camera_input("Camera")
recording = st.audio_input("Microphone")
size = {"photo": photo, "recording": recording}
st.write({name: len(value.getvalue()) if value else 0 for name, value in size.items()})
