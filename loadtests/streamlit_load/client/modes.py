"""How the page under test was started, and what each interaction should then make it run.

The app has three modes (``app/sales_dashboard/views.py``): ``SALES_FRAGMENT=on`` with
``SALES_MONTH_RERUN=app`` (the tutorial, the default), ``=views`` (a month change reruns the two
views, not the script), and ``SALES_FRAGMENT=off`` (no fragment: every pick reruns the script).
A session is told its page's mode so that a pick is sent as a browser would send it and a month
change is checked against what that mode must run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SUCCESS = "FINISHED_SUCCESSFULLY"
FRAGMENT_SUCCESS = "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"
EARLY_FOR_RERUN = "FINISHED_EARLY_FOR_RERUN"
COMPILE_ERROR = "FINISHED_WITH_COMPILE_ERROR"


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
