"""The sign-in gate: with SERVE_AUTH=oidc nobody sees any of the app before the provider has said
who they are and the allowed lists let them in. The serving layer runs ``gate()`` before every
whole-script run of any app (``install()``, from ``serve.py``): the app's own code is not asked to
call it, so an app that knows nothing of sign-in (Streamlit's ``hello`` demo) is gated too. Every
outcome but "allowed" ends the run there (``st.stop()``), before the app's first line, so neither
the page nor the WebSocket carries the app's content to anyone else. A fragment run runs without
the page, so without the gate: only a session that passed the gate holds fragments (``_stop``
forgets them), and the proxy's routing cannot give a session another's.

Streamlit's sign-in (``st.login``/``st.user``/``st.logout``) keeps the identity in a cookie that
the server signs (``_streamlit_user``, 30 days, not stored anywhere): a copied cookie is valid
until then, even after sign-out, on every replica. The gate refuses a sign-in older than
SERVE_AUTH_MAX_AGE_HOURS (from the ID token's ``iat``), which bounds that window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from .settings import EVERY_DOMAIN, ServingSettings, current

CLOCK_SKEW_SECONDS = 300  # an ID token issued this far "in the future" is still believed


@dataclass(frozen=True)
class Verdict:
    """What the gate decided for one visitor: ``allowed``, ``expired`` or ``refused``, and why."""

    outcome: str
    email: str = ""
    reason: str = ""


def _true(value: object) -> bool:
    """A claim's truth as providers send it: JSON true, or the string "true" (some send strings)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def email_verified(user: Mapping[str, Any]) -> bool:
    """The provider vouches for the e-mail: ``email_verified`` (OpenID Connect), or Microsoft Entra
    ID's ``xms_edov`` (the e-mail's domain is verified by its owner), which Entra sends instead."""
    return _true(user.get("email_verified")) or _true(user.get("xms_edov"))


def judge(user: Mapping[str, Any], settings: ServingSettings, now: float) -> Verdict:
    """The verdict for a signed-in user's claims (``st.user``) at time ``now`` (epoch seconds)."""
    email = str(user.get("email") or "").strip().lower()
    issued = user.get("iat")
    if not isinstance(issued, int | float) or isinstance(issued, bool):
        return Verdict("expired", email, "The sign-in carries no issue time.")
    age = now - float(issued)
    if age > settings.auth_max_age_hours * 3600 or age < -CLOCK_SKEW_SECONDS:
        hours = settings.auth_max_age_hours
        return Verdict("expired", email, f"Your sign-in is more than {hours} hours old.")
    if "@" not in email:
        return Verdict("refused", email, "The provider gave no e-mail address for this account.")
    if not email_verified(user):
        return Verdict("refused", email, f"The provider has not verified {email}.")
    domain = email.rsplit("@", 1)[1]
    if (
        email in settings.allowed_emails
        or domain in settings.allowed_domains
        or EVERY_DOMAIN in settings.allowed_domains
    ):
        return Verdict("allowed", email)
    return Verdict("refused", email, f"{email} is not among the people allowed to see this app.")


def _plain(text: str, email: str) -> str:
    """``text`` for Streamlit's Markdown with ``email`` as code: shown as typed, not made a mailto:
    link (Markdown's autolinks ignore a backslash before "@")."""
    if not email or "`" in email:
        return text
    return text.replace(email, f"`{email}`")


def _title(title: str | None) -> None:
    if title:
        st.set_page_config(page_title=title)  # the tab's title: the app's own call comes later
        st.title(title)


def _sign_in_page(title: str | None) -> None:
    _title(title)
    st.write("This app is for signed-in people only.")
    st.button("Sign in", type="primary", on_click=st.login)


def _expired_page(verdict: Verdict, title: str | None) -> None:
    _title(title)
    st.info(f"{verdict.reason} Sign in again to see this app.")
    st.button("Sign in again", type="primary", on_click=st.login)


def _refusal_page(verdict: Verdict, title: str | None) -> None:
    _title(title)
    st.error(
        f"{_plain(verdict.reason, verdict.email)} Ask the app's owner to add you, "
        "or sign out and sign in with another account."
    )
    st.button("Sign out", type="primary", on_click=st.logout)


def _account_bar(email: str) -> None:
    with st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center"):
        st.caption(_plain(f"Signed in as {email}", email))
        st.button("Sign out", on_click=st.logout)


def _stop() -> NoReturn:
    """End the run here, and forget the fragments an earlier, allowed run of this session
    registered: a fragment rerun runs the fragment alone, without the page and so without this
    gate, and Streamlit forgets fragments only after a run that completes (st.stop() does not).
    Without this, a session that signed out could still rerun the daily view."""
    context = get_script_run_ctx()
    if context is not None:
        context.fragment_storage.clear()
    st.stop()


def gate(title: str | None = None, settings: ServingSettings | None = None) -> None:
    """Let the run go on only for a visitor who may see the app (always, without sign-in).
    ``title``: the heading of the sign-in, expired and refusal pages; ``settings``: the serving
    settings (default: the process's, ``settings.current()``)."""
    settings = current() if settings is None else settings
    if not settings.sign_in:
        return
    if not st.user.is_logged_in:
        _sign_in_page(title)
        _stop()
    verdict = judge(st.user.to_dict(), settings, time.time())
    if verdict.outcome == "allowed":
        _account_bar(verdict.email)
        return
    if verdict.outcome == "expired":
        _expired_page(verdict, title)
    else:
        _refusal_page(verdict, title)
    _stop()


def gated_script_start(on_script_start: Callable[[Any], None], title: str | None) -> Callable[[Any], None]:
    """Wrap ``ScriptRunContext.on_script_start``, which Streamlit 1.67 calls once per run on the
    run's script thread after the widgets' callbacks (so "Sign in" and "Sign out" have acted) and
    right before the script's first line: a whole-script run then goes through ``gate(title)``; a
    fragment run (``fragment_ids_this_run``) is left as it is."""

    def start(self: Any) -> None:
        on_script_start(self)
        if not self.fragment_ids_this_run:
            gate(title)

    return start


def install(title: str | None = None) -> None:
    """Gate every whole-script run of this process (see the module docstring). ``title``: the
    heading of the sign-in, expired and refusal pages (the app's ``SIGN_IN_TITLE`` hook)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    on_script_start = getattr(ScriptRunContext, "on_script_start", None)
    if on_script_start is None:
        raise RuntimeError(
            "this Streamlit's ScriptRunContext has no on_script_start: find the call its ScriptRunner "
            "makes before a script's first line, then update streamlit_serving/auth.py "
            "(tests/unit/test_auth_gate.py); until then sign-in cannot be served"
        )
    ScriptRunContext.on_script_start = gated_script_start(on_script_start, title)
