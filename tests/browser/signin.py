"""Signing in as a person does, in Chromium: the page's "Sign in" button, the development
provider's form (deploy/oidc-dev), and back on the app. The provider's issuer is a *.localhost
name that Chromium resolves to this machine by itself, as the app resolves it on the stack's
network."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from sales_load.dev_provider import password

PROVIDER_FORM = re.compile(r"^http://sales-oidc\.localhost:\d+/interaction/")
SIGN_IN_TEXT = "This app is for signed-in people only."
TIMEOUT_MS = 60_000


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
