"""The sign-in gate (streamlit_serving/auth.py): who is let in (judge), and what the page shows each
visitor through Streamlit's AppTest with a simulated st.user: no figure to anyone not let in."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

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
def page(monkeypatch) -> AppTest:
    """The page with SERVE_AUTH=oidc (settings are cached per process: both caches cleared around
    each test)."""
    for name, value in SIGN_IN.items():
        monkeypatch.setenv(name, value)
    st.cache_resource.clear()
    current.cache_clear()
    yield AppTest.from_file(ENTRY, default_timeout=60)
    st.cache_resource.clear()
    current.cache_clear()


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
