"""The matcher's per-platform request budget: a platform that spends its window gets a wait
until the next one, and its burst does not touch another platform's budget."""

from __future__ import annotations

from services.matcher.domain import PlatformBudget


def test_a_spent_budget_waits_for_the_next_window_and_others_are_untouched() -> None:
    budget = PlatformBudget(3, window_s=60)
    assert [budget.spend("a", 120.0 + i) for i in range(3)] == [None, None, None]
    assert budget.spend("a", 130.0) == 50.0  # until the window that starts at 180
    assert budget.spend("b", 130.0) is None
    assert budget.spend("a", 180.0) is None  # a new window
