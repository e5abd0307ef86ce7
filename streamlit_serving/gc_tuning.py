"""Python's garbage collector, set for a server that holds many sessions (issue 35's cliff).

A replica with ~900 sessions stops every thread for 0.5-0.8 s in each full collection (the GIL is
held from start to end), and Python 3.11 runs one whenever the objects promoted to the oldest
generation since the last one reach a quarter of it. With Python's thresholds (700, 10, 10) the
short-lived objects of every script run and page load are promoted after a fraction of a second,
so under load full collections come every few seconds: the latency cliff of
docs/benchmarks.md ("What a replica does at the cliff"), with the CPU at half its limit. Two
settings (settings.py is their home, docs/settings.md their table):

| variable            | what it does                                                          |
|---------------------|-----------------------------------------------------------------------|
| SERVE_GC_THRESHOLDS | ``gc.set_threshold(t0, t1, t2)`` at start: a young collection after   |
|                     | t0 allocations, so a run's objects die before they are promoted;      |
|                     | ``python``: Python's own (700, 10, 10)                                |
| SERVE_GC_FREEZE     | on: ``gc.freeze()`` once the server is healthy and the app's warm-up  |
|                     | (``SERVE_WARMUP``) ended: the modules and warmed caches leave the heap |
|                     | every full collection scans; off: never                               |

Objects frozen are never collected: the sessions open at that moment keep what they hold in
reference cycles for the process's life (none, when nobody reaches a replica before it is
healthy). Unreachable cycles wait longer with larger thresholds: memory, not correctness.
The pauses themselves are measured by pauses.py (``streamlit_serving_gc_pause_seconds``).
"""

from __future__ import annotations

import gc
import threading
import time

from .hooks import WARMUP_POLL_SECONDS, server_ready


def apply_thresholds(thresholds: tuple[int, int, int] | None) -> str:
    """Set the collector's thresholds (None: Python's own) and say what they are, for the log."""
    if thresholds is not None:
        gc.set_threshold(*thresholds)
    current = ",".join(str(value) for value in gc.get_threshold())
    return f"serve: garbage collection thresholds {current} (SERVE_GC_THRESHOLDS)"


def freeze_when_ready(warmup: threading.Thread | None) -> int | None:
    """Wait for the server to be healthy and the warm-up thread (if any) to end, collect what is
    garbage, then freeze the rest: the objects the collector will never scan again. Returns how
    many were frozen, or None when the server stopped first."""
    while (ready := server_ready()) is False:
        time.sleep(WARMUP_POLL_SECONDS)
    if not ready:
        return None
    if warmup is not None:
        warmup.join()
    gc.collect()
    gc.freeze()
    from streamlit.logger import get_logger

    frozen = gc.get_freeze_count()
    when = "once the server was healthy" if warmup is None else "after the warm-up"
    get_logger(__name__).info("gc: %d objects frozen %s (SERVE_GC_FREEZE=on)", frozen, when)
    return frozen


def start_freeze(enabled: bool, warmup: threading.Thread | None) -> threading.Thread | None:
    """The freeze thread (``SERVE_GC_FREEZE=on``), started; else None."""
    if not enabled:
        return None
    thread = threading.Thread(target=freeze_when_ready, args=(warmup,), name="serve-gc-freeze", daemon=True)
    thread.start()
    return thread
