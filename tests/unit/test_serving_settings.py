"""The serving layer's settings (streamlit_serving/settings.py, SERVE_*): defaults, switches, and
what each bad value does (a SettingsError naming the variable; serve.py exits 64 with it)."""

from __future__ import annotations

import pytest

from streamlit_serving.settings import ServingSettings, SettingsError, load_serving_settings


def test_defaults():
    assert load_serving_settings({}) == ServingSettings()
    defaults = ServingSettings()
    assert (defaults.metrics_port, defaults.drain_seconds, defaults.tcp_nodelay, defaults.warmup) == (
        9464, 10, True, True,
    )  # fmt: skip
    assert (defaults.rerun_rate, defaults.rerun_burst) == (10.0, 40)
    assert (defaults.upload_max_files, defaults.upload_max_mb) == (10, None)  # uploads.session_cap_mb
    assert (defaults.gc_thresholds, defaults.gc_freeze) == ((50_000, 10, 10), True)


@pytest.mark.parametrize(
    ("raw", "thresholds"),
    [("50000,10,10", (50_000, 10, 10)), (" 700, 10 ,10 ", (700, 10, 10)), ("Python", None)],
)
def test_gc_thresholds_are_three_numbers_or_python_s(raw, thresholds):
    assert load_serving_settings({"SERVE_GC_THRESHOLDS": raw}).gc_thresholds == thresholds


def test_upload_caps_are_read():
    settings = load_serving_settings({"SERVE_UPLOAD_MAX_FILES": "3", "SERVE_UPLOAD_MAX_MB": " 5 "})
    assert (settings.upload_max_files, settings.upload_max_mb) == (3, 5)


def test_zero_or_off_turns_each_part_off():
    off = {"SERVE_METRICS_PORT": "0", "SERVE_DRAIN_SECONDS": "0", "SERVE_RERUN_RATE": "0"}
    settings = load_serving_settings(
        {**off, "SERVE_TCP_NODELAY": "OFF", "SERVE_WARMUP": "off", "SERVE_RERUN_BURST": "100"}
    )
    assert (settings.metrics_port, settings.drain_seconds, settings.rerun_rate) == (0, 0, 0)
    assert (settings.tcp_nodelay, settings.warmup, settings.rerun_burst) == (False, False, 100)


def test_the_app_s_settings_are_not_the_layer_s():
    """SALES_* (the example's) and unknown names are left to the app: the layer reads SERVE_* only."""
    assert load_serving_settings({"SALES_FRAGMENT": "sometimes", "SALES_AUTH": "oidc"}) == ServingSettings()


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"SERVE_TCP_NODELAY": "yes"}, "not one of on, off"),
        ({"SERVE_METRICS_PORT": "http"}, "not a whole number"),
        ({"SERVE_METRICS_PORT": "65536"}, "outside"),
        ({"SERVE_DRAIN_SECONDS": "soon"}, "not a number"),
        ({"SERVE_DRAIN_SECONDS": "-1"}, "outside"),
        ({"SERVE_DRAIN_SECONDS": "3601"}, "outside"),
        ({"SERVE_DRAIN_SECONDS": "nan"}, "outside"),
        ({"SERVE_WARMUP": "1"}, "not one of on, off"),
        ({"SERVE_RERUN_RATE": "fast"}, "not a number"),
        ({"SERVE_RERUN_RATE": "-1"}, "outside"),
        ({"SERVE_RERUN_BURST": "0"}, "outside"),
        ({"SERVE_RERUN_BURST": "2.5"}, "not a whole number"),
        ({"SERVE_UPLOAD_MAX_FILES": "0"}, "outside"),
        ({"SERVE_UPLOAD_MAX_FILES": "many"}, "not a whole number"),
        ({"SERVE_UPLOAD_MAX_MB": "0"}, "outside"),
        ({"SERVE_UPLOAD_MAX_MB": "1.5"}, "not a whole number"),
        ({"SERVE_UPLOAD_MAX_MB": "100001"}, "outside"),
        ({"SERVE_GC_THRESHOLDS": "50000,10"}, "not python or three whole numbers"),
        ({"SERVE_GC_THRESHOLDS": "5e4,10,10"}, "not python or three whole numbers"),
        ({"SERVE_GC_THRESHOLDS": "0,10,10"}, "t0 must be 1..10000000"),
        ({"SERVE_GC_THRESHOLDS": "700,10,10001"}, "t1 and t2 1..10000"),
        ({"SERVE_GC_FREEZE": "yes"}, "not one of on, off"),
    ],
)
def test_bad_settings_name_the_variable(env, reason):
    with pytest.raises(SettingsError, match=reason) as error:
        load_serving_settings(env)
    assert next(iter(env)) in str(error.value)
