#!/usr/bin/env python3
"""Soak benchmark: does the server's memory, thread and fd count stay flat over thousands of
interactions with session churn? (``make soak``; ``SOAK_ARGS="--interactions 6000"``)

Starts the app locally (``.streamlit/config.toml``, plus ``--server-option`` overrides, e.g.
``runner.postScriptGC=true`` for stock), then ``--workers`` threads each loop: open a session,
do ``--per-session`` interactions (mostly fragment picks, every 10th a full rerun, every 15th a
month change), close it, open the next. Every ``--every`` interactions it prints the server's
RSS, threads, open fds and live sessions (``/_stcore/metrics``). At the end it waits
``--settle`` seconds with no client connected and prints a last row.

Verdict: RSS growth from the first row after warm-up to the last row, per 1,000 interactions;
threads and fds back to (about) their warm-up level. The process exits 1 if any interaction
failed; the figures are for the reader (and docs/benchmarks.md), not a timed test.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

from sales_load.page import DashboardSession
from sales_load.picks import DayStream
from streamlit_load import harness
from streamlit_load.client.errors import StreamlitClientError
from streamlit_load.server_probe import ProcessProbe, http_sessions
from streamlit_load.targets import local_target, server_options


def parse_args() -> argparse.Namespace:
    parser = harness.parser(__doc__, "soak")
    parser.add_argument("--interactions", type=int, default=3000, help="total interactions (default 3000)")
    parser.add_argument("--workers", type=int, default=4, help="concurrent sessions (default 4)")
    parser.add_argument("--per-session", type=int, default=25, help="interactions before a session closes")
    parser.add_argument("--every", type=int, default=500, help="print a row every N interactions")
    parser.add_argument("--products", type=int, default=26, help="SALES_PRODUCT_COUNT")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds idle before the last row")
    parser.add_argument(
        "--server-option", action="append", default=[], metavar="OPT=VALUE", help="extra streamlit option"
    )
    return parser.parse_args()


class Soak:
    def __init__(
        self, url: str, args: argparse.Namespace, probe: ProcessProbe, report: harness.Report
    ) -> None:
        self.url, self.args, self.probe, self.report = url, args, probe, report
        self.sessions = http_sessions(url)
        self.lock = threading.Lock()
        self.done = 0
        self.failed = 0
        self.sessions_opened = 0
        self.next_row = args.every
        self.rows: list[tuple] = []
        self.start = time.monotonic()

    def row(self, label: str) -> None:
        reading = self.probe.read()
        row = (
            label,
            self.done,
            self.sessions_opened,
            reading.rss_bytes / 2**20,
            reading.threads,
            reading.fds,
            self.sessions(),
            reading.cpu_seconds,
            time.monotonic() - self.start,
        )
        self.rows.append(row)
        self.report.line(
            f"{row[0]:<8}{row[1]:>7}{row[2]:>9}{row[3]:>9.1f}{row[4]:>9}{row[5]:>6}{row[6]!s:>10}"
            f"{row[7]:>9.1f}{row[8]:>8.0f}"
        )

    def count(self, ok: bool) -> bool:
        """Count one interaction; True while there is work left."""
        with self.lock:
            self.done += 1
            self.failed += not ok
            if self.done >= self.next_row:
                self.next_row += self.args.every
                self.row("run")
            return self.done < self.args.interactions

    def worker(self, number: int) -> None:
        more = True
        while more:
            with self.lock:
                self.sessions_opened += 1
                stream = DayStream(self.sessions_opened, 7)
            session = DashboardSession(self.url, timeout=60)
            try:
                session.open()
                if stream.month != 1:
                    session.change_month(stream.day)
                for step in range(1, self.args.per_session + 1):
                    if step % 15 == 0:
                        session.change_month(stream.next_month())
                    else:
                        session.pick_date(stream.next_day(), fragment=step % 10 != 0)
                    if not (more := self.count(True)):
                        break
            except StreamlitClientError as exc:
                print(f"worker {number}: {exc}", file=sys.stderr)
                more = self.count(False)
            finally:
                session.close()


def main() -> int:
    args = parse_args()
    env = {"SALES_PRODUCT_COUNT": str(args.products)}
    settings = {
        "interactions": args.interactions, "workers": args.workers, "per session": args.per_session,
        "products": args.products, "options": " ".join(args.server_option) or "(config.toml)",
    }  # fmt: skip
    with (
        harness.Report("soak", args.out, settings) as report,
        local_target(env, server_options(args.server_option)) as server,
    ):
        soak = Soak(server.url, args, server.probe, report)
        report.line(
            f"{'row':<8}{'inter.':>7}{'sessions':>9}{'rss MB':>9}{'threads':>9}{'fds':>6}{'live':>10}"
            f"{'cpu s':>9}{'wall s':>8}"
        )
        soak.row("start")
        threads = [threading.Thread(target=soak.worker, args=(n,)) for n in range(args.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(args.settle)
        soak.row("settled")
        runs = [r for r in soak.rows if r[0] == "run"]
        if len(runs) >= 2:
            first, last = runs[0], soak.rows[-1]
            growth = (last[3] - first[3]) / max(last[1] - first[1], 1) * 1000
            report.figure("rss_mb_per_1000_interactions", growth)
            report.line(
                f"# RSS {first[3]:.1f} MB after {first[1]} interactions -> {last[3]:.1f} MB after {last[1]} "
                f"({growth:+.2f} MB per 1,000 interactions); threads {first[4]} -> {last[4]}, "
                f"fds {first[5]} -> {last[5]}; {soak.sessions_opened} sessions opened; {soak.failed} failed"
            )
        report.figure("rows", soak.rows)
    return 1 if soak.failed else 0


if __name__ == "__main__":
    sys.exit(main())
