"""Text: headings, markdown with LaTeX, emoji and Material icons, code, badges; a markdown image by URL."""

import streamlit as st
from corpus import third_party

st.title("Text")
st.header("A header with a divider", divider="blue")
st.subheader("A subheader :material/star:")
st.markdown(
    "**Bold**, _italic_, `code`, :red[red], :blue-background[on blue], an emoji :tada:, "
    "an icon :material/favorite:, and LaTeX inline: $e^{i\\pi} + 1 = 0$."
)
st.latex(r"\int_0^1 x^2\,dx = \tfrac{1}{3}")
st.caption("A caption")
st.code("print('hello, corpus')", language="python")
st.text("Fixed-width text")
st.badge("New", icon=":material/bolt:", color="green")
st.divider()
st.write("st.write of a dict:", {"answer": 42})
origin = third_party()
if origin:
    st.markdown(f"A markdown image by URL: ![a picture]({origin}/photo.png)")
