"""Maps: st.map (Carto's basemap, Streamlit's default: serving.toml's connect names it) and a
pydeck chart whose basemap style comes from the third party when one is given."""

import pandas as pd
import pydeck as pdk
import streamlit as st
from corpus import third_party

st.title("Maps")
points = pd.DataFrame({"lat": [38.72, 59.91, -0.18], "lon": [-9.14, 10.75, -78.47]})
st.map(points, zoom=1, height=300)
origin = third_party()
view = pdk.ViewState(latitude=30, longitude=0, zoom=1)
layer = pdk.Layer(
    "ScatterplotLayer", points, get_position="[lon, lat]", get_radius=300_000, get_fill_color=[200, 30, 0]
)
deck = pdk.Deck(map_style=f"{origin}/style.json" if origin else None, initial_view_state=view, layers=[layer])
st.pydeck_chart(deck, height=300)
