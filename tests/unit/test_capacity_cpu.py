"""`make capacity` says how close each configuration came to the CPU limit (sales_load/capacity_cpu.py,
printed by capacity_report.py): per step the host CPU per reader (ms of CPU per second, split app /
proxy / Locust / rest), the readers the host's cores would hold at 100 %, and for the verdict the
held users as a share of that. The figures fed in are issue 35's recorded run (2026-12-07, on-2r-26p
on a 2-core EPYC host): 1,250 readers held at 1.09 busy cores."""

from __future__ import annotations

import json

import pytest

from sales_load import capacity_cpu, capacity_report
from sales_load.capacity import Config, ConfigResult, Step
from streamlit_load.harness import Report

# users, p95 ms, app, proxy, Locust and host busy cores of the recorded steps (issue 35's table)
RECORDED = (
    (900, 83, 0.69, 0.05, 0.16, 1.00),
    (1250, 146, 0.74, 0.05, 0.17, 1.09),
    (1750, 1724, 0.98, 0.07, 0.24, 1.40),
)


def step(
    users: int, p95: float, app: float | None, proxy: float | None, locust: float | None, host: float | None
):
    return Step(users, 0, 30, 500, 0, 40, p95, app, proxy, locust, host, users, 300, p95 <= 250)


EXAMPLE = Config(True, 2, 26)


def result(config: Config = EXAMPLE, host_cpus: int = 2, rows=RECORDED) -> ConfigResult:
    steps = [step(*row) for row in rows]
    held = [s for s in steps if s.ok]
    broke = next((s for s in steps if not s.ok), None)
    return ConfigResult(
        config, steps, held[-1].users if held else 0, broke, "no resource at its limit", None, 1, 600,
        host_cpus=host_cpus,
    )  # fmt: skip


def test_host_cpu_per_reader_and_its_split_at_the_held_step():
    cpu = capacity_cpu.per_reader(step(*RECORDED[1]), host_cpus=2)
    assert cpu is not None
    assert cpu.host_ms == pytest.approx(1.09 * 1000 / 1250)  # 0.872 ms of CPU per second per reader
    assert (cpu.app_ms, cpu.proxy_ms, cpu.generator_ms) == pytest.approx((0.592, 0.04, 0.136))
    assert cpu.rest_ms == pytest.approx(0.104)  # 1.09 - 0.74 - 0.05 - 0.17 cores, per reader
    assert cpu.split() == "0.59/0.04/0.14/0.10"


def test_readers_at_100_percent_and_the_held_share():
    there = capacity_cpu.held(result())
    assert there is not None
    assert there.users == 1250  # the last held step, not the one that broke
    assert there.readers_at_full == pytest.approx(2 / (1.09 / 1250))  # 2,294
    assert there.share == pytest.approx(1250 / 2293.58, rel=1e-4)  # 54.5 %: the host's busy share
    assert not there.host_is_the_limit
    line = capacity_cpu.verdict(result())
    assert "0.87 ms of CPU per second per reader (app/proxy/Locust/rest 0.59/0.04/0.14/0.10)" in line
    assert "its 2 cores would hold 2,294 readers at 100 %: capacity 54 % of that" in line
    assert "the host's cores are not the limit (54 % busy)" in line


def test_a_host_at_its_limit_is_named():
    busy = result(rows=((2000, 120, 1.6, 0.1, 0.2, 1.85), (2250, 900, 1.7, 0.1, 0.2, 1.95)))
    there = capacity_cpu.held(busy)
    assert there is not None
    assert there.share == pytest.approx(0.925)
    assert there.readers_at_full == pytest.approx(2162.16, rel=1e-4)
    assert capacity_cpu.verdict(busy).endswith("the host's cores are the limit")


def test_missing_figures_give_n_a_not_a_guess():
    assert capacity_cpu.per_reader(step(900, 80, 0.5, 0.05, 0.1, None), 2) is None  # no host reading
    assert capacity_cpu.per_reader(step(900, 80, 0.5, 0.05, 0.1, 1.0), 0) is None  # a record without cores
    partial = capacity_cpu.per_reader(step(1000, 80, 0.5, None, 0.1, 1.0), 2)
    assert partial is not None
    assert partial.rest_ms is None
    assert partial.split() == "0.50/n/a/0.10/n/a"
    nothing_held = result(rows=((10, 400, 0.1, 0.01, 0.01, 0.2),))
    assert capacity_cpu.held(nothing_held) is None
    assert capacity_cpu.verdict(nothing_held).startswith("CPU limit: n/a")


def printed(results: list[ConfigResult], tmp_path, *, outputs: bool = False) -> tuple[str, dict]:
    with Report("capacity", tmp_path) as report:
        for r in results:
            capacity_report.print_result(report, r)
        if outputs:
            capacity_report.write_outputs(results, report)
    return (tmp_path / "capacity.txt").read_text(), json.loads((tmp_path / "capacity.json").read_text())


def test_the_step_table_and_the_capacity_table_carry_the_columns(tmp_path):
    text, _ = printed([result()], tmp_path)
    header = next(line for line in text.splitlines() if line.lstrip().startswith("users"))
    for column in ("ms/reader", "app/proxy/Locust/rest", "at 100 %"):
        assert column in header
    rows = {
        line.split()[0]: line.split() for line in text.splitlines() if line.split()[:1] in (["900"], ["1250"])
    }
    assert rows["1250"][9:12] == ["0.87", "0.59/0.04/0.14/0.10", "2,294"]
    assert rows["900"][9:12] == ["1.11", "0.77/0.06/0.18/0.11", "1,800"]
    table = "\n".join(capacity_report.summary_table([result()]))
    assert "readers at 100 % of the host's cores | held ÷ that |" in table
    assert "| 0.87 (0.59/0.04/0.14/0.10) | 2,294 (2 cores) | 54 % |" in table


def test_any_apps_capacity_shows_the_same_columns_and_records_them(tmp_path):
    app = result(Config(True, 1, 0, app="hello"))
    text, record = printed([app], tmp_path, outputs=True)
    assert "| hello, 1 replica | **1,250** |" in text
    assert "| 0.87 (0.59/0.04/0.14/0.10) | 2,294 (2 cores) | 54 % |" in text
    assert "its 2 cores would hold 2,294 readers at 100 %" in text
    figures = record["figures"]["cpu_limit"]["app-1r"]
    assert figures["host_cpus"] == 2
    assert [s["users"] for s in figures["steps"]] == [900, 1250, 1750]
    assert figures["held"]["users"] == 1250
    assert figures["held"]["readers_at_full"] == pytest.approx(2293.58, rel=1e-4)
    assert figures["held"]["share"] == pytest.approx(0.545)


def test_the_examples_report_html_carries_them(tmp_path):
    text, record = printed([result()], tmp_path, outputs=True)
    page = (tmp_path / "report.html").read_text()
    row = "| fragments on, 2 replicas, 26 products | **1,250** |"
    assert row in text
    assert row in page
    assert "| 0.87 (0.59/0.04/0.14/0.10) | 2,294 (2 cores) | 54 % |" in page
    assert "capacity 54 % of that" in page
    assert record["figures"]["cpu_limit"]["on-2r-26p"]["held"]["users"] == 1250
