"""Shared pytest set-up for every tier.

A skipped test is a test that did not run: unless ALLOW_SKIPS=1, any skip fails the session,
so a tier that cannot start (no engine, no browser) turns CI red instead of green-and-empty.
"""

from __future__ import annotations

import os

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and os.environ.get("ALLOW_SKIPS") != "1" and exitstatus == 0:
        reporter.write_line(f"ERROR: {skipped} test(s) skipped; set ALLOW_SKIPS=1 to allow", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
