#!/usr/bin/env python3
"""Benchmark: the largest WebSocket messages of a session, each way, to size server.maxMessageSize.

Streamlit's ``server.maxMessageSize`` (MB) caps both directions: a bigger incoming frame closes the
socket (1009) before it is parsed, and a bigger outgoing message is replaced by an error in the
page. For each --products it starts a local server and walks one session through every kind of
interaction a user has: the first page, a pick of every day of January (fragment reruns), a day in
every other month (month changes), and whole-page reruns. Prints the largest frame the server sent
(browser cache off: every message whole, as a new browser gets it) and the largest the client sent
(browser cache on: each rerun carries the hashes of the messages it holds, which grows with use).

    .venv/bin/python scripts/bench/bench_messages.py --products 26 1000
"""

from __future__ import annotations

import calendar
import sys

from sales_load.page import DashboardSession
from streamlit_load import harness
from streamlit_load.local_server import ServerStartError
from streamlit_load.targets import local_target

MB = 2**20


class Measured(DashboardSession):
    """A session that remembers its largest frame each way."""

    largest_sent = 0
    largest_received = 0

    def send_raw(self, payload: bytes | str) -> None:
        self.largest_sent = max(self.largest_sent, len(payload))
        super().send_raw(payload)

    def _receive(self, deadline: float):
        received = super()._receive(deadline)
        self.largest_received = max(self.largest_received, received[1])
        return received


def walk(url: str, *, message_cache: bool) -> Measured:
    """Every kind of interaction once or more; returns the session with its largest frames."""
    with Measured(url, timeout=300, message_cache=message_cache) as session:
        for day in range(2, 32):
            session.pick_date(f"2023-01-{day:02d}")
        for month in range(2, 13):
            session.change_month(f"2023-{month:02d}-{calendar.monthrange(2023, month)[1]:02d}")
        for day in (3, 4):
            session.pick_date(f"2023-12-{day:02d}", fragment=False)
        return session


def main() -> int:
    parser = harness.parser(__doc__, "bench_messages")
    parser.add_argument(
        "--products", type=int, nargs="+", default=[26, 1000], help="SALES_PRODUCT_COUNT values"
    )
    args = parser.parse_args()
    try:
        with harness.Report("bench_messages", args.out, {"products": args.products}) as report:
            report.line(
                f"{'products':>9}{'largest sent by the server':>30}{'largest sent by the browser':>30}"
            )
            for products in args.products:
                env = {"SALES_PRODUCT_COUNT": str(products), "SERVE_WARMUP": "off"}
                with local_target(env) as server:
                    outgoing = walk(server.url, message_cache=False).largest_received
                    incoming = walk(server.url, message_cache=True).largest_sent
                report.figure(f"{products}", {"server_to_browser": outgoing, "browser_to_server": incoming})
                report.line(f"{products:>9}{outgoing / MB:>24.3f} MB{incoming / 1024:>24.1f} kB")
    except ServerStartError as exc:
        sys.exit(f"server did not start:\n{exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
