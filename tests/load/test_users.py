"""The Locust users on a real server: headless Locust runs, and outcome checks that can fail."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace

import pytest

from sales_load.page import DashboardSession
from sales_load.picks import DayStream, expect_fragment, expect_full
from streamlit_load.client.errors import UnexpectedOutcome
from streamlit_load.dev_provider import ALLOWED_USER, OTHER_USER
from streamlit_load.harness import MACHINE_PACED
from streamlit_load.local_server import REPO, Server, running_server
from streamlit_load.targets import local_target


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running_server(env=MACHINE_PACED) as started:  # the users pick back to back
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
    with DashboardSession(server.base_url, timeout=20) as session:
        full = session.pick_date("2023-01-05", fragment=False)
        with pytest.raises(UnexpectedOutcome, match="outside the fragment"):
            expect_fragment(full)
        expect_full(full)
        fragment = session.pick_date("2023-01-06")
        expect_fragment(fragment)
        with pytest.raises(UnexpectedOutcome, match="no page deltas"):
            expect_full(fragment)


# Run in a child process: importing Locust monkey-patches the interpreter with gevent. One
# RealisticMix user on the server argv[1] in page mode argv[2]; `fired`: [name, error, messages].
ONE_USER = """
import json, sys
from types import SimpleNamespace
from locust.env import Environment
from sales_load.users import RealisticMix

RealisticMix.host = sys.argv[1]
environment = Environment(user_classes=[RealisticMix], host=sys.argv[1],
                          parsed_options=SimpleNamespace(page_mode=sys.argv[2]))
fired = []
environment.events.request.add_listener(
    lambda name, exception, context, **_: fired.append([name, repr(exception) if exception else None,
                                                        context.get("messages")]))
user = RealisticMix(environment)
"""
COME_BACK = (
    ONE_USER
    + """
user.connect()
user.pick_day(fragment=True)
picked, first_socket = user.stream.day.isoformat(), user.session
first_socket.close()  # the socket is gone, as when its replica stops
user.pick_day(fragment=True)  # comes back first (resume), then picks
after = {"picked": picked, "url": first_socket.query_string, "connects": first_socket.connects,
         "same_page": user.session is first_socket, "day": user.stream.day.isoformat()}
user.session.close()
user.session, user.page_query = None, "date=2023-05-06"  # could not come back: reopen the URL
user.pick_day(fragment=True)
reopened = {"month": user.stream.month, "url": user.session.query_string}
print(json.dumps({"fired": fired, "after": after, "reopened": reopened}))
"""
)


def test_a_user_comes_back_as_a_browser_does_with_its_day_from_the_url(server, tmp_path):
    """After its socket closes the user resumes the same page (``reconnect``: same widget states
    and URL, the page shows its day); a user that could not come back reopens its page's URL and
    goes on from the day that URL names, not from one it remembers."""
    result = subprocess.run(
        [sys.executable, "-c", COME_BACK, server.base_url, "fragment"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    names = [name for name, _, _ in report["fired"]]
    assert [error for _, error, _ in report["fired"]] == [None] * len(names)
    start = names.index("reconnect")
    assert names[start:] == ["reconnect", "fragment_rerun", "initial_load", "fragment_rerun"]
    after = report["after"]
    assert after["same_page"], "the user kept its page (cookies, widget states, URL)"
    assert after["connects"] == 2
    named = "" if after["day"] == "2023-01-01" else f"date={after['day']}"  # the first day: no parameter
    assert after["url"] == named, "every pick is in the page's URL"
    assert report["reopened"]["month"] == 5, "the reopened page's day, not the one the user had"
    assert report["reopened"]["url"].startswith("date=2023-05-")


# A user whose last run was a whole page comes back asking for no run (the frontend's rule) and its
# socket reaches a session that never ran (no session id to resume: its replica is gone).
SILENT_COME_BACK = (
    ONE_USER
    + """
user.connect()
user.pick_day(fragment=False)  # the page's last run: the whole page
page = user.session
held = page.session_id
page.close()
page.session_id = ""
user.pick_day(fragment=True)  # comes back silently, then picks: a new session answers
after = {"day": user.stream.day.isoformat(), "url": page.query_string, "new_session": page.session_id != held,
         "same_page": user.session is page}
user.hop_month()
user.pick_day(fragment=True)
print(json.dumps({"fired": fired, "after": after}))
"""
)

PICK_NAMES = {"fragment": "fragment_rerun", "views": "fragment_rerun", "plain": "full_rerun"}
MODE_ENV = {"fragment": {}, "views": {"SALES_MONTH_RERUN": "views"}, "plain": {"SALES_FRAGMENT": "off"}}


@pytest.mark.parametrize("mode", list(PICK_NAMES))
def test_in_every_mode_a_user_that_comes_back_without_a_run_goes_on_with_its_day(server, mode):
    """The load users follow the frontend's rule in each page mode: no rerun on a reconnect after
    a whole-page run (``reconnect`` with no message, checked on the URL's day), the next pick is
    answered by the new session with the user's day, and the picks after it are checked as usual."""
    env = MODE_ENV[mode]
    with running_server(env={**env, "SERVE_WARMUP": "off"}) if env else nullcontext(server) as target:
        result = subprocess.run(
            [sys.executable, "-c", SILENT_COME_BACK, target.base_url, mode],
            cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert [error for _, error, _ in report["fired"]] == [None] * len(report["fired"]), report["fired"]
    names = [name for name, _, _ in report["fired"]]
    start = names.index("reconnect")
    pick = PICK_NAMES[mode]
    assert names[start:] == ["reconnect", pick, "month_change", pick]
    assert report["fired"][start][2] == 0, "no run asked for on coming back"
    after = report["after"]
    assert after["same_page"], "the user kept its page (widget states, URL)"
    assert after["new_session"], "a session that never ran answered"
    named = "" if after["day"] == "2023-01-01" else f"date={after['day']}"  # the first day: no parameter
    assert after["url"] == named


@pytest.fixture(scope="module")
def signed_in_server() -> Iterator[SimpleNamespace]:
    """The app with SERVE_AUTH=oidc against the development provider (a local process)."""
    with local_target(sign_in=True) as target:
        yield SimpleNamespace(base_url=target.url)


def test_signed_in_users_sign_in_once_each_then_pick_as_without(signed_in_server, tmp_path):
    stats = locust(signed_in_server, tmp_path, "--sign-in", ALLOWED_USER, "FragmentUser")
    assert stats["sign_in"]["Request Count"] == "4"  # once per user, through the provider's form
    assert stats["initial_load"]["Request Count"] == "4"
    assert int(stats["fragment_rerun"]["Request Count"]) > 0
    assert stats["Aggregated"]["Failure Count"] == "0"


def test_a_user_the_gate_refuses_fails_its_first_load(signed_in_server, tmp_path):
    """The signed-in check can fail: a user outside the allow-list signs in but sees no dashboard."""
    command = [
        sys.executable, "-m", "locust", "-f", str(REPO / "loadtests" / "locustfile.py"), "--host",
        signed_in_server.base_url, "--headless", "-u", "2", "-r", "2", "-t", "5s", "--csv",
        str(tmp_path / "run"), "--only-summary", "--sign-in", OTHER_USER, "FragmentUser",
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    with Path(tmp_path / "run_stats.csv").open() as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    assert stats["sign_in"]["Failure Count"] == "0"
    assert int(stats["initial_load"]["Failure Count"]) > 0
    assert stats["initial_load"]["Failure Count"] == stats["initial_load"]["Request Count"]
