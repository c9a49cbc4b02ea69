"""Helpers for tests that talk to the real broker: a producer, and reading a topic back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Message

from schemas.security import KafkaAccess
from services.common.kafka import EventProducer


@pytest.fixture
def producer(kafka_bootstrap: KafkaAccess) -> Iterator[EventProducer]:
    producer = EventProducer(kafka_bootstrap)
    yield producer
    producer.close()


def read_topic(
    bootstrap: KafkaAccess, topic: str, *, expect: int, timeout: float = 30.0
) -> list[Message]:
    """Read ``topic`` from the beginning until ``expect`` messages arrived or the deadline."""
    import time

    consumer = Consumer(
        bootstrap.config()
        | {
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(messages) < expect and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and not msg.error():
                messages.append(msg)
    finally:
        consumer.close()
    return messages


def message_headers(msg: Message) -> dict[str, bytes]:
    raw = msg.headers() or []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return {k: v.encode() if isinstance(v, str) else (v or b"") for k, v in pairs}
