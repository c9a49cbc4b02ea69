"""The ordered hash-list view: sequence order, stability, latest state per key, filters."""

from __future__ import annotations

import json

from schemas.signals import SignalType
from services.distributor.domain.view import (
    ALL_SIGNALS,
    HashListView,
    StabilityProbe,
    ViewEntry,
    entry_from_hashlist,
)


def entry(
    sequence: int, signal: str = "md5", value: str | None = None, status: str = "active"
) -> ViewEntry:
    value = value or (f"{sequence:032x}" if signal == "md5" else f"{sequence:064x}")
    raw = {
        "signal": signal,
        "value": value,
        "status": status,
        "sequence": sequence,
        "holders": ["case-secret-id"],
        "frames": None,
    }
    return entry_from_hashlist(json.dumps(raw).encode())


def sequences(
    view: HashListView,
    after: int = 0,
    signals: frozenset[SignalType] = ALL_SIGNALS,
    limit: int = 100,
) -> list[int]:
    return [e.sequence for e in view.page(after=after, signals=signals, limit=limit).entries]


def test_entries_arriving_out_of_order_are_served_in_order_and_never_past_stable() -> None:
    view = HashListView()
    for sequence in (3, 1, 5, 2):
        view.apply(entry(sequence))
    assert sequences(view) == []  # nothing is stable yet
    view.advance(3)
    assert sequences(view) == [1, 2, 3]
    view.apply(entry(4))
    view.advance(5)
    assert sequences(view) == [1, 2, 3, 4, 5]


def test_a_key_changed_twice_after_the_cursor_appears_once_with_its_latest_state() -> None:
    view = HashListView()
    view.apply(entry(1, value="a" * 32))
    view.apply(entry(2, value="b" * 32))
    view.apply(entry(3, value="a" * 32, status="withdrawn"))
    view.apply(entry(2, value="b" * 32))  # a redelivered older version changes nothing
    view.advance(3)
    page = view.page(after=0, signals=ALL_SIGNALS, limit=10)
    assert [(e.sequence, e.fields()["status"]) for e in page.entries] == [
        (2, "active"),
        (3, "withdrawn"),
    ]
    assert len(view) == 2


def test_case_holders_never_reach_a_platform() -> None:
    assert b"case-secret-id" not in entry(1).line
    assert set(entry(1).fields()) == {"sequence", "signal", "value", "status", "frames"}


def test_pages_resume_exactly_after_the_last_entry_and_respect_the_filter() -> None:
    view = HashListView()
    for sequence in range(1, 101):
        view.apply(entry(sequence, signal="pdq" if sequence % 2 else "md5"))
    view.advance(100)
    seen: list[int] = []
    after = 0
    while True:
        page = view.page(after=after, signals=frozenset({SignalType.MD5}), limit=7)
        seen += [e.sequence for e in page.entries]
        after = page.next_after
        if not page.more:
            break
    assert seen == list(range(2, 101, 2))
    assert after == 100
    both = frozenset({SignalType.MD5, SignalType.PDQ})
    assert sequences(view, after=10, signals=both, limit=5) == [11, 12, 13, 14, 15]
    assert view.backlog(after=90, signals=frozenset({SignalType.PDQ})) == 5


def test_superseded_versions_are_compacted_away() -> None:
    view = HashListView()
    for sequence in range(1, 5001):
        view.apply(entry(sequence, value="c" * 32))
    view.advance(5000)
    assert len(view) == 1 and sequences(view) == [5000]
    assert view.backlog(after=0, signals=ALL_SIGNALS) < 5000 // 4 + 2


def test_stability_probe_waits_for_every_partition_end() -> None:
    probe = StabilityProbe()
    probe.start(10, {0: 5, 1: 7})
    assert probe.reached({0: 5, 1: 6}) is None
    assert probe.waiting
    assert probe.reached({0: 5, 1: 7}) == 10
    assert not probe.waiting


def test_a_page_is_cut_by_bytes_but_always_holds_one_entry() -> None:
    view = HashListView()
    for sequence in range(1, 7):
        view.apply(entry(sequence))
    view.advance(6)
    line = len(view.page(after=0, signals=ALL_SIGNALS, limit=1).entries[0].line)
    page = view.page(after=0, signals=ALL_SIGNALS, limit=100, max_bytes=3 * line)
    assert [e.sequence for e in page.entries] == [1, 2, 3] and page.more
    assert page.next_after == 3  # the next page starts right after what was served
    tiny = view.page(after=3, signals=ALL_SIGNALS, limit=100, max_bytes=1)
    assert [e.sequence for e in tiny.entries] == [4] and tiny.next_after == 4
