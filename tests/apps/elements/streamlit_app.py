"""The element corpus: one small page per Streamlit element family, as one multipage app
(st.navigation of st.Page), served by tests/browser/test_elements.py under plain `streamlit run`
and through the template, page by page. No network: what a page takes from a third party comes
from the origin in its query string (corpus.py)."""

import streamlit as st
from corpus import third_party

st.set_page_config(page_title="Element corpus", page_icon="🧪", layout="wide")
third_party()  # kept in the session for the pages the navigation opens

FAMILIES = [
    ("text", "Text", "📝"),
    ("data", "Data", "🗃️"),
    ("charts", "Charts", "📈"),
    ("maps", "Maps", "🗺️"),
    ("inputs", "Inputs", "🎛️"),
    ("devices", "Camera and microphone", "🎙️"),
    ("media", "Media", "🎞️"),
    ("layouts", "Layouts", "🧱"),
    ("chat", "Chat", "💬"),
    ("status", "Status", "🚦"),
    ("exceptions", "Exceptions", "💥"),
    ("components", "Components", "🧩"),
    ("control", "Control flow and state", "🔁"),
]


def home() -> None:
    st.title("Element corpus")
    st.write("One page per family of Streamlit elements:")
    for page in pages[1:]:
        st.page_link(page)


pages = [st.Page(home, title="Home", icon="🏠", default=True)] + [
    st.Page(f"families/{name}.py", title=title, icon=icon, url_path=name) for name, title, icon in FAMILIES
]
st.navigation(pages).run()
