"""An app as Community Cloud runs it: its data read by a path relative to its own root, its own
.streamlit/config.toml (a theme, one of the template's defaults, a pinned option), and, when the
stack gives it one, a file it writes in its data directory (SERVE_DATA_DIR).
tests/integration/test_app_home.py serves it locally, tests/container/test_app_home.py in the image."""

import os
from pathlib import Path

import pandas as pd
import streamlit as st

st.title("App home")
sales = pd.read_csv("data/x.csv")  # relative to the app's root, as on Community Cloud
st.text(f"cities {','.join(sales['city'])} total {sales['amount'].sum()}")
st.text(f"working directory {os.getcwd()}")
for key in (
    "server.disconnectedSessionTTL",
    "runner.postScriptGC",
    "client.toolbarMode",
    "theme.primaryColor",
):
    st.text(f"option {key}={st.get_option(key)}")
data_dir = os.environ.get("SERVE_DATA_DIR", "")
if data_dir:
    counter = Path(data_dir) / "visits.txt"
    visits = int(counter.read_text()) + 1 if counter.is_file() else 1
    counter.write_text(str(visits))
    st.text(f"visits {visits}")
else:
    st.text("no data directory")
