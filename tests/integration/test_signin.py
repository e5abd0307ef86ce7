"""Sign-in (SERVE_AUTH=oidc) on a real server against a real OpenID provider: the development
provider (deploy/oidc-dev, panva's oidc-provider) as a local Node.js process. Each visitor is a
protocol client; signed-in ones got their cookie through the provider's form (scripted HTTP, as a
browser would: streamlit_load.client.signin). What each one receives over the WebSocket is checked:
no figure reaches anyone the gate does not let in, no code of the app runs for a sign-in that
expired while its page was open, and a link opened before signing in is where the page opens after."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from sales_load.page import DATE_WIDGET, DashboardSession
from streamlit_load.client import InteractionTimeout
from streamlit_load.client.messages import date_state
from streamlit_load.client.signin import USER_COOKIE, Browser, SignInError, sign_in, sign_in_from
from streamlit_load.dev_provider import (
    ALLOWED_USER,
    DEV_ALLOWED_EMAILS,
    OTHER_USER,
    UNVERIFIED_USER,
    Provider,
    password,
    running_provider,
)
from streamlit_load.local_server import APP, REPO, SERVE, Server, free_port, running_server
from streamlit_serving.auth import RECHECK_SECONDS
from streamlit_serving.sign_in_link import RETURN_COOKIE

#: Elements that carry sales figures (or let a visitor ask for them).
FIGURE_ELEMENTS = {"plotly_chart", "arrow_data_frame", "metric", "date_input"}
SIGN_IN_TEXT = "This app is for signed-in people only."


@dataclass
class SignInServer:
    server: Server
    provider: Provider
    secret: str

    @property
    def url(self) -> str:
        return self.server.base_url

    def cookies_of(self, email: str) -> dict[str, str]:
        return sign_in(self.url, email, password(email))


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[SignInServer]:
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/oauth2callback"
    secret = secrets.token_hex(32)
    with running_provider([redirect_uri]) as provider:
        env = {
            "SERVE_AUTH": "oidc",
            "SERVE_ALLOWED_EMAILS": DEV_ALLOWED_EMAILS,
            "SERVE_OIDC_FILE": str(provider.settings_file(redirect_uri, tmp_path_factory.mktemp("oidc"))),
            "STREAMLIT_SERVER_COOKIE_SECRET": secret,
        }
        with running_server(env=env, port=port) as server:
            yield SignInServer(server, provider, secret)


def shown(text: str) -> str:
    """Markdown source as the page shows it (the app shows e-mails as code: no mailto: link)."""
    return text.replace("`", "")


def assert_no_figure(texts: list[str], elements) -> None:
    assert not FIGURE_ELEMENTS & set(elements), dict(elements)
    assert not any(re.search(r"\d|\$", text) for text in texts), texts


def test_anonymous_visitor_gets_the_sign_in_page_and_no_figure(app):
    with DashboardSession(app.url) as anonymous:
        first = anonymous.initial
        assert first.texts == ["Daily vs monthly sales, by product", SIGN_IN_TEXT]
        assert set(first.elements) == {"heading", "markdown", "button"}
        assert_no_figure(first.texts, first.elements)
        # A rerun carrying a date (as a crafted client could send) changes nothing.
        anonymous.set_widget_state(date_state("$$ID-0-date", "2023-03-08"))
        again = anonymous.rerun()
        assert again.texts == first.texts
        assert_no_figure(again.texts, again.elements)


def test_allowed_user_sees_the_dashboard_and_fragment_reruns_stay_fragment_only(app):
    cookies = app.cookies_of(ALLOWED_USER)
    assert USER_COOKIE in cookies
    with DashboardSession(app.url, cookies=cookies) as ada:
        assert shown(ada.initial.texts[0]) == f"Signed in as {ALLOWED_USER}"
        assert "Best sellers, January 1, 2023" in ada.initial.texts
        assert ada.initial.elements["plotly_chart"] == 3
        assert "Sign out" in ada.widget_ids
        day = ada.pick_date("2023-01-15")
        assert day.fragment_ids
        assert not day.outside_fragment
        assert day.has_text("Best sellers, January 15, 2023")
        month = ada.change_month("2023-03-08")
        assert month.outside_fragment
        assert f"Signed in as {ALLOWED_USER}" in map(shown, month.texts)  # the gate ran again


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        (OTHER_USER, f"{OTHER_USER} is not among the people allowed to see this app."),
        (UNVERIFIED_USER, f"The provider has not verified {UNVERIFIED_USER}."),
    ],
)
def test_user_outside_the_list_is_refused_with_a_sign_out_button(app, email, reason):
    with DashboardSession(app.url, cookies=app.cookies_of(email)) as refused:
        (message,) = [text for text in map(shown, refused.initial.texts) if reason in text]
        assert "sign out and sign in with another account" in message
        assert set(refused.widget_ids) == {"Sign out"}
        assert_no_figure([], refused.initial.elements)
        assert not any("$" in text for text in refused.initial.texts)
        # The gate's own button acts for a session it does not let in (no other callback does).
        assert refused.click("Sign out").redirects == ["/auth/logout"]


def test_nobody_runs_the_daily_fragment_without_the_gate(app):
    """A session that never passed the gate, or has signed out since, holds no fragment (the gate
    forgets them): its fragment rerun is dropped by the server, no run at all."""
    with DashboardSession(app.url, cookies=app.cookies_of(ALLOWED_USER)) as ada:
        fragment, widget = ada.fragment_of(DATE_WIDGET), ada.widget_id(DATE_WIDGET)
        signed_out = ada.click("Sign out")
        assert signed_out.redirects == ["/auth/logout"]
        assert SIGN_IN_TEXT in signed_out.texts
        ada.set_widget_state(date_state(widget, "2023-01-16"))
        with pytest.raises(InteractionTimeout):
            ada.rerun(fragment, timeout=5)
    with DashboardSession(app.url) as anonymous:
        anonymous.set_widget_state(date_state(widget, "2023-01-17"))
        with pytest.raises(InteractionTimeout):
            anonymous.rerun(fragment, timeout=5)


@pytest.mark.parametrize(
    ("link", "referer", "opens_at"),
    [
        ("/?date=2023-03-09", "", "/?date=2023-03-09"),  # the page's own address, as a browser sends it
        ("/", "{url}/page?x=1", "/page?x=1"),  # a page of a multipage app
        ("/", "{url}//evil.example", "/"),
        ("/", "{url}/\\evil.example", "/"),
        ("/", "https://evil.example/", "/"),
        ("/", None, "/"),
    ],
)
def test_a_link_opened_before_sign_in_is_where_the_page_opens_after_it(app, link, referer, opens_at):
    """The provider's round trip ends at the link the visitor opened (its path and query, from the
    sign-in request's Referer), never at another site's or an unsafe address."""
    done = sign_in_from(
        f"{app.url}{link}",
        ALLOWED_USER,
        password(ALLOWED_USER),
        referer=referer and referer.format(url=app.url),
    )
    assert done.landed == f"{app.url}{opens_at}"
    assert RETURN_COOKIE not in done.cookies  # used once, then cleared
    if opens_at == "/?date=2023-03-09":
        with DashboardSession(done.landed, cookies=done.cookies) as ada:
            assert ada.initial.has_text("Best sellers, March 9, 2023")


@pytest.mark.parametrize(
    ("kept", "opens_at"),
    [
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/%2F/x", "/%2F/x"),  # a path of this app, however odd: followed
    ],
)
def test_a_return_cookie_is_checked_again_at_the_callback(app, kept, opens_at):
    """A return cookie the app did not set (here with no Referer to replace it) is checked again
    at the callback: an unsafe one falls back to the app's root."""
    cookies = {RETURN_COOKIE: quote(kept, safe="")}
    done = sign_in_from(app.url, ALLOWED_USER, password(ALLOWED_USER), referer=None, cookies=cookies)
    assert done.landed == f"{app.url}{opens_at}"
    assert RETURN_COOKIE not in done.cookies


def test_sign_out_clears_the_cookie_and_ends_the_provider_session(app):
    cookies = app.cookies_of(ALLOWED_USER)
    browser = Browser()
    browser.jar(app.url).update(cookies)
    logout = browser.request("GET", f"{app.url}/auth/logout")
    assert logout.status == 302
    assert USER_COOKIE not in browser.jar(app.url)
    assert "_streamlit_user_tokens" not in browser.jar(app.url)
    # On to the provider's end-session endpoint, with the ID token as a hint and back to the app.
    assert logout.location.startswith(f"{app.provider.issuer}/session/end?")
    assert "id_token_hint=" in logout.location
    assert "post_logout_redirect_uri=http%3A%2F%2F127.0.0.1" in logout.location
    with DashboardSession(app.url, cookies=browser.jar(app.url)) as after:
        assert SIGN_IN_TEXT in after.initial.texts


def test_a_copied_cookie_outlives_sign_out(app):
    """Streamlit's identity cookie is signed, not stored: signing out clears it from the browser
    that signs out, but a copy stays valid (here until SERVE_AUTH_MAX_AGE_HOURS; docs/deploy.md)."""
    copied = app.cookies_of(ALLOWED_USER)
    browser = Browser()
    browser.jar(app.url).update(copied)
    browser.request("GET", f"{app.url}/auth/logout")
    with DashboardSession(app.url, cookies=copied) as replay:
        assert f"Signed in as {ALLOWED_USER}" in map(shown, replay.initial.texts)


def test_a_forged_or_altered_cookie_is_anonymous(app):
    cookies = app.cookies_of(ALLOWED_USER)
    value = cookies[USER_COOKIE]
    altered = {**cookies, USER_COOKIE: value[:-2] + ("AA" if not value.endswith("AA") else "BB")}
    with DashboardSession(app.url, cookies=altered) as visitor:
        assert SIGN_IN_TEXT in visitor.initial.texts
        assert_no_figure(visitor.initial.texts, visitor.initial.elements)


def test_wrong_password_gets_no_cookie(app):
    with pytest.raises(SignInError, match="no _streamlit_user cookie"):
        sign_in(app.url, ALLOWED_USER, "not-the-password")


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *SERVE, "run", str(APP), "--server.port", "1"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SERVE_AUTH": "oidc", "SERVE_OIDC_FILE": "/x"}, "SERVE_AUTH=oidc lets nobody in"),
        ({"SERVE_AUTH_REQUIRED": "on"}, "SERVE_AUTH='' is refused here (SERVE_AUTH_REQUIRED=on)"),
        ({"SERVE_AUTH": "oidc", "SERVE_ALLOWED_DOMAINS": "*"}, "SERVE_OIDC_FILE is not set"),
        (
            {"SERVE_AUTH": "oidc", "SERVE_ALLOWED_DOMAINS": "*", "SERVE_OIDC_FILE": "/nonexistent/oidc"},
            "SERVE_OIDC_FILE=/nonexistent/oidc cannot be read",
        ),
    ],
)
def test_a_bad_sign_in_setting_stops_the_start_with_exit_64(env, message):
    result = start(env)
    assert result.returncode == 64
    assert message in result.stderr


def test_sign_in_without_the_shared_cookie_secret_stops_the_start(tmp_path):
    oidc = tmp_path / "oidc.toml"
    oidc.write_text(
        'server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n'
        'client_id = "x"\nclient_secret = "y"\nredirect_uri = "http://127.0.0.1:8501/oauth2callback"\n'
    )
    result = start({"SERVE_AUTH": "oidc", "SERVE_ALLOWED_DOMAINS": "*", "SERVE_OIDC_FILE": str(oidc)})
    assert result.returncode == 64
    assert "STREAMLIT_SERVER_COOKIE_SECRET is unset" in result.stderr


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({}, "sign-in off (SERVE_AUTH=none): anyone who reaches this app sees all of it"),
        (
            {"SERVE_AUTH": "none-public", "SERVE_AUTH_REQUIRED": "on"},
            "WARNING: SERVE_AUTH=none-public: sign-in is OFF where it is required",
        ),
    ],
)
def test_every_start_logs_who_may_see_the_app(env, line):
    with running_server(env=env) as server:
        assert line in server.log()


def test_the_rendered_secrets_file_is_private(app: SignInServer):
    """The rendered secrets.toml is private to the server's user and inside a 0700 directory."""
    rendered = Path(tempfile.gettempdir()).glob("serving-auth-*/secrets.toml")
    found = [path for path in rendered if app.secret in path.read_text()]
    assert len(found) == 1
    assert found[0].stat().st_mode & 0o077 == 0
    assert found[0].parent.stat().st_mode & 0o077 == 0


def test_provider_down_keeps_signed_in_users_and_refuses_new_sign_ins_clearly(tmp_path):
    """The identity cookie is checked by the app alone: with the provider gone, signed-in users go
    on; a new sign-in gets Streamlit's 400 "Authentication error" and the server stays healthy."""
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/oauth2callback"
    provider_running = running_provider([redirect_uri])
    provider = provider_running.__enter__()
    try:
        env = {
            "SERVE_AUTH": "oidc",
            "SERVE_ALLOWED_EMAILS": DEV_ALLOWED_EMAILS,
            "SERVE_OIDC_FILE": str(provider.settings_file(redirect_uri, tmp_path)),
            "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
        }
        with running_server(env=env, port=port) as server:
            cookies = sign_in(server.base_url, ALLOWED_USER, password(ALLOWED_USER))
            provider_running.__exit__(None, None, None)
            provider_running = None
            with DashboardSession(server.base_url, cookies=cookies) as ada:
                assert ada.pick_date("2023-01-15").has_text("Best sellers, January 15, 2023")
            with pytest.raises(SignInError, match=r"/auth/login\?provider=\S+ -> 400"):
                sign_in(server.base_url, ALLOWED_USER, password(ALLOWED_USER), timeout=20)
            assert server.healthy()
    finally:
        if provider_running is not None:
            provider_running.__exit__(None, None, None)


#: An app whose callbacks and fragment write a line to GATE_TEST_MARKS when they run, and whose
#: gate clock is a day late while GATE_TEST_AGED exists: every sign-in is then past
#: SERVE_AUTH_MAX_AGE_HOURS (the provider's ID tokens are fresh; 1 h is the setting's minimum).
GATE_APP = """
import os
import time
from pathlib import Path

import streamlit as st

from streamlit_serving import auth

MARKS = Path(os.environ["GATE_TEST_MARKS"])
AGED = Path(os.environ["GATE_TEST_AGED"])


def a_day_late_while_aged():
    return time.time() + (24 * 3600 if AGED.exists() else 0)


auth.clock = a_day_late_while_aged


def note(what):
    with MARKS.open("a") as marks:
        marks.write(what + "\\n")


st.button("Count", on_click=note, args=("callback",))


@st.fragment
def part():
    note("fragment")
    st.button("Again", on_click=note, args=("fragment-callback",))


part()
"""
EXPIRED_TEXT = "Your sign-in is more than 12 hours old. Sign in again to see this app."


@dataclass
class GatedApp:
    server: Server
    marks: Path
    aged: Path
    allowed: Path  # SERVE_ALLOWED_FILE

    @property
    def url(self) -> str:
        return self.server.base_url

    def ran(self) -> list[str]:
        """What the app's code ran since the last call."""
        done = self.marks.read_text().split() if self.marks.exists() else []
        self.marks.unlink(missing_ok=True)
        return done


@pytest.fixture(scope="module")
def gated(tmp_path_factory) -> Iterator[GatedApp]:
    directory = tmp_path_factory.mktemp("gate_app")
    script = directory / "streamlit_app.py"
    script.write_text(GATE_APP)
    allowed = directory / "allowed"
    allowed.write_text("".join(f"{email}\n" for email in DEV_ALLOWED_EMAILS.split(",")))
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/oauth2callback"
    with running_provider([redirect_uri]) as provider:
        env = {
            "SERVE_AUTH": "oidc",
            "SERVE_ALLOWED_FILE": str(allowed),
            "SERVE_OIDC_FILE": str(provider.settings_file(redirect_uri, directory)),
            "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
            "GATE_TEST_MARKS": str(directory / "marks"),
            "GATE_TEST_AGED": str(directory / "aged"),
        }
        with running_server(env=env, port=port, app=script) as server:
            yield GatedApp(server, directory / "marks", directory / "aged", allowed)


@pytest.fixture
def ada(gated) -> Iterator[DashboardSession]:
    """ada, signed in through the provider, on the gated app's page; the app's marks cleared."""
    gated.ran()
    with DashboardSession(gated.url, cookies=sign_in(gated.url, ALLOWED_USER, password(ALLOWED_USER))) as ada:
        assert {"Count", "Again", "Sign out"} <= set(ada.widget_ids)
        assert gated.ran() == ["fragment"]
        yield ada
    gated.aged.unlink(missing_ok=True)


def test_an_allowed_session_runs_its_fragment_and_callbacks(gated, ada):
    again = ada.click("Again")
    assert again.runs == [(ada.fragment_of("Again"),)]
    assert ada.click("Count").runs == [()]
    assert gated.ran() == ["fragment-callback", "fragment", "callback", "fragment"]


def test_an_expired_sign_in_s_next_fragment_run_runs_nothing_of_the_app(gated, ada):
    """The sign-in passes SERVE_AUTH_MAX_AGE_HOURS while the page is open: the next pick inside the
    fragment runs neither the fragment nor its button's callback; the run becomes a whole-page run
    that shows the "Sign in again" page, whose button still signs in."""
    fragment = ada.fragment_of("Again")
    gated.aged.touch()
    expired = ada.click("Again")
    assert expired.runs == [(fragment,), ()]
    assert EXPIRED_TEXT in expired.texts
    assert gated.ran() == []
    again = ada.click("Sign in again")
    assert [urlsplit(url).path for url in again.redirects] == ["/auth/login"]
    assert gated.ran() == []


def test_an_expired_sign_in_s_next_callback_does_not_run(gated, ada):
    gated.aged.touch()
    expired = ada.click("Count")
    assert EXPIRED_TEXT in expired.texts
    assert gated.ran() == []


def test_a_user_taken_off_the_allowed_file_is_refused_on_the_next_interaction(gated, ada):
    """SERVE_ALLOWED_FILE edited while ada's page is open, no restart: within RECHECK_SECONDS her
    next pick inside the fragment runs nothing of the app and shows the refusal."""
    assert f"(SERVE_ALLOWED_FILE={gated.allowed}, re-read when it changes)" in gated.server.log()
    fragment = ada.fragment_of("Again")
    kept = gated.allowed.read_text()
    gated.allowed.write_text(kept.replace(ALLOWED_USER, f"# {ALLOWED_USER} taken off"))
    try:
        time.sleep(RECHECK_SECONDS + 0.5)
        refused = ada.click("Again")
        assert refused.runs == [(fragment,), ()]
        assert f"{ALLOWED_USER} is not among the people allowed to see this app." in " ".join(
            map(shown, refused.texts)
        )
        assert gated.ran() == []
        assert f"SERVE_ALLOWED_FILE={gated.allowed} read again" in gated.server.log()
    finally:
        gated.allowed.write_text(kept)
        time.sleep(RECHECK_SECONDS + 0.5)  # the other tests' ada is let in again
