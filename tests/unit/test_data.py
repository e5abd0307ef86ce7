"""Data module: deterministic generation, names, and clear errors on a user's bad file."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sales_dashboard.data import DataError, generate_sales, load_sales, product_names, read_sales_file
from sales_dashboard.panels import best_and_worst
from sales_dashboard.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_product_names_run_a_to_z_then_two_letters():
    names = product_names(1000)
    assert names[:2] == ["Widget A", "Widget B"]
    assert names[25:28] == ["Widget Z", "Widget AA", "Widget AB"]
    assert len(set(names)) == 1000


def test_generated_set_covers_every_day_of_2023():
    data = generate_sales(26, 2023, 2023)
    assert data.shape == (365, 26)
    assert data.index[0] == pd.Timestamp("2023-01-01")
    assert data.index[-1] == pd.Timestamp("2023-12-31")
    assert (data.to_numpy() >= 0).all()
    assert np.allclose(data.to_numpy(), data.to_numpy().round(2))


def test_two_processes_produce_identical_data():
    code = (
        "import sys; sys.path.insert(0, 'app');"
        "from sales_dashboard.data import generate_sales;"
        "print(generate_sales(26, 2023, 2023).to_csv())"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    ]
    runs.append(
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    )
    assert runs[0].stdout == runs[1].stdout
    assert len(runs[0].stdout) > 10_000


def test_another_seed_gives_other_numbers():
    assert not generate_sales(26, 1, 2023).equals(generate_sales(26, 2, 2023))


def test_user_csv_is_read_and_sorted(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("date,Gizmo,Gadget\n2024-02-02,5.5,1\n2024-02-01,3,2\n")
    data = load_sales(Settings(data_path=path))
    assert list(data.columns) == ["Gizmo", "Gadget"]
    assert data.index[0] == pd.Timestamp("2024-02-01")
    assert data.loc["2024-02-02", "Gizmo"] == 5.5


def test_user_parquet_round_trips(tmp_path):
    path = tmp_path / "sales.parquet"
    generate_sales(3, 7, 2023).reset_index().to_parquet(path)
    assert read_sales_file(path).equals(generate_sales(3, 7, 2023).rename_axis("date"))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "not a readable file"),
        ("day,Gizmo\n2023-01-01,1\n", "no 'date' column"),
        ("date\n2023-01-01\n", "needs a 'date' column"),
        ("date,Gizmo\nnot-a-day,1\n", "bad value in 'date'"),
        ("date,Gizmo\n2023-01-01,1\n2023-01-01,2\n", "more than once"),
        ("date,Gizmo\n2023-01-01,lots\n", "non-numeric"),
    ],
)
def test_bad_user_file_gets_a_clear_error(tmp_path, content, reason):
    path = tmp_path / "sales.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=reason):
        read_sales_file(path)


def test_settings_defaults():
    assert load_settings({}) == Settings()


def test_table_cache_choice_is_read_case_insensitively():
    assert load_settings({"SALES_TABLE_CACHE": " Copy "}).table_cache == "copy"


def test_shared_cache_switches_off():
    assert (load_settings({"SALES_SHARED_CACHE": "0"}).shared_cache, Settings().shared_cache) == (0, 1024)


def test_fragment_and_month_rerun_settings():
    """Defaults: the tutorial's page (fragment on, month change reruns the app)."""
    assert (Settings().fragment, Settings().month_rerun) == (True, "app")
    views = load_settings({"SALES_MONTH_RERUN": " Views "})
    assert (views.fragment, views.month_rerun) == (True, "views")
    plain = load_settings({"SALES_FRAGMENT": "OFF", "SALES_MONTH_RERUN": "app"})
    assert (plain.fragment, plain.month_rerun) == (False, "app")
    assert load_settings({"SALES_FRAGMENT": "off"}).month_rerun == "app"


def test_serving_settings_under_their_old_names_are_refused_with_the_new_ones():
    """An old deployment file with SALES_AUTH=oidc must not start open: it stops, naming the move."""
    with pytest.raises(SettingsError) as error:
        load_settings({"SALES_AUTH": "oidc", "SALES_DRAIN_SECONDS": "5", "SALES_FRAGMENT": "on"})
    assert "SALES_AUTH -> SERVE_AUTH" in str(error.value)
    assert "SALES_DRAIN_SECONDS -> SERVE_DRAIN_SECONDS" in str(error.value)
    assert "FRAGMENT" not in str(error.value)


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"SALES_PRODUCT_COUNT": "many"}, "not a whole number"),
        ({"SALES_PRODUCT_COUNT": "0"}, "outside"),
        ({"SALES_DEMO_DELAY_SECONDS": "nan"}, "outside"),
        ({"SALES_DEMO_DELAY_SECONDS": "-1"}, "outside"),
        ({"SALES_DEMO_DELAY_SECONDS": "soon"}, "not a number"),
        ({"SALES_DATA_PATH": "sales.xlsx"}, "must end in .csv or .parquet"),
        ({"SALES_TABLE_CACHE": "sometimes"}, "not one of shared, copy"),
        ({"SALES_SHARED_CACHE": "lots"}, "not a whole number"),
        ({"SALES_SHARED_CACHE": "-1"}, "outside"),
        ({"SALES_FRAGMENT": "sometimes"}, "not one of on, off"),
        ({"SALES_MONTH_RERUN": "page"}, "not one of app, views"),
        ({"SALES_MONTH_RERUN": "views", "SALES_FRAGMENT": "off"}, "views' needs SALES_FRAGMENT=on"),
    ],
)
def test_bad_settings_name_the_variable(env, reason):
    with pytest.raises(SettingsError, match=reason) as error:
        load_settings(env)
    assert next(iter(env)) in str(error.value)


@pytest.mark.parametrize("n", [1, 3, 10, 40])
def test_best_and_worst_equal_nlargest_and_nsmallest_with_ties_and_gaps(n):
    """The numpy ranking in views.best_and_worst keeps pandas' order: ties in column order,
    missing values last, fewer rows than n when the day has fewer products."""
    columns = [f"P{i}" for i in range(30)]
    values = [5.0, 1.0, 5.0, float("nan"), 3.0, 1.0] * 5
    data = pd.DataFrame([values], index=pd.DatetimeIndex(["2023-02-01"], name="date"), columns=columns)
    best, worst = best_and_worst(data, date(2023, 2, 1), n)
    row = data.iloc[0]
    pd.testing.assert_series_equal(best, row.nlargest(n))
    pd.testing.assert_series_equal(worst, row.nsmallest(n))
