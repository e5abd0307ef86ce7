"""Sign-in settings (SERVE_AUTH & co. in settings.py) and the provider's secret file
(oidc_config.py): what each bad value does, and what reaches Streamlit's secrets.toml."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

import pytest

from streamlit_serving.oidc_config import install_auth_secrets, read_provider, render_auth_section
from streamlit_serving.settings import SettingsError, load_serving_settings, read_allowed_file

SIGN_IN = {
    "SERVE_AUTH": "oidc",
    "SERVE_ALLOWED_EMAILS": "ada@example.com",
    "SERVE_OIDC_FILE": "/run/secrets/oidc",
}
PROVIDER = """\
server_metadata_url = "https://accounts.example.com/.well-known/openid-configuration"
client_id = "sales-dashboard"
client_secret = "s3cr3t \\"quoted\\" and \\\\ back"
redirect_uri = "https://dashboard.example.com/oauth2callback"
"""
COOKIE_SECRET = "c" * 32


def test_sign_in_is_off_by_default_and_none_public_is_open_too():
    assert (load_serving_settings({}).auth, load_serving_settings({}).sign_in) == ("none", False)
    public = load_serving_settings({"SERVE_AUTH": "None-Public", "SERVE_AUTH_REQUIRED": "on"})
    assert (public.auth, public.sign_in, public.auth_required) == ("none-public", False, True)


def test_oidc_reads_lists_lower_cased_and_the_file():
    settings = load_serving_settings(
        {
            **SIGN_IN,
            "SERVE_ALLOWED_EMAILS": " Ada@Example.com, bob@example.org ,",
            "SERVE_ALLOWED_DOMAINS": "Sales.Example",
        }
    )
    assert settings.sign_in
    assert settings.allowed_emails == {"ada@example.com", "bob@example.org"}
    assert settings.allowed_domains == {"sales.example"}
    assert settings.oidc_file == Path("/run/secrets/oidc")
    assert settings.auth_max_age_hours == 12
    assert load_serving_settings(
        {**SIGN_IN, "SERVE_ALLOWED_EMAILS": "", "SERVE_ALLOWED_DOMAINS": "*"}
    ).allowed_domains == {"*"}


@pytest.mark.parametrize(
    ("env", "variable", "reason"),
    [
        ({"SERVE_AUTH": "ldap"}, "SERVE_AUTH", "not one of none, oidc, none-public"),
        ({"SERVE_AUTH_REQUIRED": "on"}, "SERVE_AUTH", "refused here (SERVE_AUTH_REQUIRED=on)"),
        (
            {"SERVE_AUTH": "none", "SERVE_AUTH_REQUIRED": "on"},
            "SERVE_AUTH",
            "SERVE_AUTH=none-public to serve",
        ),
        ({"SERVE_AUTH_REQUIRED": "yes"}, "SERVE_AUTH_REQUIRED", "not one of on, off"),
        ({**SIGN_IN, "SERVE_ALLOWED_EMAILS": ""}, "SERVE_ALLOWED_EMAILS", "lets nobody in"),
        (
            {**SIGN_IN, "SERVE_ALLOWED_EMAILS": "ada"},
            "SERVE_ALLOWED_EMAILS",
            "'ada' is not an e-mail address",
        ),
        ({**SIGN_IN, "SERVE_ALLOWED_EMAILS": "a@b@example.com"}, "SERVE_ALLOWED_EMAILS", "not an e-mail"),
        ({**SIGN_IN, "SERVE_ALLOWED_DOMAINS": "@example.com"}, "SERVE_ALLOWED_DOMAINS", "not a domain name"),
        ({**SIGN_IN, "SERVE_ALLOWED_DOMAINS": "*, example.com"}, "SERVE_ALLOWED_DOMAINS", "or * alone"),
        ({**SIGN_IN, "SERVE_OIDC_FILE": " "}, "SERVE_OIDC_FILE", "is not set"),
        ({**SIGN_IN, "SERVE_AUTH_MAX_AGE_HOURS": "0"}, "SERVE_AUTH_MAX_AGE_HOURS", "outside 1..720"),
        ({**SIGN_IN, "SERVE_AUTH_MAX_AGE_HOURS": "a day"}, "SERVE_AUTH_MAX_AGE_HOURS", "not a whole number"),
    ],
)
def test_bad_sign_in_settings_name_the_variable(env, variable, reason):
    with pytest.raises(SettingsError, match=re.escape(reason)) as error:
        load_serving_settings(env)
    assert variable in str(error.value)


def test_the_allowed_file_holds_e_mails_and_domains_one_a_line(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.write_text("# who may see the figures\n Ada@Example.com\n\nsales.example  # the team\n")
    env = {**SIGN_IN, "SERVE_ALLOWED_EMAILS": "", "SERVE_ALLOWED_FILE": f"{allowed} "}
    settings = load_serving_settings(env)
    assert settings.allowed_file == allowed
    assert (settings.allowed_emails, settings.allowed_domains) == ({"ada@example.com"}, {"sales.example"})
    allowed.write_text("*\n")
    assert read_allowed_file(allowed) == (frozenset(), frozenset({"*"}))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ada@example.com\nada\n", "line 2: 'ada' is not an e-mail or a domain"),
        ("a@b@example.com\n", "line 1: 'a@b@example.com' is not an e-mail address"),
        ("*\nexample.com\n", "* (every verified e-mail) must be the only entry"),
        ("# nobody yet\n\n", "lets nobody in"),
        (None, "cannot be read"),
    ],
)
def test_a_bad_allowed_file_names_itself_and_the_line(tmp_path, text, reason):
    allowed = tmp_path / "allowed"
    if text is not None:
        allowed.write_text(text)
    with pytest.raises(SettingsError, match=re.escape(reason)) as error:
        load_serving_settings({**SIGN_IN, "SERVE_ALLOWED_EMAILS": "", "SERVE_ALLOWED_FILE": str(allowed)})
    assert f"SERVE_ALLOWED_FILE={allowed}" in str(error.value)


def test_the_allowed_file_and_the_lists_are_not_both_set(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.write_text("ada@example.com\n")
    with pytest.raises(SettingsError, match="the allow-list has one home"):
        load_serving_settings({**SIGN_IN, "SERVE_ALLOWED_FILE": str(allowed)})


def provider_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "oidc.toml"
    path.write_text(text)
    return path


def test_provider_file_renders_to_the_auth_section_streamlit_reads(tmp_path):
    provider = read_provider(
        provider_file(tmp_path, PROVIDER + '[client_kwargs]\nprompt = "login"\nhd = "example.com"\n')
    )
    rendered = tomllib.loads(render_auth_section(provider, COOKIE_SECRET + '"\\\n'))
    assert rendered == {
        "auth": {
            "cookie_secret": COOKIE_SECRET + '"\\\n',
            "server_metadata_url": "https://accounts.example.com/.well-known/openid-configuration",
            "client_id": "sales-dashboard",
            "client_secret": 's3cr3t "quoted" and \\ back',
            "redirect_uri": "https://dashboard.example.com/oauth2callback",
            "client_kwargs": {"prompt": "login", "hd": "example.com"},
        }
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (PROVIDER.replace('client_id = "sales-dashboard"\n', ""), "client_id is missing"),
        (PROVIDER + 'cookie_secret = "x"\n', "cookie_secret does not belong here"),
        (PROVIDER + 'client_secrets = "x"\n', r"unknown key\(s\) client_secrets"),
        (PROVIDER.replace('"sales-dashboard"', '""'), "client_id must be a non-empty string"),
        (PROVIDER.replace('"sales-dashboard"', "42"), "client_id must be a non-empty string"),
        (PROVIDER.replace('"sales-dashboard"', '" sales-dashboard"'), "without surrounding spaces"),
        (
            PROVIDER.replace("https://accounts", "ftp://accounts"),
            "server_metadata_url=.* not an absolute http",
        ),
        (
            PROVIDER.replace("/oauth2callback", "/callback"),
            "must be the app's public URL ending in /oauth2callback",
        ),
        (PROVIDER.replace("/oauth2callback", "/oauth2callback?x=1"), "ending in /oauth2callback"),
        (PROVIDER.replace("https://dashboard", "http://dashboard"), "must use https"),
        (PROVIDER + '[client_kwargs]\nscope = "openid profile"\n', "must include openid and email"),
        (PROVIDER + '[client_kwargs]\nnonce = "fixed"\n', "client_kwargs.nonce is set by the sign-in itself"),
        (PROVIDER + 'client_kwargs = "prompt=login"\n', "client_kwargs must be a table"),
        (PROVIDER + "[client_kwargs]\nmax_age = 5\n", "client_kwargs.max_age must be a non-empty string"),
        ("client_id = 'unterminated\n", "is not valid TOML"),
    ],
)
def test_a_bad_provider_file_names_the_key(tmp_path, text, reason):
    path = provider_file(tmp_path, text)
    with pytest.raises(SettingsError, match=reason) as error:
        read_provider(path)
    assert f"SERVE_OIDC_FILE={path}" in str(error.value)


@pytest.mark.parametrize("host", ["localhost:8080", "127.0.0.1:8501", "sales.localhost", "[::1]:8080"])
def test_plain_http_redirect_only_on_this_machine(tmp_path, host):
    text = PROVIDER.replace("https://dashboard.example.com", f"http://{host}")
    assert read_provider(provider_file(tmp_path, text))["redirect_uri"] == f"http://{host}/oauth2callback"


def test_missing_provider_file_names_it(tmp_path):
    with pytest.raises(SettingsError, match=r"SERVE_OIDC_FILE=.*/nowhere\.toml cannot be read"):
        read_provider(tmp_path / "nowhere.toml")


def test_install_writes_a_private_secrets_file_after_the_usual_ones(tmp_path):
    settings = load_serving_settings({**SIGN_IN, "SERVE_OIDC_FILE": str(provider_file(tmp_path, PROVIDER))})
    env = {"STREAMLIT_SERVER_COOKIE_SECRET": COOKIE_SECRET}
    target = install_auth_secrets(settings, env)
    assert target is not None
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert tomllib.loads(target.read_text())["auth"]["cookie_secret"] == COOKIE_SECRET
    files = env["STREAMLIT_SECRETS_FILES"].split()
    assert files[-1] == str(target)  # last: its [auth] wins over a secrets.toml of the project
    assert files[:-1] == [
        str(Path.home() / ".streamlit/secrets.toml"),
        str(Path.cwd() / ".streamlit/secrets.toml"),
    ]


@pytest.mark.parametrize("secret", [None, "short"])
def test_sign_in_needs_the_shared_cookie_secret(tmp_path, secret):
    settings = load_serving_settings({**SIGN_IN, "SERVE_OIDC_FILE": str(provider_file(tmp_path, PROVIDER))})
    env = {} if secret is None else {"STREAMLIT_SERVER_COOKIE_SECRET": secret}
    with pytest.raises(SettingsError, match=r"STREAMLIT_SERVER_COOKIE_SECRET is (unset|shorter than 32)"):
        install_auth_secrets(settings, env)
    assert "STREAMLIT_SECRETS_FILES" not in env


def test_without_sign_in_nothing_is_written():
    env: dict[str, str] = {}
    assert install_auth_secrets(load_serving_settings({}), env) is None
    assert env == {}
    assert "STREAMLIT_SECRETS_FILES" not in os.environ
