"""What the load-test users pick and what each pick must produce (no Locust import, so tests and
scripts can use it without gevent's monkey-patching)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from sales_load.page import DashboardSession
from streamlit_load.client import Interaction
from streamlit_load.client.errors import UnexpectedOutcome
from streamlit_load.client.session import FRAGMENT_SUCCESS, SUCCESS

YEAR = 2023  # the generated set's default year (SALES_YEAR)
DEFAULT_SEED = 2023
FIRST_DAY = date(YEAR, 1, 1)  # what the page shows before any pick, and for a URL without a day


class DayStream:
    """Days of one month in a reproducible order: the n-th user of any scenario gets the same."""

    def __init__(self, number: int, seed: int) -> None:
        self.rng = random.Random(f"{seed}:{number}")
        self.month = 1 + number % 12
        self.day = date(YEAR, self.month, 1)

    def days_in_month(self) -> int:
        following = date(YEAR + self.month // 12, self.month % 12 + 1, 1)
        return (following - timedelta(days=1)).day

    def next_day(self) -> date:
        """Another day of the current month (never the current one)."""
        choices = [d for d in range(1, self.days_in_month() + 1) if d != self.day.day]
        self.day = date(YEAR, self.month, self.rng.choice(choices))
        return self.day

    def follow(self, day: date) -> None:
        """Go on from ``day`` (the day a reopened page shows), in its month."""
        self.month, self.day = day.month, day

    def next_month(self) -> date:
        """A day in the following month (December wraps to January)."""
        self.month = self.month % 12 + 1
        self.day = date(YEAR, self.month, min(self.day.day, 28))
        return self.day


def expect_fragment(interaction: Interaction) -> None:
    """A fragment pick must rerun the fragment and nothing outside it."""
    if interaction.outcome != FRAGMENT_SUCCESS or interaction.outside_fragment:
        raise UnexpectedOutcome(
            f"fragment pick ended {interaction.outcomes} with "
            f"{interaction.delta_fragments['']} deltas outside the fragment",
            interaction,
        )


def expect_full(interaction: Interaction) -> None:
    """A full rerun must run the whole script (deltas outside any fragment)."""
    if interaction.outcome != SUCCESS or not interaction.outside_fragment:
        raise UnexpectedOutcome(f"full rerun ended {interaction.outcomes} with no page deltas", interaction)


def shown_heading(day: date) -> str:
    """The daily view's first heading when it shows ``day``."""
    return f"Best sellers, {day:%B %-d, %Y}"


def expect_page_of(day: date) -> Callable[[Interaction], None]:
    """A whole-page run that shows ``day`` (a reconnect or a reopened link must bring it back)."""

    def check(interaction: Interaction) -> None:
        expect_full(interaction)
        if not interaction.has_text(shown_heading(day)):
            shown = [text for text in interaction.texts if text.startswith("Best sellers")]
            raise UnexpectedOutcome(f"the page shows {shown}, not {day}", interaction)

    return check


def expect_day_in_url_and_page(session: DashboardSession, day: date) -> Callable[[Interaction], None]:
    """A reconnect: the page's URL still names ``day`` (none for the first day), and if the page
    reran on its new socket (see ``DashboardSession.resume``), the page shows it."""
    shows_day = expect_page_of(day)

    def check(interaction: Interaction) -> None:
        if (session.url_date() or FIRST_DAY) != day:
            raise UnexpectedOutcome(f"the URL ?{session.query_string} does not name {day}", interaction)
        if interaction.outcomes:
            shows_day(interaction)

    return check


def expect_answered_with(day: date) -> Callable[[Interaction], None]:
    """Any finished run that shows ``day``: the first pick after a reconnect that asked for no run
    may reach a session that never ran (a new replica), which answers with the whole page."""

    def check(interaction: Interaction) -> None:
        shown = interaction.has_text(shown_heading(day))
        if interaction.outcome not in (SUCCESS, FRAGMENT_SUCCESS) or not shown:
            raise UnexpectedOutcome(f"ended {interaction.outcomes} without {shown_heading(day)}", interaction)

    return check


def counted_mix(session, picks: int, full_reruns: int, month_changes: int) -> None:
    """``picks`` same-month picks (January 10th on), ``full_reruns`` whole-script reruns of a
    January day (20th on), then ``month_changes`` picks in a new month (February on): a known mix
    whose runs the metrics tests count (tests/integration/test_metrics.py, the container tier)."""
    for day in range(picks):
        session.pick_date(date(YEAR, 1, day + 10))
    for day in range(full_reruns):
        session.pick_date(date(YEAR, 1, day + 20), fragment=False)
    for month in range(month_changes):
        session.change_month(date(YEAR, month + 2, 5))
