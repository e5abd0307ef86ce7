"""Data: a dataframe with an image, a line and a progress column, the data editor, a table,
metrics and JSON."""

import base64

import pandas as pd
import streamlit as st
from corpus import picture, third_party

st.title("Data")
origin = third_party()
photo = f"{origin}/photo.png" if origin else "data:image/png;base64," + base64.b64encode(picture()).decode()
frame = pd.DataFrame(
    {
        "city": ["Lisbon", "Oslo", "Quito"],
        "photo": [photo] * 3,
        "sales": [120, 80, 150],
        "trend": [[1, 3, 2, 5], [4, 2, 2, 1], [2, 2, 4, 6]],
        "share": [0.4, 0.25, 0.35],
    }
)
st.dataframe(
    frame,
    column_config={
        "photo": st.column_config.ImageColumn("Photo"),
        "trend": st.column_config.LineChartColumn("Trend"),
        "share": st.column_config.ProgressColumn("Share", min_value=0, max_value=1),
    },
    hide_index=True,
)
edited = st.data_editor(frame[["city", "sales"]], num_rows="dynamic", key="editor")
st.write(f"Edited total: {edited['sales'].sum()}")
st.table(frame[["city", "sales"]])
left, right = st.columns(2)
left.metric("Sales", "350", "+12%")
right.metric("Returns", "7", "-2", delta_color="inverse", chart_data=[3, 5, 4, 7])
st.json({"cities": ["Lisbon", "Oslo", "Quito"], "nested": {"ok": True, "n": 3}})
