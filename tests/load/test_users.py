"""The Locust users on a real server: headless Locust runs, and outcome checks that can fail."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sales_load.local_server import REPO, Server, running_server
from sales_load.picks import DayStream, expect_fragment, expect_full
from streamlit_client import StreamlitSession
from streamlit_client.errors import UnexpectedOutcome


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running_server() as started:
        yield started


def locust(server: Server, out: Path, *classes: str, seconds: int = 8) -> dict[str, dict[str, str]]:
    out.mkdir(parents=True, exist_ok=True)
    prefix = out / "run"
    command = [
        sys.executable, "-m", "locust", "-f", str(REPO / "loadtests" / "locustfile.py"), "--host",
        server.base_url, "--headless", "-u", "4", "-r", "4", "-t", f"{seconds}s", "--csv", str(prefix),
        "--only-summary", *classes,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    with Path(f"{prefix}_stats.csv").open() as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def test_month_hoppers_and_the_realistic_mix_run_without_failures(server, tmp_path):
    stats = locust(server, tmp_path, "MonthHopper", "RealisticMix")
    assert int(stats["month_change"]["Request Count"]) > 0
    assert int(stats["initial_load"]["Request Count"]) == 4
    assert stats["Aggregated"]["Failure Count"] == "0"


def test_users_keep_the_browsers_message_cache_unless_told_not_to(server, tmp_path):
    """Browser-like by default: a same-month full rerun gets the unchanged monthly table and chart
    as references, so it receives far fewer bytes than with --no-message-cache."""
    cached = locust(server, tmp_path / "cached", "FullRerunUser", seconds=10)
    plain = locust(server, tmp_path / "plain", "FullRerunUser", "--no-message-cache", seconds=10)
    with_cache = float(cached["full_rerun"]["Average Content Size"])
    without = float(plain["full_rerun"]["Average Content Size"])
    assert with_cache < 0.8 * without, (with_cache, without)


def test_tags_select_the_scenario(server, tmp_path):
    stats = locust(server, tmp_path, "--tags", "full", seconds=5)  # every class; tags pick FullRerunUser
    assert "full_rerun" in stats
    assert "fragment_rerun" not in stats


def test_fragment_and_full_users_walk_the_same_days():
    first, second = DayStream(3, 7), DayStream(3, 7)
    assert [first.next_day() for _ in range(20)] == [second.next_day() for _ in range(20)]
    assert {d.month for d in (first.next_day() for _ in range(40))} == {4}
    assert [DayStream(4, 7).next_day() for _ in range(5)] != [DayStream(3, 7).next_day() for _ in range(5)]


def test_a_full_rerun_fails_the_fragment_check_and_vice_versa(server):
    with StreamlitSession(server.base_url, timeout=20) as session:
        full = session.pick_date("2023-01-05", fragment=False)
        with pytest.raises(UnexpectedOutcome, match="outside the fragment"):
            expect_fragment(full)
        expect_full(full)
        fragment = session.pick_date("2023-01-06")
        expect_fragment(fragment)
        with pytest.raises(UnexpectedOutcome, match="no page deltas"):
            expect_full(fragment)
