"""What the matcher knows: the hash list as the matcher sees it, and how to look signals up in it.

Pure logic over ``HashListEntry`` values. ``HashListView.apply`` follows the compacted topic:
an active entry is added (or kept), any other status removes it, in place, with no rebuild.
The search structures are in ``services.matcher.index``.

Decisions where the issue is silent:

* A platform is matched against every *active* entry, whatever signals its delivery filter
  subscribes to: the filter shapes what is pushed to a platform, but a platform that asks
  about an upload should learn that it is on the list.
* An action report is accepted only on an entry that was delivered to the reporting platform:
  its signal filter admits the entry and one of its channels has delivered the list past the
  entry's sequence (``Deliveries``, fed from ``haven.deliveries.v1``). Otherwise a platform
  could mark a fingerprint it was never sent as "removed" in a victim's status. The entry may
  be withdrawn since: the platform acted on what it saw. The view knows only an entry's
  latest sequence, so right after an entry changes a platform may be told "not delivered"
  until its channel has delivered the change (a retry then succeeds).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from schemas.events import EntryStatus, HashListEntry
from schemas.signals import SignalType, hash_key
from services.matcher.index import SignalIndex, SignalMatch

VideoFrames = Sequence[tuple[str, int]]


@dataclass(frozen=True)
class Match:
    """A banked hash-list entry that matched a query: its value (not the query's) and sequence."""

    signal: SignalType
    value: str
    distance: int
    sequence: int
    query_match_percent: float | None = None
    target_match_percent: float | None = None

    @property
    def key(self) -> str:
        return hash_key(self.signal, self.value)


class HashListView:
    """The active hash-list entries, indexed for matching."""

    def __init__(self) -> None:
        self._sequences: dict[str, int] = {}
        self._index = SignalIndex()
        self.last_sequence = 0

    def __len__(self) -> int:
        return self._index.size()

    def begin_bulk_load(self) -> None:
        self._index.begin_bulk_load()

    def end_bulk_load(self) -> None:
        self._index.end_bulk_load()

    def warm_up(self) -> None:
        """Run one lookup of each kind on an empty index (compiles the search kernels)."""
        empty = SignalIndex()
        empty.match_pdq("0" * 64)  # the multi-index search
        empty.match_pdq("0" * 64, 64)  # the exact scan (also used for the unindexed tail)

    def count(self, signal: SignalType) -> int:
        """Active entries of one signal."""
        return self._index.count(signal)

    def known(self, signal: SignalType, value: str) -> bool:
        """Whether the hash list has ever held this entry (active or not)."""
        return hash_key(signal, value) in self._sequences

    def sequence_of(self, signal: SignalType, value: str) -> int | None:
        """The entry's latest sequence, if the hash list has ever held it."""
        return self._sequences.get(hash_key(signal, value))

    def rows(self) -> Iterator[tuple[str, int, bool, VideoFrames | None]]:
        """Every key the view knows: its sequence, whether it is active, and for an active
        video its frames (a PDQ or MD5 value is the key's own suffix). What a snapshot holds."""
        for key, sequence in self._sequences.items():
            value = self._index.banked(key)
            frames = value if key.startswith("vpdq:") and isinstance(value, tuple) else None
            yield key, sequence, value is not None, frames

    @classmethod
    def restore(
        cls, rows: Iterator[tuple[str, int, bool, VideoFrames | None]], last_sequence: int
    ) -> HashListView:
        """A view from ``rows``, bulk-loaded (the caller ends the bulk load once caught up)."""
        view = cls()
        view.begin_bulk_load()
        for key, sequence, active, frames in rows:
            view._sequences[key] = sequence
            signal, _, value = key.partition(":")
            if not active:
                continue
            if signal == SignalType.PDQ.value:
                view._index.add_pdq(key, value)
            elif signal == SignalType.MD5.value:
                view._index.add_md5(key, value)
            elif frames:
                view._index.add_vpdq(key, frames)
        view.last_sequence = last_sequence
        return view

    def apply(self, entry: HashListEntry) -> None:
        key = entry.key
        known = self._sequences.get(key)
        if known is not None and known > entry.sequence:
            return  # an older state replayed after a newer one
        self._sequences[key] = entry.sequence
        self.last_sequence = max(self.last_sequence, entry.sequence)
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
            Match(
                m.signal,
                m.key.split(":", 1)[1],
                m.distance,
                self._sequences[m.key],
                m.query_match_percent,
                m.target_match_percent,
            )
            for m in found
        ]

    def match_md5(self, value: str) -> list[Match]:
        return self._matches(self._index.match_md5(value))

    def match_pdq(self, value: str, max_distance: int) -> list[Match]:
        return self._matches(self._index.match_pdq(value, max_distance))

    def match_vpdq(self, frames: VideoFrames) -> list[Match]:
        return self._matches(self._index.match_vpdq(frames))


class Deliveries:
    """How far each platform's list has been delivered: the highest ``last_sequence`` of a
    delivered batch on any of its channels (each channel delivers in sequence order)."""

    def __init__(self) -> None:
        self._cursor: dict[str, int] = {}
        self._lock = threading.Lock()

    def record(self, platform_id: str, last_sequence: int) -> None:
        with self._lock:
            self._cursor[platform_id] = max(self._cursor.get(platform_id, 0), last_sequence)

    def reached(self, platform_id: str, sequence: int) -> bool:
        with self._lock:
            return self._cursor.get(platform_id, 0) >= sequence


class PlatformBudget:
    """Requests per platform per fixed window, in this instance's memory: one platform's
    burst cannot starve the others (429 with ``Retry-After`` once its budget is spent)."""

    def __init__(self, per_window: int, window_s: float = 60.0) -> None:
        self._per_window = per_window
        self._window_s = window_s
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def spend(self, platform_id: str, now: float) -> float | None:
        """None if the request may go ahead, else the seconds until the next window."""
        window = int(now // self._window_s)
        with self._lock:
            if len(self._counts) > 10_000:  # old windows of every platform
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window}
            used = self._counts.get((platform_id, window), 0)
            if used >= self._per_window:
                return (window + 1) * self._window_s - now
            self._counts[(platform_id, window)] = used + 1
            return None


class SharedIndex:
    """The index every lookup reads and the consumer changes, with the one lock that makes each
    change and each batch of lookups atomic: a lookup never sees a half-applied entry, and a
    withdrawal applied before a batch starts never matches in it. The view itself is replaced
    whole when a snapshot is loaded, so holders keep this object, never the view."""

    def __init__(self) -> None:
        self.view = HashListView()
        self._lock = threading.Lock()

    @contextmanager
    def locked(self) -> Iterator[HashListView]:
        """The view, held for a batch of lookups or one change."""
        with self._lock:
            yield self.view
