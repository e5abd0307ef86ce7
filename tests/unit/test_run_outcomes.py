"""streamlit_serving.metrics without a server: how a run's result becomes an outcome, that the
run's own error handler still decides what the browser sees, and the cgroup memory limit.
The integration tier (tests/integration/test_metrics.py) counts real runs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry

from streamlit_serving.metrics import RunMetrics, measured_runs, memory_limit_bytes


def run_once(result: tuple, fragments: list[str] | None = None, raise_user_error: bool = False):
    registry = CollectorRegistry()
    handler_answers = []

    def handler(error: Exception) -> bool:
        handler_answers.append(error)
        return True  # "suppress the default error display": must reach Streamlit unchanged

    ctx = SimpleNamespace(fragment_ids_this_run=fragments, on_script_error=handler)
    seen_by_streamlit = []

    def streamlit_run(func, ctx):
        if raise_user_error:
            seen_by_streamlit.append(ctx.on_script_error(ValueError("boom")))
        return result

    returned = measured_runs(streamlit_run, RunMetrics(registry))(lambda: None, ctx)
    assert returned is result
    assert ctx.on_script_error is handler  # restored after the run
    return registry, handler_answers, seen_by_streamlit


def count(registry: CollectorRegistry, kind: str, outcome: str) -> float:
    return registry.get_sample_value("streamlit_script_runs_total", {"kind": kind, "outcome": outcome})


@pytest.mark.parametrize(
    ("result", "fragments", "outcome"),
    [
        ((None, True, None, False, None), None, "finished"),
        ((None, True, None, False, None), ["f1"], "finished"),
        ((None, True, object(), False, None), ["f1"], "rerun"),
        ((None, False, None, True, ValueError()), None, "error"),
        ((None, True, None, True, None), None, "stopped"),
    ],
)
def test_outcome_and_kind_of_a_run(result, fragments, outcome):
    registry, _, _ = run_once(result, fragments)
    kind = "fragment" if fragments else "full"
    assert count(registry, kind, outcome) == 1
    assert registry.get_sample_value("streamlit_script_run_duration_seconds_count", {"kind": kind}) == 1
    assert registry.get_sample_value("streamlit_script_run_cpu_seconds_total", {"kind": kind}) >= 0


def test_an_error_a_fragment_handled_itself_is_an_error_and_the_apps_handler_still_answers():
    # A fragment rerun swallows its fragment's exception: the run returns "no error", but the
    # error handler was called, so the run counts as an error.
    registry, answers, seen = run_once((None, True, None, False, None), ["f1"], raise_user_error=True)
    assert count(registry, "fragment", "error") == 1
    assert count(registry, "fragment", "finished") == 0
    assert len(answers) == 1
    assert seen == [True]


@pytest.mark.parametrize(
    ("v2", "v1", "limit"),
    [("1073741824\n", None, 1 << 30), ("max\n", None, None), (None, "536870912\n", 1 << 29),
     (None, "9223372036854771712\n", None), (None, None, None)],
)  # fmt: skip
def test_memory_limit_from_the_cgroup(tmp_path, v2, v1, limit):
    v2_path, v1_path = tmp_path / "memory.max", tmp_path / "memory.limit_in_bytes"
    if v2 is not None:
        v2_path.write_text(v2)
    if v1 is not None:
        v1_path.write_text(v1)
    assert memory_limit_bytes(v2_path, v1_path) == limit
