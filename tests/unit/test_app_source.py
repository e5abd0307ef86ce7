"""Which app the template serves (streamlit_serving/app_source.py) and how it reaches the image's
build context (scripts/deploy/stage-app.sh): the defaults are the example, any directory works, and each
bad value stops with exit 64 naming it, leaving the last staged copy as it was."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from streamlit_serving.app_source import (
    DEFAULT_APP_DIR,
    DEFAULT_APP_MAIN,
    REPO,
    AppSourceError,
    load_app_source,
    lock_stamp,
)

STAGED = REPO / "build" / "app-src"


def an_app(root: Path) -> Path:
    """A small multipage app outside the repository, with what must not reach an image."""
    (root / "pages").mkdir(parents=True)
    (root / "Home.py").write_text("import streamlit as st\nst.title('home')\n")
    (root / "pages" / "1_Other.py").write_text("import streamlit as st\nst.title('other')\n")
    never = (".streamlit/secrets.toml", ".venv/bin/python", ".git/HEAD", "__pycache__/Home.cpython-311.pyc")
    for junk in never:
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("secret = 'x'\n")
    (root / ".streamlit" / "config.toml").write_text("[theme]\nbase = 'dark'\n")
    return root


def test_the_defaults_are_the_example_app():
    source = load_app_source({})
    assert (source.directory, source.main) == (REPO / "app", "streamlit_app.py")
    assert source.script.is_file()


def test_any_directory_outside_the_repo_and_a_main_script_in_a_subfolder(tmp_path):
    app = an_app(tmp_path / "mine")
    assert load_app_source({"APP_DIR": str(app), "APP_MAIN": "Home.py"}).script == app / "Home.py"
    assert load_app_source({"APP_DIR": str(app), "APP_MAIN": "pages/1_Other.py"}).main == "pages/1_Other.py"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"APP_DIR": "/nonexistent/app"}, "APP_DIR=/nonexistent/app is not a directory"),
        ({"APP_DIR": "README.md"}, "APP_DIR=README.md is not a directory"),
        ({"APP_MAIN": "missing.py"}, "APP_MAIN=missing.py is not a file in APP_DIR=app"),
        ({"APP_MAIN": "../README.md"}, "APP_MAIN=../README.md must be a .py file inside APP_DIR"),
        ({"APP_MAIN": "/etc/passwd"}, "APP_MAIN=/etc/passwd must be a .py file inside APP_DIR"),
        ({"APP_MAIN": "sales_dashboard"}, "APP_MAIN=sales_dashboard must be a .py file"),
    ],
)
def test_a_bad_value_is_refused_naming_it(env, message):
    with pytest.raises(AppSourceError, match=re.escape(message)):
        load_app_source(env)


def test_the_dockerfile_build_args_default_to_the_same_app():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert dockerfile.count(f"ARG APP_DIR={DEFAULT_APP_DIR}\n") == 2  # the builder (its lock) and the runtime
    assert f"ARG APP_MAIN={DEFAULT_APP_MAIN}\n" in dockerfile


def test_requirements_need_a_lock_made_from_them_as_they_are(tmp_path):
    """requirements.txt without requirements.lock, or changed since its lock: refused, naming
    the fix; the lock made from it as it is (its stamp, as scripts/deploy/lock-app.sh writes it): taken."""
    app = an_app(tmp_path / "mine")
    env = {"APP_DIR": str(app), "APP_MAIN": "Home.py"}
    requirements = app / "requirements.txt"
    requirements.write_text("tabulate\n")
    with pytest.raises(
        AppSourceError,
        match=re.escape(
            f"has a requirements.txt but no requirements.lock (hashed); run: make lock APP_DIR={app}"
        ),
    ):
        load_app_source(env)
    (app / "requirements.lock").write_text(lock_stamp(requirements) + "\ntabulate==0.9.0 \\\n")
    assert load_app_source(env).requirements == requirements
    requirements.write_text("tabulate\nhumanize\n")
    with pytest.raises(
        AppSourceError, match=re.escape("was not made from") + ".*" + re.escape("run: make lock")
    ):
        load_app_source(env)
    assert load_app_source(env, locked=False).requirements == requirements  # what make lock itself reads


def test_the_example_has_no_requirements_of_its_own_the_image_installs_requirements_app_txt():
    assert load_app_source({}).requirements is None


def test_the_command_line_exits_64_naming_the_variable():
    result = subprocess.run(
        [sys.executable, "-m", "streamlit_serving.app_source", "--script"],
        cwd=REPO, env={"APP_MAIN": "nope.py"}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (64, "")
    assert "app: APP_MAIN=nope.py is not a file in APP_DIR=app" in result.stderr


def stage(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["scripts/deploy/stage-app.sh"], cwd=REPO, env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_staging_copies_the_app_without_secrets_virtualenvs_or_caches(tmp_path):
    app = an_app(tmp_path / "mine")
    try:
        result = stage({"APP_DIR": str(app), "APP_MAIN": "Home.py"})
        assert (result.returncode, result.stdout) == (0, "Home.py\n"), result.stderr
        staged = sorted(str(path.relative_to(STAGED)) for path in STAGED.rglob("*") if path.is_file())
        assert staged == [".streamlit/config.toml", "Home.py", "pages/1_Other.py"]
    finally:
        assert stage({}).returncode == 0  # the example back, as every build stages it anyway


def test_a_bad_app_stops_staging_with_64_and_leaves_the_last_copy(tmp_path):
    assert stage({}).returncode == 0
    before = sorted(STAGED.rglob("*"))
    result = stage({"APP_DIR": str(tmp_path / "typo")})
    assert result.returncode == 64
    assert f"APP_DIR={tmp_path / 'typo'} is not a directory" in result.stderr
    assert sorted(STAGED.rglob("*")) == before
