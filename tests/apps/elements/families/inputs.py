"""Input widgets: every kind, with what each returned."""

import datetime as dt

import streamlit as st

st.title("Inputs")
left, right = st.columns(2)
with left:
    clicked = st.button("Button")
    st.download_button("Download", data=b"a,b\n1,2\n", file_name="corpus.csv", mime="text/csv")
    st.link_button("Link button", "https://docs.streamlit.io")
    checked = st.checkbox("Checkbox", value=True)
    toggled = st.toggle("Toggle")
    radio = st.radio("Radio", ["one", "two", "three"], horizontal=True)
    choice = st.selectbox("Selectbox", ["red", "green", "blue"])
    many = st.multiselect("Multiselect", ["red", "green", "blue"], default=["green"])
    pills = st.pills("Pills", ["small", "large"], default="small")
with right:
    level = st.slider("Slider", 0, 10, 3)
    size = st.select_slider("Select slider", ["S", "M", "L"], value="M")
    text = st.text_input("Text input", "hello")
    number = st.number_input("Number input", value=2.5)
    day = st.date_input("Date input", dt.date(2026, 1, 15))
    at = st.time_input("Time input", dt.time(9, 30))
    area = st.text_area("Text area", "two\nlines")
    color = st.color_picker("Color picker", "#1f77b4")
    uploaded = st.file_uploader("File uploader")
st.write(
    {
        "button": clicked,
        "checkbox": checked,
        "toggle": toggled,
        "radio": radio,
        "selectbox": choice,
        "multiselect": many,
        "pills": pills,
        "slider": level,
        "select_slider": size,
        "text": text,
        "number": number,
        "date": str(day),
        "time": str(at),
        "text_area": area,
        "color": color,
        "uploaded": uploaded.name if uploaded else None,
    }
)
