"""Entry point: page layout only. Run: python -m streamlit_serving run app/streamlit_app.py"""

import streamlit as st

from sales_dashboard import TITLE
from sales_dashboard.data import load_sales
from sales_dashboard.settings import Settings, load_settings
from sales_dashboard.views import page_views

# An emoji icon becomes a data: URL in the page; a ":material/...:" icon would be fetched from
# Google's font host, which the proxy's Content-Security-Policy (and offline users) refuse.
st.set_page_config(page_title="Sales dashboard", page_icon="📈", layout="wide")


@st.cache_resource
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner=False)
def shared_sales(current: Settings):
    """One table for every session, never copied: the app only reads it (SALES_TABLE_CACHE=shared)."""
    return load_sales(current)


@st.cache_data(show_spinner=False)
def copied_sales(current: Settings):
    """A fresh unpickled copy on every full run (SALES_TABLE_CACHE=copy; costs ~3 MB per run at 1,000
    products)."""
    return load_sales(current)


# SERVE_AUTH=oidc: the serving layer has run its sign-in gate before this script's first line
# (streamlit_serving/auth.py); nobody who is not signed in and allowed gets here.
current = settings()
data = shared_sales(current) if current.table_cache == "shared" else copied_sales(current)

st.title(TITLE)
st.markdown(
    f"Sales of {len(data.columns):,} products, {data.index[0]:%B %Y} to {data.index[-1]:%B %Y}. "
    "Pick a day: the daily view updates on its own; a new month updates the whole page."
)
daily_view, monthly_view = page_views(current)  # fragments or plain code (SALES_FRAGMENT, ...)
daily, monthly = st.columns(2, gap="large")
with daily:
    daily_view(data, current)
with monthly:
    monthly_view(data, current)
