"""The latest readings, from PostgreSQL: st.connection("sql") is Streamlit's SQLConnection
(SQLAlchemy with psycopg), configured by [connections.sql] of .streamlit/secrets.toml."""

import streamlit as st
from weather import load_stations

st.title("Latest readings")
conn = st.connection("sql")
readings = conn.query(
    "SELECT station_id, taken_at, temperature_c FROM readings ORDER BY taken_at, station_id", ttl=30
)
names = load_stations().set_index("station_id")["name"]
st.write(f"{len(readings)} readings in the database")
for row in readings.itertuples():
    station = names.get(row.station_id, row.station_id)
    st.write(f"{station}: {row.temperature_c:.1f} °C at {row.taken_at:%Y-%m-%d %H:%M}")
st.line_chart(readings, x="taken_at", y="temperature_c", color="station_id")
