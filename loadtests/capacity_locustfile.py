"""Locust entry point of ``make capacity``: RealisticMix users (the example; AnyAppUser for any app)
stepped up by the CapacityLadder shape.

    .venv/bin/locust -f loadtests/capacity_locustfile.py --host http://127.0.0.1:8080 --headless \\
        --ladder 10,25,50,100 --ladder-hold 30 --think-min 10 --think-max 30 --forwarded-for \\
        --times-csv build/capacity/times.csv --ladder-log build/capacity/ladder.jsonl

``python -m sales_load.capacity_cli`` runs it per configuration and reads what it wrote. Every option of
``locustfile.py`` applies (it is imported, with its listeners); the shape replaces -u/-r/-t.
"""

from __future__ import annotations

from locust import events

from locustfile import AnyAppUser, RealisticMix  # the scenarios, with the locustfile's options and listeners
from sales_load.capacity_shape import CapacityLadder

__all__ = ["AnyAppUser", "CapacityLadder", "RealisticMix"]


@events.init_command_line_parser.add_listener
def _ladder_options(parser) -> None:
    parser.add_argument("--ladder", default="10,25,50,100", help="concurrent users per step (increasing)")
    parser.add_argument("--ladder-spawn-rate", type=float, default=25.0, help="users started per second")
    parser.add_argument("--ladder-settle", type=float, default=5.0, help="seconds after spawning, not judged")
    parser.add_argument(
        "--ladder-hold", type=float, default=30.0, help="seconds each step is held and judged"
    )
    parser.add_argument(
        "--ladder-min-interactions", type=int, default=20, help="a hold is extended until it has this many"
    )
    parser.add_argument("--p95-budget", type=float, default=250.0, help="p95 (ms) a step may not exceed")
    parser.add_argument("--ladder-log", default="", help="append one JSON line per judged step here")
