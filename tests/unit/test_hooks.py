"""streamlit_serving/hooks.py: finding the app's main script and its serve_hooks.py, and what an app
without hooks, or with some of them, gets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from streamlit_serving.hooks import AppHooks, load_hooks, main_script, start_warmup
from streamlit_serving.settings import SettingsError


@pytest.mark.parametrize(
    ("argv", "script"),
    [
        (["run", "app/streamlit_app.py", "--server.port", "1"], Path("app/streamlit_app.py")),
        (["run", "--server.port=1", "demo/Hello.py"], Path("demo/Hello.py")),
        (["version"], None),
        (["run"], None),
    ],
)
def test_main_script(argv, script):
    assert main_script(argv) == script


def test_an_app_without_hooks_gets_none_and_its_folder_on_the_path(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "streamlit_app.py").write_text("")
    assert load_hooks(tmp_path / "streamlit_app.py") == AppHooks()
    assert sys.path[0] == str(tmp_path)
    assert start_warmup(AppHooks(), enabled=True) is None


def test_hooks_are_read_from_beside_the_main_script(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "serve_hooks", raising=False)
    (tmp_path / "streamlit_app.py").write_text("")
    (tmp_path / "own_settings.py").write_text("LIMIT = 3\n")
    check = "def check():\n    if LIMIT > 2:\n        raise ValueError(f'LIMIT={LIMIT}')\n"
    (tmp_path / "serve_hooks.py").write_text(f"from own_settings import LIMIT\n\n{check}")
    hooks = load_hooks(tmp_path / "streamlit_app.py")
    assert (hooks.warm_up, hooks.collectors, hooks.sign_in_title) == (None, None, None)
    with pytest.raises(ValueError, match="LIMIT=3"):
        hooks.check()


def test_warmup_is_off_when_switched_off_even_with_a_hook():
    assert start_warmup(AppHooks(warm_up=lambda: None), enabled=False) is None


@pytest.mark.parametrize(
    ("value", "outcome"), [('"Team reports"', "Team reports"), ("3", "must be a string, not int")]
)
def test_the_sign_in_title_is_a_string_or_the_start_stops_naming_it(tmp_path, monkeypatch, value, outcome):
    """SIGN_IN_TITLE: the sign-in page's heading; anything but a string is a SettingsError (serve.py:
    exit 64 with this message)."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "serve_hooks", raising=False)
    (tmp_path / "streamlit_app.py").write_text("")
    (tmp_path / "serve_hooks.py").write_text(f"SIGN_IN_TITLE = {value}\n")
    if outcome == "Team reports":
        assert load_hooks(tmp_path / "streamlit_app.py").sign_in_title == outcome
    else:
        with pytest.raises(SettingsError, match=f"serve_hooks.py: SIGN_IN_TITLE {outcome}"):
            load_hooks(tmp_path / "streamlit_app.py")
