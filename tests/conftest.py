"""Shared pytest set-up for every tier.

A skipped test is a test that did not run: unless ALLOW_SKIPS=1, any skip fails the session,
so a tier that cannot start (no engine, no browser) turns CI red instead of green-and-empty.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit.hello

from streamlit_load.swarm_engine import SwarmEngine, started_swarm_engine


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and os.environ.get("ALLOW_SKIPS") != "1" and exitstatus == 0:
        reporter.write_line(f"ERROR: {skipped} test(s) skipped; set ALLOW_SKIPS=1 to allow", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def swarm_engine() -> Iterator[SwarmEngine]:
    """The Swarm engine (scripts/setup/swarm-engine.sh): a Docker engine of its own for Swarm stacks,
    never the one the user's stacks run on. ``engine.run(...)`` is its docker client,
    ``engine.env()`` the environment for scripts/deploy/swarm.sh, ``engine.load(image)`` copies an image
    built on the host's engine. Started for the session unless it runs already."""
    with started_swarm_engine() as engine:
        yield engine


def copy_hello(dest: Path) -> Path:
    """Streamlit's own ``hello`` multipage demo (``st.navigation``, five pages; it ships inside the
    streamlit wheel), copied to ``dest`` as a user copies an app of theirs: an app nobody here wrote,
    with no ``serve_hooks.py`` and no call into the serving layer. Its main script is
    ``streamlit_app.py``, APP_MAIN's default."""
    shutil.copytree(Path(streamlit.hello.__file__).parent, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture(scope="session")
def hello_app(tmp_path_factory) -> Path:
    """A copy of Streamlit's hello demo outside the repository (``copy_hello``)."""
    return copy_hello(tmp_path_factory.mktemp("hello") / "hello")
