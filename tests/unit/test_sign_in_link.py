"""Which links a sign-in may return to (streamlit_serving/sign_in_link.py): only a path of this app,
never another site, however the link is written. The round trip itself, through the real provider,
is in tests/integration/test_signin.py."""

from __future__ import annotations

import pytest

from streamlit_serving.sign_in_link import safe_target, target_from_referer

ORIGIN = "https://dashboard.example.com"


@pytest.mark.parametrize(
    ("target", "base", "kept"),
    [
        ("/?date=2023-03-09", "/", "/?date=2023-03-09"),
        ("/page?x=1", "/", "/page?x=1"),
        ("/page", "/", "/page"),
        ("/dashboard/page?x=1", "/dashboard/", "/dashboard/page?x=1"),
        ("/dashboard", "/dashboard/", "/dashboard"),
        ("/?next=https://evil.example/", "/", "/?next=https://evil.example/"),  # a query is data
        ("//evil.example", "/", None),
        ("//evil.example/?x=1", "/", None),
        ("/\\evil.example", "/", None),
        ("/\\/evil.example", "/", None),
        ("https://evil.example/", "/", None),
        ("evil.example", "/", None),
        ("/\t/evil.example", "/", None),  # a browser drops the tab: //evil.example
        ("/\n/evil.example", "/", None),
        ("/ /evil.example", "/", None),
        ("/é", "/", None),
        ("", "/", None),
        ("/other/page", "/dashboard/", None),  # outside the app's base path
        ("/dashboardx", "/dashboard/", None),
        ("/auth/login?provider=x", "/", None),  # the sign-in routes would loop
        ("/oauth2callback?state=x", "/", None),
        ("/dashboard/oauth2callback", "/dashboard/", None),
        ("/" + "x" * 3000, "/", None),
    ],
)
def test_safe_target(target, base, kept):
    assert safe_target(target, base) == kept


@pytest.mark.parametrize(
    ("referer", "kept"),
    [
        (f"{ORIGIN}/?date=2023-03-09", "/?date=2023-03-09"),
        (f"{ORIGIN}/page?x=1", "/page?x=1"),
        (f"{ORIGIN}/page?x=1#part", "/page?x=1"),
        ("https://DASHBOARD.example.com/page", "/page"),
        (f"{ORIGIN}", "/"),
        ("https://evil.example/page?x=1", None),  # another site's page
        ("http://dashboard.example.com/page", None),  # another scheme: another origin
        ("https://dashboard.example.com:8443/page", None),
        ("https://dashboard.example.com.evil.example/page", None),
        (f"{ORIGIN}//evil.example", None),
        (f"{ORIGIN}/\\evil.example", None),
        ("/page", None),  # not a URL a browser sends
        ("", None),
        (None, None),
        ("http://[::1", None),  # unparsable
    ],
)
def test_target_from_referer(referer, kept):
    assert target_from_referer(referer, ORIGIN, "/") == kept


def test_no_origin_no_target():
    assert target_from_referer(f"{ORIGIN}/page", None, "/") is None
