"""A person clicking as fast as they can never meets the per-session rerun limit
(streamlit_serving/rerun_limit.py: SERVE_RERUN_BURST reruns at once, SERVE_RERUN_RATE a second
after that), on the stack with its shipped settings.

The browser types dates into the picker as fast as Playwright drives it (each a rerun), then taps
the frontend's R shortcut (rerun) ten times a second for ten seconds: faster than anyone keeps it
up. The rerun BackMsgs the page sent are replayed through the same token bucket, so the test says
how much of the bucket was left at the worst moment (and fails if none was), and the server must
not have closed it for that (its log says so when it does).
"""

from __future__ import annotations

import time
from datetime import date

from streamlit_serving.rerun_limit import TokenBucket
from streamlit_serving.settings import ServingSettings

from .dashboard import Dashboard
from .stack import Stack


def lowest_level(times: list[float], rate: float, burst: int) -> float:
    """The fewest tokens left in the server's bucket after each of the reruns at `times`
    (-1: one of them would have been refused)."""
    ticks = iter([times[0], *times])
    bucket = TokenBucket(rate, burst, clock=lambda: next(ticks))
    lowest = float(burst)
    for _ in times:
        if not bucket.take():
            return -1.0
        lowest = min(lowest, bucket.tokens)
    return lowest


def rerun_limit_closes(stack: Stack) -> int:
    """How many sockets the app has closed for too many reruns (its `rerun-limit:` log lines)."""
    logs = stack.stack("logs", "--no-color", "app")
    assert logs.returncode == 0, logs.stderr[-2000:]
    return sum("rerun-limit: closed" in line for line in logs.stdout.splitlines())


def test_the_fastest_clicking_never_reaches_the_rerun_limit(dashboard: Dashboard, stack: Stack) -> None:
    settings = ServingSettings()
    closes = rerun_limit_closes(stack)
    page = dashboard.page
    mark = dashboard.wire.mark()
    started = time.monotonic()
    for day in range(2, 22):
        dashboard.type_date(f"2023-01-{day:02d}")
    typed = time.monotonic() - started
    page.get_by_role("heading", name="Daily vs monthly sales").click()
    for _ in range(100):
        page.keyboard.press("r")
        page.wait_for_timeout(100)
    page.wait_for_timeout(2_000)
    sent = [event.at for event in dashboard.wire.events[mark:] if event.kind == "sent"
            and event.message.WhichOneof("type") == "rerun_script"]  # fmt: skip
    span = sent[-1] - sent[0]
    busiest = max(sum(1 for t in sent if start <= t < start + 1) for start in sent)
    lowest = lowest_level(sent, settings.rerun_rate, settings.rerun_burst)
    print(
        f"{len(sent)} reruns in {span:.1f} s (20 typed dates in {typed:.1f} s, then 100 R taps); "
        f"busiest second {busiest}; the bucket ({settings.rerun_burst}, {settings.rerun_rate:g}/s) "
        f"kept at least {lowest:.1f}"
    )
    assert len(sent) >= 40, "the page sent fewer reruns than the test meant to cause"
    assert lowest >= 0, "a rerun the browser sent would have been refused"
    # The server's own word (the page's socket may also drop when the host's network changes).
    assert rerun_limit_closes(stack) == closes, "the app closed a socket for too many reruns"
    run = dashboard.pick(date(2023, 1, 28))  # still served as ever
    assert run.outcomes[-1] == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"
