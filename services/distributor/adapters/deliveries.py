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

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from schemas.events import Channel, DeliveryOutcome, DeliveryRecorded
from services.common.consumer import consumer_config

DELIVERY_NAMESPACE = uuid.UUID("6f1b7c1e-4a53-4d0e-9a3e-2d7f0f3c8b11")


def batch_id(platform_id: str, channel: Channel, first: int, last: int) -> str:
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{platform_id}:{channel.value}:{first}:{last}"))


def entry_event_id(platform_id: str, sequence: int) -> uuid.UUID:
    """The id of one entry delivered to one platform: the same on every redelivery."""
    return uuid.uuid5(DELIVERY_NAMESPACE, f"{platform_id}:{sequence}")


def delivery_record(
    *,
    platform_id: str,
    channel: Channel,
    first: int,
    last: int,
    keys: list[str],
    outcome: DeliveryOutcome,
    attempts: int = 1,
) -> DeliveryRecorded:
    batch = batch_id(platform_id, channel, first, last)
    return DeliveryRecorded(
        event_id=uuid.uuid5(DELIVERY_NAMESPACE, f"{batch}:{outcome.value}"),
        platform_id=platform_id,
        channel=channel,
        batch_id=batch,
        first_sequence=first,
        last_sequence=last,
        keys=keys,
        outcome=outcome,
        attempts=attempts,
    )


def read_delivery_cursors(bootstrap: str, topic: str) -> dict[tuple[str, Channel], int]:
    """The last recorded sequence of every platform × channel on the deliveries topic."""
    consumer = Consumer(consumer_config(bootstrap, "unused", **{"enable.auto.commit": False}))
    cursors: dict[tuple[str, Channel], int] = {}
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        tps = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions]
        ends = {}
        for tp in tps:
            low, high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            if high > low:
                ends[tp.partition] = high
        consumer.assign(tps)
        remaining = set(ends)
        while remaining:
            for msg in consumer.consume(1000, timeout=0.5):
                if msg.error() or msg.value() is None:
                    continue
                try:
                    doc = json.loads(msg.value() or b"")
                    key = (str(doc["platform_id"]), Channel(doc["channel"]))
                    cursors[key] = int(doc["last_sequence"])
                except (ValueError, KeyError, TypeError):
                    continue
            positions = consumer.position([TopicPartition(topic, p) for p in remaining])
            for tp in positions:
                if tp.offset >= ends[tp.partition]:
                    remaining.discard(tp.partition)
        return cursors
    finally:
        consumer.close()
