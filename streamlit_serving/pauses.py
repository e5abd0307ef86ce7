"""What makes this process's work wait: Python's garbage-collection pauses and the event loop's lag.

A replica can answer slowly while its CPU is far from its limit: one thread holds the GIL (a
full collection over the heap of a thousand sessions, a long script run) and every WebSocket
message waits for the event loop to get it back. Two histograms, on the metrics port
(``metrics.py``), show it from inside the process:

| metric                                   | type      | labels     |
|------------------------------------------|-----------|------------|
| streamlit_serving_gc_pause_seconds       | histogram | generation |
| streamlit_serving_event_loop_lag_seconds | histogram | (none)     |

``gc_pause``: each collection's wall time, from Python's ``gc.callbacks`` (start and stop, on
the thread that triggered it, with the GIL held: nothing else runs meanwhile). Generation 2 is a
full collection. ``event_loop_lag``: every 100 ms a thread of its own schedules a callback on
Streamlit's event loop (``call_soon_threadsafe``) and observes how long it waited to run: the
wait a message from the browser has before the loop turns to it (its queue of ready callbacks,
plus the GIL). It starts with the loop (``Runtime.start``). Cost: one callback per collection
and ten per second, a few microseconds each.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Histogram

PAUSE_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
LAG_INTERVAL = 0.1  # seconds between the lag probe's callbacks


class GcPauses:
    """A ``gc.callbacks`` entry that observes each collection's wall time by generation."""

    def __init__(self, histogram: Histogram, clock: Callable[[], float] = time.perf_counter) -> None:
        self._histogram = histogram
        self._clock = clock
        self._started = 0.0  # collections never overlap: the GIL is held from start to stop

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = self._clock()
        elif phase == "stop":
            self._histogram.labels(str(info["generation"])).observe(self._clock() - self._started)


class LoopLag:
    """Observes how long a callback scheduled on ``loop`` from another thread waits to run."""

    def __init__(
        self,
        histogram: Histogram,
        interval: float = LAG_INTERVAL,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._histogram = histogram
        self._interval = interval
        self._clock = clock
        self._stopped = threading.Event()

    def start(self, loop: asyncio.AbstractEventLoop) -> threading.Thread:
        thread = threading.Thread(target=self._probe, args=(loop,), name="event-loop-lag", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stopped.set()

    def _probe(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._stopped.wait(self._interval):
            scheduled = self._clock()
            try:
                loop.call_soon_threadsafe(self._observe, scheduled)
            except RuntimeError:  # the loop is closed: the server stopped
                return

    def _observe(self, scheduled: float) -> None:
        self._histogram.observe(self._clock() - scheduled)


def histograms(registry: CollectorRegistry = REGISTRY) -> tuple[Histogram, Histogram]:
    gc_pause = Histogram(
        "streamlit_serving_gc_pause_seconds",
        "Wall time of each garbage collection (generation 2: a full one), the GIL held throughout.",
        ["generation"],
        buckets=PAUSE_BUCKETS,
        registry=registry,
    )
    lag = Histogram(
        "streamlit_serving_event_loop_lag_seconds",
        "How long a callback scheduled on Streamlit's event loop waited to run (probed every 100 ms).",
        buckets=PAUSE_BUCKETS,
        registry=registry,
    )
    return gc_pause, lag


def install(registry: CollectorRegistry = REGISTRY) -> None:
    """Observe GC pauses from now on, and the event loop's lag from the moment Streamlit's Runtime
    starts on it."""
    from streamlit.runtime import Runtime

    gc_pause, lag = histograms(registry)
    gc.callbacks.append(GcPauses(gc_pause))
    start = getattr(Runtime, "start", None)
    if start is None:
        raise RuntimeError(
            "this Streamlit's Runtime has no start(): update streamlit_serving/pauses.py "
            "(tests/integration/test_metrics.py shows what it must do)"
        )
    probe = LoopLag(lag)

    async def start_probed(self: Any) -> None:
        probe.start(asyncio.get_running_loop())
        await start(self)

    Runtime.start = start_probed
