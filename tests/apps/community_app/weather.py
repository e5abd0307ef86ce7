"""The app's own module, imported by both of its pages: Streamlit puts the main script's directory
on sys.path, and the app runs from its root, so data/stations.csv is found by its relative path."""

from __future__ import annotations

import pandas as pd
import streamlit as st

STATIONS = "data/stations.csv"  # relative to the app's root, as on Community Cloud


@st.cache_data
def load_stations() -> pd.DataFrame:
    return pd.read_csv(STATIONS)


def postgres_client() -> str:
    """psycopg's implementation and the libpq it loaded: the pure-Python psycopg finds the system's
    libpq (packages.txt: libpq5), and without it fails to import."""
    import psycopg

    version = psycopg.pq.version()  # e.g. 150013: 15.13
    libpq = f"{version // 10000}.{version % 100}"
    return f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__}) over libpq {libpq}"
