"""The ``TopicReader`` contract: a rebuild sees every acknowledged message of the topic, in
offset order within each partition (so in order per key), and nothing of another topic."""

from __future__ import annotations

from abc import ABC, abstractmethod

import pytest

from services.common.catch_up import Record, TopicReader
from services.common.kafka import Publisher


class TopicReaderContract(ABC):
    @pytest.fixture
    @abstractmethod
    def topics(self) -> tuple[str, str]:
        """Two existing, empty topics with more than one partition."""

    @pytest.fixture
    @abstractmethod
    def publisher(self) -> Publisher:
        """Writes what ``reader`` reads."""

    @pytest.fixture
    @abstractmethod
    def reader(self) -> TopicReader: ...

    def test_an_empty_topic_reads_nothing(
        self, reader: TopicReader, topics: tuple[str, str]
    ) -> None:
        seen: list[Record] = []
        assert reader.read_to_end(topics[0], seen.append) == 0
        assert seen == []

    def test_every_acknowledged_message_comes_back_in_order_per_key(
        self, reader: TopicReader, publisher: Publisher, topics: tuple[str, str]
    ) -> None:
        mine, other = topics
        sent = [publisher.send(mine, f"k{i % 5}", f"{i}".encode()) for i in range(40)]
        publisher.send(other, "k0", b"not this topic")
        seen: list[Record] = []
        assert reader.read_to_end(mine, seen.append) == 40
        assert {(m.partition(), m.offset()) for m in seen} == {
            (a.partition(), a.offset()) for a in sent
        }
        for key in {f"k{i % 5}" for i in range(40)}:
            values = [int(m.value() or b"") for m in seen if m.key() == key.encode()]
            assert values == sorted(values) and len(values) == 8, key
        for partition in {m.partition() for m in seen}:
            offsets = [m.offset() or 0 for m in seen if m.partition() == partition]
            assert offsets == sorted(offsets)
        assert all(m.topic() == mine for m in seen)

    def test_a_second_read_sees_what_came_since(
        self, reader: TopicReader, publisher: Publisher, topics: tuple[str, str]
    ) -> None:
        publisher.send(topics[0], "a", b"1")
        assert reader.read_to_end(topics[0], lambda m: None) == 1
        publisher.send(topics[0], "a", b"2")
        values: list[bytes | None] = []
        assert reader.read_to_end(topics[0], lambda m: values.append(m.value())) == 2
        assert values == [b"1", b"2"]
