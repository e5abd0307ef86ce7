"""What the corpus pages share: the stand-in third party's origin and small media made here, so no
page needs the network or a file beside it.

The third party's origin comes in the query string (``?origin=http://127.0.0.1:PORT``, the
browser test's stand-in) and is kept in the session for the pages opened from the navigation;
without it (the first run of `make up`, a person's look) the pages leave their third-party parts
out and show everything else."""

from __future__ import annotations

import io
import math
import wave

import streamlit as st
from PIL import Image, ImageDraw

LOOPBACK = ("http://127.0.0.1:", "http://localhost:")


def third_party() -> str:
    """The stand-in's origin when the page was given one on the loopback, else ""."""
    origin = st.query_params.get("origin", "") or st.session_state.get("origin", "")
    if not origin.startswith(LOOPBACK):
        return ""
    st.session_state.origin = origin
    return origin


@st.cache_data
def picture(width: int = 96, height: int = 64) -> bytes:
    """A PNG drawn here: a gradient with a circle."""
    image = Image.new("RGB", (width, height))
    image.putdata([(x * 255 // width, y * 255 // height, 160) for y in range(height) for x in range(width)])
    ImageDraw.Draw(image).ellipse(
        (width // 3, height // 4, width // 3 + height // 2, 3 * height // 4), fill="white"
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@st.cache_data
def tone(seconds: float = 0.5, hertz: int = 440) -> bytes:
    """A WAV (8 kHz, 8-bit mono) of a sine tone: what <audio> and <video> both play in Chromium."""
    rate = 8000
    frames = bytes(
        128 + int(100 * math.sin(2 * math.pi * hertz * i / rate)) for i in range(int(rate * seconds))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return out.getvalue()
