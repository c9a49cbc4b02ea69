"""The hash registry: submissions in, one canonical entry per fingerprint out.

Pure logic. The same fingerprint from two cases is one entry whose ``holders`` are the open
cases holding it; ``refcount`` is their number. Holding is a set, so applying an event twice
changes nothing the second time (idempotent on the natural key case × fingerprint). Every
change takes the next value of one strictly increasing ``sequence``, the order every delivery
channel follows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from schemas.events import (
    CaseOpened,
    CaseWithdrawn,
    EntryStatus,
    HashListEntry,
    MediaAdded,
    utcnow,
)
from schemas.signals import Signal, signals_of


class HashRegistry:
    """The canonical hash list held in memory, rebuilt from ``haven.hashlist.v1``."""

    def __init__(self) -> None:
        self.entries: dict[str, HashListEntry] = {}
        self._case_keys: dict[str, set[str]] = defaultdict(set)
        self.sequence = 0

    def load(self, entry: HashListEntry) -> None:
        """Restore one entry read back from the hash-list topic."""
        previous = self.entries.get(entry.key)
        if previous is not None and previous.sequence >= entry.sequence:
            return
        if previous is not None:
            for case_id in previous.holders:
                self._case_keys[case_id].discard(entry.key)
        self.entries[entry.key] = entry
        for case_id in entry.holders:
            self._case_keys[case_id].add(entry.key)
        self.sequence = max(self.sequence, entry.sequence)

    def apply(
        self, event: CaseOpened | MediaAdded | CaseWithdrawn, *, now: datetime | None = None
    ) -> list[HashListEntry]:
        """Apply a submission; returns the entries it changed, in sequence order."""
        now = now or utcnow()
        if isinstance(event, CaseWithdrawn):
            return self._release(event.case_id, now)
        changed: list[HashListEntry] = []
        for item in event.items:
            for signal in signals_of(item.media):
                entry = self._hold(event.case_id, signal, now)
                if entry is not None:
                    changed.append(entry)
        return changed

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence

    def _hold(self, case_id: str, signal: Signal, now: datetime) -> HashListEntry | None:
        current = self.entries.get(signal.key)
        if current is not None and case_id in current.holders:
            return None
        holders = sorted({*(current.holders if current else ()), case_id})
        status = (
            EntryStatus.QUARANTINED
            if current is not None and current.status is EntryStatus.QUARANTINED
            else EntryStatus.ACTIVE
        )
        entry = HashListEntry(
            signal=signal.signal,
            value=signal.value,
            frames=signal.frames,
            status=status,
            refcount=len(holders),
            holders=holders,
            first_seen=current.first_seen if current else now,
            last_changed=now,
            sequence=self._next(),
        )
        self.entries[entry.key] = entry
        self._case_keys[case_id].add(entry.key)
        return entry

    def _release(self, case_id: str, now: datetime) -> list[HashListEntry]:
        changed = []
        for key in sorted(self._case_keys.pop(case_id, set())):
            current = self.entries[key]
            holders = [h for h in current.holders if h != case_id]
            status = current.status if holders else EntryStatus.WITHDRAWN
            entry = current.model_copy(
                update={
                    "holders": holders,
                    "refcount": len(holders),
                    "status": status,
                    "last_changed": now,
                    "sequence": self._next(),
                    "event_id": uuid.uuid4(),
                    "occurred_at": now,
                }
            )
            self.entries[key] = entry
            changed.append(entry)
        return changed
