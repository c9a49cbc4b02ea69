"""The page works from the keyboard and every control has a name a screen reader reads.

Keyboard only: Tab reaches "Protect photos or videos", Enter opens the picker view with
focus on its heading, and the file input (visually hidden behind its label) is reachable
by Tab. Every input, select and button has an accessible name, and progress and results
are announced through live regions.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import RecordedPage
from tests.browser.page import open_page

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_keyboard_reaches_the_picker_and_focus_follows_the_view(recorded: RecordedPage) -> None:
    page = recorded.page
    open_page(recorded)
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "start-new":
            break
    assert page.evaluate("document.activeElement.id") == "start-new"
    page.keyboard.press("Enter")
    expect(page.locator("#view-pick")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "pick-title"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "files"


def test_every_control_has_an_accessible_name_and_updates_are_announced(
    recorded: RecordedPage,
) -> None:
    page = recorded.page
    open_page(recorded)
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button, progress')]
            .filter(el => {
              const labelled = el.labels && el.labels.length > 0;
              const named = el.getAttribute('aria-label') || el.textContent.trim();
              return !labelled && !named;
            })
            .map(el => el.id || el.outerHTML)"""
    )
    assert unnamed == []
    for region in ("#overall-status", "#review-status", "#done-status", "#status-status"):
        assert page.locator(region).get_attribute("aria-live") == "polite"
    assert page.locator("#alert").get_attribute("role") == "alert"
