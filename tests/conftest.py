"""Shared pytest set-up for every tier.

A skipped test is a test that did not run: unless ALLOW_SKIPS=1, any skip fails the session,
so a tier that cannot start (no engine, no browser) turns CI red instead of green-and-empty.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sales_load.swarm_engine import SwarmEngine, started_swarm_engine


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and os.environ.get("ALLOW_SKIPS") != "1" and exitstatus == 0:
        reporter.write_line(f"ERROR: {skipped} test(s) skipped; set ALLOW_SKIPS=1 to allow", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def swarm_engine() -> Iterator[SwarmEngine]:
    """The Swarm engine (scripts/swarm-engine.sh): a Docker engine of its own for Swarm stacks,
    never the one the user's stacks run on. ``engine.run(...)`` is its docker client,
    ``engine.env()`` the environment for scripts/swarm.sh, ``engine.load(image)`` copies an image
    built on the host's engine. Started for the session unless it runs already."""
    with started_swarm_engine() as engine:
        yield engine
