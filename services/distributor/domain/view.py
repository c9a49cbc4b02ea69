"""The ordered view of the hash list every delivery channel reads: latest state per key, by sequence.

Pure logic (no Kafka). The feed, the webhook dispatchers and the per-platform topics all page
through this one view, so every channel delivers the same sequence.

**Stability.** ``haven.hashlist.v1`` has three partitions, so a reader can see sequence 10
(partition 1) before 9 (partition 0). The view therefore never serves past ``stable``: the
reader (``adapters/hashlist_reader.py``) notes ``m``, the highest sequence seen, then asks for
the end offsets (read_committed, i.e. the last stable offsets) of every partition; once its
positions reach them, every sequence ≤ ``m`` is in memory, because the single transactional
writer commits its batches in sequence order. Only then does ``stable`` move to ``m``
(``StabilityProbe``).

**Gaps and compaction.** The hash list is compacted, and the view keeps only the latest state
of each key, so sequences have gaps. What a channel delivers after a cursor is "the latest
state of each key changed after the cursor, in sequence order": a key that changed twice
after your cursor appears once, with its latest state. A withdrawal is never lost, because the
withdrawn state *is* the latest state of its key until the key changes again (and then that
newer state is delivered instead).

**Data structure.** One dict sequence → pre-serialised JSON line (built once when read, so a
page is a ``b",".join``), and sorted lists of live sequences (one over all signals, one per
signal) searched with ``bisect``. Out-of-order arrivals land near the end of a list, so
``insort`` moves little. A superseded sequence is removed lazily (it stays in the lists until
they are compacted once a quarter of them is dead), so an update is O(log n). ``backlog``
counts from the lists and may overcount superseded versions until that compaction.
"""

from __future__ import annotations

import heapq
import json
import threading
from bisect import bisect_right, insort
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from schemas.signals import SignalType

ALL_SIGNALS = frozenset(SignalType)


class ViewEntry(NamedTuple):
    """One key's latest state: what every channel serialises from ``line``."""

    sequence: int
    signal: SignalType
    key: str
    line: bytes

    def fields(self) -> dict[str, Any]:
        """The entry's public fields (those of ``PlatformListEntry`` without event metadata)."""
        parsed: dict[str, Any] = json.loads(self.line)
        return parsed


def entry_from_hashlist(raw: bytes) -> ViewEntry:
    """Build a view entry from a ``HashListEntry`` JSON value, without keeping case holders.

    Parsed with ``json`` rather than pydantic: this is our own topic, written by the registry
    from validated events, and a 1M-entry rebuild must take seconds, not minutes.
    """
    doc = json.loads(raw)
    signal = SignalType(doc["signal"])
    sequence = int(doc["sequence"])
    public = {
        "sequence": sequence,
        "signal": signal.value,
        "value": doc["value"],
        "status": doc["status"],
        "frames": doc.get("frames"),
    }
    line = json.dumps(public, separators=(",", ":")).encode()
    return ViewEntry(sequence, signal, f"{signal.value}:{doc['value']}", line)


# A page (a pull-feed answer, a webhook batch, a run of Kafka records) holds at most this much
# entry JSON: 500 vPDQ entries of two-hour videos would otherwise be a 400 MB POST.
PAGE_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Page:
    entries: list[ViewEntry]
    next_after: int
    more: bool


class _SortedSequences:
    def __init__(self) -> None:
        self.items: list[int] = []
        self.dead = 0

    def add(self, sequence: int) -> None:
        if not self.items or sequence > self.items[-1]:
            self.items.append(sequence)
        else:
            insort(self.items, sequence)

    def after(self, sequence: int) -> Iterator[int]:
        items = self.items
        for index in range(bisect_right(items, sequence), len(items)):
            yield items[index]

    def count_between(self, low: int, high: int) -> int:
        return max(0, bisect_right(self.items, high) - bisect_right(self.items, low))


class HashListView:
    """Latest state of every key, ordered by sequence; serves nothing past ``stable``."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._seq_of_key: dict[str, int] = {}
        self._entries: dict[int, ViewEntry] = {}
        self._all = _SortedSequences()
        self._by_signal: dict[SignalType, _SortedSequences] = {
            s: _SortedSequences() for s in SignalType
        }
        self.max_seen = 0
        self.stable = 0

    def __len__(self) -> int:
        return len(self._entries)

    def apply(self, entry: ViewEntry) -> bool:
        """Record ``entry`` unless the view already holds a newer state of its key."""
        with self._lock:
            current = self._seq_of_key.get(entry.key)
            if current is not None:
                if current >= entry.sequence:
                    return False
                del self._entries[current]
                self._all.dead += 1
                self._by_signal[entry.signal].dead += 1
            self._seq_of_key[entry.key] = entry.sequence
            self._entries[entry.sequence] = entry
            self._all.add(entry.sequence)
            self._by_signal[entry.signal].add(entry.sequence)
            self.max_seen = max(self.max_seen, entry.sequence)
            self._compact_if_needed()
            return True

    def apply_all(self, entries: Iterable[ViewEntry]) -> None:
        with self._lock:
            for entry in entries:
                self.apply(entry)

    def advance(self, stable: int) -> None:
        """Everything up to ``stable`` is loaded: channels may now serve it."""
        with self._lock:
            self.stable = max(self.stable, min(stable, self.max_seen))

    def _compact_if_needed(self) -> None:
        for lists in (self._all, *self._by_signal.values()):
            if lists.dead > max(1024, len(lists.items) // 4):
                lists.items = [s for s in lists.items if s in self._entries]
                lists.dead = 0

    def _lists(self, signals: frozenset[SignalType]) -> list[_SortedSequences]:
        if signals >= ALL_SIGNALS:
            return [self._all]
        return [self._by_signal[s] for s in SignalType if s in signals]

    def page(
        self,
        *,
        after: int,
        signals: frozenset[SignalType],
        limit: int,
        max_bytes: int = PAGE_MAX_BYTES,
    ) -> Page:
        """Up to ``limit`` entries with sequence in (``after``, ``stable``], in order, and no
        more than ``max_bytes`` of them (at least one: a single video entry may be large).

        ``next_after`` is where the next page starts: the last entry's sequence when the page
        is full, else ``stable`` (nothing at or below it remains for these signals).
        """
        with self._lock:
            stable = self.stable
            lists = self._lists(signals)
            sequences: Iterator[int] = (
                lists[0].after(after)
                if len(lists) == 1
                else heapq.merge(*(seqs.after(after) for seqs in lists))
            )
            found: list[ViewEntry] = []
            size = 0
            for sequence in sequences:
                if sequence > stable:
                    break
                entry = self._entries.get(sequence)
                if entry is None:
                    continue
                if found and size + len(entry.line) > max_bytes:
                    return Page(found, found[-1].sequence, more=True)
                found.append(entry)
                size += len(entry.line)
                if len(found) >= limit:
                    return Page(found, entry.sequence, more=True)
            return Page(found, max(after, stable), more=False)

    def backlog(self, *, after: int, signals: frozenset[SignalType]) -> int:
        """Entries in (``after``, ``stable``] for these signals (may overcount, see module)."""
        with self._lock:
            return sum(seqs.count_between(after, self.stable) for seqs in self._lists(signals))


class StabilityProbe:
    """Decides when ``stable`` may move, from end offsets and consumer positions.

    ``start(max_seen, ends)`` records the highest sequence seen *before* the end offsets were
    fetched; ``reached(positions)`` answers that sequence once every position is at its end.
    """

    def __init__(self) -> None:
        self._pending: tuple[int, dict[int, int]] | None = None

    @property
    def waiting(self) -> bool:
        return self._pending is not None

    def start(self, max_seen: int, ends: dict[int, int]) -> None:
        self._pending = (max_seen, dict(ends))

    def reached(self, positions: dict[int, int]) -> int | None:
        if self._pending is None:
            return None
        sequence, ends = self._pending
        for partition, end in ends.items():
            if positions.get(partition, -1) < end:
                return None
        self._pending = None
        return sequence
