"""A corpus page of what real apps take from third parties: an image, a video, an audio, an
iframe and a map's basemap style by URL, and the camera (tests/browser/test_browser_policy.py).
The third party's origin comes in the query string (``?origin=http://127.0.0.1:PORT``: the test's
stand-in), so one image serves any port; without it (the first run of `make up`) the page has the
camera alone."""

import pydeck as pdk
import streamlit as st
import streamlit.components.v1 as components

st.title("Third parties")
origin = st.query_params.get("origin", "")
if origin.startswith(("http://127.0.0.1:", "http://localhost:")):
    st.image(f"{origin}/photo.png", caption="An image by URL")
    st.video(f"{origin}/clip.wav")
    st.audio(f"{origin}/clip.wav")
    components.iframe(f"{origin}/frame.html", height=60)
    # A map whose basemap style comes from the third party (as Carto's or Mapbox's would).
    view = pdk.ViewState(latitude=52.5, longitude=13.4, zoom=3)
    st.pydeck_chart(pdk.Deck(map_style=f"{origin}/style.json", initial_view_state=view, layers=[]))
st.camera_input("Camera")
