"""The hash registry: one entry per fingerprint, reference counted, strictly sequenced."""

from __future__ import annotations

from schemas.events import CaseOpened, CaseWithdrawn, EntryStatus, MediaAdded, MediaItem
from schemas.signals import ImageMedia
from services.distributor.domain.registry import HashRegistry

PDQ_A, MD5_A = "a" * 64, "a" * 32
PDQ_B, MD5_B = "b" * 64, "b" * 32


def opened(case_id: str, *images: tuple[str, str]) -> CaseOpened:
    return CaseOpened(
        case_id=case_id,
        items=[
            MediaItem(media_id=f"m{i}", media=ImageMedia(pdq=p, quality=90, md5=m))
            for i, (p, m) in enumerate(images)
        ],
    )


def test_same_fingerprint_from_two_cases_is_one_entry_held_twice() -> None:
    registry = HashRegistry()
    first = registry.apply(opened("c1", (PDQ_A, MD5_A)))
    second = registry.apply(opened("c2", (PDQ_A, MD5_B)))
    assert [e.key for e in first] == [f"pdq:{PDQ_A}", f"md5:{MD5_A}"]
    assert registry.entries[f"pdq:{PDQ_A}"].refcount == 2
    assert [e.sequence for e in first + second] == [1, 2, 3, 4]


def test_replayed_event_changes_nothing() -> None:
    registry = HashRegistry()
    event = opened("c1", (PDQ_A, MD5_A))
    registry.apply(event)
    assert registry.apply(event) == []
    assert registry.entries[f"md5:{MD5_A}"].refcount == 1


def test_withdrawing_one_case_keeps_what_another_holds() -> None:
    registry = HashRegistry()
    registry.apply(opened("c1", (PDQ_A, MD5_A)))
    registry.apply(opened("c2", (PDQ_A, MD5_B)))
    changed = registry.apply(CaseWithdrawn(case_id="c1"))
    by_key = {e.key: e for e in changed}
    assert by_key[f"pdq:{PDQ_A}"].status is EntryStatus.ACTIVE
    assert by_key[f"pdq:{PDQ_A}"].refcount == 1
    assert by_key[f"md5:{MD5_A}"].status is EntryStatus.WITHDRAWN
    assert registry.apply(CaseWithdrawn(case_id="c1")) == []


def test_state_rebuilt_from_entries_continues_the_sequence() -> None:
    original = HashRegistry()
    original.apply(opened("c1", (PDQ_A, MD5_A)))
    original.apply(MediaAdded(case_id="c1", items=opened("x", (PDQ_B, MD5_B)).items))
    rebuilt = HashRegistry()
    for entry in original.entries.values():
        rebuilt.load(entry)
    assert rebuilt.sequence == 4
    changed = rebuilt.apply(CaseWithdrawn(case_id="c1"))
    assert {e.status for e in changed} == {EntryStatus.WITHDRAWN}
    assert [e.sequence for e in changed] == [5, 6, 7, 8]
