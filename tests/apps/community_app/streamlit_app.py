"""Weather stations: a small multi-file app as it runs on Streamlit Community Cloud, deployed here
with none of its files changed (tests/container/test_community_app.py; docs/your-app.md, "A
database beside the stack"). Its main page reads the stations from data/stations.csv by a path
relative to its root and says which PostgreSQL client library it loaded (libpq5, from its
packages.txt); pages/1_Readings.py reads the readings from PostgreSQL through st.connection("sql")
with the connection of its .streamlit/secrets.toml; weather.py is its own module, imported by both.
"""

import pandas as pd
import streamlit as st
from weather import load_stations, postgres_client

st.set_page_config(page_title="Weather stations", page_icon="🌦️")
st.title("Weather stations")
stations = load_stations()
st.write(f"{len(stations)} stations in data/stations.csv: {', '.join(stations['name'])}")
st.dataframe(stations, hide_index=True)
st.caption(f"Database client: {postgres_client()}")
st.page_link("pages/1_Readings.py", label="Latest readings", icon="🌡️")

# .streamlit/config.toml's server.maxUploadSize caps this uploader.
own = st.file_uploader("Compare with your own readings (CSV: station_id, temperature_c)", type="csv")
if own is not None:
    st.dataframe(pd.read_csv(own), hide_index=True)
