"""`make capacity --quick` on the load tier's compose stack: the CI version of the capacity run.

One configuration (fragments on, 1 replica, 26 products), RealisticMix users stepped up the quick
ladder (10, 25, 50, 100) with the proxy in load-balancer mode. What must hold on any machine: the
first step's users are served without a failed interaction, every judged step has its figures
from the samplers and a verdict that follows from them, the capacity is the last step that held,
each simulated user reached nginx as a client of its own, and the tables and the chart are
written. Latency and the capacity figure are a benchmark (`make capacity`, docs/benchmarks.md),
never asserted here: a busy machine moves them, not a bug.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest

from sales_load import capacity_cli, capacity_report
from sales_load.capacity import QUICK_CONFIG, QUICK_LADDER, Config, ConfigResult, Step, saturation

# The module's runs (and the tier's image build and stack start, in the first test's set-up) take
# minutes on a busy 2-core machine: more than pyproject's 300 s per test.
pytestmark = pytest.mark.timeout(1200)

REPORT_DIR = Path(
    os.environ.get("CAPACITY_REPORT_DIR", Path(__file__).resolve().parents[2] / "artifacts/capacity")
)


@pytest.fixture(scope="module")
def quick(load_stack) -> tuple[int, dict]:
    code = capacity_cli.main(["--quick", "--out", str(REPORT_DIR)], stack=load_stack)
    return code, json.loads((REPORT_DIR / "capacity.json").read_text())


def test_quick_capacity_run_judges_its_steps(quick):
    code, record = quick
    assert code == 0, (REPORT_DIR / "capacity.txt").read_text()
    (result,) = record["figures"]["results"]
    assert result["config"] == {"fragments": True, "replicas": 1, "products": 26, "app": ""}  # the example
    steps = result["steps"]
    assert steps, "no step was judged"
    assert [s["users"] for s in steps] == list(QUICK_LADDER[: len(steps)])
    assert steps[0]["failures"] == 0, steps[0]
    for step in steps:
        assert step["ok"] == (step["failures"] == 0 and step["p95_ms"] <= 250), step
    held = [s["users"] for s in itertools.takewhile(lambda s: s["ok"], steps)]
    assert result["capacity"] == (held[-1] if held else 0)
    broke = next((s for s in steps if not s["ok"]), None)
    assert (result["broke"] or {}).get("users") == (broke["users"] if broke else None)
    if broke is None:
        assert len(steps) == len(QUICK_LADDER), "the run stopped without a step over budget"


def test_every_step_has_its_figures(quick):
    _, record = quick
    (result,) = record["figures"]["results"]
    for step in result["steps"]:
        assert step["interactions"] > 0, step
        for figure in ("app_cores", "generator_cores", "host_cores"):
            assert step[figure] > 0, (figure, step)
        assert step["proxy_cores"] is not None, step
        assert step["app_rss_mb"] > 50, step
        assert step["sessions"] is not None, step
        assert step["sessions"] >= step["users"] * 0.9, step


def test_each_simulated_user_reached_the_proxy_as_its_own_client(quick):
    _, record = quick
    (result,) = record["figures"]["results"]
    highest = max(s["users"] for s in result["steps"])
    assert result["distinct_clients"] >= highest, "load-balancer mode: one client address per user"
    assert "PROXY_TRUSTED_HOPS=" in (REPORT_DIR / "capacity.txt").read_text()


def test_tables_and_chart_are_written(quick):
    _, _ = quick
    text = (REPORT_DIR / "capacity.txt").read_text()
    assert "## Capacity per configuration" in text
    assert "## Goals" in text
    assert "fragments on, 1 replica, 26 products" in text
    assert (REPORT_DIR / "capacity.png").stat().st_size > 10_000
    assert "plotly" in (REPORT_DIR / "report.html").read_text()


def step(users: int, ok: bool, **figures: float) -> Step:
    values = {"app_cores": 0.2, "proxy_cores": 0.05, "generator_cores": 0.1, "host_cores": 0.5} | figures
    p95 = 90 if ok else 400
    return Step(users, 0, 30, 100, 0 if ok else 3, 20, p95, sessions=users, app_rss_mb=150, ok=ok, **values)


def test_saturation_names_what_was_at_its_limit():
    config = Config(True, 1, 26)
    assert "the app" in saturation(step(900, False, app_cores=0.97), config, 1, 1.0, 2)
    assert "load generator" in saturation(step(900, False, generator_cores=0.95), config, 1, 1.0, 2)
    assert "host's cores" in saturation(step(900, False, host_cores=1.9), config, 1, 1.0, 2)
    assert "no resource" in saturation(step(900, False), config, 1, 1.0, 2)
    assert "top held" in saturation(step(900, True), config, 1, 1.0, 2, top=True)
    # Two replicas may use both cores: 0.97 of them is not the app's limit.
    assert "the app" not in saturation(step(900, False, app_cores=0.97), Config(True, 2, 26), 1, 1.0, 2)


def test_goals_table_reads_capacities_and_ratios():
    def result(fragments: bool, capacity: int) -> ConfigResult:
        return ConfigResult(Config(fragments, 2, 26), [step(capacity, True)], capacity, None, "", None, 1, 60)

    lines = capacity_report.goals_table([result(True, 2000), result(False, 500)])
    text = "\n".join(lines)
    assert "| 2,000 |" in text
    assert "4.0x (2,000 ÷ 500)" in text
    assert QUICK_CONFIG.name == "on-1r-26p"
