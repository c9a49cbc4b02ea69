"""What the matcher knows: the active part of the hash list, and how to look signals up in it.

Pure logic over ``HashListEntry`` values. ``HashListView.apply`` follows the compacted topic:
an active entry is added (or kept), any other status removes it, in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.events import EntryStatus, HashListEntry
from schemas.signals import SignalType
from services.matcher.pdq_store import PdqStore


@dataclass(frozen=True)
class Match:
    signal: SignalType
    value: str
    distance: int
    sequence: int


class HashListView:
    """The active hash-list entries, indexed for matching."""

    def __init__(self) -> None:
        self._sequences: dict[str, int] = {}
        self._md5: set[str] = set()
        self._pdq = PdqStore()

    def __len__(self) -> int:
        return len(self._sequences)

    def apply(self, entry: HashListEntry) -> None:
        key = entry.key
        known = self._sequences.get(key)
        if known is not None and known > entry.sequence:
            return  # an older state replayed after a newer one
        if entry.status is EntryStatus.ACTIVE:
            self._sequences[key] = entry.sequence
            if entry.signal is SignalType.MD5:
                self._md5.add(entry.value)
            elif entry.signal is SignalType.PDQ:
                self._pdq.add(entry.value)
        elif known is not None:
            del self._sequences[key]
            if entry.signal is SignalType.MD5:
                self._md5.discard(entry.value)
            elif entry.signal is SignalType.PDQ:
                self._pdq.remove(entry.value)

    def match_md5(self, value: str) -> list[Match]:
        if value not in self._md5:
            return []
        return [Match(SignalType.MD5, value, 0, self._sequences[f"md5:{value}"])]

    def match_pdq(self, value: str, max_distance: int) -> list[Match]:
        return [
            Match(SignalType.PDQ, hit, distance, self._sequences[f"pdq:{hit}"])
            for hit, distance in self._pdq.search(value, max_distance)
        ]
