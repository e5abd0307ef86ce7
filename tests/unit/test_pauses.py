"""streamlit_serving/pauses.py: each garbage collection's pause is observed by its generation, and
the event loop's lag probe sees a loop that is kept busy (a callback that holds it for 300 ms)."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

from prometheus_client import CollectorRegistry

from streamlit_serving.pauses import GcPauses, LoopLag, histograms


def observed(
    registry: CollectorRegistry, name: str, labels: dict[str, str] | None = None
) -> tuple[float, float]:
    """(count, sum) of histogram ``name``."""
    count = registry.get_sample_value(f"{name}_count", labels or {}) or 0.0
    total = registry.get_sample_value(f"{name}_sum", labels or {}) or 0.0
    return count, total


def test_a_full_collection_is_observed_as_generation_2_with_its_wall_time() -> None:
    registry = CollectorRegistry()
    gc_pause, _ = histograms(registry)
    ticks = iter([10.0, 10.25])
    callback = GcPauses(gc_pause, clock=lambda: next(ticks))
    gc.callbacks.append(callback)
    try:
        gc.collect(2)
    finally:
        gc.callbacks.remove(callback)
    assert observed(registry, "streamlit_serving_gc_pause_seconds", {"generation": "2"}) == (1.0, 0.25)


def test_real_collections_are_observed_by_generation() -> None:
    registry = CollectorRegistry()
    gc_pause, _ = histograms(registry)
    callback = GcPauses(gc_pause)
    gc.callbacks.append(callback)
    try:
        garbage = [[i] for i in range(50_000)]  # enough allocations for young collections
        del garbage
        gc.collect(1)
    finally:
        gc.callbacks.remove(callback)
    young, _ = observed(registry, "streamlit_serving_gc_pause_seconds", {"generation": "0"})
    middle, spent = observed(registry, "streamlit_serving_gc_pause_seconds", {"generation": "1"})
    assert young >= 1
    assert middle >= 1
    assert 0 < spent < 1.0


def test_the_lag_probe_sees_a_loop_held_busy() -> None:
    registry = CollectorRegistry()
    _, lag = histograms(registry)
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    probe = LoopLag(lag, interval=0.02)
    probe.start(loop)
    try:
        time.sleep(0.3)
        idle_count, idle_sum = observed(registry, "streamlit_serving_event_loop_lag_seconds")
        assert idle_count >= 5, "the probe schedules a callback every interval"
        assert idle_sum / idle_count < 0.05, "an idle loop runs a callback at once"
        loop.call_soon_threadsafe(time.sleep, 0.3)  # a callback that keeps the loop for 300 ms
        time.sleep(0.6)
        count, _ = observed(registry, "streamlit_serving_event_loop_lag_seconds")
        within = registry.get_sample_value("streamlit_serving_event_loop_lag_seconds_bucket", {"le": "0.1"})
        assert count - within >= 1, "a callback scheduled while the loop was busy waited over 0.1 s"
    finally:
        probe.stop()
        loop.call_soon_threadsafe(loop.stop)
        runner.join(5)
        loop.close()
