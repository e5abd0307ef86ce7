"""The example dashboard as the protocol client sees it: its date picker, its page modes, and a
session that picks days and changes months as a user of the dashboard does.

The app has three modes (``app/sales_dashboard/views.py``): ``SALES_FRAGMENT=on`` with
``SALES_MONTH_RERUN=app`` (the tutorial, the default), ``=views`` (a month change reruns the two
views, not the script), and ``SALES_FRAGMENT=off`` (no fragment: every pick reruns the script).
A session is told its page's mode so that a pick is sent as a browser would send it and a month
change is checked against what that mode must run.

    with DashboardSession(url, mode=PageMode.from_env(env)) as session:
        day = session.pick_date("2023-01-15")                    # fragment rerun
        full = session.pick_date("2023-01-15", fragment=False)   # whole-script rerun
        month = session.change_month("2023-02-03")               # fragment, st.rerun(), full run
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from streamlit_load.client import EARLY_FOR_RERUN, FRAGMENT_SUCCESS, SUCCESS, Interaction, StreamlitSession
from streamlit_load.client.errors import UnexpectedOutcome
from streamlit_load.client.signin import sign_in
from streamlit_load.dev_provider import password

SETTINGS_PREFIX = "SALES_"  # the example's own settings: what a stack passes it through its app env file
DATE_WIDGET = "date"  # the date picker's key, and its URL parameter (?date=2023-03-09)


@dataclass(frozen=True)
class PageMode:
    """``fragment``: SALES_FRAGMENT is on; ``month_rerun``: SALES_MONTH_RERUN (app or views)."""

    fragment: bool = True
    month_rerun: str = "app"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PageMode:
        """The mode a server started with ``env`` runs in (unset: the app's defaults)."""
        fragment = (env.get("SALES_FRAGMENT") or "on").strip().lower() != "off"
        return cls(fragment, (env.get("SALES_MONTH_RERUN") or "app").strip().lower())

    @classmethod
    def named(cls, name: str) -> PageMode:
        """The mode called ``name`` (``fragment``, ``views`` or ``plain``: see ``name``)."""
        modes = {"fragment": cls(), "views": cls(True, "views"), "plain": cls(False)}
        if name not in modes:
            raise ValueError(f"page mode {name!r} is not one of {', '.join(modes)}")
        return modes[name]

    @property
    def name(self) -> str:
        """``fragment`` (the tutorial), ``views`` or ``plain`` (no fragment)."""
        if not self.fragment:
            return "plain"
        return "views" if self.month_rerun == "views" else "fragment"

    @property
    def month_change_outcomes(self) -> list[str]:
        """The ``script_finished`` statuses of a pick in another month, in order."""
        if not self.fragment:  # a whole-script run, like every pick
            return [SUCCESS]
        if self.month_rerun == "views":  # the fragment run gives way to the two views' run
            return [EARLY_FOR_RERUN, FRAGMENT_SUCCESS]
        return [EARLY_FOR_RERUN, SUCCESS]  # the fragment calls st.rerun(): the whole script


class DashboardSession(StreamlitSession):
    """A session on the dashboard: ``mode`` is the page's (SALES_FRAGMENT, SALES_MONTH_RERUN),
    how picks are sent and month changes checked. Everything else is ``StreamlitSession``'s."""

    def __init__(
        self, base_url: str = "http://127.0.0.1:8501", *, mode: PageMode | None = None, **options: Any
    ):
        super().__init__(base_url, **options)
        self.mode = mode or PageMode()

    def url_date(self, name: str = DATE_WIDGET) -> date | None:
        return super().url_date(name)

    def set_date(self, value: date | str | None, widget: str = DATE_WIDGET) -> None:
        super().set_date(value, widget)

    def pick_date(
        self,
        value: date | str | None,
        *,
        fragment: bool = True,
        widget: str = DATE_WIDGET,
        timeout: float | None = None,
    ) -> Interaction:
        """Pick a date as a user would (``fragment=True``: rerun the widget's fragment only, or
        the whole page if the page's mode has no fragment) or set it and rerun the whole page
        (``fragment=False``)."""
        self.set_date(value, widget)
        fragment_id = self.fragment_of(widget) if fragment and self.mode.fragment else None
        return self.rerun(fragment_id, timeout=timeout)

    def change_month(
        self, value: date | str, *, widget: str = DATE_WIDGET, timeout: float | None = None
    ) -> Interaction:
        """Pick a day in another month, as a user would. What reruns depends on the page's mode:
        a fragment run that calls st.rerun(), then the whole script (the tutorial); a fragment
        run that gives way to a run of both views (``views``); a whole-script run (no fragment).

        Raises UnexpectedOutcome unless the outcomes are the mode's ``month_change_outcomes``.
        """
        self.set_date(value, widget)
        fragment_id = self.fragment_of(widget) if self.mode.fragment else None
        interaction = self.rerun(fragment_id, kind="month_change", timeout=timeout)
        expected = self.mode.month_change_outcomes
        if interaction.outcomes != expected:
            raise UnexpectedOutcome(
                f"month change ended with {interaction.outcomes}, not {expected} (the {self.mode.name} page)",
                interaction,
            )
        return interaction


def warm_up(url: str, timeout: float = 180.0, sign_in_as: str = "") -> None:
    """One session through every kind of run before the clock starts: a fresh server (or
    container) spends seconds importing pandas/plotly on its first script run, which would
    otherwise land in the first users' initial_load and eat the run's window. ``sign_in_as``: a
    test user of the development provider, for an app with sign-in on."""
    cookies = sign_in(url, sign_in_as, password(sign_in_as), timeout=timeout) if sign_in_as else None
    with DashboardSession(url, timeout=timeout, message_cache=False, cookies=cookies) as session:
        session.pick_date("2023-01-02")
        session.pick_date("2023-01-03", fragment=False)
        session.change_month("2023-02-01")
