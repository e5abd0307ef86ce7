"""How much does an activity in the background slow an ordinary user down?

``compare(url, activity)`` has one bystander session pick days (fragment reruns) while the
activity is off, then while it runs in a thread, alternating in rounds so that the machine's
own noise (other processes on a shared 2-core box) hits both phases alike. It returns the
bystander's wall times of each phase; ``Comparison.ratio`` is p95 under the activity over the
baseline p95.

An activity is a callable taking a ``threading.Event``: it runs until the event is set. The
``control`` activity (default: nothing) runs during the baseline phase, so a bad-input activity
can be compared with the same amount of good input.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sales_load.page import DashboardSession

Activity = Callable[[threading.Event], None]


def nothing(stop: threading.Event) -> None:
    stop.wait()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class Comparison:
    baseline_ms: list[float] = field(default_factory=list)
    under_ms: list[float] = field(default_factory=list)
    activity_errors: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return p95(self.under_ms) / p95(self.baseline_ms)

    def describe(self) -> str:
        return (
            f"bystander p95 {p95(self.baseline_ms):.0f} ms baseline, {p95(self.under_ms):.0f} ms under the "
            f"activity (ratio {self.ratio:.2f}; n={len(self.baseline_ms)}+{len(self.under_ms)})"
        )


def _phase(session: DashboardSession, activity: Activity, picks: int, errors: list[str]) -> list[float]:
    stop = threading.Event()

    def run() -> None:
        try:
            activity(stop)
        except Exception as exc:  # noqa: BLE001 - reported by the caller, not swallowed
            errors.append(f"{type(exc).__name__}: {exc}")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.3)  # let the activity get going
    times = []
    for i in range(picks):
        day = 2 + (i % 27)
        times.append(session.pick_date(f"2023-01-{day:02d}").wall_time * 1000)
    stop.set()
    thread.join(timeout=30)
    return times


def compare(
    url: str,
    activity: Activity,
    *,
    control: Activity = nothing,
    rounds: int = 4,
    picks: int = 10,
    timeout: float = 30,
    cookies: Mapping[str, str] | None = None,
) -> Comparison:
    """Bystander fragment picks: ``rounds`` x (``picks`` with ``control``, ``picks`` with ``activity``).

    Each round is a session of its own: its picks, back to back, stay within the burst of the
    app's per-session rerun limit (SERVE_RERUN_BURST, 40), which a whole comparison would not.
    ``cookies``: the bystander's (the sign-in cookies of ``streamlit_load.client.signin.sign_in``)."""
    result = Comparison()
    for _ in range(rounds):
        with DashboardSession(url, timeout=timeout, cookies=cookies) as session:
            session.pick_date("2023-01-02")  # warm the session's caches before measuring
            result.baseline_ms += _phase(session, control, picks, result.activity_errors)
            result.under_ms += _phase(session, activity, picks, result.activity_errors)
    return result
