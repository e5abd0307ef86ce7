"""The app's own .streamlit/secrets.toml (streamlit_serving/app_secrets.py): found, checked, its
top-level keys exported into the process's environment, and read by Streamlit's own st.secrets
beside the sign-in's [auth] (no mock: Streamlit's Secrets in a child process, and the serving
layer's real start in another, stopped by a hook before the server starts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from streamlit_serving.app_secrets import (
    MOUNTED,
    SECRETS_FILES_VARIABLE,
    find_secrets_file,
    install_app_secrets,
    notice,
)
from streamlit_serving.oidc_config import install_auth_secrets
from streamlit_serving.settings import SettingsError, load_serving_settings

REPO = Path(__file__).resolve().parents[2]
SECRET_VALUE = "never-in-a-log-7f3a"  # noqa: S105 - a test value, checked absent from messages
APP_SECRETS = f"""\
API_TOKEN = "{SECRET_VALUE}"
RETRIES = 3
RATIO = 0.5
DEBUG = false
HOSTS = ["a", "b"]

[connections.db]
url = "postgresql://u:p@db/x"
"""
SIGN_IN = {"SERVE_AUTH": "oidc", "SERVE_ALLOWED_EMAILS": "ada@example.com"}
PROVIDER = """\
server_metadata_url = "https://accounts.example.com/.well-known/openid-configuration"
client_id = "dashboard"
client_secret = "provider-secret"
redirect_uri = "https://dashboard.example.com/oauth2callback"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_file_is_the_variable_s_then_the_mounted_one_then_the_one_beside_the_script(tmp_path):
    script = write(tmp_path / "app" / "main.py", "")
    own = write(tmp_path / "app" / ".streamlit" / "secrets.toml", "")
    mounted = tmp_path / "run" / "app_secrets.toml"
    assert find_secrets_file({}, script, mounted) == own
    write(mounted, "")
    assert find_secrets_file({}, script, mounted) == mounted
    chosen = write(tmp_path / "chosen.toml", "")
    assert find_secrets_file({"SERVE_APP_SECRETS_FILE": str(chosen)}, script, mounted) == chosen
    assert Path("/run/secrets/app_secrets.toml") == MOUNTED


def test_no_file_is_fine_and_changes_nothing(tmp_path):
    env: dict[str, str] = {}
    assert install_app_secrets(env, tmp_path / "main.py", sign_in=False, mounted=tmp_path / "none") is None
    assert env == {}
    assert "no app secrets file" in notice(None)


def test_a_named_file_that_is_missing_stops_the_start_naming_the_variable(tmp_path):
    with pytest.raises(SettingsError, match=r"SERVE_APP_SECRETS_FILE=.*missing.toml is not a file"):
        install_app_secrets({"SERVE_APP_SECRETS_FILE": str(tmp_path / "missing.toml")}, None, sign_in=False)


def test_a_named_file_streamlit_would_refuse_stops_the_start(tmp_path):
    path = write(tmp_path / "app_secrets", 'A = "1"\n')
    with pytest.raises(SettingsError, match=r"SERVE_APP_SECRETS_FILE=.*app_secrets must end in .toml"):
        install_app_secrets({"SERVE_APP_SECRETS_FILE": str(path)}, None, sign_in=False)


def test_top_level_scalars_become_environment_variables_tables_and_arrays_do_not(tmp_path):
    path = write(tmp_path / "secrets.toml", APP_SECRETS)
    env = {"SERVE_APP_SECRETS_FILE": str(path)}
    found = install_app_secrets(env, None, sign_in=False)
    assert found is not None
    assert found.exported == ("API_TOKEN", "RETRIES", "RATIO", "DEBUG")
    assert (env["API_TOKEN"], env["RETRIES"], env["RATIO"], env["DEBUG"]) == (
        SECRET_VALUE,
        "3",
        "0.5",
        "false",
    )
    assert "HOSTS" not in env
    assert "connections" not in env
    assert env[SECRETS_FILES_VARIABLE].split()[-1] == str(path)
    assert SECRET_VALUE not in notice(found)
    assert "API_TOKEN" in notice(found)


def test_bad_toml_stops_the_start_naming_the_file_and_no_value(tmp_path):
    path = write(tmp_path / "secrets.toml", f'API_TOKEN = "{SECRET_VALUE}\nbroken = [\n')
    with pytest.raises(SettingsError) as raised:
        install_app_secrets({"SERVE_APP_SECRETS_FILE": str(path)}, None, sign_in=False)
    assert f"{path} is not valid TOML" in str(raised.value)
    assert SECRET_VALUE not in str(raised.value)


@pytest.mark.parametrize("name", ["SERVE_AUTH", "streamlit_server_enable_cors"])
def test_names_of_the_serving_layer_or_streamlit_are_refused(tmp_path, name):
    path = write(tmp_path / "secrets.toml", f'{name} = "x"\n')
    with pytest.raises(SettingsError, match=f"key {name} is a setting"):
        install_app_secrets({"SERVE_APP_SECRETS_FILE": str(path)}, None, sign_in=False)


def test_an_auth_table_of_the_app_is_refused_with_sign_in_and_kept_without(tmp_path):
    path = write(tmp_path / "secrets.toml", '[auth]\nclient_id = "own"\n')
    with pytest.raises(SettingsError, match=r"has an \[auth\] table, and sign-in \(SERVE_AUTH=oidc\)"):
        install_app_secrets({"SERVE_APP_SECRETS_FILE": str(path)}, None, sign_in=True)
    env = {"SERVE_APP_SECRETS_FILE": str(path)}
    assert install_app_secrets(env, None, sign_in=False) is not None


def streamlit_secrets(env: dict[str, str]) -> dict[str, object]:
    """What Streamlit's own st.secrets holds with ``env``, in a fresh process. Its CLI (click)
    turns STREAMLIT_SECRETS_FILES into the option (whitespace-separated): done here by hand."""
    code = textwrap.dedent(
        """
        import json, os
        from streamlit import config
        from streamlit.runtime.secrets import secrets_singleton
        files = os.environ["STREAMLIT_SECRETS_FILES"].split()
        config.get_config_options(force_reparse=True, options_from_flags={"secrets.files": files})
        print(json.dumps(secrets_singleton.to_dict()))
        """
    )
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**child_env, **env}, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_with_sign_in_st_secrets_holds_the_app_s_keys_and_the_sign_in_s_auth(tmp_path):
    app_file = write(tmp_path / "secrets.toml", APP_SECRETS)
    provider = write(tmp_path / "oidc.toml", PROVIDER)
    settings = load_serving_settings({**SIGN_IN, "SERVE_OIDC_FILE": str(provider)})
    env = {"SERVE_APP_SECRETS_FILE": str(app_file), "STREAMLIT_SERVER_COOKIE_SECRET": "c" * 32}
    install_app_secrets(env, None, settings.sign_in)
    auth_file = install_auth_secrets(settings, env)
    files = env[SECRETS_FILES_VARIABLE].split()
    assert files[-2:] == [str(app_file), str(auth_file)]
    secrets = streamlit_secrets({SECRETS_FILES_VARIABLE: env[SECRETS_FILES_VARIABLE]})
    assert secrets["API_TOKEN"] == SECRET_VALUE
    assert secrets["connections"] == {"db": {"url": "postgresql://u:p@db/x"}}
    assert secrets["auth"]["client_id"] == "dashboard"  # type: ignore[index]


def test_the_start_exports_the_keys_before_the_app_s_code_and_stops_on_bad_toml(tmp_path):
    """The real `python -m streamlit_serving run`: the app's check() hook (run before the server
    starts) sees the variable in its process; a bad file stops the start with 64, naming it."""
    app = tmp_path / "app"
    write(app / "main.py", "import streamlit as st\n")
    write(
        app / "serve_hooks.py",
        "import os\n\ndef check():\n"
        "    raise ValueError('seen API_TOKEN: ' + str(os.environ.get('API_TOKEN') == "
        f"{SECRET_VALUE!r}))\n",
    )
    good = write(tmp_path / "secrets.toml", APP_SECRETS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVE_", "STREAMLIT_"))}
    env["PYTHONPATH"] = str(REPO)

    def start(secrets: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "streamlit_serving", "run", str(app / "main.py")],
            env={**env, "SERVE_APP_SECRETS_FILE": str(secrets), "SERVE_METRICS_PORT": "0"},
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )

    ran = start(good)
    assert ran.returncode == 64
    assert "seen API_TOKEN: True" in ran.stderr
    bad = write(tmp_path / "bad.toml", "API_TOKEN = \n")
    ran = start(bad)
    assert ran.returncode == 64
    assert f"serve: the app's secrets file {bad} is not valid TOML" in ran.stderr


def test_the_first_run_reads_the_secrets_as_the_server_does(tmp_path):
    """`make up`'s first run (first_run.py, AppTest outside the server) hands the app the same
    st.secrets and environment: an app reading both runs through; without the file it fails."""
    script = write(
        tmp_path / "app" / "main.py",
        "import os\nimport streamlit as st\n"
        f"assert st.secrets['API_TOKEN'] == os.environ['API_TOKEN'] == {SECRET_VALUE!r}\n"
        "assert st.secrets['connections']['db']['url'].startswith('postgresql:')\n",
    )
    secrets = write(tmp_path / "secrets.toml", APP_SECRETS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVE_", "STREAMLIT_"))}
    env["PYTHONPATH"] = str(REPO)

    def first_run(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "streamlit_serving.first_run", str(script)],
            env={**env, **extra}, capture_output=True, text=True, timeout=120, cwd=tmp_path,
        )  # fmt: skip

    ran = first_run({"SERVE_APP_SECRETS_FILE": str(secrets)})
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert first_run({}).returncode == 64
