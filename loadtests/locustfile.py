"""Locust entry point: the dashboard's load-test scenarios (classes in ``sales_load/users.py``),
``MediaUser`` (the media page of `make bench-rolling`, ``sales_load/media.py``) and ``AnyAppUser``,
the user for any app (``streamlit_load/users.py``: it learns the app's widgets from the frames and
names each interaction by what the server ran, fragment or full).

Web UI against a running app or stack (open http://127.0.0.1:8089, pick users and rate); for the
stack `make up` started, its local CA in STACK_CA_FILE (streamlit_load.client/tls.py):

    STACK_CA_FILE=deploy/secrets/local-tls/ca.pem .venv/bin/locust -f loadtests/locustfile.py \\
        --host https://localhost:8443

Headless, one scenario by class name (or ``--tags fragment|full|month|mix``):

    .venv/bin/locust -f loadtests/locustfile.py --host https://localhost:8443 --headless \\
        -u 20 -r 5 -t 60s --csv build/loadtest/run --html build/loadtest/run.html FragmentUser

``make loadtest`` (``python -m sales_load.loadtest``) runs the fragment/full comparison and the report.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

import gevent
from locust import events
from locust.runners import WorkerRunner

from sales_load.media import MediaUser
from sales_load.picks import DEFAULT_SEED
from sales_load.users import FragmentUser, FullRerunUser, MonthHopper, RealisticMix
from streamlit_load.harness import raise_fd_limit  # the kit and the scenarios: the installed project
from streamlit_load.users import AnyAppUser

__all__ = ["AnyAppUser", "FragmentUser", "FullRerunUser", "MediaUser", "MonthHopper", "RealisticMix"]


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
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the browser's ForwardMsg cache, as every browser does (default; unchanged elements "
        "then arrive as references); --no-message-cache: every rerun's full output",
    )
    parser.add_argument(
        "--times-csv",
        default="",
        help="write every interaction's exact time here at the end (name, ms, end as epoch seconds, "
        "failed 0/1): Locust's own percentiles round times over 1 s to two significant digits",
    )
    parser.add_argument(
        "--page-mode",
        choices=("fragment", "views", "plain"),
        default="fragment",
        help="how the page under test was started: fragment (the tutorial, the default), views "
        "(SALES_MONTH_RERUN=views) or plain (SALES_FRAGMENT=off: every pick reruns the script)",
    )
    parser.add_argument(
        "--forwarded-for",
        action="store_true",
        default=False,
        help="each user sends an X-Forwarded-For address of its own (10.x.y.z), as a load balancer "
        "would name it: against a proxy in load-balancer mode each user meets the per-client limits alone",
    )
    parser.add_argument(
        "--sign-in",
        default="",
        metavar="EMAIL",
        help="sign each user in once as this test user of the development OpenID provider "
        "(deploy/oidc-dev/users.json; the app runs with SERVE_AUTH=oidc)",
    )
    parser.add_argument(
        "--app-think",
        type=float,
        default=0.0,
        help="AnyAppUser: mean seconds between a user's interactions (0.5x to 1.5x of it; default 0)",
    )
    parser.add_argument(
        "--think-min", type=float, default=2.0, help="RealisticMix, MediaUser: shortest think time (s)"
    )
    parser.add_argument(
        "--think-max", type=float, default=8.0, help="RealisticMix, MediaUser: longest think time (s)"
    )


@events.init.add_listener
def _clock_from_now(**_kwargs) -> None:
    """gevent's loop keeps the time of its last turn, and none has run since Locust patched it
    before importing this file: on a busy machine seconds ago. ``--run-time`` is timed from that
    clock, so a 10 s run ended after 4 s here. Refresh it before the run is timed."""
    gevent.get_hub().loop.update_now()


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


# (name, ms, end as epoch seconds, failed, resumed: a pick answered by the page's rerun after a reconnect)
_times: list[tuple[str, float, float, int, int]] = []


def _keep_time(name: str, response_time: float, exception: BaseException | None = None, **kwargs) -> None:
    resumed = int(bool((kwargs.get("context") or {}).get("resumed")))
    _times.append((name, response_time, time.time(), int(exception is not None), resumed))


def _write_times(environment, **_kwargs) -> None:
    """Every interaction of this process; a ``--processes`` worker writes ``<file>.<pid>`` (its
    master, which runs no users, writes the file itself, empty)."""
    path = environment.parsed_options.times_csv
    if isinstance(environment.runner, WorkerRunner):
        path = f"{path}.{os.getpid()}"
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "ms", "end", "failed", "resumed"])
        writer.writerows((name, f"{ms:.3f}", f"{end:.3f}", *flags) for name, ms, end, *flags in _times)


@events.init.add_listener
def _times_only_when_asked(environment, **_kwargs) -> None:
    """Keep every time only with ``--times-csv``: a long web-UI run would otherwise hold them all."""
    if environment.parsed_options and environment.parsed_options.times_csv:
        environment.events.request.add_listener(_keep_time)
        environment.events.quitting.add_listener(_write_times)
