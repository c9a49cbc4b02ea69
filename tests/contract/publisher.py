"""The ``Publisher`` contract: an acknowledged message is durable, where the acknowledgement
says, in order per key; a delivery that fails says so (``DeliveryFailed``), never succeeds
quietly."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import NamedTuple

import pytest

from schemas.events import CaseWithdrawn
from services.common.kafka import Acknowledged, DeliveryFailed, Publisher
from tests.contract.loop import AsyncContract, EventLoopThread


class Landed(NamedTuple):
    """A message as read back from the topic."""

    key: bytes | None
    value: bytes | None
    partition: int
    offset: int
    headers: list[tuple[str, bytes]]


ReadBack = Callable[[str], list[Landed]]


def where(ack: Acknowledged) -> tuple[int, int]:
    partition, offset = ack.partition(), ack.offset()
    assert partition is not None and offset is not None
    return partition, offset


class PublisherContract(AsyncContract, ABC):
    @pytest.fixture
    @abstractmethod
    def topic(self) -> str:
        """An existing, empty topic with more than one partition."""

    @pytest.fixture
    @abstractmethod
    def publisher(self, topic: str) -> Publisher:
        """An adapter that can deliver to ``topic``."""

    @pytest.fixture
    @abstractmethod
    def read_back(self, topic: str) -> ReadBack:
        """Reads every message of a topic (partition by partition, in offset order)."""

    @pytest.fixture
    @abstractmethod
    def broken_publisher(self, topic: str) -> Publisher:
        """An adapter whose deliveries fail (its broker is away)."""

    def test_acknowledged_messages_read_back_in_order_per_key_where_acknowledged(
        self, publisher: Publisher, topic: str, read_back: ReadBack
    ) -> None:
        keys = [f"case-{uuid.uuid4().hex[:8]}" for _ in range(4)]
        sent: dict[str, list[tuple[bytes, tuple[int, int]]]] = {key: [] for key in keys}
        for round_ in range(3):
            for key in keys:
                value = f"{key} #{round_}".encode()
                ack = publisher.send(topic, key, value)
                assert ack.topic() == topic
                sent[key].append((value, where(ack)))
        for records in sent.values():
            assert len({partition for _, (partition, _) in records}) == 1, "one key, one partition"
            offsets = [offset for _, (_, offset) in records]
            assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
        landed = read_back(topic)
        assert len(landed) == 12
        for key, records in sent.items():
            mine = [(m.value, (m.partition, m.offset)) for m in landed if m.key == key.encode()]
            assert mine == records

    def test_every_way_of_sending_waits_for_the_acknowledgement(
        self, publisher: Publisher, topic: str, read_back: ReadBack, aio: EventLoopThread
    ) -> None:
        event = CaseWithdrawn(case_id="c1")
        queued = publisher.produce(topic, b"c1", event, headers=[("source", "test")])
        first = queued.result(timeout=30)
        second = aio.run(publisher.send_async(topic, "c1", b"raw bytes"))
        third = publisher.send(topic, "c1", None, headers=[("kind", b"tombstone")])
        assert where(first) < where(second) < where(third)
        landed = read_back(topic)
        assert [(m.value, m.headers) for m in landed] == [
            (event.model_dump_json().encode(), [("source", b"test")]),
            (b"raw bytes", []),
            (None, [("kind", b"tombstone")]),
        ]
        assert CaseWithdrawn.model_validate_json(landed[0].value or b"") == event

    def test_a_failed_delivery_raises_delivery_failed_and_nothing_lands(
        self, broken_publisher: Publisher, topic: str, read_back: ReadBack, aio: EventLoopThread
    ) -> None:
        with pytest.raises(DeliveryFailed):
            broken_publisher.send(topic, "c1", b"lost")
        with pytest.raises(DeliveryFailed):
            broken_publisher.produce(topic, "c1", b"lost").result(timeout=30)
        with pytest.raises(DeliveryFailed):
            aio.run(broken_publisher.send_async(topic, "c1", b"lost"))
        assert read_back(topic) == []
