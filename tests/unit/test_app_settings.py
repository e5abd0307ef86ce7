"""The app's name (streamlit_serving/app_settings.py, read from its serving.toml): what names its
images, compose project, Swarm stack and registry path. The example declares its own; an app
without one is named after its directory, the repository's own ``app/`` after the repository (a
copy of the template is not named "app"); a bad name stops with exit 64 naming the file and key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streamlit_serving.app_settings import MAX_NAME, SETTINGS_FILE, AppSettingsError, load_app_settings
from streamlit_serving.app_source import REPO


def name_of(app_dir: Path | str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``python3 -m streamlit_serving.app_source --name``, as scripts/images.sh runs it."""
    env = {**os.environ, "APP_DIR": str(app_dir), **extra}
    return subprocess.run(
        [sys.executable, "-m", "streamlit_serving.app_source", "--name"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def an_app(directory: Path, settings: str | None = None) -> Path:
    directory.mkdir(parents=True)
    (directory / "streamlit_app.py").write_text("import streamlit as st\nst.write('hi')\n")
    if settings is not None:
        (directory / SETTINGS_FILE).write_text(settings)
    return directory


def test_the_example_declares_its_name_in_its_own_file():
    assert (REPO / "app" / SETTINGS_FILE).is_file()
    done = name_of("app")
    assert (done.returncode, done.stdout) == (0, "sales-dashboard\n"), done.stderr
    # The images of deploy/images.tsv are named after it.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_IMAGE")}
    images = subprocess.run(["scripts/images.sh", "--env"], cwd=REPO, env=env, capture_output=True, text=True)
    assert "APP_IMAGE=sales-dashboard:dev\nPROXY_IMAGE=sales-dashboard-proxy:dev\n" in images.stdout


def test_an_app_without_a_name_is_named_after_its_directory(tmp_path):
    assert name_of(an_app(tmp_path / "Inventory_Board 2")).stdout == "inventory-board-2\n"
    assert name_of(an_app(tmp_path / "orders", "# no name here\n")).stdout == "orders\n"
    assert name_of(an_app(tmp_path / "x", 'name = "stock-levels"\n')).stdout == "stock-levels\n"


def test_the_repository_s_own_app_folder_is_named_after_the_repository(tmp_path):
    """A copy of the template (``my-dashboard``) whose ``app/`` was replaced by the user's app
    without a serving.toml is named ``my-dashboard``, not ``app``."""
    repo = tmp_path / "My-Dashboard"
    app = an_app(repo / "app")
    assert load_app_settings(app, repo).name == "my-dashboard"
    assert load_app_settings(an_app(repo / "tools"), repo).name == "tools"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ('name = "Sales"\n', "name='Sales' must be lower-case letters"),
        ('name = "-sales"\n', "name='-sales' must be"),
        ('name = "sales-"\n', "name='sales-' must be"),
        ('name = "my_app"\n', "name='my_app' must be"),
        ('name = ""\n', "name='' must be"),
        ("name = 42\n", "name=42 must be"),
        (f'name = "{"a" * (MAX_NAME + 1)}"\n', f"is {MAX_NAME + 1} characters, at most {MAX_NAME}"),
        ('nmae = "x"\n', "unknown key 'nmae'"),
        ('name = "x\n', "not readable TOML"),
    ],
)
def test_a_bad_name_stops_with_64_naming_the_file_and_key(tmp_path, settings, message):
    app = an_app(tmp_path / "app-under-test", settings)
    with pytest.raises(AppSettingsError, match=r"serving\.toml"):
        load_app_settings(app, REPO)
    done = name_of(app)
    assert done.returncode == 64
    assert str(app / SETTINGS_FILE) in done.stderr
    assert message in done.stderr
    assert done.stdout == ""


def test_a_bad_name_stops_the_stacks_before_anything_is_built(tmp_path):
    """scripts/images.sh (which make up, swarm-up, images and push read) exits 64 with the message."""
    app = an_app(tmp_path / "bad", 'name = "Bad Name"\n')
    env = {k: v for k, v in os.environ.items() if not k.endswith("_IMAGE")}
    for script in (["scripts/images.sh"], ["scripts/stack.sh", "up"], ["scripts/swarm.sh", "up"]):
        done = subprocess.run(script, cwd=REPO, env={**env, "APP_DIR": str(app), "SERVE_AUTH": "none-public"},
                              capture_output=True, text=True, check=False, timeout=60)  # fmt: skip
        assert done.returncode == 64, (script, done.stderr)
        assert "serving.toml: name='Bad Name'" in done.stderr
