"""Locust entry point: the dashboard's load-test scenarios (classes in ``users.py``).

Web UI against a running app or stack (open http://127.0.0.1:8089, pick users and rate):

    .venv/bin/locust -f loadtests/locustfile.py --host http://127.0.0.1:8080

Headless, one scenario by class name (or ``--tags fragment|full|month|mix``):

    .venv/bin/locust -f loadtests/locustfile.py --host http://127.0.0.1:8080 --headless \\
        -u 20 -r 5 -t 60s --csv build/loadtest/run --html build/loadtest/run.html FragmentUser

``make loadtest`` (``loadtests/compare.py``) runs the fragment/full comparison and the report.
"""

from __future__ import annotations

import sys
from pathlib import Path

from locust import events

sys.path.insert(0, str(Path(__file__).resolve().parent))

from users import DEFAULT_SEED, FragmentUser, FullRerunUser, MonthHopper, RealisticMix

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
