"""scripts/bench/profile_cliff.py (make bench-cliff): bad options exit 64 naming the option, before
any stack starts; the folded profiles it summarises and the histogram quantiles it prints are
read right."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench" / "profile_cliff.py"
bench = runpy.run_path(str(SCRIPT))


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--ladder", "1750"], "--ladder needs two steps"),
        (["--seconds", "2"], "--seconds must be 5 or more"),
        (["--seconds", "90", "--hold", "60"], "--seconds must be 5 or more and at most --hold (60)"),
        (["--config", "nope"], "--config"),
    ],
)
def test_bad_options_exit_64_naming_the_option(options: list[str], named: str) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *options], capture_output=True, text=True, check=False
    )
    assert result.returncode == 64, result.stderr
    assert named in result.stderr


def test_folded_stacks_give_own_and_inclusive_samples(tmp_path: Path) -> None:
    folded = tmp_path / "hold-r1-gil.txt"
    folded.write_text(
        "run (a.py:1);loop (b.py:2);collect (gc:0) 30\n"
        "run (a.py:1);loop (b.py:2) 50\n"
        "run (a.py:1);send (c.py:9);loop (b.py:2) 20\n"
    )
    total, own, inclusive = bench["folded_top"](folded)
    assert total == 100
    assert own == {"collect": 30, "loop": 70}
    assert inclusive["run"] == 100
    assert inclusive["loop"] == 100  # counted once per sample, however deep it recurs
    assert inclusive["send"] == 20


def test_a_windows_lag_quantiles_and_gc_rates_come_from_the_growth_in_it() -> None:
    lag = "streamlit_serving_event_loop_lag_seconds_bucket"

    def scrape(counts: dict[str, float], gc2: float, runs: float, cpu: float) -> dict:
        samples = {(lag, (("le", le),)): value for le, value in counts.items()}
        samples["streamlit_serving_gc_pause_seconds_sum", (("generation", "2"),)] = gc2
        samples["streamlit_serving_gc_pause_seconds_count", (("generation", "2"),)] = gc2 * 10
        samples["streamlit_script_runs_total", (("kind", "full"), ("outcome", "finished"))] = runs
        samples["process_cpu_seconds_total", ()] = cpu
        return samples

    before = scrape({"0.001": 100, "0.1": 100, "1.0": 100, "+Inf": 100}, gc2=1.0, runs=10, cpu=5)
    # in the window: 100 probes, 80 within 1 ms, 15 more within 100 ms, 5 more within 1 s
    after = scrape({"0.001": 180, "0.1": 195, "1.0": 200, "+Inf": 200}, gc2=3.0, runs=110, cpu=15)
    figures = bench["window_figures"](before, after, 10.0)
    assert figures["lag_p50_ms"] == 1.0
    assert figures["lag_p95_ms"] == 100.0
    assert figures["gc2_s_per_s"] == pytest.approx(0.2)
    assert figures["gc2_per_s"] == pytest.approx(2.0)
    assert figures["runs_per_s"] == 10.0
    assert figures["cores"] == 1.0
