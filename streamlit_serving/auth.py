"""The sign-in gate: with SERVE_AUTH=oidc nobody sees any of the app, and none of the app's code
runs for them, before the provider has said who they are and the allowed lists let them in. The
serving layer installs it (``install()``, from ``serve.py``), so an app that knows nothing of
sign-in (Streamlit's ``hello`` demo) is gated too. Every run of a session is checked, whatever
started it, against the sign-in, its age (SERVE_AUTH_MAX_AGE_HOURS) and the allowed lists:

- Widget callbacks run before the script's first line (Streamlit 1.67's ``ScriptRunner``:
  ``SessionState.on_script_will_rerun`` calls them, then ``ScriptRunContext.on_script_start``).
  So the check is made first in ``on_script_will_rerun`` (``gated_callbacks``): a session that
  fails it keeps only the widget states of the gate's own buttons ("Sign in", "Sign in again",
  "Sign out": callbacks ``st.login``/``st.logout``), so no other callback runs and no other
  widget value is taken.
- A whole-script run goes through ``gate()`` at ``on_script_start`` (after the callbacks, so a
  "Sign out" pressed has acted): the sign-in, expired or refusal page, then ``st.stop()`` before
  the app's first line; an allowed user gets the account bar and the app.
- A fragment run (``fragment_ids_this_run``) is checked at ``on_script_start`` too. One that
  fails becomes a whole-script run (a ``RerunException`` with the page's URL and no fragment,
  as ``st.rerun(scope="app")`` from a fragment does): the fragment's body never starts, and that
  run meets ``gate()``, which shows its page and stops. ``_stop`` also forgets the fragments an
  earlier, allowed run registered, so a later fragment rerun of that session is dropped by
  Streamlit as stale.

The allow-lists come from the settings, read at start; with SERVE_ALLOWED_FILE they are the file's,
re-read when it changes (``AllowFile``: one ``stat`` at most every RECHECK_SECONDS a process), so
taking someone off the file refuses their next interaction, open pages included, with no restart.
The check reads the session's claims and the settings in memory (no other I/O): 4-8 µs added to
a fragment run, two checks (medians of ``loadtests/gate_timing.py`` on a shared 2-core machine,
with the lists in variables or in the file alike). A user whose sign-in passes
SERVE_AUTH_MAX_AGE_HOURS while the page is open gets the "Sign in again" page on their next
interaction of any kind.

Streamlit's sign-in (``st.login``/``st.user``/``st.logout``) keeps the identity in a cookie that
the server signs (``_streamlit_user``, 30 days, not stored anywhere): a copied cookie is valid
until then, even after sign-out, on every replica. The gate refuses a sign-in older than
SERVE_AUTH_MAX_AGE_HOURS (from the ID token's ``iat``), which bounds that window. A session reads
the cookie once, when its WebSocket opens: signing out in another tab ends this page's access only
when it reconnects or reloads, or at the age limit.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from .settings import EVERY_DOMAIN, ServingSettings, SettingsError, current, read_allowed_file

CLOCK_SKEW_SECONDS = 300  # an ID token issued this far "in the future" is still believed
RECHECK_SECONDS = 1.0  # SERVE_ALLOWED_FILE is looked at (one stat) at most this often a process


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


Lists = tuple[frozenset[str], frozenset[str]]  # allowed e-mails, allowed domains


class AllowFile:
    """The allow-lists of SERVE_ALLOWED_FILE as they are now: the file is looked at (``os.stat``) at
    most every RECHECK_SECONDS, and read again when its modification time, size or inode changed
    (an edit in place, a Kubernetes ConfigMap's update). A file that became unreadable, invalid or
    empty keeps the last good lists, and says so in the log once per change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._stamp: tuple[int, int, int] | None = None
        self._lists: Lists | None = None
        self._merged: tuple[ServingSettings, Lists, ServingSettings] | None = None

    def settings(self, settings: ServingSettings) -> ServingSettings:
        """``settings`` with the file's lists as they are now (as given without a file)."""
        if settings.allowed_file is None:
            return settings
        now = time.monotonic()
        if now - self._checked >= RECHECK_SECONDS:
            with self._lock:
                if now - self._checked >= RECHECK_SECONDS:
                    self._checked = now
                    self._look(settings)
        lists = self._lists
        if lists is None:
            return settings
        merged = self._merged  # the settings with these lists, made once a change
        if merged is None or merged[0] is not settings or merged[1] is not lists:
            merged = (settings, lists, replace(settings, allowed_emails=lists[0], allowed_domains=lists[1]))
            self._merged = merged
        return merged[2]

    def _look(self, settings: ServingSettings) -> None:
        path = settings.allowed_file
        assert path is not None
        try:
            found = os.stat(path)
            stamp = (found.st_mtime_ns, found.st_size, found.st_ino)
        except OSError as error:
            stamp = (-1, -1, -1)
            if stamp != self._stamp:
                self._stamp = stamp
                print(f"serve: SERVE_ALLOWED_FILE={path} cannot be read ({error}): the last lists hold",
                      file=sys.stderr)  # fmt: skip
            return
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            emails, domains = read_allowed_file(path)
        except SettingsError as error:
            print(f"serve: {error}: the last lists hold", file=sys.stderr)
            return
        if self._lists is not None and self._lists != (emails, domains):
            print(f"serve: SERVE_ALLOWED_FILE={path} read again: {len(emails | domains)} allowed "
                  "e-mail(s)/domain(s)", file=sys.stderr)  # fmt: skip
        self._lists = (emails, domains)


ALLOW_FILE = AllowFile()


def verdict(settings: ServingSettings) -> Verdict:
    """The verdict for this run's session now: ``anonymous`` when nobody is signed in, else
    ``judge()`` of its claims at ``clock()``. The claims are those ``st.user`` shows, read from the
    run's context (``user_info``, which Streamlit fills from the identity cookie when the session's
    WebSocket opens and ``st.logout`` empties): ``st.user`` itself re-reads the secrets files at
    every access, ~70 µs, where this takes a few µs (loadtests/gate_timing.py)."""
    context = get_script_run_ctx()
    user: Mapping[str, Any] = {} if context is None else context.user_info
    if not user.get("is_logged_in"):
        return Verdict("anonymous")
    return judge(user, ALLOW_FILE.settings(settings), clock())


def clock() -> float:
    """The time the gate judges a sign-in's age by (epoch seconds); a test app may move it."""
    return time.time()


def gate(title: str | None = None, settings: ServingSettings | None = None) -> None:
    """Let the run go on only for a visitor who may see the app (always, without sign-in).
    ``title``: the heading of the sign-in, expired and refusal pages; ``settings``: the serving
    settings (default: the process's, ``settings.current()``)."""
    settings = current() if settings is None else settings
    if not settings.sign_in:
        return
    decided = verdict(settings)
    if decided.outcome == "allowed":
        _account_bar(decided.email)
        return
    if decided.outcome == "anonymous":
        _sign_in_page(title)
    elif decided.outcome == "expired":
        _expired_page(decided, title)
    else:
        _refusal_page(decided, title)
    _stop()


def _let_in() -> bool:
    """True when this run may run the app's code: sign-in off, or the session is allowed now."""
    settings = current()
    return not settings.sign_in or verdict(settings).outcome == "allowed"


def gate_widgets_only(widget_states: Any, metadata: Mapping[str, Any]) -> Any:
    """``widget_states`` (a WidgetStates message) with only the states of widgets whose callback
    is ``st.login`` or ``st.logout`` (the gate's own buttons; ``metadata``: widget id -> its
    WidgetMetadata from the session's last run)."""
    gate_callbacks = (st.login, st.logout)
    kept = type(widget_states)()
    for state in widget_states.widgets:
        known = metadata.get(state.id)
        if known is not None and getattr(known, "callback", None) in gate_callbacks:
            kept.widgets.add().CopyFrom(state)
    return kept


def gated_callbacks(on_script_will_rerun: Callable[..., None]) -> Callable[..., None]:
    """Wrap ``SessionState.on_script_will_rerun``, which Streamlit 1.67 calls on the run's script
    thread before the script (fragment or whole) starts, to apply the browser's widget states and
    call the changed widgets' callbacks: a session that is not let in keeps only the gate's own
    buttons' states (see the module docstring), so no callback of the app runs."""

    def will_rerun(self: Any, fresh_widget_states: Any, **options: Any) -> None:
        if _let_in():
            return on_script_will_rerun(self, fresh_widget_states, **options)
        if fresh_widget_states is not None:
            metadata = self._new_widget_state.widget_metadata
            fresh_widget_states = gate_widgets_only(fresh_widget_states, metadata)
        options = {**options, "replay_trigger_states": None, "replay_trigger_values": None}
        return on_script_will_rerun(self, fresh_widget_states, **options)

    return will_rerun


def _whole_page_instead(context: Any) -> NoReturn:
    """End this fragment run before its fragment starts; the page runs whole instead (and meets
    the gate)."""
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    raise RerunException(
        RerunData(
            query_string=context.query_string,
            page_script_hash=context.page_script_hash,
            context_info=context.context_info,
        )
    )


def gated_script_start(on_script_start: Callable[[Any], None], title: str | None) -> Callable[[Any], None]:
    """Wrap ``ScriptRunContext.on_script_start``, which Streamlit 1.67 calls once per run on the
    run's script thread after the widgets' callbacks (so "Sign in" and "Sign out" have acted) and
    right before the script's first line or the fragments of a fragment run: a whole-script run
    goes through ``gate(title)``; a fragment run (``fragment_ids_this_run``) of a session not let
    in becomes a whole-script run (see the module docstring)."""

    def start(self: Any) -> None:
        on_script_start(self)
        if not self.fragment_ids_this_run:
            gate(title)
        elif not _let_in():
            _whole_page_instead(self)

    return start


def install(title: str | None = None) -> None:
    """Gate every run of this process: callbacks, whole-script and fragment runs (see the module
    docstring). ``title``: the heading of the sign-in, expired and refusal pages (the app's
    ``SIGN_IN_TITLE`` hook)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext
    from streamlit.runtime.state.session_state import SessionState

    on_script_start = getattr(ScriptRunContext, "on_script_start", None)
    on_script_will_rerun = getattr(SessionState, "on_script_will_rerun", None)
    if on_script_start is None or on_script_will_rerun is None:
        raise RuntimeError(
            "this Streamlit's ScriptRunContext has no on_script_start or its SessionState no "
            "on_script_will_rerun: find the calls its ScriptRunner makes before widget callbacks and "
            "before a script's first line, then update streamlit_serving/auth.py "
            "(tests/unit/test_auth_gate.py); until then sign-in cannot be served"
        )
    SessionState.on_script_will_rerun = gated_callbacks(on_script_will_rerun)
    ScriptRunContext.on_script_start = gated_script_start(on_script_start, title)
