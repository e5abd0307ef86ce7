"""Locust entry point: the dashboard's load-test scenarios (classes in ``sales_load/users.py``).

Web UI against a running app or stack (open http://127.0.0.1:8089, pick users and rate):

    .venv/bin/locust -f loadtests/locustfile.py --host http://127.0.0.1:8080

Headless, one scenario by class name (or ``--tags fragment|full|month|mix``):

    .venv/bin/locust -f loadtests/locustfile.py --host http://127.0.0.1:8080 --headless \\
        -u 20 -r 5 -t 60s --csv build/loadtest/run --html build/loadtest/run.html FragmentUser

``make loadtest`` (``scripts/loadtest.py``) runs the fragment/full comparison and the report.
"""

from __future__ import annotations

import csv
import time
from collections import defaultdict
from pathlib import Path

from locust import events

# Locust puts this file's directory on sys.path, so the package beside it imports as it does in
# the tests and scripts (pyproject's pythonpath, the venv's .pth).
from sales_load.harness import raise_fd_limit
from sales_load.picks import DEFAULT_SEED
from sales_load.users import FragmentUser, FullRerunUser, MonthHopper, RealisticMix

__all__ = ["FragmentUser", "FullRerunUser", "MonthHopper", "RealisticMix"]


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument(
        "--stream-seed",
        type=int,
        default=DEFAULT_SEED,
        help="seed of the users' day streams (same seed: same picks in every scenario)",
    )
    parser.add_argument(
        "--interaction-timeout",
        type=float,
        default=30.0,
        help="seconds an interaction may take before it counts as a failure",
    )
    parser.add_argument(
        "--message-cache",
        action="store_true",
        default=False,
        help="keep the browser's ForwardMsg cache (unchanged elements then arrive as references)",
    )
    parser.add_argument(
        "--times-csv",
        default="",
        help="write every successful interaction's exact time (name,ms) here at the end: Locust's own "
        "percentiles round times over 1 s to two significant digits",
    )
    parser.add_argument(
        "--events-csv",
        default="",
        help="write every interaction (at,name,ms,failed,resumed; `at`: its end, Unix time) here at the "
        "end, failures and reconnects included: what happened when, e.g. during a rolling update",
    )
    parser.add_argument("--think-min", type=float, default=2.0, help="RealisticMix: shortest think time (s)")
    parser.add_argument("--think-max", type=float, default=8.0, help="RealisticMix: longest think time (s)")


@events.init.add_listener
def _open_files_for_every_user(environment, **_kwargs) -> None:
    """A user is a socket: the soft open-file limit up to the hard one (Locust itself stops at
    10,000), and a clear error now, not thousands of failed connects later, when even that is too low."""
    options = environment.parsed_options
    raise_fd_limit((getattr(options, "num_users", 0) or 0) + 200)


@events.test_start.add_listener
def _drop_users_without_tasks(environment, **_kwargs) -> None:
    """``--tags`` filters tasks; a scenario left with none would fail every spawn, so ``--tags
    fragment`` runs the scenarios that have fragment tasks, and only those."""
    keep = [user_class for user_class in environment.user_classes if user_class.tasks]
    if keep and len(keep) < len(environment.user_classes):
        environment.user_classes[:] = keep


_times: defaultdict[str, list[float]] = defaultdict(list)


def _keep_time(name: str, response_time: float, exception: BaseException | None = None, **_kwargs) -> None:
    if exception is None:
        _times[name].append(response_time)


def _write_times(environment, **_kwargs) -> None:
    with Path(environment.parsed_options.times_csv).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "ms"])
        for name, times in _times.items():
            writer.writerows((name, f"{ms:.3f}") for ms in times)


_events: list[tuple[str, str, str, int, int]] = []


def _keep_event(name: str, response_time: float, exception=None, context=None, **_kwargs) -> None:
    resumed = bool((context or {}).get("resumed"))
    _events.append(
        (f"{time.time():.3f}", name, f"{response_time:.3f}", int(exception is not None), int(resumed))
    )


def _write_events(environment, **_kwargs) -> None:
    with Path(environment.parsed_options.events_csv).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["at", "name", "ms", "failed", "resumed"])
        writer.writerows(_events)


@events.init.add_listener
def _events_only_when_asked(environment, **_kwargs) -> None:
    if environment.parsed_options and environment.parsed_options.events_csv:
        environment.events.request.add_listener(_keep_event)
        environment.events.quitting.add_listener(_write_events)


@events.init.add_listener
def _times_only_when_asked(environment, **_kwargs) -> None:
    """Keep every time only with ``--times-csv``: a long web-UI run would otherwise hold them all."""
    if environment.parsed_options and environment.parsed_options.times_csv:
        environment.events.request.add_listener(_keep_time)
        environment.events.quitting.add_listener(_write_times)
