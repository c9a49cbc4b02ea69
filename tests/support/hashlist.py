"""Hash-list entries written straight onto ``haven.hashlist.v1``, as the distributor does."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.events import EntryStatus, HashListEntry
from schemas.signals import SignalType, VpdqFrame
from services.common.kafka import EventProducer


class HashList:
    """Writes hash-list entries the way the distributor does, with increasing sequences."""

    def __init__(self, producer: EventProducer, topic: str) -> None:
        self.producer, self.topic, self.sequence = producer, topic, 0

    def put(
        self,
        signal: SignalType,
        value: str,
        status: EntryStatus = EntryStatus.ACTIVE,
        frames: list[VpdqFrame] | None = None,
    ) -> HashListEntry:
        self.sequence += 1
        now = datetime.now(UTC)
        entry = HashListEntry(
            signal=signal,
            value=value,
            frames=frames,
            status=status,
            refcount=1 if status is EntryStatus.ACTIVE else 0,
            holders=["case-x"] if status is EntryStatus.ACTIVE else [],
            first_seen=now,
            last_changed=now,
            sequence=self.sequence,
        )
        self.producer.send(self.topic, entry.key, entry)
        return entry
