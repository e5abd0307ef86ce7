"""Signing in as a person does, in Chromium: the page's "Sign in" button, the development
provider's form (deploy/oidc-dev), and back on the app. The provider's issuer is a *.localhost
name that Chromium resolves to this machine by itself, as the app resolves it on the stack's
network."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Browser, Page

from streamlit_load.dev_provider import ALLOWED_USER, password

PROVIDER_FORM = re.compile(r"^http://oidc-dev\.localhost:\d+/interaction/")
SIGN_IN_TEXT = "This app is for signed-in people only."
TIMEOUT_MS = 60_000
ROUTE_COOKIE = "st_route"  # the proxy's sticky cookie (nginx.conf): a browser's first replica
REPLICA_COOKIE = "st_replica"  # the proxy's cookie naming the replica that answered (nginx.conf)


def provider_form(page: Page) -> None:
    """Press the app's "Sign in" and wait for the provider's form."""
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(PROVIDER_FORM, timeout=TIMEOUT_MS)


def sign_in(page: Page, app_url: str, email: str) -> None:
    """From the app's sign-in page to the app again, signed in as ``email``."""
    provider_form(page)
    page.fill("#email", email)
    page.fill("#password", password(email))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: url.startswith(app_url), timeout=TIMEOUT_MS)


def shown(text: str) -> str:
    """Markdown source as the page shows it (the app shows e-mails as code, not as mailto: links)."""
    return text.replace("`", "")


def signed_in_state(browser: Browser, app_url: str, ready_text: str, path: Path) -> Path:
    """The cookies of ALLOWED_USER, signed in once through the provider's form on the app at
    ``app_url`` until its page shows ``ready_text``, saved as a storage state file at ``path``,
    without the proxy's route cookies (so each page lands on whichever replica the proxy picks)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_url, timeout=TIMEOUT_MS)
    # The sign-in page drawn (the app's first run), as the tier waits for every page load.
    page.get_by_text(SIGN_IN_TEXT).wait_for(timeout=TIMEOUT_MS)
    sign_in(page, app_url, ALLOWED_USER)
    page.get_by_text(ready_text).wait_for(timeout=TIMEOUT_MS)
    state = context.storage_state()
    context.close()
    state["cookies"] = [
        cookie for cookie in state["cookies"] if cookie["name"] not in (ROUTE_COOKIE, REPLICA_COOKIE)
    ]
    path.write_text(json.dumps(state))
    return path
