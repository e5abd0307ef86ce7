"""Screenshots at a desktop and a phone width (kept by CI from artifacts/screenshots/), and the
layout faults a person would see at each: clipped charts, money off-screen, empty boxes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .dashboard import DESKTOP, NARROW, SCREENSHOTS, Dashboard


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("narrow", NARROW)])
def test_screenshot_and_layout(open_dashboard: Callable[..., Dashboard], name: str, viewport: dict) -> None:
    dashboard = open_dashboard(viewport)
    page = dashboard.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")
    faults = dashboard.layout_faults()
    # The whole page: Streamlit scrolls inside its main element, so grow the window to fit it.
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": height})
    dashboard.settle()
    page.screenshot(path=SCREENSHOTS / f"{name}-full.png")

    assert faults == []
    assert dashboard.watch.problems() == []
