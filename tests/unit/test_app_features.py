"""streamlit_serving/app_features.py: the hints staging prints for what an app's pages will ask
the browser for and its serving.toml does not allow, each with the line to add."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streamlit_serving.app_features import app_hints, file_hints
from streamlit_serving.app_settings import BrowserPolicy

ROOT = Path(__file__).resolve().parents[2]
STRICT = BrowserPolicy()

PAGE = """
import streamlit as st
import streamlit.components.v1 as components
from concurrent.futures import ThreadPoolExecutor

st.camera_input("Photo")
col, = st.columns(1)
col.audio_input("Voice")
st.sidebar.map(df)
ThreadPoolExecutor().map(print, [1])
st.image("https://images.example.com/a.png")
st.video("https://media.example.com/a.mp4")
st.image("static/logo.png")
components.iframe("https://www.youtube.com/embed/x")
st.image(url_built_at_run_time)
"""


def adds(hints) -> list[tuple[int, str]]:
    return [(hint.line, hint.add) for hint in hints]


def test_under_the_strict_default_every_feature_is_a_hint_with_its_line_to_add():
    assert adds(file_hints(PAGE, "page.py", STRICT)) == [
        (6, 'permissions = ["camera"]'),
        (8, 'permissions = ["microphone"]'),
        (9, 'connect = ["https://basemaps.cartocdn.com", "https://*.basemaps.cartocdn.com"]'),
        (11, 'img = ["https://images.example.com"]'),
        (12, 'media = ["https://media.example.com"]'),
        (14, 'frame = ["https://www.youtube.com"]'),
    ]  # not ThreadPoolExecutor().map (line 10), a local image (13), nor a URL built at run time (15)


def test_what_the_settings_allow_is_no_hint():
    browser = BrowserPolicy(
        origins={
            "connect": ("https://basemaps.cartocdn.com",),
            "img": ("https://*.example.com",),
            "media": ("https://media.example.com",),
            "frame": ("https://www.youtube.com",),
        },
        permissions=("camera", "microphone"),
    )
    assert file_hints(PAGE, "page.py", browser) == []


def test_an_origin_of_another_scheme_or_host_is_not_allowed():
    browser = BrowserPolicy(origins={"img": ("http://images.example.com", "https://*.other.org")})
    assert adds(
        file_hints('import streamlit as st\nst.image("https://images.example.com/a.png")\n', "p.py", browser)
    )
    assert file_hints('st.image("https://a.b.other.org/x.png")\n', "p.py", browser) == []


def test_a_syntax_error_is_left_to_the_app_s_first_run():
    assert file_hints("def broken(:\n", "p.py", STRICT) == []


def test_every_python_file_of_the_app_is_read_but_virtualenvs_and_caches(tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "cam.py").write_text("import streamlit as st\nst.camera_input('x')\n")
    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "lib" / "x.py").write_text("import streamlit as st\nst.camera_input('x')\n")
    (tmp_path / "streamlit_app.py").write_text("import streamlit as st\nst.map()\n")
    hints = app_hints(tmp_path, STRICT)
    assert [(hint.path, hint.line, hint.call) for hint in hints] == [
        ("pages/cam.py", 2, "st.camera_input"),
        ("streamlit_app.py", 2, "st.map"),
    ]


@pytest.mark.parametrize("settings", ["", '[browser]\npermissions = ["camera"]\n'])
def test_staging_prints_the_hints_and_goes_on(tmp_path, settings):
    """scripts/deploy/stage-app.sh's call: hints on stderr, exit 0; none once serving.toml allows it."""
    (tmp_path / "streamlit_app.py").write_text("import streamlit as st\nst.camera_input('Photo')\n")
    (tmp_path / "serving.toml").write_text(f'name = "cam"\n{settings}')
    done = subprocess.run(
        [sys.executable, "-m", "streamlit_serving.app_source", "--hints"],
        cwd=ROOT,
        env={**os.environ, "APP_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expected = (
        "app: hint: streamlit_app.py:2: st.camera_input needs the camera, which its serving.toml does not "
        'allow (the browser will refuse it): add under [browser]: permissions = ["camera"]\n'
    )
    assert done.stderr == ("" if settings else expected)
    assert done.stdout == ""


SCRIPTED = """import streamlit as st
import streamlit.components.v1 as components

components.html("<p id='x'></p><script>x.textContent = 'ran'</script>")
st.iframe("<script>alert(1)</script>")
st.iframe("https://www.youtube.com/embed/x")
st.html("<b>sanitized: Streamlit drops a script here</b>")
"""


def test_html_with_a_script_needs_inline_scripts_unless_allowed():
    frame = (6, 'frame = ["https://www.youtube.com"]')  # st.iframe of a URL: a frame-src matter
    assert adds(file_hints(SCRIPTED, "page.py", STRICT)) == [
        (4, "inline_scripts = true"),  # components.html
        (5, "inline_scripts = true"),  # st.iframe of HTML
        frame,
    ]  # not st.html (line 7)
    assert adds(file_hints(SCRIPTED, "page.py", BrowserPolicy(inline_scripts=True))) == [frame]
    # HTML with no <script> anywhere in the file: nothing to allow.
    assert adds(file_hints(SCRIPTED.replace("<script>", "<b>"), "page.py", STRICT)) == [frame]
