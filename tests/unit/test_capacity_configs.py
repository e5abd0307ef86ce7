"""`make capacity` measures the example's configurations, or, with APP_DIR set, the app there
(sales_load/capacity_cli.py): AnyAppUser with the same think time on each --replicas count, named
after the app's directory, without the example's SALES_ settings; a bad mix of options is refused.
The default ladder's steps from 650 up are less than 15 % apart, so a verdict moves by less."""

from __future__ import annotations

import itertools

import pytest

from sales_load.capacity import LADDER, THINK
from sales_load.capacity_cli import parse_args


def test_without_app_dir_the_example_is_measured(monkeypatch):
    monkeypatch.delenv("APP_DIR", raising=False)
    args = parse_args(["--configs", "on-2r-26p", "off-2r-26p"])
    assert [config.name for config in args.config_list] == ["on-2r-26p", "off-2r-26p"]
    assert args.config_list[0].users() == ("RealisticMix", ["--page-mode", "fragment"])
    assert args.config_list[0].settings["SALES_FRAGMENT"] == "on"


def test_with_app_dir_the_app_is_measured_by_any_app_users(monkeypatch, tmp_path):
    app = tmp_path / "hello"
    app.mkdir()
    monkeypatch.setenv("APP_DIR", str(app))
    args = parse_args(["--replicas", "1", "2", "--quick"])
    assert [config.name for config in args.config_list] == ["app-1r", "app-2r"]
    assert [config.label for config in args.config_list] == ["hello, 1 replica", "hello, 2 replicas"]
    assert args.config_list[1].settings == {"APP_REPLICAS": "2"}  # no SALES_ setting
    assert args.config_list[0].users() == ("AnyAppUser", ["--app-think", f"{sum(THINK) / 2:g}"])
    assert args.ladder_spec.steps[0] == 10  # --quick: the short ladder


def test_the_examples_configurations_are_refused_with_app_dir(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("APP_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--configs", "on-2r-26p"])
    assert stopped.value.code == 64  # the project's exit for bad input (harness.UsageParser)
    assert "--configs are the example's; with APP_DIR set use --replicas" in capsys.readouterr().err


def test_the_ladder_moves_a_verdict_by_less_than_15_percent_from_650_up():
    gaps = {(a, b): (b - a) / a for a, b in itertools.pairwise(LADDER)}
    assert {pair: gap for pair, gap in gaps.items() if pair[0] >= 650 and gap >= 0.15} == {}
    # Below 650 the steps stay coarse (every configuration climbs them): exactly these.
    assert [pair for pair, gap in gaps.items() if gap >= 0.15] == list(
        itertools.pairwise((10, 20, 40, 75, 125, 200, 300, 450, 650))
    )
    assert {2000, 2250, 2500, 2800, 3150} <= set(LADDER)  # steps between 1,750 and 3,500
    assert {650, 900, 1250, 1750, 2500, 3500, 5000} <= set(LADDER)  # the earlier runs' steps stay


@pytest.mark.parametrize("ladder", ["", "10,x", "0,10", "20,10", "10,10"])
def test_a_bad_ladder_exits_64_naming_it(ladder, capsys):
    with pytest.raises(SystemExit) as stopped:
        parse_args(["--ladder", ladder])
    assert stopped.value.code == 64
    assert f"argument --ladder: --ladder must be increasing positive user counts, got {ladder!r}" in (
        capsys.readouterr().err
    )


def test_a_good_ladder_is_the_steps():
    assert parse_args(["--ladder", "10, 25,50"]).ladder_spec.steps == (10, 25, 50)
