"""``haven.deliveries.v1``: recording batches, and recovering each channel's cursor from it.

The webhook and Kafka channels keep no cursor anywhere else: on start the distributor reads
the deliveries topic and takes, per platform and channel, the ``last_sequence`` of the last
record (records of one platform share a partition, so "last" is well defined). A batch is
recorded only after it reached the platform (or finally failed), so a crash in between
re-sends it; the batch id and every entry's event id are derived from the platform and the
sequences, so the platform recognises the duplicate.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

from schemas.events import Channel, DeliveryOutcome, DeliveryRecorded
from services.common.catch_up import Record, TopicReader
from services.distributor.domain.view import ViewEntry

DELIVERY_NAMESPACE = uuid.UUID("6f1b7c1e-4a53-4d0e-9a3e-2d7f0f3c8b11")


def batch_id(platform_id: str, channel: Channel, first: int, last: int) -> str:
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{platform_id}:{channel.value}:{first}:{last}"))


def entry_event_id(platform_id: str, sequence: int) -> uuid.UUID:
    """The id of one entry delivered to one platform: the same on every redelivery."""
    return uuid.uuid5(DELIVERY_NAMESPACE, f"{platform_id}:{sequence}")


def delivery_record(
    platform_id: str,
    channel: Channel,
    entries: Sequence[ViewEntry],
    outcome: DeliveryOutcome,
    attempts: int = 1,
) -> DeliveryRecorded:
    """The record of ``entries`` (a non-empty run in sequence order) reaching the platform."""
    first, last = entries[0].sequence, entries[-1].sequence
    batch = batch_id(platform_id, channel, first, last)
    return DeliveryRecorded(
        event_id=uuid.uuid5(DELIVERY_NAMESPACE, f"{batch}:{outcome.value}"),
        platform_id=platform_id,
        channel=channel,
        batch_id=batch,
        first_sequence=first,
        last_sequence=last,
        keys=[e.key for e in entries],
        outcome=outcome,
        attempts=attempts,
    )


def read_delivery_cursors(reader: TopicReader, topic: str) -> dict[tuple[str, Channel], int]:
    """The last recorded sequence of every platform × channel on the deliveries topic."""
    cursors: dict[tuple[str, Channel], int] = {}

    def note(msg: Record) -> None:
        try:
            doc = json.loads(msg.value() or b"")
            cursors[(str(doc["platform_id"]), Channel(doc["channel"]))] = int(doc["last_sequence"])
        except (ValueError, KeyError, TypeError):
            return

    reader.read_to_end(topic, note)
    return cursors
