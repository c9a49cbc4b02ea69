"""One in-memory index for every signal on the hash list, fed entry by entry from Kafka.

The matcher follows the compacted ``haven.hashlist.v1`` topic: an active entry is
``add``-ed, a withdrawn or quarantined one is ``remove``-d, and either must show in the next
match. Keys are the hash-list keys (``<signal>:<value>``), so replaying the topic is
idempotent: re-adding a key with the same value is a no-op, with a new value it replaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.signals import SignalType
from services.matcher.index.bits import parse_pdq
from services.matcher.index.pdq import DEFAULT_RADIUS, PdqIndex
from services.matcher.index.vpdq import VpdqIndex

VideoFrames = Sequence[tuple[str, int]]
"""A video as ``(pdq_hex, quality)`` frames, in any order."""


@dataclass(frozen=True)
class SignalMatch:
    """A banked entry that matched a query.

    ``distance`` is the Hamming distance for PDQ, 0 for MD5, and the closest frame pair for
    vPDQ, which also reports the two percentages of the video rule.
    """

    key: str
    signal: SignalType
    distance: int
    query_match_percent: float | None = None
    target_match_percent: float | None = None


class SignalIndex:
    """PDQ, MD5 and vPDQ entries behind one add / remove / match surface."""

    def __init__(self, *, pdq_radius: int = DEFAULT_RADIUS) -> None:
        self._pdq = PdqIndex(radius=pdq_radius)
        self._pdq_key_of_row: list[str | None] = []
        self._md5_keys: dict[str, set[str]] = {}
        self._vpdq = VpdqIndex(frame_radius=pdq_radius)
        self._vpdq_key_of_video: dict[int, str] = {}
        # key -> (signal, what identifies it inside that signal's index, the banked value)
        self._entries: dict[str, tuple[SignalType, int | str, object]] = {}
        self._counts = dict.fromkeys(SignalType, 0)

    def begin_bulk_load(self) -> None:
        """Defer index merges: a start-up load of N entries then costs one build, not N/4096
        merges each copying the whole postings array (quadratic: minutes at 10M)."""
        self._pdq.defer_merges = self._vpdq.frames.defer_merges = True

    def end_bulk_load(self) -> None:
        """Build the tables over everything loaded; back to incremental merges."""
        self._pdq.defer_merges = self._vpdq.frames.defer_merges = False
        self._pdq.flush()
        self._vpdq.frames.flush()

    def size(self) -> int:
        """Entries currently banked, all signals together."""
        return len(self._entries)

    def banked(self, key: str) -> object | None:
        """The value banked under ``key`` (hex, or a video's ``(hex, quality)`` frames)."""
        entry = self._entries.get(key)
        return None if entry is None else entry[2]

    def count(self, signal: SignalType) -> int:
        """Entries currently banked for one signal (kept as counters: O(1), for metrics)."""
        return self._counts[signal]

    def _banked(self, key: str, entry: tuple[SignalType, int | str, object]) -> None:
        self._entries[key] = entry
        self._counts[entry[0]] += 1

    def add_pdq(self, key: str, pdq_hex: str) -> None:
        """Bank (or replace) a PDQ entry."""
        value = pdq_hex.lower()
        words = parse_pdq(value)
        if not self._replacing(key, SignalType.PDQ, value):
            return
        row = self._pdq.add(words)
        self._pdq_key_of_row.extend([None] * (row + 1 - len(self._pdq_key_of_row)))
        self._pdq_key_of_row[row] = key
        self._banked(key, (SignalType.PDQ, row, value))

    def add_md5(self, key: str, md5_hex: str) -> None:
        """Bank (or replace) an MD5 entry."""
        value = md5_hex.lower()
        if len(value) != 32 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError(f"{md5_hex!r} is not a valid MD5 hash: expected 32 hex characters")
        if not self._replacing(key, SignalType.MD5, value):
            return
        self._md5_keys.setdefault(value, set()).add(key)
        self._banked(key, (SignalType.MD5, value, value))

    def add_vpdq(self, key: str, frames: VideoFrames) -> None:
        """Bank (or replace) a video; raises ValueError if no frame is good enough."""
        value = tuple((h.lower(), q) for h, q in frames)
        if not self._replacing(key, SignalType.VPDQ, value):
            return
        video = self._vpdq.add(value)
        self._vpdq_key_of_video[video] = key
        self._banked(key, (SignalType.VPDQ, video, value))

    def remove(self, key: str) -> bool:
        """Withdraw an entry: it stops matching at once. False if the key is not banked."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        signal, handle, _ = entry
        self._counts[signal] -= 1
        if signal is SignalType.PDQ:
            assert isinstance(handle, int)
            self._pdq.remove(handle)
            self._pdq_key_of_row[handle] = None
        elif signal is SignalType.MD5:
            assert isinstance(handle, str)
            keys = self._md5_keys[handle]
            keys.discard(key)
            if not keys:
                del self._md5_keys[handle]
        else:
            assert isinstance(handle, int)
            self._vpdq.remove(handle)
            del self._vpdq_key_of_video[handle]
        return True

    def match_pdq(self, pdq_hex: str, radius: int | None = None) -> list[SignalMatch]:
        """PDQ entries within ``radius`` (default 31) of the query, nearest first."""
        hits = self._pdq.search(parse_pdq(pdq_hex.lower()), radius)
        found = [
            SignalMatch(key, SignalType.PDQ, distance)
            for row, distance in zip(hits.rows.tolist(), hits.distances.tolist(), strict=True)
            if (key := self._pdq_key_of_row[row]) is not None
        ]
        return sorted(found, key=lambda m: (m.distance, m.key))

    def match_md5(self, md5_hex: str) -> list[SignalMatch]:
        """MD5 entries equal to the query."""
        keys = self._md5_keys.get(md5_hex.lower(), set())
        return [SignalMatch(key, SignalType.MD5, 0) for key in sorted(keys)]

    def match_vpdq(self, frames: VideoFrames) -> list[SignalMatch]:
        """Videos matching the query video under Haven's symmetric 80 % vPDQ rule."""
        found = [
            SignalMatch(
                self._vpdq_key_of_video[m.video],
                SignalType.VPDQ,
                m.min_distance,
                m.query_match_percent,
                m.target_match_percent,
            )
            for m in self._vpdq.match(frames)
        ]
        return sorted(found, key=lambda m: (-(m.target_match_percent or 0.0), m.key))

    def _replacing(self, key: str, signal: SignalType, value: object) -> bool:
        """False if the key already holds this value (a replayed message); else clear it."""
        current = self._entries.get(key)
        if current is not None and current[0] is signal and current[2] == value:
            return False
        if current is not None:
            self.remove(key)
        return True
