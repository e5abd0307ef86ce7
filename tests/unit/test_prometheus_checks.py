"""streamlit_load.prometheus' checks of a load-test run, without a server: what passes, what fails."""

from __future__ import annotations

import pytest

from streamlit_load.prometheus import against_alone, checks


def seen(server: float, locust: int, prometheus: float | None, cgroup: float | None) -> dict:
    return {
        "server_interactions": server,
        "locust_interactions": locust,
        "prometheus_cpu_ms_per_interaction": prometheus,
        "cgroup_cpu_ms_per_interaction": cgroup,
        "thread_cpu_ms_per_run": {"fragment": 4.0, "full": 10.0},
    }


@pytest.mark.parametrize(
    ("server", "prometheus", "counts_ok", "cpu_ok"),
    [(120, 10.9, True, True), (120, 9.1, True, True), (119, 10.0, False, True), (120, 11.2, True, False),
     (120, None, True, False)],
)  # fmt: skip
def test_counts_must_be_equal_and_cpu_within_ten_percent(server, prometheus, counts_ok, cpu_ok):
    count, cpu = checks("fragment", seen(server, 120, prometheus, 10.0))
    assert (count["ok"], cpu["ok"]) == (counts_ok, cpu_ok)
    assert count["limit"] == 120


def test_mixed_traffic_cpu_per_run_is_reported_against_each_kind_alone():
    ratios = against_alone(seen(1, 1, 1, 1), {"fragment": 5.0, "full": 8.0, "absent": 1.0})
    assert ratios == {"fragment": 0.8, "full": 1.25}  # 4.0 / 5.0, 10.0 / 8.0; no run, no ratio
