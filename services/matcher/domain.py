"""What the matcher knows: the active part of the hash list, and how to look signals up in it.

Pure logic over ``HashListEntry`` values. ``HashListView.apply`` follows the compacted topic:
an active entry is added (or kept), any other status removes it, in place, with no rebuild.
The search structures are in ``services.matcher.index``.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.events import EntryStatus, HashListEntry
from schemas.signals import SignalType
from services.matcher.index import SignalIndex, SignalMatch


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
        self._index = SignalIndex()

    def __len__(self) -> int:
        return self._index.size()

    def apply(self, entry: HashListEntry) -> None:
        key = entry.key
        known = self._sequences.get(key)
        if known is not None and known > entry.sequence:
            return  # an older state replayed after a newer one
        self._sequences[key] = entry.sequence
        if entry.status is not EntryStatus.ACTIVE:
            self._index.remove(key)
        elif entry.signal is SignalType.MD5:
            self._index.add_md5(key, entry.value)
        elif entry.signal is SignalType.PDQ:
            self._index.add_pdq(key, entry.value)
        elif entry.frames:
            self._index.add_vpdq(key, [(f.pdq, f.quality) for f in entry.frames])

    def _matches(self, found: list[SignalMatch]) -> list[Match]:
        return [
            Match(m.signal, m.key.split(":", 1)[1], m.distance, self._sequences[m.key])
            for m in found
        ]

    def match_md5(self, value: str) -> list[Match]:
        return self._matches(self._index.match_md5(value))

    def match_pdq(self, value: str, max_distance: int) -> list[Match]:
        return self._matches(self._index.match_pdq(value, max_distance))
