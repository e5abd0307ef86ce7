"""Chat: messages with avatars (the defaults, an emoji, the app's own image, an image by URL when a
third party is given) and the chat input."""

import streamlit as st
from corpus import picture, third_party

st.title("Chat")
with st.chat_message("user"):
    st.write("Hello")
with st.chat_message("assistant"):
    st.write("Hi! How can I help?")
with st.chat_message("user", avatar="🧑‍🚀"):
    st.write("An emoji avatar")
with st.chat_message("assistant", avatar=picture(32, 32)):
    st.write("An avatar from the app's bytes")
origin = third_party()
if origin:
    with st.chat_message("assistant", avatar=f"{origin}/photo.png"):
        st.write("An avatar by URL")
if prompt := st.chat_input("Say something"):
    with st.chat_message("user"):
        st.write(prompt)
