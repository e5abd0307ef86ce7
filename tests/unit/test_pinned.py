"""The pinning logic of streamlit_serving/pinned.py on real config files and Streamlit's own option
table: which files it reads (Streamlit's), what wins (the last file, a variable, a flag), what it
overrides and logs, what an app may lower, and what stops a start (exit 64, naming the file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from streamlit import config as st_config

from streamlit_serving.pinned import (
    MESSAGE_LIMIT_MB,
    PINS,
    PROXY_BODY_LIMIT_MB,
    TEMPLATE_CONFIG,
    Given,
    config_files,
    env_var,
    given_values,
    pinned_argv,
    read_config,
    resolve,
    template_defaults,
)
from streamlit_serving.settings import SettingsError

REPO = Path(__file__).resolve().parents[2]
UNSAFE = """[server]
enableXsrfProtection = false
enableCORS = false
maxUploadSize = 500
maxMessageSize = 500
headless = false
fileWatcherType = "auto"
runOnSave = true
[browser]
gatherUsageStats = true
[client]
showErrorDetails = "full"
toolbarMode = "developer"
[theme]
primaryColor = "#ff00aa"
"""
SAFE = {pin.key: pin.value for pin in PINS}


def an_app(directory: Path, config: str | None) -> Path:
    """A main script in ``directory``, with ``config`` as its own .streamlit/config.toml."""
    directory.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (directory / ".streamlit").mkdir()
        (directory / ".streamlit" / "config.toml").write_text(config)
    script = directory / "streamlit_app.py"
    script.write_text("import streamlit as st\nst.write('hi')\n")
    return script


def test_every_pin_is_a_streamlit_option_of_its_type_with_streamlits_variable():
    for pin in PINS:
        option = st_config._config_options_template[pin.key]
        assert pin.env_var == option.env_var
        assert isinstance(pin.value, option.type), pin.key


def test_the_files_are_the_ones_streamlit_reads_in_its_order(tmp_path, monkeypatch):
    script = an_app(tmp_path / "app", None)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(st_config, "_main_script_path", str(script))
    assert [str(path) for path in config_files(script)] == st_config.get_config_files("config.toml")
    # an app run from its own directory: its file is the project's, read once
    monkeypatch.chdir(script.parent)
    assert [str(path) for path in config_files(script)] == st_config.get_config_files("config.toml")
    assert len(config_files(script)) == 2


def test_an_apps_unsafe_values_are_pinned_and_each_is_logged_once(tmp_path):
    script = an_app(tmp_path / "app", UNSAFE)
    resolved = resolve(given_values(config_files(script, tmp_path, REPO), {}, []))
    assert resolved.values == SAFE
    own = script.parent / ".streamlit" / "config.toml"
    assert len(resolved.overrides) == len(PINS)
    assert (
        f"serve: {own} sets server.enableXsrfProtection=false; pinned to true (production"
        in resolved.overrides[0]
    )
    assert any('sets client.showErrorDetails="full"; pinned to "none"' in line for line in resolved.overrides)
    assert any(
        f"sets server.maxUploadSize=500; capped to {PROXY_BODY_LIMIT_MB}" in line
        for line in resolved.overrides
    )
    assert not any("theme" in line for line in resolved.overrides)


def test_the_templates_config_and_an_app_without_one_give_the_pinned_values_silently(tmp_path):
    script = an_app(tmp_path / "app", None)
    resolved = resolve(given_values(config_files(script, tmp_path, REPO), {}, []))
    assert resolved.values == SAFE
    assert resolved.overrides == []


def test_an_app_that_sets_the_pinned_values_itself_is_not_logged(tmp_path):
    safe = '[server]\nenableXsrfProtection = true\nheadless = true\n[client]\ntoolbarMode = "viewer"\n'
    script = an_app(tmp_path / "app", safe)
    assert resolve(given_values(config_files(script, tmp_path, REPO), {}, [])).overrides == []


def test_an_app_may_lower_the_caps_and_keeps_its_values(tmp_path):
    script = an_app(tmp_path / "app", "[server]\nmaxUploadSize = 8\nmaxMessageSize = 2\n")
    resolved = resolve(given_values(config_files(script, tmp_path, REPO), {}, []))
    assert resolved.values["server.maxUploadSize"] == 8
    assert resolved.values["server.maxMessageSize"] == 2
    assert resolved.overrides == []
    at_the_cap = f"[server]\nmaxUploadSize = {PROXY_BODY_LIMIT_MB}\nmaxMessageSize = {MESSAGE_LIMIT_MB}\n"
    script = an_app(tmp_path / "capped", at_the_cap)
    resolved = resolve(given_values(config_files(script, tmp_path, REPO), {}, []))
    assert (resolved.values["server.maxUploadSize"], resolved.values["server.maxMessageSize"]) == (16, 4)
    assert resolved.overrides == []


def test_a_variable_and_a_flag_are_pinned_too_and_the_last_source_is_the_one_named(tmp_path):
    script = an_app(tmp_path / "app", "[server]\nmaxUploadSize = 8\nenableCORS = false\n")
    env = {"STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "false", "STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "12"}
    argv = [
        "run",
        str(script),
        "--server.port",
        "8501",
        "--server.maxUploadSize",
        "4",
        "--server.enableCORS=0",
    ]
    resolved = resolve(given_values(config_files(script, tmp_path, REPO), env, argv))
    assert resolved.values["server.maxUploadSize"] == 4  # the flag: over the variable, over the file
    assert resolved.values["server.enableXsrfProtection"] is True
    assert resolved.overrides == [
        'serve: STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION sets server.enableXsrfProtection="false"; '
        "pinned to true (production: streamlit_serving/pinned.py)",
        'serve: the command line sets server.enableCORS="0"; pinned to true '
        "(production: streamlit_serving/pinned.py)",
    ]
    assert resolve({"server.headless": Given("TRUE", "STREAMLIT_SERVER_HEADLESS")}).overrides == []


def test_the_flags_go_after_every_option_and_before_the_scripts_own_arguments(tmp_path, monkeypatch):
    script = an_app(tmp_path / "app", UNSAFE)
    monkeypatch.chdir(script.parent)  # as serve.py runs it
    template = tmp_path / "template.toml"
    template.write_text("[server]\ndisconnectedSessionTTL = 30\n")
    argv = ["run", str(script), "--server.port", "8501", "--", "--server.headless", "false"]
    pinned, lines = pinned_argv(argv, script, {}, template)
    flags = [f"--{key}={str(value).lower()}" for key, value in SAFE.items()]
    default = "--server.disconnectedSessionTTL=30"  # the template's, before the pins
    assert pinned == [
        "run", str(script), "--server.port", "8501", default, *flags, "--", "--server.headless", "false"
    ]  # fmt: skip
    notice, *overrides = lines
    assert notice == f"serve: the template's defaults ({template}): server.disconnectedSessionTTL=30"
    assert len(overrides) == len(PINS)
    assert "--server.enableXsrfProtection=true" in flags
    assert "--client.showErrorDetails=none" in flags


@pytest.mark.parametrize("size", ['"big"', "0", "-3", "8.5", "true"])
def test_a_size_that_is_not_a_whole_number_of_mb_stops_the_start(tmp_path, size):
    script = an_app(tmp_path / "app", f"[server]\nmaxUploadSize = {size}\n")
    with pytest.raises(
        SettingsError, match=r"config\.toml sets server\.maxUploadSize=.*whole number of MB, 1 to 16"
    ):
        resolve(given_values(config_files(script, tmp_path, REPO), {}, []))


def serve_run(script: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``python -m streamlit_serving run SCRIPT`` as the image starts it, with a clean environment
    (a start that is refused exits before the server listens)."""
    return subprocess.run(
        [sys.executable, "-m", "streamlit_serving", "run", str(script)],
        cwd=REPO, env={"PATH": "/usr/bin:/bin", "HOME": str(home), "SERVE_METRICS_PORT": "0"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_malformed_config_stops_the_start_with_64_naming_the_file(tmp_path):
    """Streamlit itself logs "Error parsing config toml" and drops the whole file (every option
    in it, the app's theme too); the serving layer stops before the server starts instead."""
    script = an_app(tmp_path / "app", "[server\nenableXsrfProtection = false\n")
    with pytest.raises(SettingsError, match="is not valid TOML"):
        given_values(config_files(script, tmp_path, REPO), {}, [])
    result = serve_run(script, tmp_path)
    assert result.returncode == 64, result.stderr
    assert f"serve: {script.parent / '.streamlit' / 'config.toml'} is not valid TOML" in result.stderr


# --- the caps from the app's serving.toml ([limits], app_settings.py) ---------------------------


def sizes(pinned: list[str]) -> tuple[str, str]:
    flags = dict(arg[2:].split("=", 1) for arg in pinned if arg.startswith("--server.max"))
    return flags["server.maxUploadSize"], flags["server.maxMessageSize"]


def test_without_limits_the_caps_are_16_and_4_as_before(tmp_path):
    for settings in (None, 'name = "x"\n', "[limits]\n"):
        script = an_app(tmp_path / f"app{len(settings or '')}", None)
        if settings is not None:
            (script.parent / "serving.toml").write_text(settings)
        pinned, (_notice, *overrides) = pinned_argv(["run", str(script)], script, {})
        assert sizes(pinned) == (str(PROXY_BODY_LIMIT_MB), str(MESSAGE_LIMIT_MB)) == ("16", "4")
        assert overrides == []


def test_the_caps_follow_the_app_s_limits(tmp_path):
    script = an_app(tmp_path / "app", None)
    settings = script.parent / "serving.toml"
    settings.write_text("[limits]\nupload_mb = 50\nmessage_mb = 20\n")
    pinned, (_notice, *overrides) = pinned_argv(["run", str(script)], script, {})
    assert sizes(pinned) == ("50", "20")  # given nowhere else: the caps themselves
    assert overrides == []
    settings.write_text("[limits]\nupload_mb = 1024\n")  # message_mb left at its default
    assert sizes(pinned_argv(["run", str(script)], script, {})[0]) == ("1024", "4")


def test_a_bigger_config_value_is_capped_to_the_app_s_limit_naming_it(tmp_path):
    script = an_app(tmp_path / "app", UNSAFE)  # maxUploadSize = maxMessageSize = 500
    (script.parent / "serving.toml").write_text("[limits]\nupload_mb = 50\nmessage_mb = 20\n")
    pinned, (_notice, *overrides) = pinned_argv(["run", str(script)], script, {})
    assert sizes(pinned) == ("50", "20")
    own = script.parent / ".streamlit" / "config.toml"
    assert (
        f"serve: {own} sets server.maxUploadSize=500; capped to 50 (the app's "
        f"{script.parent / 'serving.toml'}: [limits] upload_mb)"
    ) in overrides
    assert any("server.maxMessageSize=500; capped to 20 (the app's" in line for line in overrides)


def test_the_app_s_lower_config_value_still_wins_over_its_limits(tmp_path):
    script = an_app(tmp_path / "app", "[server]\nmaxUploadSize = 8\nmaxMessageSize = 2\n")
    (script.parent / "serving.toml").write_text("[limits]\nupload_mb = 50\nmessage_mb = 20\n")
    pinned, (_notice, *overrides) = pinned_argv(["run", str(script)], script, {})
    assert sizes(pinned) == ("8", "2")
    assert overrides == []
    # and a config value above a lowered limit is lowered to it
    (script.parent / "serving.toml").write_text("[limits]\nupload_mb = 5\nmessage_mb = 1\n")
    pinned, (_notice, *overrides) = pinned_argv(["run", str(script)], script, {})
    assert sizes(pinned) == ("5", "1")
    assert len(overrides) == 2


def test_the_settings_file_is_the_app_directory_s_when_app_main_is_in_a_sub_folder(tmp_path):
    """APP_MAIN relative to the app's directory (the image's entrypoint sets it): its serving.toml
    is there, where the stacks read the proxy's PROXY_UPLOAD_MB from, not beside the script."""
    script = an_app(tmp_path / "app" / "src", None)
    (tmp_path / "app" / "serving.toml").write_text("[limits]\nupload_mb = 40\n")
    nested = {"APP_MAIN": "src/streamlit_app.py"}
    assert sizes(pinned_argv(["run", str(script)], script, nested)[0]) == ("40", "4")
    assert sizes(pinned_argv(["run", str(script)], script, {"APP_MAIN": "other.py"})[0]) == ("16", "4")


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ("upload_mb = 0", "[limits] upload_mb: 0 must be a whole number of MB, 1 to 1024"),
        ("upload_mb = 1025", "[limits] upload_mb: 1025 must be"),
        ("message_mb = 201", "[limits] message_mb: 201 must be a whole number of MB, 1 to 200"),
        ("unknown_mb = 3", "unknown key '[limits] unknown_mb'"),
    ],
)
def test_a_bad_limit_stops_the_start_with_64_naming_the_file_and_key(tmp_path, limits, message):
    script = an_app(tmp_path / "app", None)
    (script.parent / "serving.toml").write_text(f"[limits]\n{limits}\n")
    with pytest.raises(SettingsError, match=r"serving\.toml"):
        pinned_argv(["run", str(script)], script, {})
    result = serve_run(script, tmp_path)
    assert result.returncode == 64, result.stderr
    assert f"serve: {script.parent / 'serving.toml'}: " in result.stderr
    assert message in result.stderr


TEMPLATE_DEFAULTS = {
    "server.disconnectedSessionTTL": 30,
    "runner.postScriptGC": False,
    "logger.level": "info",
}


def test_the_templates_defaults_are_streamlit_options_of_their_type():
    template = read_config(TEMPLATE_CONFIG)
    assert template == TEMPLATE_DEFAULTS
    for key, value in template.items():
        option = st_config._config_options_template[key]
        assert env_var(key) == option.env_var
        assert isinstance(value, option.type), key


def test_the_templates_defaults_are_flags_unless_a_file_a_variable_or_a_flag_sets_them(tmp_path):
    """Run from the app's directory (as serve.py runs it): Streamlit reads ~/.streamlit and the
    app's own file; the template's file is passed as flags, option by option, where neither sets it."""
    script = an_app(tmp_path / "app", "[runner]\npostScriptGC = true\n[theme]\nbase = 'dark'\n")
    files = config_files(script, tmp_path / "home", script.parent)
    assert files == [tmp_path / "home/.streamlit/config.toml", script.parent / ".streamlit/config.toml"]
    defaults = template_defaults(files, {}, [])
    assert defaults.values == {"server.disconnectedSessionTTL": 30, "logger.level": "info"}
    assert defaults.flags == ["--server.disconnectedSessionTTL=30", "--logger.level=info"]
    assert defaults.kept == {"runner.postScriptGC": Given(None, str(files[1]))}
    # A variable and a flag set options too: the template's value is not passed over them.
    env = {"STREAMLIT_LOGGER_LEVEL": "debug"}
    argv = ["run", str(script), "--server.disconnectedSessionTTL", "60"]
    assert template_defaults(files, env, argv).values == {}
    # A user's ~/.streamlit sets it: Streamlit reads that file, the template passes nothing for it.
    (tmp_path / "home/.streamlit").mkdir(parents=True)
    (tmp_path / "home/.streamlit/config.toml").write_text("[logger]\nlevel = 'warning'\n")
    assert template_defaults(files, {}, []).values == {"server.disconnectedSessionTTL": 30}


def test_run_from_the_templates_root_its_file_counts_as_the_templates(tmp_path):
    """Where Streamlit itself reads the template's file (cwd = the template's root), its options
    are still flagged, with the same values, and the app's own file still wins."""
    script = an_app(tmp_path / "app", "[runner]\npostScriptGC = true\n")
    files = config_files(script, tmp_path, REPO)
    assert TEMPLATE_CONFIG in files
    assert template_defaults(files, {}, []).values == {
        "server.disconnectedSessionTTL": 30,
        "logger.level": "info",
    }


def test_a_template_file_that_is_not_valid_toml_stops_the_start_naming_it(tmp_path):
    script = an_app(tmp_path / "app", None)
    template = tmp_path / "template.toml"
    template.write_text("[server\n")
    with pytest.raises(SettingsError, match=f"{template} is not valid TOML"):
        template_defaults(config_files(script, tmp_path, script.parent), {}, [], template)
