"""Custom components: components.html with a script and components.iframe of the third party's
page (when one is given), both still what most apps use though Streamlit 1.67 deprecates them
for st.iframe, which is here too (HTML with a script); and st.html (sanitized, no script)."""

import streamlit as st
import streamlit.components.v1 as components
from corpus import third_party

SCRIPTED = (
    "<p id='out'>{name}</p><script>document.getElementById('out').textContent += ', its script ran';</script>"
)

st.title("Components")
components.html(SCRIPTED.format(name="components.html"), height=50)
st.iframe(SCRIPTED.format(name="st.iframe"), height=50)
st.html("<p style='color: teal'>st.html: <b>sanitized HTML</b></p>")
origin = third_party()
if origin:
    components.iframe(f"{origin}/frame.html", height=50)
