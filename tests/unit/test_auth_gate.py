"""The sign-in gate (streamlit_serving/auth.py): who is let in (judge), and what the page shows each
visitor through Streamlit's AppTest with a simulated st.user: no figure to anyone not let in. The
gate is installed as serve.py installs it (before every run and its widget callbacks, whatever the
app's code does), and holds for the example and for Streamlit's hello demo, which knows nothing of
it. A sign-in that expires while the page is open runs no callback of the app on the next click
(fragment runs, which AppTest cannot make, are in tests/integration/test_signin.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sales_dashboard import TITLE
from streamlit_serving import auth
from streamlit_serving.auth import judge
from streamlit_serving.settings import current, load_serving_settings

ENTRY = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
SIGN_IN = {
    "SERVE_AUTH": "oidc",
    "SERVE_ALLOWED_EMAILS": "ada@example.com",
    "SERVE_ALLOWED_DOMAINS": "sales.example",
    "SERVE_OIDC_FILE": "/run/secrets/oidc",
}
SETTINGS = load_serving_settings(SIGN_IN)
NOW = 1_800_000_000.0


def claims(email: str = "ada@example.com", **extra) -> dict:
    return {"email": email, "email_verified": True, "iat": int(NOW) - 60, **extra}


@pytest.mark.parametrize(
    ("user", "outcome", "reason"),
    [
        (claims(), "allowed", ""),
        (claims("ADA@Example.com "), "allowed", ""),
        (claims("bob@sales.example"), "allowed", ""),
        (claims("bob@eu.sales.example"), "refused", "not among the people allowed"),
        (claims("eve@example.net"), "refused", "eve@example.net is not among the people allowed"),
        (claims(email_verified=False), "refused", "has not verified ada@example.com"),
        (claims(email_verified="false"), "refused", "has not verified"),
        (claims(email_verified="true"), "allowed", ""),  # Cognito and others send a string
        ({k: v for k, v in claims().items() if k != "email_verified"}, "refused", "has not verified"),
        (
            {**claims(xms_edov=True), "email_verified": None},
            "allowed",
            "",
        ),  # Entra ID's verified-domain claim
        (claims(""), "refused", "gave no e-mail address"),
        (claims(iat=NOW - 12 * 3600 - 1), "expired", "more than 12 hours old"),
        (claims(iat=NOW - 12 * 3600 + 5), "allowed", ""),
        (claims(iat=NOW + 3600), "expired", "more than 12 hours old"),  # issued in the future
        (claims(iat="1800000000"), "expired", "no issue time"),
        (claims(iat=True), "expired", "no issue time"),
    ],
)
def test_judge(user, outcome, reason):
    verdict = judge(user, SETTINGS, NOW)
    assert verdict.outcome == outcome
    assert reason in verdict.reason


def test_every_domain_still_needs_a_verified_email():
    everyone = load_serving_settings({**SIGN_IN, "SERVE_ALLOWED_EMAILS": "", "SERVE_ALLOWED_DOMAINS": "*"})
    assert judge(claims("anyone@anywhere.example"), everyone, NOW).outcome == "allowed"
    assert judge(claims("anyone@anywhere.example", email_verified=False), everyone, NOW).outcome == "refused"


@pytest.fixture
def signed_in_only(monkeypatch) -> None:
    """SERVE_AUTH=oidc and the gate installed as serve.py installs it (with the example's
    SIGN_IN_TITLE), both undone after the test (settings are cached per process: both caches
    cleared around each test)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext
    from streamlit.runtime.state.session_state import SessionState

    for name, value in SIGN_IN.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(ScriptRunContext, "on_script_start", ScriptRunContext.on_script_start)
    monkeypatch.setattr(SessionState, "on_script_will_rerun", SessionState.on_script_will_rerun)
    auth.install(TITLE)
    st.cache_resource.clear()
    current.cache_clear()
    yield
    st.cache_resource.clear()
    current.cache_clear()


@pytest.fixture
def page(signed_in_only) -> AppTest:
    """The example's page with sign-in on."""
    return AppTest.from_file(ENTRY, default_timeout=60)


def figures(app: AppTest) -> list:
    """Every element that carries sales numbers: tables, charts, metrics, the date picker."""
    return [*app.dataframe, *app.get("plotly_chart"), *app.metric, *app.date_input]


def test_anonymous_visitor_gets_the_sign_in_page_only(page):
    page.user = {"is_logged_in": False}
    page.run()
    assert not page.exception
    assert [title.value for title in page.title] == ["Daily vs monthly sales, by product"]
    assert [button.label for button in page.button] == ["Sign in"]
    assert figures(page) == []
    assert not any("$" in block.value or "products" in block.value for block in page.markdown)


def test_allowed_user_sees_the_dashboard_and_a_sign_out_button(page):
    page.user = {"is_logged_in": True, **claims(iat=int(time.time()))}
    page.run()
    assert not page.exception
    # As code: Streamlit's Markdown would make the address a mailto: link.
    assert [caption.value for caption in page.caption][:1] == ["Signed in as `ada@example.com`"]
    assert [button.label for button in page.button] == ["Sign out"]
    assert len(page.dataframe) == 3
    assert len(page.get("plotly_chart")) == 3


@pytest.mark.parametrize(
    ("user", "message", "button"),
    [
        (claims("eve@example.net"), "eve@example.net is not among the people allowed", "Sign out"),
        (claims(email_verified=False), "has not verified ada@example.com", "Sign out"),
        (claims(iat=1), "more than 12 hours old", "Sign in again"),
    ],
)
def test_refused_or_expired_user_gets_a_clear_message_and_no_figure(page, user, message, button):
    fresh = {"iat": int(time.time())} if user["iat"] != 1 else {}
    page.user = {"is_logged_in": True, **user, **fresh}
    page.run()
    assert not page.exception
    shown = [element.value.replace("`", "") for element in (*page.error, *page.info)]
    assert len(shown) == 1
    assert message in shown[0]
    assert [b.label for b in page.button] == [button]
    assert figures(page) == []


def test_without_sign_in_the_page_is_open_and_has_no_account_bar(monkeypatch):
    monkeypatch.delenv("SERVE_AUTH", raising=False)
    st.cache_resource.clear()
    current.cache_clear()
    app = AppTest.from_file(ENTRY, default_timeout=60)
    app.user = {"is_logged_in": False}
    app.run()
    assert not app.exception
    assert app.button.len == 0
    assert len(app.dataframe) == 3


@pytest.fixture
def hello(signed_in_only, hello_app) -> AppTest:
    """Streamlit's hello demo (st.navigation, five pages) with sign-in on: no line of it calls the
    gate."""
    return AppTest.from_file(str(hello_app / "streamlit_app.py"), default_timeout=60)


def test_an_app_that_never_calls_the_gate_is_gated_all_the_same(hello):
    hello.user = {"is_logged_in": False}
    hello.run()
    assert not hello.exception
    assert [button.label for button in hello.button] == ["Sign in"]
    assert [title.value for title in hello.title] == [TITLE]  # the SIGN_IN_TITLE installed
    assert "open-source app framework" not in " ".join(block.value for block in hello.markdown)


def test_the_gate_lets_an_allowed_user_into_an_app_that_never_calls_it(hello):
    hello.user = {"is_logged_in": True, **claims(iat=int(time.time()))}
    hello.run()
    assert not hello.exception
    assert [title.value for title in hello.title] == ["Welcome to Streamlit! 👋"]
    assert "open-source app framework" in " ".join(block.value for block in hello.markdown)
    assert [button.label for button in hello.button] == ["Sign out"]


def test_a_refused_user_sees_nothing_of_an_app_that_never_calls_the_gate(hello):
    hello.user = {"is_logged_in": True, **claims("eve@example.net", iat=int(time.time()))}
    hello.run()
    assert not hello.exception
    assert "not among the people allowed" in hello.error[0].value
    assert [title.value for title in hello.title] == [TITLE]


CALLBACK_APP = """
import os
from pathlib import Path

import streamlit as st

MARKS = Path(os.environ["GATE_TEST_MARKS"])


def note(what):
    with MARKS.open("a") as marks:
        marks.write(what + "\\n")


st.button("Count", on_click=note, args=("callback",))
st.checkbox("Detail", key="detail", on_change=note, args=("on_change",))
note("body")
"""


@pytest.fixture
def callback_app(signed_in_only, tmp_path, monkeypatch) -> tuple[AppTest, Path]:
    """An app whose callbacks and body each write a line to a marks file."""
    script = tmp_path / "callback_app.py"
    script.write_text(CALLBACK_APP)
    marks = tmp_path / "marks"
    monkeypatch.setenv("GATE_TEST_MARKS", str(marks))
    return AppTest.from_file(str(script), default_timeout=60), marks


def lines(marks: Path) -> list[str]:
    return marks.read_text().split() if marks.exists() else []


def test_an_allowed_user_s_callbacks_run(callback_app):
    app, marks = callback_app
    app.user = {"is_logged_in": True, **claims(iat=int(time.time()))}
    app.run()
    app.button[1].click().run()  # [0] is the account bar's "Sign out"
    app.checkbox[0].check().run()
    assert lines(marks) == ["body", "callback", "body", "on_change", "body"]


@pytest.mark.parametrize(
    ("later", "message"),
    [
        ({"iat": 1}, "more than 12 hours old"),
        ({"email": "eve@example.net"}, "eve@example.net is not among the people allowed"),
        ({"is_logged_in": False}, ""),
    ],
)
def test_a_session_no_longer_let_in_runs_no_callback_on_its_next_click(callback_app, later, message):
    """The sign-in expires (or the session is no longer allowed, or signed out) while the page is
    open: the next click shows the gate's page and runs neither the button's callback nor the
    body; the next widget change neither."""
    app, marks = callback_app
    app.user = {"is_logged_in": True, **claims(iat=int(time.time()))}
    app.run()
    assert lines(marks) == ["body"]
    count, detail = app.button[1], app.checkbox[0]
    app.user = {**app.user, **later}
    count.click().run()
    assert not app.exception
    shown = [element.value.replace("`", "") for element in (*app.error, *app.info)]
    if message:
        assert len(shown) == 1
        assert message in shown[0]
    else:
        assert [button.label for button in app.button] == ["Sign in"]
    detail.check().run()
    assert lines(marks) == ["body"]


def test_the_gate_keeps_only_its_own_buttons_states():
    """gate_widgets_only: the states of widgets whose callback is st.login/st.logout stay."""
    from streamlit.proto.WidgetStates_pb2 import WidgetStates
    from streamlit.runtime.state.common import WidgetMetadata

    states = WidgetStates()
    for widget in ("sign-in", "sign-out", "count", "unknown"):
        states.widgets.add(id=widget, trigger_value=True)
    metadata = {
        "sign-in": WidgetMetadata("sign-in", lambda x: x, lambda x: x, "trigger_value", callback=st.login),
        "sign-out": WidgetMetadata("sign-out", lambda x: x, lambda x: x, "trigger_value", callback=st.logout),
        "count": WidgetMetadata("count", lambda x: x, lambda x: x, "trigger_value", callback=print),
    }
    kept = auth.gate_widgets_only(states, metadata)
    assert [state.id for state in kept.widgets] == ["sign-in", "sign-out"]


def test_a_user_taken_off_the_allowed_file_runs_no_callback_on_the_next_click(
    signed_in_only, tmp_path, monkeypatch
):
    """SERVE_ALLOWED_FILE is re-read when it changes, without a restart: a user taken off it is
    refused at their open page's next click (no callback runs), and let in again when put back; a
    file made invalid meanwhile keeps the last good lists."""
    allowed = tmp_path / "allowed"
    allowed.write_text("ada@example.com\nbob@example.com\n")
    monkeypatch.delenv("SERVE_ALLOWED_EMAILS")
    monkeypatch.delenv("SERVE_ALLOWED_DOMAINS")
    monkeypatch.setenv("SERVE_ALLOWED_FILE", str(allowed))
    monkeypatch.setattr(auth, "ALLOW_FILE", auth.AllowFile())
    monkeypatch.setattr(auth, "RECHECK_SECONDS", 0.0)  # looked at every check (1 s in service)
    current.cache_clear()
    script = tmp_path / "callback_app.py"
    script.write_text(CALLBACK_APP)
    marks = tmp_path / "marks"
    monkeypatch.setenv("GATE_TEST_MARKS", str(marks))
    app = AppTest.from_file(str(script), default_timeout=60)
    app.user = {"is_logged_in": True, **claims(iat=int(time.time()))}
    app.run()
    count = app.button[1]
    allowed.write_text("bob@example.com\n")
    count.click().run()
    assert "ada@example.com is not among the people allowed" in app.error[0].value.replace("`", "")
    assert lines(marks) == ["body"]
    allowed.write_text("ada@example.com\n")
    app.run()
    count = app.button[1]
    count.click().run()
    assert lines(marks) == ["body", "body", "callback", "body"]
    allowed.write_text("ada\n")  # a bad edit: the last good lists hold
    app.button[1].click().run()
    assert lines(marks)[-2:] == ["callback", "body"]
