"""streamlit_serving/gc_tuning.py: the collector's thresholds as set, and the freeze once the server
is healthy and the warm-up has ended (never before, and not at all when the server stops first)."""

from __future__ import annotations

import gc
import threading

import pytest

from streamlit_serving import gc_tuning


@pytest.fixture(autouse=True)
def python_s_collector():
    """Each test leaves the collector as it found it: thresholds and nothing frozen."""
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_the_thresholds_are_set_and_said():
    line = gc_tuning.apply_thresholds((40_000, 20, 30))
    assert gc.get_threshold() == (40_000, 20, 30)
    assert line == "serve: garbage collection thresholds 40000,20,30 (SERVE_GC_THRESHOLDS)"


def test_python_s_thresholds_are_kept_and_said():
    gc.set_threshold(700, 10, 10)
    assert gc_tuning.apply_thresholds(None).endswith("thresholds 700,10,10 (SERVE_GC_THRESHOLDS)")
    assert gc.get_threshold() == (700, 10, 10)


def test_the_freeze_waits_for_health_and_the_warm_up_then_freezes(monkeypatch):
    answers = iter([False, False, True])
    monkeypatch.setattr(gc_tuning, "server_ready", lambda: next(answers))
    monkeypatch.setattr(gc_tuning, "WARMUP_POLL_SECONDS", 0.01)
    warmed = threading.Event()
    frozen_during_warm_up = []

    def warm_up():
        frozen_during_warm_up.append(gc.get_freeze_count())
        warmed.set()

    warmup = threading.Thread(target=warm_up)
    warmup.start()
    frozen = gc_tuning.freeze_when_ready(warmup)
    assert warmed.is_set()
    assert frozen_during_warm_up == [0]
    assert frozen is not None
    assert frozen > 1000  # this process's modules at least
    assert gc.get_freeze_count() > 1000


def test_nothing_is_frozen_when_the_server_stops_first(monkeypatch):
    monkeypatch.setattr(gc_tuning, "server_ready", lambda: None)
    assert gc_tuning.freeze_when_ready(None) is None
    assert gc.get_freeze_count() == 0


def test_off_starts_no_thread():
    assert gc_tuning.start_freeze(False, None) is None
