"""Charts: Streamlit's own (line, area, bar, scatter), Altair, Vega-Lite (its data by URL when a
third party is given), Plotly, Matplotlib (st.pyplot: matplotlib from the corpus's own
requirements.txt, as an app brings it), ECharts, Graphviz and Mermaid."""

import altair as alt
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from corpus import third_party

st.title("Charts")
rng = np.random.default_rng(7)
data = pd.DataFrame(rng.normal(size=(20, 3)).cumsum(axis=0), columns=["a", "b", "c"])
left, right = st.columns(2)
left.line_chart(data, height=200)
right.area_chart(data, height=200)
left.bar_chart(data.abs().head(8), height=200)
right.scatter_chart(data, x="a", y="b", height=200)
st.altair_chart(alt.Chart(data.reset_index()).mark_line(point=True).encode(x="index", y="a"), width="stretch")
origin = third_party()
values = {"url": f"{origin}/bars.json"} if origin else {"values": [{"x": "A", "y": 3}, {"x": "B", "y": 5}]}
st.vega_lite_chart(
    {
        "data": values,
        "mark": "bar",
        "encoding": {"x": {"field": "x", "type": "nominal"}, "y": {"field": "y", "type": "quantitative"}},
    },
    width="stretch",
)
figure, axes = plt.subplots(figsize=(5, 2))
axes.plot(data.index, data["a"], marker="o")
axes.set_title("Matplotlib")
st.pyplot(figure)
st.plotly_chart(go.Figure(go.Bar(x=["A", "B", "C"], y=[3, 5, 2])).update_layout(height=260, title="Plotly"))
st.echarts_chart({"xAxis": {"type": "category", "data": ["A", "B", "C"]}, "yAxis": {"type": "value"},
                  "series": [{"type": "line", "data": [3, 5, 2]}]})  # fmt: skip
st.graphviz_chart("digraph { run -> rerun; rerun -> fragment; fragment -> run }")
st.mermaid_chart("graph LR; browser --> proxy --> app")
